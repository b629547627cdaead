package query

import (
	"context"
	"errors"
	"time"

	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
)

// ReadModels are the reads of the read models, which are kept by the
// pipeline apart from the event store and may lag it by a moment;
// *readmodel.Queries implements them.
type ReadModels interface {
	// ListEmployees returns employees by id, a page at a time; next is the
	// cursor of the following page, "" after the last.
	ListEmployees(ctx context.Context, f EmployeeFilter) (list []EmployeeView, next string, err error)
	// AttendanceDays returns an employee's days from from to to, both
	// included, in date order.
	AttendanceDays(ctx context.Context, employeeID string, from, to calendar.Date) ([]AttendanceDay, error)
	// LeaveRequest returns one leave request, or ErrNotFound.
	LeaveRequest(ctx context.Context, id string) (LeaveRequestView, error)
	// ListLeaveRequests returns leave requests by id, a page at a time.
	ListLeaveRequests(ctx context.Context, f RequestFilter) (list []LeaveRequestView, next string, err error)
	// ListCorrections returns attendance corrections by id, a page at a time.
	ListCorrections(ctx context.Context, f RequestFilter) (list []CorrectionView, next string, err error)
	// MonthlyWork reports a month of the employees f selects, as of today.
	MonthlyWork(ctx context.Context, year, month int, f ReportFilter, today calendar.Date) (MonthlyReport, error)
	// ListDelegations returns delegations by id, a page at a time.
	ListDelegations(ctx context.Context, f DelegationFilter) (list []DelegationView, next string, err error)
	// Notifications returns a user's notifications with a seq above
	// afterSeq, in seq order.
	Notifications(ctx context.Context, recipientID string, unreadOnly bool, afterSeq int64, limit int) ([]NotificationView, error)
	// LeaveCalendar returns a page of the days of leave f selects, ordered
	// by date, employee and request, and the cursor of the next page, zero
	// after the last.
	LeaveCalendar(ctx context.Context, f LeaveCalendarFilter) (list []LeaveDay, next CalendarCursor, err error)
	// TeamOverlap counts the reports of managerID other than employeeID who
	// have pending or approved leave on any of dates.
	TeamOverlap(ctx context.Context, managerID, employeeID string, dates []calendar.Date) (int, error)
}

// EmployeeView is an employee of the directory.
type EmployeeView struct {
	ID        string            `json:"id"`
	Email     string            `json:"email"`
	FullName  string            `json:"full_name"`
	Role      string            `json:"role"`
	ManagerID *string           `json:"manager_id"`
	Position  string            `json:"position"`
	HireDate  calendar.Date     `json:"hire_date"`
	Schedule  employee.Schedule `json:"schedule"`
	// HolidayCalendar is the code of the calendar whose holidays the
	// employee keeps.
	HolidayCalendar string `json:"holiday_calendar"`
	Active          bool   `json:"active"`
	// Erased: the personal fields (Email, FullName, Position) were erased.
	Erased bool `json:"erased,omitempty"`
}

// EmployeeFilter narrows ListEmployees; empty fields do not filter.
type EmployeeFilter struct {
	ManagerID string // only this manager's reports
	After     string // the next page after this cursor
	Limit     int
}

// AttendanceDay is an employee's attendance on one local date.
type AttendanceDay struct {
	EmployeeID    string        `json:"employee_id"`
	Date          calendar.Date `json:"date"`
	CheckIn       time.Time     `json:"check_in"`
	CheckOut      *time.Time    `json:"check_out"`
	WorkedMinutes int           `json:"worked_minutes"`
	LateMinutes   int           `json:"late_minutes"`
	Status        string        `json:"status"`
	// NeedsReview is true when the system closed a forgotten check-out.
	NeedsReview bool `json:"needs_review"`
	// Corrected is true when an approved correction replaced the day's
	// first check-in or last check-out.
	Corrected bool `json:"corrected"`
}

// CorrectionView is an attendance correction.
type CorrectionView struct {
	ID          string        `json:"id"`
	EmployeeID  string        `json:"employee_id"`
	Date        calendar.Date `json:"date"`
	CheckIn     *time.Time    `json:"check_in"`
	CheckOut    *time.Time    `json:"check_out"`
	Reason      string        `json:"reason"`
	Status      string        `json:"status"`
	RequestedBy string        `json:"requested_by"`
	CreatedAt   time.Time     `json:"created_at"`
	DecidedBy   *string       `json:"decided_by"`
	DecidedAt   *time.Time    `json:"decided_at"`
	Note        string        `json:"note"`
	// Erased: the employee's personal data was erased, Reason and Note with it.
	Erased bool `json:"erased,omitempty"`
	// Approvals are its steps: those of its chain, or for a correction filed
	// without one, its one manager step.
	Approvals approval.Chain `json:"approvals"`
}

