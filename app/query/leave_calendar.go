package query

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
)

// LeaveDay is one employee's day of leave on the team calendar.
type LeaveDay struct {
	EmployeeID string
	FullName   string
	Date       calendar.Date
	LeaveType  string
	HalfDay    string // "am", "pm", or "" for the whole day
	Status     string // pending or approved
	// RequestID orders two requests of one day; the calendar does not show it.
	RequestID string
}

// CalendarCursor is a place in the team calendar, which is ordered by date,
// employee and request: the last day of the page before.
type CalendarCursor struct {
	Date                  calendar.Date
	EmployeeID, RequestID string
}

// IsZero reports whether c is the start of the calendar.
func (c CalendarCursor) IsZero() bool { return c == CalendarCursor{} }

// String writes c as ParseCalendarCursor reads it: date, employee and request
// joined by dots.
func (c CalendarCursor) String() string {
	return c.Date.String() + "." + c.EmployeeID + "." + c.RequestID
}

// ParseCalendarCursor reads a cursor that String wrote.
func ParseCalendarCursor(s string) (CalendarCursor, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return CalendarCursor{}, fmt.Errorf("query: calendar cursor %q: want date.employee.request", s)
	}
	d, err := calendar.ParseDate(parts[0])
	if err != nil {
		return CalendarCursor{}, fmt.Errorf("query: calendar cursor %q: %w", s, err)
	}
	for _, id := range parts[1:] {
		if u, err := uuid.Parse(id); err != nil || u.String() != id {
			return CalendarCursor{}, fmt.Errorf("query: calendar cursor %q: ids must be lower-case UUIDs", s)
		}
	}
	return CalendarCursor{Date: d, EmployeeID: parts[1], RequestID: parts[2]}, nil
}

// CalendarCursorOf is the cursor that follows d.
func CalendarCursorOf(d LeaveDay) CalendarCursor {
	return CalendarCursor{Date: d.Date, EmployeeID: d.EmployeeID, RequestID: d.RequestID}
}

// LeaveCalendarFilter selects days of the team calendar; empty fields do not
// filter.
type LeaveCalendarFilter struct {
	From, To calendar.Date // both included
	// ManagerID keeps the days of this manager's reports, EmployeeID those
	// of one employee.
	ManagerID, EmployeeID string
	// ApprovedOnly leaves out pending requests.
	ApprovedOnly bool
	After        CalendarCursor
	Limit        int
}

// LeaveCalendarHandler answers the team calendar.
type LeaveCalendarHandler struct{ models ReadModels }

// NewLeaveCalendarHandler returns the handler.
func NewLeaveCalendarHandler(models ReadModels) LeaveCalendarHandler {
	return LeaveCalendarHandler{models: models}
}

// Handle returns a page of the days f asks for that actor may see (f's
// ManagerID, EmployeeID and ApprovedOnly are set here), and the cursor of the
// next page, zero after the last.
func (h LeaveCalendarHandler) Handle(ctx context.Context, actor employee.Employee, f LeaveCalendarFilter) ([]LeaveDay, CalendarCursor, error) {
	f.ManagerID, f.EmployeeID, f.ApprovedOnly = "", "", false
	switch scope := access.Scope(actor, access.EmployeeRead); {
	case scope&access.Other != 0:
	case scope&access.Report != 0:
		f.ManagerID = actor.EmployeeID
	case actor.ManagerID != "":
		// The team: those who share the actor's manager, the actor among them.
		f.ManagerID, f.ApprovedOnly = actor.ManagerID, true
	default:
		f.EmployeeID, f.ApprovedOnly = actor.EmployeeID, true
	}
	return h.models.LeaveCalendar(ctx, f)
}
