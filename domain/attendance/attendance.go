// Package attendance decides check-ins and check-outs, one stream per
// employee (attendance-<employee_id>), timestamped by the server's clock.
package attendance

import (
	"fmt"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/domain/validation"
)

// Category is the category of the attendance streams.
const Category = "attendance"

// Stream is the name of an employee's attendance stream.
func Stream(employeeID string) string { return streamid.Of(Category, employeeID) }

var (
	ErrAlreadyCheckedIn error = errkind.New(errkind.Conflict, "already checked in: check out first")
	ErrNotCheckedIn     error = errkind.New(errkind.Conflict, "not checked in")
	// ErrCheckInExpired refuses a check-out of a check-in past due: the
	// system closes it at its shift's end, whenever the closing runs.
	ErrCheckInExpired error = errkind.New(errkind.Conflict, "the check-in was left open past its shift's end and is closed by the system")
)

// CheckedIn records arrival. Lateness is decided here, once, with the
// schedule in force at that moment, so later schedule changes never rewrite it.
type CheckedIn struct {
	EmployeeID  string        `json:"employee_id" personal:"no"`
	At          time.Time     `json:"at"`
	LocalDate   calendar.Date `json:"local_date"`
	Timezone    string        `json:"timezone" personal:"no"`
	Workday     bool          `json:"workday"`
	Late        bool          `json:"late"`
	LateMinutes int           `json:"late_minutes"`
	// ScheduledStart is zero when the day is not a workday.
	ScheduledStart time.Time `json:"scheduled_start,omitzero"`
	// ShiftEnd is when the shift of LocalDate ends; a check-in still open
	// Rules.AutoCheckoutAfter past the later of it and At is closed by the
	// system. Zero in events recorded before shifts had an end: the system
	// never closes those, and their check-out is never refused.
	ShiftEnd time.Time `json:"shift_end,omitzero"`
}

// CloseAt is the moment a forgotten check-out is put at: the later of the
// shift's end and the check-in itself; ok is false for a check-in recorded
// before shifts had an end.
func (c CheckedIn) CloseAt() (at time.Time, ok bool) {
	if c.ShiftEnd.IsZero() {
		return time.Time{}, false
	}
	if c.ShiftEnd.After(c.At) {
		return c.ShiftEnd, true
	}
	return c.At, true
}

// overdue reports whether the check-in, left open, is due to be closed by
// the system at now.
func (c CheckedIn) overdue(r Rules, now time.Time) bool {
	at, ok := c.CloseAt()
	return ok && !now.Before(at.Add(r.AutoCheckoutAfter))
}

// DefaultRules are the rules of EARLY_CHECKIN_MINUTES and AUTO_CHECKOUT_AFTER
// left unset.
func DefaultRules() Rules {
	return Rules{EarlyCheckIn: 2 * time.Hour, AutoCheckoutAfter: 4 * time.Hour}
}

// Rules are the company's attendance settings.
type Rules struct {
	// EarlyCheckIn is how long before a shift's start a check-in belongs to it.
	EarlyCheckIn time.Duration
	// AutoCheckoutAfter is how long an open check-in outlives its CloseAt
	// before the system closes it.
	AutoCheckoutAfter time.Duration
}

// CheckedOut closes the open check-in; LocalDate is that check-in's date,
// even when the check-out happens after midnight.
type CheckedOut struct {
	EmployeeID    string        `json:"employee_id" personal:"no"`
	At            time.Time     `json:"at"`
	LocalDate     calendar.Date `json:"local_date"`
	CheckedInAt   time.Time     `json:"checked_in_at"`
	WorkedMinutes int           `json:"worked_minutes"`
}

// AutoCheckedOut closes a check-in that was never checked out, at its
// CloseAt: the day's worked time stops at the shift's end and the day needs
// review.
type AutoCheckedOut struct {
	EmployeeID    string        `json:"employee_id" personal:"no"`
	At            time.Time     `json:"at"`
	LocalDate     calendar.Date `json:"local_date"`
	CheckedInAt   time.Time     `json:"checked_in_at"`
	WorkedMinutes int           `json:"worked_minutes"`
}

func (CheckedIn) EventName() string      { return "attendance.checked_in" }
func (CheckedOut) EventName() string     { return "attendance.checked_out" }
func (AutoCheckedOut) EventName() string { return "attendance.auto_checked_out" }

// Events lists a zero value of each event type, for the codec registry.
func Events() []any {
	return []any{CheckedIn{}, CheckedOut{}, AutoCheckedOut{}, CorrectionRequested{}, CorrectionApproved{}, CorrectionRejected{},
		CorrectionApprovalsPlanned{}, CorrectionStepOpened{}, CorrectionStepApproved{}, CorrectionReminded{}, CorrectionEscalated{}}
}

// State is what an employee's attendance stream decides with.
type State struct {
	// Open is the check-in not yet closed, nil when checked out.
	Open *CheckedIn
	// LastCheckInDate is the local date of the latest check-in, so only the
	// first check-in of a day can be late.
	LastCheckInDate calendar.Date
}

// Apply evolves the state by one event; events of other types are ignored.
func (s *State) Apply(event any) {
	switch ev := event.(type) {
	case CheckedIn:
		s.Open = &ev
		s.LastCheckInDate = ev.LocalDate
	case CheckedOut, AutoCheckedOut:
		s.Open = nil
	case CorrectionApproved:
		// An approval on the date of the open check-in always gives its
		// check-out (ErrDayStillOpen), which closes it.
		if s.Open != nil && s.Open.LocalDate == ev.Date && !ev.CheckOut.IsZero() {
			s.Open = nil
		}
		// A day the correction made has had its first check-in.
		if ev.NewDay && s.LastCheckInDate.Before(ev.Date) {
			s.LastCheckInDate = ev.Date
		}
	}
}