// LeaveRequestView is a leave request.
type LeaveRequestView struct {
	ID         string        `json:"id"`
	EmployeeID string        `json:"employee_id"`
	LeaveType  string        `json:"leave_type"`
	HalfDay    string        `json:"half_day"`
	Hours      float64       `json:"hours"`
	StartDate  calendar.Date `json:"start_date"`
	EndDate    calendar.Date `json:"end_date"`
	Days       float64       `json:"days"` // of leave: a half day is 0.5
	Reason     string        `json:"reason"`
	Status     string        `json:"status"`
	CreatedAt  time.Time     `json:"created_at"`
	DecidedBy  *string       `json:"decided_by"`
	DecidedAt  *time.Time    `json:"decided_at"`
	Note       string        `json:"note"`
	// Erased: the employee's personal data was erased, Reason and Note with it.
	Erased bool `json:"erased,omitempty"`
	// Approvals are its steps: those recorded, or for a request filed
	// before chains, its one manager step.
	Approvals approval.Chain `json:"approvals"`
}

// RequestFilter narrows a list of requests (leave requests, attendance
// corrections); empty fields do not filter.
type RequestFilter struct {
	Status     string
	EmployeeID string
	ManagerID  string // only requests of this manager's reports
	// Holder, when set, adds the requests whose awaited step they hold to
	// those EmployeeID and ManagerID select; with AwaitingOnly, the list is
	// those alone.
	Holder       *StepHolder
	AwaitingOnly bool
	After        string
	Limit        int
}

// StepHolder is whom a list finds the requests waiting on: the steps an
// employee approves, was routed or escalated to, and those of the managers
// whose delegation to them runs on Today (their date); a request filed
// without a chain waits on its employee's manager. Of an admin, also the
// admins' steps, and those of employees without a manager.
type StepHolder struct {
	EmployeeID string
	Admin      bool
	Today      calendar.Date
}

// DelegationView is a delegation of a manager's approval steps.
type DelegationView struct {
	ID          string        `json:"id"`
	ManagerID   string        `json:"manager_id"`
	DelegateID  string        `json:"delegate_id"`
	StartDate   calendar.Date `json:"start_date"`
	EndDate     calendar.Date `json:"end_date"`
	DelegatedBy string        `json:"delegated_by"`
	DelegatedAt time.Time     `json:"delegated_at"`
	Revoked     bool          `json:"revoked"`
}

// DelegationFilter narrows ListDelegations; empty fields do not filter.
type DelegationFilter struct {
	// Involving keeps the delegations given or received by this employee.
	Involving string
	After     string
	Limit     int
}

// MonthlyRow is one employee's month.
type MonthlyRow struct {
	EmployeeID      string  `json:"employee_id"`
	FullName        string  `json:"full_name"`
	DaysWorked      int     `json:"days_worked"`
	WorkedMinutes   int     `json:"worked_minutes"`
	WorkedHours     float64 `json:"worked_hours"`
	ExpectedMinutes int     `json:"expected_minutes"`
	LateDays        int     `json:"late_days"`
	LateMinutes     int     `json:"late_minutes"`
	LeaveDays       int     `json:"leave_days"`
	AbsentDays      int     `json:"absent_days"`
	OvertimeMinutes int     `json:"overtime_minutes"`
	// ReviewDays are the days whose forgotten check-out the system closed.
	ReviewDays int `json:"review_days"`
	// CorrectedDays are the days an approved correction changed.
	CorrectedDays int `json:"corrected_days"`
	// Erased: the employee's personal data was erased, FullName with it.
	Erased bool `json:"erased,omitempty"`
}

// MonthlyReport is the monthly working hours report.
type MonthlyReport struct {
	Year         int          `json:"year"`
	Month        int          `json:"month"`
	AsOfPosition string       `json:"as_of_position"`
	Employees    []MonthlyRow `json:"employees"`
}

// ReportFilter narrows MonthlyWork; empty fields do not filter.
type ReportFilter struct {
	EmployeeID string
	ManagerID  string
}

// NotificationView is a notification of a user's inbox.
type NotificationView struct {
	ID        string         `json:"id"`
	Seq       int64          `json:"seq"`
	Type      string         `json:"type"`
	Message   string         `json:"message"`
	Data      map[string]any `json:"data"`
	CreatedAt time.Time      `json:"created_at"`
	Read      bool           `json:"read"`
	// Erased: the personal data of whom it is about was erased, Message and
	// Data with it.
	Erased bool `json:"erased,omitempty"`
}

// ErrNotFound is what the read models return for an id they do not hold
// (including a malformed one).
var ErrNotFound = errors.New("projections: not found")
