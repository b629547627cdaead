// Package employee decides registrations and changes of employees: their
// role, manager, position and work schedule. Stream: employee-<id>.
package employee

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/domain/validation"
)

// Category is the category of the employee streams.
const Category = "employee"

// Stream is the name of an employee's stream.
func Stream(employeeID string) string { return streamid.Of(Category, employeeID) }

// Role decides what a user may do.
type Role string

const (
	RoleEmployee Role = "employee"
	RoleManager  Role = "manager" // the "authorized personnel" of the original system
	RoleAdmin    Role = "admin"
	RoleAuditor  Role = "auditor"
)

// ErrInvalidRole is returned by ParseRole for an unknown role.
var ErrInvalidRole = errors.New("role must be one of employee, manager, admin, auditor")

// ParseRole accepts exactly one of the four role names.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("%q: %w", s, ErrInvalidRole)
	}
	return r, nil
}

func (r Role) Valid() bool {
	switch r {
	case RoleEmployee, RoleManager, RoleAdmin, RoleAuditor:
		return true
	}
	return false
}

var (
	ErrAlreadyRegistered error = errkind.New(errkind.Conflict, "employee already registered")
	ErrNotFound          error = errkind.New(errkind.NotFound, "employee not found")
	ErrSelfManaged       error = errkind.InvalidField("an employee cannot be their own manager", "manager_id", "an employee cannot be their own manager")
	ErrInactive          error = errkind.New(errkind.Conflict, "employee is inactive")
)

// ValidationError names each invalid field of a command.
type ValidationError = validation.Error

// Events.

type Registered struct {
	EmployeeID string        `json:"employee_id"`
	Email      string        `json:"email"`
	FullName   string        `json:"full_name"`
	Role       Role          `json:"role"`
	ManagerID  string        `json:"manager_id"`
	Position   string        `json:"position"`
	HireDate   calendar.Date `json:"hire_date"`
	Schedule   Schedule      `json:"schedule"`
	// HolidayCalendar is empty in registrations recorded before calendars
	// per place: the default calendar.
	HolidayCalendar string `json:"holiday_calendar,omitempty"`
}

type ScheduleChanged struct {
	EmployeeID string   `json:"employee_id"`
	Schedule   Schedule `json:"schedule"`
}

type ManagerChanged struct {
	EmployeeID        string `json:"employee_id"`
	ManagerID         string `json:"manager_id"`
	PreviousManagerID string `json:"previous_manager_id"`
}

type RoleChanged struct {
	EmployeeID   string `json:"employee_id"`
	Role         Role   `json:"role"`
	PreviousRole Role   `json:"previous_role"`
}

type PositionChanged struct {
	EmployeeID string `json:"employee_id"`
	Position   string `json:"position"`
}

type Deactivated struct {
	EmployeeID string `json:"employee_id"`
	Reason     string `json:"reason"`
}

type Reactivated struct {
	EmployeeID string `json:"employee_id"`
}

// HolidayCalendarChanged moves the employee to the holidays of another
// place.
type HolidayCalendarChanged struct {
	EmployeeID      string `json:"employee_id"`
	HolidayCalendar string `json:"holiday_calendar"`
}

// PasswordChanged records that the employee's password was replaced, by
// themselves or, with Reset, by an admin. The password and its hash are kept
// outside the events.
type PasswordChanged struct {
	EmployeeID string `json:"employee_id"`
	Reset      bool   `json:"reset"`
}

func (Registered) EventName() string             { return "employee.registered" }
func (ScheduleChanged) EventName() string        { return "employee.schedule_changed" }
func (ManagerChanged) EventName() string         { return "employee.manager_changed" }
func (RoleChanged) EventName() string            { return "employee.role_changed" }
func (PositionChanged) EventName() string        { return "employee.position_changed" }
func (Deactivated) EventName() string            { return "employee.deactivated" }
func (Reactivated) EventName() string            { return "employee.reactivated" }
func (PasswordChanged) EventName() string        { return "employee.password_changed" }
func (HolidayCalendarChanged) EventName() string { return "employee.holiday_calendar_changed" }

// Events lists a zero value of each event type, for the codec registry.
func Events() []any {
	return []any{Registered{}, ScheduleChanged{}, ManagerChanged{}, RoleChanged{}, PositionChanged{}, Deactivated{}, Reactivated{}, PasswordChanged{}, HolidayCalendarChanged{}}
}

