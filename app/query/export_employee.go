package query

import (
	"context"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
)

// EmployeeExport is what the system holds about one employee, for their
// right of access: every event of their streams, decoded (personal fields
// null once erased), their leave balances and their attendance.
type EmployeeExport struct {
	Employee   employee.Employee
	Events     []Event
	Balances   []YearBalance
	Attendance []AttendanceDay
}

// YearBalance is the leave balance of one type in one year.
type YearBalance struct {
	Year int
	TypedBalance
}

// ExportEmployeeHandler gathers an employee's export.
type ExportEmployeeHandler struct {
	history    EmployeeHistoryHandler
	balances   LeaveBalanceHandler
	readModels ReadModels
}

// NewExportEmployeeHandler returns the handler.
func NewExportEmployeeHandler(store EventStore, balances LeaveBalanceHandler, readModels ReadModels) ExportEmployeeHandler {
	return ExportEmployeeHandler{history: NewEmployeeHistoryHandler(store), balances: balances, readModels: readModels}
}

// Handle returns the export of e, whose balances (of every active leave type)
// run from the year of their hire to today's and whose attendance runs from
// their hire date to today.
func (h ExportEmployeeHandler) Handle(ctx context.Context, e employee.Employee, today calendar.Date) (EmployeeExport, error) {
	events, err := h.history.Handle(ctx, e.EmployeeID)
	if err != nil {
		return EmployeeExport{}, err
	}
	since := e.HireDate
	if since.IsZero() || today.Before(since) {
		since = today
	}
	out := EmployeeExport{Employee: e, Events: events}
	for y := since.Year; y <= today.Year; y++ {
		all, err := h.balances.All(ctx, LeaveBalance{Employee: e, Year: y})
		if err != nil {
			return EmployeeExport{}, err
		}
		for _, b := range all {
			out.Balances = append(out.Balances, YearBalance{Year: y, TypedBalance: b})
		}
	}
	if out.Attendance, err = h.readModels.AttendanceDays(ctx, e.EmployeeID, since, today); err != nil {
		return EmployeeExport{}, err
	}
	return out, nil
}
