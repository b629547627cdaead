package calendar

import (
	"testing"
	"time"
)

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-12-01", "2024-02-29", "2023-02-29", "0000-01-01", "9999-12-31", "2024-1-1", "abcd-ef-gh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if !d.Valid() {
			t.Fatalf("ParseDate(%q) = %v, not a valid date", s, d)
		}
		// Strict parsing means only the canonical form is accepted.
		if d.String() != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, d.String())
		}
		b, err := d.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%v): %v", d, err)
		}
		var back Date
		if err := back.UnmarshalText(b); err != nil || back != d {
			t.Fatalf("text round trip of %v = %v, %v", d, back, err)
		}
		if got := d.AddDays(1).AddDays(-1); got != d {
			t.Fatalf("%v +1 -1 day = %v", d, got)
		}
	})
}

func FuzzDateFields(f *testing.F) {
	f.Add(2024, 2, 29)
	f.Add(2023, 2, 29)
	f.Add(0, 1, 1)
	f.Fuzz(func(t *testing.T, y, m, d int) {
		date := Date{Year: y, Month: time.Month(m), Day: d}
		parsed, err := ParseDate(date.String())
		if date.Valid() != (err == nil) {
			t.Fatalf("Valid(%v) = %v but ParseDate(%q) error = %v", date, date.Valid(), date.String(), err)
		}
		if err == nil && parsed != date {
			t.Fatalf("round trip of %v = %v", date, parsed)
		}
	})
}

func FuzzParseClock(f *testing.F) {
	for _, s := range []string{"00:00", "08:30", "23:59", "24:00", "7:5", "-1:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseClock(s)
		if err != nil {
			return
		}
		if !c.Valid() {
			t.Fatalf("ParseClock(%q) = %d, outside a day", s, int(c))
		}
		if c.String() != s {
			t.Fatalf("ParseClock(%q).String() = %q", s, c.String())
		}
		var back Clock
		if err := back.UnmarshalText([]byte(c.String())); err != nil || back != c {
			t.Fatalf("text round trip of %q = %d, %v", s, int(back), err)
		}
	})
}
