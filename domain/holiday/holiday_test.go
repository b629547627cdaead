package holiday

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/google/go-cmp/cmp"
)

var (
	now     = time.Date(2024, time.January, 2, 9, 0, 0, 0, time.UTC)
	newYear = calendar.Date{Year: 2024, Month: time.January, Day: 1}
	may1    = calendar.Date{Year: 2024, Month: time.May, Day: 1}
)

func TestDecide(t *testing.T) {
	t.Parallel()
	declared := []any{Declared{Date: newYear, Name: "New Year's Day"}}
	tests := []struct {
		name      string
		history   []any
		cmd       Command
		want      []any
		wantErr   error
		wantField string
	}{
		{name: "declare", cmd: Declare{Date: may1, Name: " Labour Day "}, want: []any{Declared{Calendar: Default, Date: may1, Name: "Labour Day"}}},
		{name: "declare in a calendar", cmd: Declare{Calendar: "berlin", Date: may1, Name: "Tag der Arbeit"},
			want: []any{Declared{Calendar: "berlin", Date: may1, Name: "Tag der Arbeit"}}},
		{name: "declare twice", history: declared, cmd: Declare{Date: newYear, Name: "Again"}, wantErr: ErrAlreadyDeclared},
		{name: "declare without name", cmd: Declare{Date: may1, Name: "  "}, wantField: "name"},
		{name: "declare without date", cmd: Declare{Name: "Someday"}, wantField: "date"},
		{name: "withdraw", history: declared, cmd: Withdraw{Date: newYear}, want: []any{Withdrawn{Calendar: Default, Date: newYear, Name: "New Year's Day"}}},
		{name: "withdraw in a calendar", history: []any{Declared{Calendar: "berlin", Date: newYear, Name: "Neujahr"}},
			cmd: Withdraw{Calendar: "berlin", Date: newYear}, want: []any{Withdrawn{Calendar: "berlin", Date: newYear, Name: "Neujahr"}}},
		{name: "withdraw unknown", history: declared, cmd: Withdraw{Date: may1}, wantErr: ErrNotDeclared},
		{name: "withdraw twice", history: append(declared, Withdrawn{Date: newYear}), cmd: Withdraw{Date: newYear}, wantErr: ErrNotDeclared},
		{name: "declare again after withdrawal", history: append(declared, Withdrawn{Date: newYear}), cmd: Declare{Date: newYear, Name: "Back"},
			want: []any{Declared{Calendar: Default, Date: newYear, Name: "Back"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decide(Replay(tt.history), tt.cmd, now)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got error %v, want %v", err, tt.wantErr)
				}
			case tt.wantField != "":
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Fields[tt.wantField] == "" {
					t.Fatalf("got error %v, want a validation error on %q", err, tt.wantField)
				}
			case err != nil:
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHolidays(t *testing.T) {
	t.Parallel()
	c := Replay([]any{
		Declared{Date: newYear, Name: "New Year's Day"},
		Declared{Date: may1, Name: "Labour Day"},
		Withdrawn{Date: newYear, Name: "New Year's Day"},
	})
	got := c.Holidays()
	if diff := cmp.Diff(calendar.Holidays{may1: "Labour Day"}, got); diff != "" {
		t.Fatalf("holidays (-want +got):\n%s", diff)
	}
	got[newYear] = "mutated"
	if c.Holidays().Contains(newYear) {
		t.Error("Holidays() shares its map with the state")
	}
}

func TestStream(t *testing.T) {
	t.Parallel()
	// The default calendar keeps the streams of the holidays recorded before
	// calendars per place.
	for _, tt := range []struct {
		code string
		want string
	}{{"", "holidays-2024"}, {Default, "holidays-2024"}, {"berlin", "holidays-berlin-2024"}, {"de_by", "holidays-de_by-2024"}} {
		if got := Stream(tt.code, 2024); got != tt.want {
			t.Errorf("Stream(%q, 2024) = %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestDecideCalendar(t *testing.T) {
	t.Parallel()
	berlin := Calendar{Code: "berlin", Name: "Berlin"}
	defined := []any{CalendarDefined{Calendar: berlin, DefinedBy: "admin"}}
	tests := []struct {
		name      string
		history   []any
		cmd       DefineCalendar
		want      []any
		wantErr   error
		wantField string
	}{
		{name: "define", cmd: DefineCalendar{New: Calendar{Code: "berlin", Name: " Berlin "}, By: "admin"}, want: defined},
		{name: "taken code", history: defined, cmd: DefineCalendar{New: Calendar{Code: "berlin", Name: "Again"}}, wantErr: ErrCalendarExists},
		{name: "the default exists from the start", cmd: DefineCalendar{New: Calendar{Code: Default, Name: "Mine"}}, wantErr: ErrCalendarExists},
		{name: "bad code", cmd: DefineCalendar{New: Calendar{Code: "Berlin-Mitte", Name: "Berlin"}}, wantField: "code"},
		{name: "one-letter code", cmd: DefineCalendar{New: Calendar{Code: "b", Name: "Berlin"}}, wantField: "code"},
		{name: "no name", cmd: DefineCalendar{New: Calendar{Code: "berlin", Name: " "}}, wantField: "name"},
		{name: "long name", cmd: DefineCalendar{New: Calendar{Code: "berlin", Name: strings.Repeat("é", maxNameLen+1)}}, wantField: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecideCalendar(ReplayCalendars(tt.history), tt.cmd, now)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got error %v, want %v", err, tt.wantErr)
				}
			case tt.wantField != "":
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Fields[tt.wantField] == "" {
					t.Fatalf("got error %v, want a validation error on %q", err, tt.wantField)
				}
			case err != nil:
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCalendars(t *testing.T) {
	t.Parallel()
	c := ReplayCalendars([]any{CalendarDefined{Calendar: Calendar{Code: "berlin", Name: "Berlin"}}})
	want := []Calendar{{Code: Default, Name: "Default"}, {Code: "berlin", Name: "Berlin"}}
	if diff := cmp.Diff(want, c.All()); diff != "" {
		t.Errorf("calendars (-want +got):\n%s", diff)
	}
	for code, has := range map[string]bool{"": true, Default: true, "berlin": true, "paris": false} {
		if got := c.Has(code); got != has {
			t.Errorf("Has(%q) = %v, want %v", code, got, has)
		}
	}
	// An event of before calendars per place reads as the default's.
	var old Declared
	if err := json.Unmarshal([]byte(`{"date":"2024-01-01","name":"New Year's Day"}`), &old); err != nil {
		t.Fatal(err)
	}
	if got := CalendarCode(old.Calendar); got != Default || old.Date != newYear {
		t.Errorf("a holiday recorded without a calendar reads as %+v of %q, want New Year's Day of %q", old, got, Default)
	}
}
