package employee

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
)

// Schedule is when an employee is expected at work, in their own time zone.
type Schedule struct {
	Timezone     string         `json:"timezone"`
	WorkStart    calendar.Clock `json:"work_start"`
	WorkEnd      calendar.Clock `json:"work_end"`
	GraceMinutes int            `json:"grace_minutes"`
	Workdays     []int          `json:"workdays"` // ISO weekdays, 1 = Monday … 7 = Sunday
}

// MaxGraceMinutes bounds the grace period: beyond four hours lateness means nothing.
const MaxGraceMinutes = 240

// Validate names each invalid field; the map is empty for a valid schedule.
func (s Schedule) Validate() map[string]string {
	fields := map[string]string{}
	if _, err := s.Location(); err != nil {
		fields["timezone"] = err.Error()
	}
	const badClock = "must be a time of day HH:MM between 00:00 and 23:59"
	if !s.WorkStart.Valid() {
		fields["work_start"] = badClock
	}
	if !s.WorkEnd.Valid() {
		fields["work_end"] = badClock
	}
	if s.WorkStart.Valid() && s.WorkEnd.Valid() && s.WorkStart == s.WorkEnd {
		fields["work_end"] = "must differ from work_start (an earlier work_end ends the next day)"
	}
	if s.GraceMinutes < 0 || s.GraceMinutes > MaxGraceMinutes {
		fields["grace_minutes"] = fmt.Sprintf("must be between 0 and %d", MaxGraceMinutes)
	}
	if msg := validateWorkdays(s.Workdays); msg != "" {
		fields["workdays"] = msg
	}
	return fields
}

func validateWorkdays(days []int) string {
	if len(days) == 0 {
		return "at least one workday is required"
	}
	var seen [8]bool
	for _, d := range days {
		if d < 1 || d > 7 {
			return "must be ISO weekdays from 1 (monday) to 7 (sunday)"
		}
		if seen[d] {
			return "must not repeat a weekday"
		}
		seen[d] = true
	}
	return ""
}

// normalized returns s with its workdays sorted in a fresh slice, so equal
// schedules compare equal and events never share a slice with a command.
func (s Schedule) normalized() Schedule {
	s.Workdays = slices.Clone(s.Workdays)
	slices.Sort(s.Workdays)
	return s
}

func (s Schedule) equal(o Schedule) bool {
	a, b := s.normalized(), o.normalized()
	return a.Timezone == b.Timezone && a.WorkStart == b.WorkStart && a.WorkEnd == b.WorkEnd &&
		a.GraceMinutes == b.GraceMinutes && slices.Equal(a.Workdays, b.Workdays)
}

// IsWorkday reports whether d falls on one of the schedule's weekdays.
// Holidays are not the schedule's business.
func (s Schedule) IsWorkday(d calendar.Date) bool {
	return s.WorksOn(d.ISOWeekday())
}

// WorksOn reports whether the schedule works on an ISO weekday (1 for Monday
// through 7 for Sunday): IsWorkday for a loop that counts weekdays itself.
func (s Schedule) WorksOn(isoWeekday int) bool {
	return slices.Contains(s.Workdays, isoWeekday)
}

// locations caches loaded zones: LoadLocation reads tzdata on every call.
var locations sync.Map // string -> *time.Location

var (
	errNoTimezone    = errors.New("required")
	errLocalTimezone = errors.New("must be an IANA time zone name such as Europe/Istanbul")
)

// Today is the date at now in the schedule's time zone (UTC for a schedule
// without a valid one).
func (s Schedule) Today(now time.Time) calendar.Date {
	loc, err := s.Location()
	if err != nil {
		loc = time.UTC
	}
	return calendar.DateOf(now, loc)
}

// Location loads the schedule's time zone. The empty name and "Local" are
// refused: they would silently mean UTC or the server's own zone.
func (s Schedule) Location() (*time.Location, error) {
	switch s.Timezone {
	case "":
		return nil, errNoTimezone
	case "Local":
		return nil, errLocalTimezone
	}
	if loc, ok := locations.Load(s.Timezone); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", s.Timezone)
	}
	locations.Store(s.Timezone, loc)
	return loc, nil
}

// Overnight reports whether a shift ends on the day after it starts.
func (s Schedule) Overnight() bool { return s.WorkEnd < s.WorkStart }

// EndOn is the instant the shift of local date d ends: on d, or on the next
// day for an overnight shift. Like StartOn it follows the wall clock, so a
// night shift is an hour shorter or longer on the nights the clocks change.
func (s Schedule) EndOn(d calendar.Date) time.Time {
	if s.Overnight() {
		d = d.AddDays(1)
	}
	return s.at(d, s.WorkEnd)
}

// StartOn is the instant work starts on local date d. It is computed from
// the wall clock in the schedule's zone, so it is right on DST change days.
// A schedule whose zone does not load (never a validated one) falls back to UTC.
func (s Schedule) StartOn(d calendar.Date) time.Time { return s.at(d, s.WorkStart) }

func (s Schedule) at(d calendar.Date, c calendar.Clock) time.Time {
	loc, err := s.Location()
	if err != nil {
		loc = time.UTC
	}
	return time.Date(d.Year, d.Month, d.Day, c.Hour(), c.Minute(), 0, 0, loc)
}
