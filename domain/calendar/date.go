// Package calendar holds the civil date and time-of-day types shared by the
// domain, and the workday count used to price leave.
package calendar

import (
	"cmp"
	"errors"
	"fmt"
	"time"
)

// ErrInvalidDate is returned for text that is not a real YYYY-MM-DD date.
var ErrInvalidDate = errors.New("invalid date: want YYYY-MM-DD")

// Date is a civil date with no time zone: a day on a wall calendar.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses exactly "YYYY-MM-DD" and refuses dates that do not exist
// (2024-02-30) and years outside 1..9999.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("%q: %w", s, ErrInvalidDate)
	}
	y, okY := digits(s[0:4])
	m, okM := digits(s[5:7])
	d, okD := digits(s[8:10])
	date := Date{Year: y, Month: time.Month(m), Day: d}
	if !okY || !okM || !okD || !date.Valid() {
		return Date{}, fmt.Errorf("%q: %w", s, ErrInvalidDate)
	}
	return date, nil
}

// digits parses an unsigned decimal made only of ASCII digits (no sign, no
// spaces), which strconv.Atoi would let through.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// DateOf is the date t falls on in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{Year: y, Month: m, Day: d}
}

// Valid reports whether d is a real date in years 1..9999.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	return d.Day <= daysIn(d.Year, d.Month)
}

func daysIn(year int, m time.Month) int {
	// Day 0 of the next month is the last day of this one.
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// IsZero reports whether d is the zero Date, used for "no date".
func (d Date) IsZero() bool { return d == Date{} }

func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText writes "YYYY-MM-DD", or nothing for the zero Date so optional
// dates survive a JSON round trip.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	if !d.Valid() {
		return nil, fmt.Errorf("%d-%d-%d: %w", d.Year, d.Month, d.Day, ErrInvalidDate)
	}
	return []byte(d.String()), nil
}

// UnmarshalText accepts what MarshalText writes.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	parsed, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// utc is d at midnight UTC, the zone-free anchor for date arithmetic.
func (d Date) utc() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// dayNumber counts days since 1970-01-01; Unix seconds of a UTC midnight are
// an exact multiple of a day, so the division never rounds.
func (d Date) dayNumber() int64 { return d.utc().Unix() / 86400 }

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date {
	return DateOf(d.utc().AddDate(0, 0, n), time.UTC)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	if c := cmp.Compare(d.Year, o.Year); c != 0 {
		return c
	}
	if c := cmp.Compare(d.Month, o.Month); c != 0 {
		return c
	}
	return cmp.Compare(d.Day, o.Day)
}

func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }
func (d Date) After(o Date) bool  { return d.Compare(o) > 0 }

// ISOWeekday is 1 for Monday through 7 for Sunday.
func (d Date) ISOWeekday() int {
	if wd := d.utc().Weekday(); wd != time.Sunday {
		return int(wd)
	}
	return 7
}

// In is the instant of midnight of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}
