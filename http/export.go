package http

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/calendar"
)

// ExportJSON is what the system holds about one employee: every event of
// their streams as auditors see it, their leave balances of each type and
// year since their hire, and their attendance days since then.
type ExportJSON struct {
	Employee   EmployeeJSON        `json:"employee"`
	Events     []EventJSON         `json:"events"`
	Balances   []BalanceJSON       `json:"balances"`
	Attendance []AttendanceDayJSON `json:"attendance"`
	ExportedAt time.Time           `json:"exported_at"`
}

// handleExportEmployee godoc
//
//	@Summary		Everything held about an employee
//	@Description	The employee's right of access: every event of their streams (registration and changes, attendance, leave, their notifications) decoded, with personal fields null once erased; their leave balance of each active type and each year since their hire; their attendance days since then. Admins, and the employee themself.
//	@Tags			employees
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id	path		string	true	"employee id"
//	@Success		200	{object}	ExportJSON
//	@Failure		401	{object}	UnauthorizedProblem
//	@Failure		403	{object}	ForbiddenProblem
//	@Failure		404	{object}	NotFoundProblem
//	@Router			/api/employees/{id}/export/ [get]
func handleExportEmployee(employees query.EmployeeHandler, export query.ExportEmployeeHandler, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, err := visibleEmployee(c, employees, "id")
		if err != nil {
			return err
		}
		if err := permit(c, access.EmployeeExport, e); err != nil {
			return err
		}
		at := now().UTC()
		x, err := export.Handle(c.Request().Context(), e, today(e.Schedule, at))
		if err != nil {
			return err
		}
		out := ExportJSON{
			Employee: employeeJSON(x.Employee), Events: make([]EventJSON, len(x.Events)), Balances: make([]BalanceJSON, len(x.Balances)),
			Attendance: make([]AttendanceDayJSON, len(x.Attendance)), ExportedAt: at,
		}
		for i, ev := range x.Events {
			out.Events[i] = eventJSON(ev)
		}
		for i, y := range x.Balances {
			out.Balances[i] = balanceJSON(e.EmployeeID, y.Type, y.Year, y.Balance, calendar.Date{}, at)
		}
		for i, d := range x.Attendance {
			out.Attendance[i] = attendanceDayJSON(d)
		}
		return c.JSON(http.StatusOK, out)
	}
}