// Employee is the state of one employee stream.
type Employee struct {
	EmployeeID string
	Email      string
	FullName   string
	Role       Role
	ManagerID  string
	Position   string
	HireDate   calendar.Date
	Schedule   Schedule
	// HolidayCalendar is the code of the calendar whose holidays the
	// employee keeps.
	HolidayCalendar string
	Exists          bool
	Active          bool
}

// Apply evolves the state by one event; events of other types are ignored.
func (e *Employee) Apply(event any) {
	switch ev := event.(type) {
	case Registered:
		*e = Employee{
			EmployeeID: ev.EmployeeID, Email: ev.Email, FullName: ev.FullName, Role: ev.Role,
			ManagerID: ev.ManagerID, Position: ev.Position, HireDate: ev.HireDate, Schedule: ev.Schedule,
			HolidayCalendar: holiday.CalendarCode(ev.HolidayCalendar), Exists: true, Active: true,
		}
	case ScheduleChanged:
		e.Schedule = ev.Schedule
	case ManagerChanged:
		e.ManagerID = ev.ManagerID
	case RoleChanged:
		e.Role = ev.Role
	case PositionChanged:
		e.Position = ev.Position
	case HolidayCalendarChanged:
		e.HolidayCalendar = ev.HolidayCalendar
	case Deactivated:
		e.Active = false
	case Reactivated:
		e.Active = true
	}
}

// Replay folds a stream's history into its state.
func Replay(history []any) Employee {
	var e Employee
	for _, ev := range history {
		e.Apply(ev)
	}
	return e
}

// Commands.

// Command is one of Register, Change, Deactivate, Reactivate or ChangePassword.
type Command interface{ command() }

// Register creates the employee. A zero HireDate means the day of the
// decision in the schedule's time zone; an empty HolidayCalendar the
// default calendar. The calendar must exist: the application checks it.
type Register struct {
	EmployeeID      string
	Email           string
	FullName        string
	Role            Role
	ManagerID       string
	Position        string
	HireDate        calendar.Date
	Schedule        Schedule
	HolidayCalendar string
}

// Change sets each non-nil field; fields that already hold the value are
// left alone so a repeated change appends nothing.
type Change struct {
	Schedule        *Schedule
	ManagerID       *string
	Role            *Role
	Position        *string
	HolidayCalendar *string // of a calendar that exists
}

type Deactivate struct{ Reason string }

type Reactivate struct{}

// ChangePassword records a new password; Reset says an admin set it.
type ChangePassword struct{ Reset bool }

func (Register) command()       {}
func (Change) command()         {}
func (Deactivate) command()     {}
func (Reactivate) command()     {}
func (ChangePassword) command() {}

const (
	maxEmailLen  = 254 // RFC 5321 path limit
	maxNameLen   = 200
	maxReasonLen = 500
)

// Decide returns the events cmd causes on e at now, or why it is refused.
func Decide(e Employee, cmd Command, now time.Time) ([]any, error) {
	switch c := cmd.(type) {
	case Register:
		return register(e, c, now)
	case Change:
		return change(e, c)
	case Deactivate:
		if !e.Exists {
			return nil, ErrNotFound
		}
		if utf8.RuneCountInString(c.Reason) > maxReasonLen {
			return nil, validation.Check(map[string]string{"reason": fmt.Sprintf("must be at most %d characters", maxReasonLen)})
		}
		if !e.Active {
			return nil, nil
		}
		return []any{Deactivated{EmployeeID: e.EmployeeID, Reason: c.Reason}}, nil
	case Reactivate:
		if !e.Exists {
			return nil, ErrNotFound
		}
		if e.Active {
			return nil, nil
		}
		return []any{Reactivated{EmployeeID: e.EmployeeID}}, nil
	case ChangePassword:
		if !e.Exists {
			return nil, ErrNotFound
		}
		return []any{PasswordChanged{EmployeeID: e.EmployeeID, Reset: c.Reset}}, nil
	default:
		return nil, fmt.Errorf("employee: unknown command %T", cmd)
	}
}

