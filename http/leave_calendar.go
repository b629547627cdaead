package http

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/calendar"
)

// LeaveDayJSON is one employee's day of leave on the team calendar.
type LeaveDayJSON struct {
	EmployeeID string  `json:"employee_id"`
	FullName   string  `json:"full_name" example:"Ada Lovelace"`
	Date       string  `json:"date" example:"2024-12-23"`
	LeaveType  string  `json:"leave_type" example:"annual"`
	HalfDay    *string `json:"half_day" enums:"am,pm"`
	Status     string  `json:"status" enums:"pending,approved"`
}

func leaveDayJSON(d query.LeaveDay) LeaveDayJSON {
	out := LeaveDayJSON{EmployeeID: d.EmployeeID, FullName: d.FullName, Date: d.Date.String(), LeaveType: d.LeaveType, Status: d.Status}
	if d.HalfDay != "" {
		half := d.HalfDay
		out.HalfDay = &half
	}
	return out
}

// LeaveCalendarPage is a page of the team calendar, by date then employee.
type LeaveCalendarPage struct {
	Items     []LeaveDayJSON `json:"items"`
	NextAfter *string        `json:"next_after"`
}

// handleLeaveCalendar godoc
//
//	@Summary		Team calendar
//	@Description	One item per employee and day off from from to to, both included (from defaults to the first day of to's month, or of this month; to to the last day of from's month; at most 366 days), by date then employee. Managers see their reports' pending and approved leave, admins and auditors everyone's; employees see the approved leave of those who share their manager, themselves included.
//	@Tags			leave
//	@Produce		json
//	@Security		BearerAuth
//	@Param			from	query		string	false	"first date YYYY-MM-DD"
//	@Param			to		query		string	false	"last date YYYY-MM-DD"
//	@Param			limit	query		int		false	"page size (1-500)"	default(50)
//	@Param			after	query		string	false	"cursor from next_after"
//	@Success		200		{object}	LeaveCalendarPage
//	@Failure		400		{object}	AttendanceQueryProblem
//	@Failure		401		{object}	UnauthorizedProblem
//	@Router			/api/leave-calendar/ [get]
func handleLeaveCalendar(days query.LeaveCalendarHandler, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		f := query.LeaveCalendarFilter{
			From:  checkDate(fields, "from", c.QueryParam("from"), false),
			To:    checkDate(fields, "to", c.QueryParam("to"), false),
			Limit: checkLimit(fields, c.QueryParam("limit")),
		}
		if s := c.QueryParam("after"); s != "" {
			var err error
			if f.After, err = query.ParseCalendarCursor(s); err != nil {
				fields["after"] = "must be a cursor from next_after"
			}
		}
		if err := queryError(fields); err != nil {
			return err
		}
		p := mustPrincipal(c)
		if f.From.IsZero() {
			base := f.To
			if base.IsZero() {
				base = today(p.Schedule, now())
			}
			f.From = calendar.Date{Year: base.Year, Month: base.Month, Day: 1}
		}
		if f.To.IsZero() {
			f.To = calendar.Date{Year: f.From.Year, Month: f.From.Month + 1, Day: 1}.AddDays(-1)
		}
		if err := checkSpan(f.From, f.To); err != nil {
			return err
		}
		list, next, err := days.Handle(c.Request().Context(), p.Employee, f)
		if err != nil {
			return err
		}
		page := LeaveCalendarPage{Items: make([]LeaveDayJSON, len(list))}
		for i, d := range list {
			page.Items[i] = leaveDayJSON(d)
		}
		if !next.IsZero() {
			page.NextAfter = nextAfter(next.String())
		}
		return c.JSON(http.StatusOK, page)
	}
}
