package http

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
)

// Attendance record types of POST /api/attendance/.
const (
	typeCheckIn  = "check-in"
	typeCheckOut = "check-out"
)

type attendanceRequest struct {
	Type string `json:"type" enums:"check-in,check-out" example:"check-in"`
}

func (r *attendanceRequest) Valid(context.Context) map[string]string {
	if r.Type != typeCheckIn && r.Type != typeCheckOut {
		return map[string]string{"type": `must be "check-in" or "check-out"`}
	}
	return nil
}

// AttendanceRecordJSON is one check-in or check-out as recorded.
type AttendanceRecordJSON struct {
	ID          string    `json:"id"`
	EmployeeID  string    `json:"employee_id"`
	Type        string    `json:"type" enums:"check-in,check-out"`
	At          time.Time `json:"at"`
	LocalDate   string    `json:"local_date" example:"2024-12-02"`
	Late        bool      `json:"late"`
	LateMinutes int       `json:"late_minutes"`
}

// handleAttendance godoc
//
//	@Summary		Check in or out
//	@Description	Records the caller's check-in or check-out at the server's clock. A check-in from EARLY_CHECKIN_MINUTES before a shift's start to its end counts for that shift's date (an overnight shift keeps the date it starts on). The first check-in of a workday past the schedule's start plus grace is late. A check-in while an earlier one is open past AUTO_CHECKOUT_AFTER closes that one at its shift's end first (attendance.auto_checked_out) instead of answering 409; a check-out of one past that point is 409.
//	@Tags			attendance
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			Idempotency-Key	header		string				false	"makes a retry safe"
//	@Param			body			body		attendanceRequest	true	"check-in or check-out"
//	@Success		201				{object}	AttendanceRecordJSON
//	@Failure		400				{object}	AttendanceInputProblem
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem	"an auditor changes nothing"
//	@Failure		409				{object}	CheckedInProblem
//	@Router			/api/attendance/ [post]
func handleAttendance(record *command.RecordAttendanceHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := mustPrincipal(c)
		req, err := decode[attendanceRequest](c)
		if err != nil {
			return err
		}
		r, err := record.Handle(c.Request().Context(), command.RecordAttendance{
			Actor: p.Employee, Origin: originOf(c), CheckIn: req.Type == typeCheckIn,
		})
		if err != nil {
			return err
		}
		out := AttendanceRecordJSON{ID: r.ID, EmployeeID: p.EmployeeID, Type: req.Type}
		switch ev := r.Event.(type) {
		case attendance.CheckedIn:
			out.At, out.LocalDate, out.Late, out.LateMinutes = ev.At, ev.LocalDate.String(), ev.Late, ev.LateMinutes
		case attendance.CheckedOut:
			out.At, out.LocalDate = ev.At, ev.LocalDate.String()
		}
		return created(c, out)
	}
}

// today is the caller's local date.
func today(s employee.Schedule, now time.Time) calendar.Date {
	loc, err := s.Location()
	if err != nil {
		loc = time.UTC
	}
	return calendar.DateOf(now, loc)
}

// AttendanceDayJSON is one employee's day.
type AttendanceDayJSON struct {
	EmployeeID    string     `json:"employee_id"`
	Date          string     `json:"date" example:"2024-12-02"`
	CheckIn       *time.Time `json:"check_in"`
	CheckOut      *time.Time `json:"check_out"`
	WorkedMinutes int        `json:"worked_minutes"`
	LateMinutes   int        `json:"late_minutes"`
	Status        string     `json:"status" enums:"open,present,late,not_checked_in"`
	// NeedsReview is true when the system closed a forgotten check-out of the day.
	NeedsReview bool `json:"needs_review"`
	// Corrected is true when an approved correction replaced the day's first
	// check-in or last check-out; the punches stay in the history.
	Corrected bool `json:"corrected"`
}

func attendanceDayJSON(d query.AttendanceDay) AttendanceDayJSON {
	in := d.CheckIn
	return AttendanceDayJSON{
		EmployeeID: d.EmployeeID, Date: d.Date.String(), CheckIn: &in, CheckOut: d.CheckOut,
		WorkedMinutes: d.WorkedMinutes, LateMinutes: d.LateMinutes, Status: d.Status, NeedsReview: d.NeedsReview,
		Corrected: d.Corrected,
	}
}

// AttendancePage is a list of days, never paged: next_after is always null.
type AttendancePage struct {
	Items     []AttendanceDayJSON `json:"items"`
	NextAfter *string             `json:"next_after"`
}

// handleListAttendance godoc
//
//	@Summary		Attendance days
//	@Description	Days of one employee (the caller by default) from from to to (this month by default), at most 366 days.
//	@Tags			attendance
//	@Produce		json
//	@Security		BearerAuth
//	@Param			employee_id	query		string	false	"employee id"
//	@Param			from		query		string	false	"first date YYYY-MM-DD"
//	@Param			to			query		string	false	"last date YYYY-MM-DD"
//	@Success		200			{object}	AttendancePage
//	@Failure		400			{object}	AttendanceQueryProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		404			{object}	NotFoundProblem
//	@Router			/api/attendance/ [get]
func handleListAttendance(employees query.EmployeeHandler, q query.ReadModels, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		id := checkUUID(fields, "employee_id", c.QueryParam("employee_id"))
		from := checkDate(fields, "from", c.QueryParam("from"), false)
		to := checkDate(fields, "to", c.QueryParam("to"), false)
		checkNoCursor(fields, c.QueryParam("after"))
		if err := queryError(fields); err != nil {
			return err
		}
		p := mustPrincipal(c)
		if id == "" {
			id = p.EmployeeID
		}
		e, err := visibleEmployeeID(c, employees, id)
		if err != nil {
			return err
		}
		t := today(e.Schedule, now())
		if to.IsZero() {
			to = t
		}
		if from.IsZero() {
			from = calendar.Date{Year: to.Year, Month: to.Month, Day: 1}
		}
		if err := checkSpan(from, to); err != nil {
			return err
		}
		days, err := q.AttendanceDays(c.Request().Context(), id, from, to)
		if err != nil {
			return err
		}
		page := AttendancePage{Items: make([]AttendanceDayJSON, len(days))}
		for i, d := range days {
			page.Items[i] = attendanceDayJSON(d)
		}
		return c.JSON(http.StatusOK, page)
	}
}

// handleAttendanceToday godoc
//
//	@Summary	The caller's day today
//	@Tags		attendance
//	@Produce	json
//	@Security	BearerAuth
//	@Success	200	{object}	AttendanceDayJSON
//	@Failure	401	{object}	UnauthorizedProblem
//	@Router		/api/attendance/today/ [get]
func handleAttendanceToday(q query.ReadModels, record *command.RecordAttendanceHandler, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := mustPrincipal(c)
		// The day of the shift under way: at 02:00 of a night shift, the date it began.
		t := attendance.ShiftDate(p.Schedule, record.Rules(), now())
		days, err := q.AttendanceDays(c.Request().Context(), p.EmployeeID, t, t)
		if err != nil {
			return err
		}
		if len(days) == 0 {
			return c.JSON(http.StatusOK, AttendanceDayJSON{EmployeeID: p.EmployeeID, Date: t.String(), Status: "not_checked_in"})
		}
		return c.JSON(http.StatusOK, attendanceDayJSON(days[0]))
	}
}
