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
	ErrErased            error = errkind.New(errkind.Conflict, "employee is erased")
)

// ValidationError names each invalid field of a command.
type ValidationError = validation.Error

// Events.

type Registered struct {
	EmployeeID string        `json:"employee_id" personal:"subject"`
	Email      string        `json:"email" personal:"yes"`
	FullName   string        `json:"full_name" personal:"yes"`
	Role       Role          `json:"role" personal:"no"`
	ManagerID  string        `json:"manager_id" personal:"no"`
	Position   string        `json:"position" personal:"yes"`
	HireDate   calendar.Date `json:"hire_date"`
	Schedule   Schedule      `json:"schedule" personal:"no"`
	// HolidayCalendar is empty in registrations recorded before calendars
	// per place: the default calendar.
	HolidayCalendar string `json:"holiday_calendar,omitempty" personal:"no"`
}

type ScheduleChanged struct {
	EmployeeID string   `json:"employee_id" personal:"no"`
	Schedule   Schedule `json:"schedule" personal:"no"`
}

type ManagerChanged struct {
	EmployeeID        string `json:"employee_id" personal:"no"`
	ManagerID         string `json:"manager_id" personal:"no"`
	PreviousManagerID string `json:"previous_manager_id" personal:"no"`
}

type RoleChanged struct {
	EmployeeID   string `json:"employee_id" personal:"no"`
	Role         Role   `json:"role" personal:"no"`
	PreviousRole Role   `json:"previous_role" personal:"no"`
}

type PositionChanged struct {
	EmployeeID string `json:"employee_id" personal:"subject"`
	Position   string `json:"position" personal:"yes"`
}

type Deactivated struct {
	EmployeeID string `json:"employee_id" personal:"subject"`
	Reason     string `json:"reason" personal:"yes"`
}

type Reactivated struct {
	EmployeeID string `json:"employee_id" personal:"no"`
}

// HolidayCalendarChanged moves the employee to the holidays of another
// place.
type HolidayCalendarChanged struct {
	EmployeeID      string `json:"employee_id" personal:"no"`
	HolidayCalendar string `json:"holiday_calendar" personal:"no"`
}

// PasswordChanged records that the employee's password was replaced, by
// themselves or, with Reset, by an admin. The password and its hash are kept
// outside the events.
type PasswordChanged struct {
	EmployeeID string `json:"employee_id" personal:"no"`
	Reset      bool   `json:"reset"`
}

// Erased records that the employee's personal data was erased: the key that
// sealed it is destroyed, so every event's personal fields read as null from
// then on. Reason says why, and must not repeat what it erases.
type Erased struct {
	EmployeeID string `json:"employee_id" personal:"no"`
	Reason     string `json:"reason" personal:"no"`
	ErasedBy   string `json:"erased_by" personal:"no"`
}

func (Registered) EventName() string             { return "employee.registered" }
func (ScheduleChanged) EventName() string        { return "employee.schedule_changed" }
func (ManagerChanged) EventName() string         { return "employee.manager_changed" }
func (RoleChanged) EventName() string            { return "employee.role_changed" }
func (PositionChanged) EventName() string        { return "employee.position_changed" }
func (Deactivated) EventName() string            { return "employee.deactivated" }
func (Reactivated) EventName() string            { return "employee.reactivated" }
func (PasswordChanged) EventName() string        { return "employee.password_changed" }
func (Erased) EventName() string                 { return "employee.erased" }
func (HolidayCalendarChanged) EventName() string { return "employee.holiday_calendar_changed" }

// Events lists a zero value of each event type, for the codec registry.
func Events() []any {
	return []any{Registered{}, ScheduleChanged{}, ManagerChanged{}, RoleChanged{}, PositionChanged{}, Deactivated{}, Reactivated{}, PasswordChanged{}, Erased{}, HolidayCalendarChanged{}}
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
	// Erased: the personal data is gone (FullName, Email and Position are
	// empty), and so is the login.
	Erased bool
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
	case Erased:
		e.Active, e.Erased = false, true
		e.FullName, e.Email, e.Position = "", "", ""
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

// Command is one of Register, Change, Deactivate, Reactivate, ChangePassword
// or Erase.
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

// Erase erases the employee's personal data, as By asks for Reason.
type Erase struct {
	Reason string
	By     string
}

func (Register) command()       {}
func (Change) command()         {}
func (Deactivate) command()     {}
func (Reactivate) command()     {}
func (ChangePassword) command() {}
func (Erase) command()          {}

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
		if e.Erased {
			return nil, ErrErased
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
	case Erase:
		return erase(e, c)
	default:
		return nil, fmt.Errorf("employee: unknown command %T", cmd)
	}
}

// erase refuses a reason that repeats the personal data it erases: the reason
// is kept in the clear, for the record.
func erase(e Employee, c Erase) ([]any, error) {
	if !e.Exists {
		return nil, ErrNotFound
	}
	reason := strings.TrimSpace(c.Reason)
	switch {
	case reason == "":
		return nil, validation.Check(map[string]string{"reason": "required"})
	case utf8.RuneCountInString(reason) > maxReasonLen:
		return nil, validation.Check(map[string]string{"reason": fmt.Sprintf("must be at most %d characters", maxReasonLen)})
	case namesPersonalData(e, reason):
		return nil, validation.Check(map[string]string{"reason": "must not name the employee's personal data (name, email, position)"})
	}
	if e.Erased {
		return nil, nil
	}
	return []any{Erased{EmployeeID: e.EmployeeID, Reason: reason, ErasedBy: c.By}}, nil
}

// minNamePart is the shortest part of a name that a reason may not contain:
// shorter ones ("Li", "Al") are found inside ordinary words.
const minNamePart = 3

// namesPersonalData says whether text contains e's full name, a part of it,
// the email or its local part, or the position, ignoring case.
func namesPersonalData(e Employee, text string) bool {
	text = fold(text)
	local, _, _ := strings.Cut(e.Email, "@")
	parts := append(strings.Fields(e.FullName), e.FullName, e.Email, local, e.Position)
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if utf8.RuneCountInString(p) >= minNamePart && strings.Contains(text, fold(p)) {
			return true
		}
	}
	return false
}

// dotlessI folds the Turkish dotted and dotless i, which lower-casing keeps
// apart ("YILMAZ" and "Yılmaz"), into i.
var dotlessI = strings.NewReplacer("ı", "i", "İ", "i")

func fold(s string) string { return dotlessI.Replace(strings.ToLower(dotlessI.Replace(s))) }

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