func register(e Employee, c Register, now time.Time) ([]any, error) {
	if e.Exists {
		return nil, ErrAlreadyRegistered
	}
	fields := map[string]string{}
	if c.EmployeeID == "" {
		fields["employee_id"] = "required"
	}
	if msg := CheckEmail(c.Email); msg != "" {
		fields["email"] = msg
	}
	if msg := checkText(c.FullName, true); msg != "" {
		fields["full_name"] = msg
	}
	if !c.Role.Valid() {
		fields["role"] = ErrInvalidRole.Error()
	}
	if msg := checkText(c.Position, false); msg != "" {
		fields["position"] = msg
	}
	if !c.HireDate.IsZero() && !c.HireDate.Valid() {
		fields["hire_date"] = "must be a valid date"
	}
	addSchedule(fields, c.Schedule)
	if c.HolidayCalendar != "" {
		checkCalendar(fields, c.HolidayCalendar)
	}
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	if c.ManagerID == c.EmployeeID {
		return nil, ErrSelfManaged
	}
	// The default calendar is recorded as none, as before calendars per
	// place, so that a default registration reads as it always did.
	cal := c.HolidayCalendar
	if cal == holiday.Default {
		cal = ""
	}
	hired := c.HireDate
	if hired.IsZero() {
		loc, _ := c.Schedule.Location() // validated above
		hired = calendar.DateOf(now, loc)
	}
	return []any{Registered{
		EmployeeID: c.EmployeeID, Email: c.Email, FullName: strings.TrimSpace(c.FullName), Role: c.Role,
		ManagerID: c.ManagerID, Position: strings.TrimSpace(c.Position), HireDate: hired, Schedule: c.Schedule.normalized(),
		HolidayCalendar: cal,
	}}, nil
}

func change(e Employee, c Change) ([]any, error) {
	if !e.Exists {
		return nil, ErrNotFound
	}
	if !e.Active {
		return nil, ErrInactive
	}
	fields := map[string]string{}
	if c.Schedule != nil {
		addSchedule(fields, *c.Schedule)
	}
	if c.Role != nil && !c.Role.Valid() {
		fields["role"] = ErrInvalidRole.Error()
	}
	if c.Position != nil {
		if msg := checkText(*c.Position, false); msg != "" {
			fields["position"] = msg
		}
	}
	if c.HolidayCalendar != nil {
		checkCalendar(fields, *c.HolidayCalendar)
	}
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	if c.ManagerID != nil && *c.ManagerID == e.EmployeeID {
		return nil, ErrSelfManaged
	}

	var events []any
	if c.Schedule != nil && !c.Schedule.equal(e.Schedule) {
		events = append(events, ScheduleChanged{EmployeeID: e.EmployeeID, Schedule: c.Schedule.normalized()})
	}
	if c.ManagerID != nil && *c.ManagerID != e.ManagerID {
		events = append(events, ManagerChanged{EmployeeID: e.EmployeeID, ManagerID: *c.ManagerID, PreviousManagerID: e.ManagerID})
	}
	if c.Role != nil && *c.Role != e.Role {
		events = append(events, RoleChanged{EmployeeID: e.EmployeeID, Role: *c.Role, PreviousRole: e.Role})
	}
	if c.Position != nil {
		if p := strings.TrimSpace(*c.Position); p != e.Position {
			events = append(events, PositionChanged{EmployeeID: e.EmployeeID, Position: p})
		}
	}
	if c.HolidayCalendar != nil && *c.HolidayCalendar != e.HolidayCalendar {
		events = append(events, HolidayCalendarChanged{EmployeeID: e.EmployeeID, HolidayCalendar: *c.HolidayCalendar})
	}
	return events, nil
}

// addSchedule records schedule problems under "schedule.<field>", the path
// of the field in the request body.
func addSchedule(fields map[string]string, s Schedule) {
	for k, v := range s.Validate() {
		fields["schedule."+k] = v
	}
}

func checkCalendar(fields map[string]string, code string) {
	if msg := validation.CheckCode(code); msg != "" {
		fields["holiday_calendar"] = msg
	}
}

// CheckEmail returns what is wrong with email as a login, or "" when it is a
// bare address (no display name) of a domain with a dot.
func CheckEmail(email string) string {
	if email == "" {
		return "required"
	}
	// ParseAddress also accepts `Name <a@b>`; only a bare address is wanted.
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > maxEmailLen || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return "must be a valid email address"
	}
	return ""
}

func checkText(s string, required bool) string {
	trimmed := strings.TrimSpace(s)
	if required && trimmed == "" {
		return "required"
	}
	if utf8.RuneCountInString(trimmed) > maxNameLen {
		return fmt.Sprintf("must be at most %d characters", maxNameLen)
	}
	return ""
}
