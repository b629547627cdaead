package calendar

import (
	"errors"
	"fmt"
)

// ErrInvalidClock is returned for text that is not a time of day HH:MM.
var ErrInvalidClock = errors.New("invalid time of day: want HH:MM between 00:00 and 23:59")

// Clock is a wall-clock time of day in minutes since midnight.
type Clock int

// ParseClock parses exactly "HH:MM", 00:00 to 23:59.
func ParseClock(s string) (Clock, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q: %w", s, ErrInvalidClock)
	}
	h, okH := digits(s[0:2])
	m, okM := digits(s[3:5])
	if !okH || !okM || h > 23 || m > 59 {
		return 0, fmt.Errorf("%q: %w", s, ErrInvalidClock)
	}
	return Clock(h*60 + m), nil
}

// Valid reports whether c is within a day.
func (c Clock) Valid() bool { return c >= 0 && c < 24*60 }

func (c Clock) Hour() int   { return int(c) / 60 }
func (c Clock) Minute() int { return int(c) % 60 }

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour(), c.Minute()) }

func (c Clock) MarshalText() ([]byte, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("%d minutes: %w", int(c), ErrInvalidClock)
	}
	return []byte(c.String()), nil
}

func (c *Clock) UnmarshalText(b []byte) error {
	parsed, err := ParseClock(string(b))
	if err != nil {
		return err
	}
	*c = parsed
	return nil
}