// Replay folds a stream's history into its state.
func Replay(history []any) State {
	var s State
	for _, ev := range history {
		s.Apply(ev)
	}
	return s
}

// Command is CheckIn, CheckOut or CloseForgotten.
type Command interface{ command() }

// CheckIn carries the employee's current schedule and the holidays around
// the day, both read by the caller.
type CheckIn struct {
	EmployeeID string
	Schedule   employee.Schedule
	Holidays   calendar.Holidays
	Rules      Rules
}

// CheckOut closes the open check-in, unless it is past due (see CloseForgotten).
type CheckOut struct {
	EmployeeID string
	Rules      Rules
}

// CloseForgotten closes the open check-in if it is due (Rules.AutoCheckoutAfter
// past its CloseAt); it decides nothing otherwise.
type CloseForgotten struct {
	EmployeeID string
	Rules      Rules
}

func (CheckIn) command()        {}
func (CheckOut) command()       {}
func (CloseForgotten) command() {}

// Decide returns the events cmd causes on s at now, or why it is refused.
func Decide(s State, cmd Command, now time.Time) ([]any, error) {
	switch c := cmd.(type) {
	case CheckIn:
		return checkIn(s, c, now)
	case CheckOut:
		if c.EmployeeID == "" {
			return nil, validation.Check(map[string]string{"employee_id": "required"})
		}
		if s.Open == nil {
			return nil, ErrNotCheckedIn
		}
		if s.Open.overdue(c.Rules, now) {
			return nil, ErrCheckInExpired
		}
		return []any{CheckedOut{
			EmployeeID:    c.EmployeeID,
			At:            now.UTC(),
			LocalDate:     s.Open.LocalDate,
			CheckedInAt:   s.Open.At,
			WorkedMinutes: wholeMinutes(now.Sub(s.Open.At)),
		}}, nil
	case CloseForgotten:
		if c.EmployeeID == "" {
			return nil, validation.Check(map[string]string{"employee_id": "required"})
		}
		return closeForgotten(s, c.Rules, now), nil
	default:
		return nil, fmt.Errorf("attendance: unknown command %T", cmd)
	}
}

func checkIn(s State, c CheckIn, now time.Time) ([]any, error) {
	fields := map[string]string{}
	if c.EmployeeID == "" {
		fields["employee_id"] = "required"
	}
	for k, v := range c.Schedule.Validate() {
		fields["schedule."+k] = v
	}
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	// A forgotten check-out past due is closed first; one not yet due is a conflict.
	closed := closeForgotten(s, c.Rules, now)
	if s.Open != nil && closed == nil {
		return nil, ErrAlreadyCheckedIn
	}
	date := ShiftDate(c.Schedule, c.Rules, now)
	ev := CheckedIn{
		EmployeeID: c.EmployeeID,
		At:         now.UTC(),
		LocalDate:  date,
		Timezone:   c.Schedule.Timezone,
		Workday:    c.Schedule.IsWorkday(date) && !c.Holidays.Contains(date),
		ShiftEnd:   c.Schedule.EndOn(date).UTC(),
	}
	if ev.Workday {
		ev.ScheduledStart = c.Schedule.StartOn(date).UTC()
		if first := s.LastCheckInDate != date; first {
			if late := wholeMinutes(now.Sub(ev.ScheduledStart)); late > c.Schedule.GraceMinutes {
				ev.Late, ev.LateMinutes = true, late
			}
		}
	}
	return append(closed, ev), nil
}

// closeForgotten returns the AutoCheckedOut of s's open check-in when it is
// due at now, and nothing otherwise.
func closeForgotten(s State, r Rules, now time.Time) []any {
	if s.Open == nil || !s.Open.overdue(r, now) {
		return nil
	}
	at, _ := s.Open.CloseAt()
	return []any{AutoCheckedOut{
		EmployeeID:    s.Open.EmployeeID,
		At:            at,
		LocalDate:     s.Open.LocalDate,
		CheckedInAt:   s.Open.At,
		WorkedMinutes: wholeMinutes(at.Sub(s.Open.At)),
	}}
}

// ShiftDate is the local date a check-in at now counts for: the date D
// whose shift window, from D's start less r.EarlyCheckIn to D's end, holds
// now (the one starting nearest to now when windows overlap), or else the
// calendar date at now. An overnight shift thus keeps the date it started on.
func ShiftDate(s employee.Schedule, r Rules, now time.Time) calendar.Date {
	loc, err := s.Location()
	if err != nil {
		loc = time.UTC
	}
	today := calendar.DateOf(now, loc)
	best, found := today, false
	var bestDistance time.Duration
	// A window reaches at most a day back (an overnight shift) and, with an
	// early check-in before midnight, a day ahead.
	for _, d := range []calendar.Date{today.AddDays(-1), today, today.AddDays(1)} {
		start := s.StartOn(d)
		if now.Before(start.Add(-r.EarlyCheckIn)) || !now.Before(s.EndOn(d)) {
			continue
		}
		distance := now.Sub(start).Abs()
		if !found || distance < bestDistance {
			best, found, bestDistance = d, true, distance
		}
	}
	return best
}

// wholeMinutes counts the complete minutes in d; a negative d (a clock that
// stepped back) counts as none.
func wholeMinutes(d time.Duration) int {
	if d < 0 {
		return 0
	}
	return int(d / time.Minute)
}
