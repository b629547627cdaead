package calendar

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{in: "2024-12-01", want: Date{2024, time.December, 1}},
		{in: "2024-02-29", want: Date{2024, time.February, 29}},
		{in: "0001-01-01", want: Date{1, time.January, 1}},
		{in: "9999-12-31", want: Date{9999, time.December, 31}},
		{in: "2024-02-30", wantErr: true},
		{in: "2023-02-29", wantErr: true},
		{in: "2024-04-31", wantErr: true},
		{in: "0000-01-01", wantErr: true},
		{in: "10000-01-01", wantErr: true},
		{in: "2024-13-01", wantErr: true},
		{in: "2024-00-10", wantErr: true},
		{in: "2024-01-00", wantErr: true},
		{in: "2024-1-01", wantErr: true},
		{in: "2024/01/01", wantErr: true},
		{in: "+024-01-01", wantErr: true},
		{in: "2024-01-01T00:00:00Z", wantErr: true},
		{in: " 2024-01-1", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDate(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidDate) {
					t.Fatalf("ParseDate(%q) error = %v, want ErrInvalidDate", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDate(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestDateJSON(t *testing.T) {
	t.Parallel()
	type payload struct {
		D Date `json:"d"`
	}
	b, err := json.Marshal(payload{D: Date{2024, time.March, 5}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"d":"2024-03-05"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	var p payload
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if got, want := p.D, (Date{2024, time.March, 5}); got != want {
		t.Errorf("got %v, want %v", got, want)
	}

	// The zero Date stands for "no date" and round-trips as "".
	b, err = json.Marshal(payload{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"d":""}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if err := json.Unmarshal(b, &p); err != nil || !p.D.IsZero() {
		t.Errorf("unmarshal %s = %v, %v; want zero date", b, p.D, err)
	}

	if err := json.Unmarshal([]byte(`{"d":"2024-02-30"}`), &p); !errors.Is(err, ErrInvalidDate) {
		t.Errorf("unmarshal 2024-02-30: got %v, want ErrInvalidDate", err)
	}
	if _, err := json.Marshal(payload{D: Date{2024, time.February, 30}}); !errors.Is(err, ErrInvalidDate) {
		t.Errorf("marshal 2024-02-30: got %v, want ErrInvalidDate", err)
	}

	// Holidays are keyed by Date; the text form makes them JSON objects.
	h := Holidays{{2024, time.January, 1}: "New Year"}
	b, err = json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"2024-01-01":"New Year"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestDateArithmetic(t *testing.T) {
	t.Parallel()
	d := Date{2024, time.December, 30}
	tests := []struct {
		name string
		got  Date
		want Date
	}{
		{"across year end", d.AddDays(3), Date{2025, time.January, 2}},
		{"backwards", d.AddDays(-30), Date{2024, time.November, 30}},
		{"leap day", Date{2024, time.February, 28}.AddDays(1), Date{2024, time.February, 29}},
		{"no leap day", Date{2023, time.February, 28}.AddDays(1), Date{2023, time.March, 1}},
		{"zero", d.AddDays(0), d},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}

	a, b := Date{2024, time.May, 31}, Date{2024, time.June, 1}
	if !a.Before(b) || a.After(b) || a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Errorf("ordering of %v and %v is wrong", a, b)
	}
	if !(Date{2023, time.December, 31}).Before(Date{2024, time.January, 1}) {
		t.Error("2023-12-31 should be before 2024-01-01")
	}
}

func TestISOWeekday(t *testing.T) {
	t.Parallel()
	// 2024-12-01 is a Sunday.
	for i, want := range []int{7, 1, 2, 3, 4, 5, 6, 7} {
		d := Date{2024, time.December, 1}.AddDays(i)
		if got := d.ISOWeekday(); got != want {
			t.Errorf("%v: got %d, want %d", d, got, want)
		}
	}
}

func TestDateOfAndIn(t *testing.T) {
	t.Parallel()
	kiritimati, err := time.LoadLocation("Pacific/Kiritimati")
	if err != nil {
		t.Fatal(err)
	}
	pagoPago, err := time.LoadLocation("Pacific/Pago_Pago")
	if err != nil {
		t.Fatal(err)
	}
	instant := time.Date(2024, time.December, 1, 12, 0, 0, 0, time.UTC)
	if got, want := DateOf(instant, kiritimati), (Date{2024, time.December, 2}); got != want {
		t.Errorf("Kiritimati: got %v, want %v", got, want)
	}
	if got, want := DateOf(instant, pagoPago), (Date{2024, time.December, 1}); got != want {
		t.Errorf("Pago Pago: got %v, want %v", got, want)
	}
	if got, want := DateOf(time.Date(2024, time.December, 1, 10, 0, 0, 0, time.UTC), pagoPago), (Date{2024, time.November, 30}); got != want {
		t.Errorf("Pago Pago morning: got %v, want %v", got, want)
	}

	midnight := Date{2024, time.December, 2}.In(kiritimati)
	if want := time.Date(2024, time.December, 1, 10, 0, 0, 0, time.UTC); !midnight.Equal(want) {
		t.Errorf("In(Kiritimati) = %v, want %v", midnight.UTC(), want)
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Clock
		wantErr bool
	}{
		{in: "00:00", want: 0},
		{in: "08:30", want: 8*60 + 30},
		{in: "23:59", want: 23*60 + 59},
		{in: "24:00", wantErr: true},
		{in: "12:60", wantErr: true},
		{in: "8:30", wantErr: true},
		{in: "08:30:00", wantErr: true},
		{in: "08-30", wantErr: true},
		{in: "-1:00", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseClock(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidClock) {
					t.Fatalf("ParseClock(%q) error = %v, want ErrInvalidClock", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseClock(%q): %v", tt.in, err)
			}
			if got != tt.want || got.String() != tt.in {
				t.Errorf("got %d (%s), want %d (%s)", got, got, tt.want, tt.in)
			}
		})
	}

	b, err := json.Marshal(struct {
		C Clock `json:"c"`
	}{C: 17 * 60})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"c":"17:00"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := Clock(24 * 60).MarshalText(); !errors.Is(err, ErrInvalidClock) {
		t.Errorf("marshal 24:00: got %v, want ErrInvalidClock", err)
	}
}
