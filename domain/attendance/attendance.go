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
)

// CheckedIn records arrival. Lateness is decided here, once, with the
// schedule in force at that moment, so later schedule changes never rewrite it.
type CheckedIn struct {
	EmployeeID  string        `json:"employee_id"`
	At          time.Time     `json:"at"`
	LocalDate   calendar.Date `json:"local_date"`
	Timezone    string        `json:"timezone"`
	Workday     bool          `json:"workday"`
	Late        bool          `json:"late"`
	LateMinutes int           `json:"late_minutes"`
	// ScheduledStart is zero when the day is not a workday.
	ScheduledStart time.Time `json:"scheduled_start,omitzero"`
}

// CheckedOut closes the open check-in; LocalDate is that check-in's date,
// even when the check-out happens after midnight.
type CheckedOut struct {
	EmployeeID    string        `json:"employee_id"`
	At            time.Time     `json:"at"`
	LocalDate     calendar.Date `json:"local_date"`
	CheckedInAt   time.Time     `json:"checked_in_at"`
	WorkedMinutes int           `json:"worked_minutes"`
}

func (CheckedIn) EventName() string  { return "attendance.checked_in" }
func (CheckedOut) EventName() string { return "attendance.checked_out" }

// Events lists a zero value of each event type, for the codec registry.
func Events() []any { return []any{CheckedIn{}, CheckedOut{}} }

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
	case CheckedOut:
		s.Open = nil
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

// Command is CheckIn or CheckOut.
type Command interface{ command() }

// CheckIn carries the employee's current schedule and the holidays around
// the day, both read by the caller.
type CheckIn struct {
	EmployeeID string
	Schedule   employee.Schedule
	Holidays   calendar.Holidays
}

type CheckOut struct {
	EmployeeID string
}

func (CheckIn) command()  {}
func (CheckOut) command() {}

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
		return []any{CheckedOut{
			EmployeeID:    c.EmployeeID,
			At:            now.UTC(),
			LocalDate:     s.Open.LocalDate,
			CheckedInAt:   s.Open.At,
			WorkedMinutes: wholeMinutes(now.Sub(s.Open.At)),
		}}, nil
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
	if s.Open != nil {
		return nil, ErrAlreadyCheckedIn
	}
	loc, _ := c.Schedule.Location() // validated above
	date := calendar.DateOf(now, loc)
	ev := CheckedIn{
		EmployeeID: c.EmployeeID,
		At:         now.UTC(),
		LocalDate:  date,
		Timezone:   c.Schedule.Timezone,
		Workday:    c.Schedule.IsWorkday(date) && !c.Holidays.Contains(date),
	}
	if ev.Workday {
		ev.ScheduledStart = c.Schedule.StartOn(date).UTC()
		if first := s.LastCheckInDate != date; first {
			if late := wholeMinutes(now.Sub(ev.ScheduledStart)); late > c.Schedule.GraceMinutes {
				ev.Late, ev.LateMinutes = true, late
			}
		}
	}
	return []any{ev}, nil
}

// wholeMinutes counts the complete minutes in d; a negative d (a clock that
// stepped back) counts as none.
func wholeMinutes(d time.Duration) int {
	if d < 0 {
		return 0
	}
	return int(d / time.Minute)
}
