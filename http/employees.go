package http

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/internal/recent"
)

// ScheduleJSON is a work schedule on the wire.
type ScheduleJSON struct {
	Timezone     string `json:"timezone" example:"Europe/Istanbul"`
	WorkStart    string `json:"work_start" example:"08:00"`
	WorkEnd      string `json:"work_end" example:"17:00"`
	GraceMinutes int    `json:"grace_minutes" example:"0"`
	Workdays     []int  `json:"workdays" example:"1,2,3,4,5"`
}

func scheduleJSON(s employee.Schedule) ScheduleJSON {
	return ScheduleJSON{Timezone: s.Timezone, WorkStart: s.WorkStart.String(), WorkEnd: s.WorkEnd.String(), GraceMinutes: s.GraceMinutes, Workdays: s.Workdays}
}

// EmployeeJSON is an employee on the wire. An erased employee's email, name
// and position are null.
type EmployeeJSON struct {
	ID        string       `json:"id"`
	Email     *string      `json:"email"`
	FullName  *string      `json:"full_name"`
	Role      string       `json:"role" enums:"employee,manager,admin,auditor"`
	ManagerID *string      `json:"manager_id"`
	Position  *string      `json:"position"`
	HireDate  string       `json:"hire_date" example:"2024-01-15"`
	Schedule  ScheduleJSON `json:"schedule"`
	// HolidayCalendar is the code of the calendar whose holidays the
	// employee keeps.
	HolidayCalendar string `json:"holiday_calendar" example:"default"`
	Active          bool   `json:"active"`
	Erased          bool   `json:"erased,omitempty"`
}

func employeeJSON(e employee.Employee) EmployeeJSON {
	out := EmployeeJSON{
		ID: e.EmployeeID, Email: personal(e.Email, e.Erased), FullName: personal(e.FullName, e.Erased), Role: string(e.Role),
		Position: personal(e.Position, e.Erased), HireDate: e.HireDate.String(), Schedule: scheduleJSON(e.Schedule), HolidayCalendar: e.HolidayCalendar, Active: e.Active,
		Erased: e.Erased,
	}
	if e.ManagerID != "" {
		m := e.ManagerID
		out.ManagerID = &m
	}
	return out
}

func employeeViewJSON(v query.EmployeeView) EmployeeJSON {
	return EmployeeJSON{
		ID: v.ID, Email: personal(v.Email, v.Erased), FullName: personal(v.FullName, v.Erased), Role: v.Role, ManagerID: v.ManagerID,
		Position: personal(v.Position, v.Erased), HireDate: v.HireDate.String(), Schedule: scheduleJSON(v.Schedule), HolidayCalendar: v.HolidayCalendar, Active: v.Active,
		Erased: v.Erased,
	}
}

// schedulePatch is a schedule in a request: missing fields keep the value
// they are applied to.
type schedulePatch struct {
	Timezone     *string `json:"timezone" example:"Europe/Istanbul"`
	WorkStart    *string `json:"work_start" example:"08:00"`
	WorkEnd      *string `json:"work_end" example:"17:00"`
	GraceMinutes *int    `json:"grace_minutes" example:"5"`
	Workdays     []int   `json:"workdays" example:"1,2,3,4,5"`
}

// check names the malformed fields under "schedule.".
func (s *schedulePatch) check(fields map[string]string) {
	if s == nil {
		return
	}
	for name, v := range map[string]*string{"work_start": s.WorkStart, "work_end": s.WorkEnd} {
		if v == nil {
			continue
		}
		if _, err := calendar.ParseClock(*v); err != nil {
			fields["schedule."+name] = "must be a time of day HH:MM between 00:00 and 23:59"
		}
	}
	if s.Workdays != nil && len(s.Workdays) == 0 {
		fields["schedule.workdays"] = "at least one workday is required"
	}
}

// patch is the schedule patch of the commands; its times were checked in
// Valid.
func (s *schedulePatch) patch() *command.SchedulePatch {
	if s == nil {
		return nil
	}
	out := &command.SchedulePatch{Timezone: s.Timezone, GraceMinutes: s.GraceMinutes, Workdays: s.Workdays}
	if s.WorkStart != nil {
		start, _ := calendar.ParseClock(*s.WorkStart)
		out.WorkStart = &start
	}
	if s.WorkEnd != nil {
		end, _ := calendar.ParseClock(*s.WorkEnd)
		out.WorkEnd = &end
	}
	return out
}

type registerRequest struct {
	Email     string         `json:"email" example:"ayse@example.com"`
	Password  string         `json:"password" example:"correct horse battery"`
	FullName  string         `json:"full_name" example:"Ayşe Yılmaz"`
	Role      string         `json:"role" enums:"employee,manager,admin,auditor" example:"employee"`
	ManagerID *string        `json:"manager_id"`
	Position  string         `json:"position" example:"Engineer"`
	HireDate  string         `json:"hire_date" example:"2024-01-15"`
	Schedule  *schedulePatch `json:"schedule"`
	// HolidayCalendar is the code of a holiday calendar; default when left
	// out.
	HolidayCalendar string `json:"holiday_calendar" example:"default"`

	hireDate  calendar.Date
	managerID string
}

func (r *registerRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	r.Email = strings.TrimSpace(r.Email)
	if msg := employee.CheckEmail(r.Email); msg != "" {
		fields["email"] = msg
	}
	if msg := command.CheckPassword(r.Password); msg != "" {
		fields["password"] = msg
	}
	if r.FullName == "" {
		fields["full_name"] = "required"
	}
	if r.Role == "" {
		r.Role = string(employee.RoleEmployee)
	}
	if _, err := employee.ParseRole(r.Role); err != nil {
		fields["role"] = employee.ErrInvalidRole.Error()
	}
	if r.ManagerID != nil {
		r.managerID = checkUUID(fields, "manager_id", *r.ManagerID)
	}
	r.hireDate = checkDate(fields, "hire_date", r.HireDate, false)
	r.Schedule.check(fields)
	r.HolidayCalendar = checkCalendarCode(fields, "holiday_calendar", r.HolidayCalendar)
	return fields
}

// handleRegisterEmployee godoc
//
//	@Summary		Register an employee
//	@Description	Admins register anyone; a manager registers employees who report to them. The new employee is granted the year's annual leave. A holiday_calendar no one made is 422.
//	@Tags			employees
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			Idempotency-Key	header		string			false	"makes a retry safe"
//	@Param			body			body		registerRequest	true	"the employee"
//	@Success		201				{object}	EmployeeJSON
//	@Failure		400				{object}	RegistrationInputProblem
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem
//	@Failure		409				{object}	EmailTakenProblem
//	@Failure		422				{object}	EmployeeHolidayCalendarProblem
//	@Router			/api/employees/ [post]
func handleRegisterEmployee(register command.RegisterEmployeeHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[registerRequest](c)
		if err != nil {
			return err
		}
		e, err := register.Handle(c.Request().Context(), command.RegisterEmployee{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c),
			Email: req.Email, Password: req.Password, FullName: req.FullName, Role: employee.Role(req.Role),
			ManagerID: req.managerID, Position: req.Position, HireDate: req.hireDate, Schedule: req.Schedule.patch(),
			HolidayCalendar: req.HolidayCalendar,
		})
		if err != nil {
			return err
		}
		return created(c, employeeJSON(e))
	}
}

// EmployeePage is a page of employees.
type EmployeePage struct {
	Items     []EmployeeJSON `json:"items"`
	NextAfter *string        `json:"next_after"`
}

// handleListEmployees godoc
//
//	@Summary	List employees
//	@Description	Managers see their reports; admins and auditors see everyone.
//	@Tags		employees
//	@Produce	json
//	@Security	BearerAuth
//	@Param		limit	query		int		false	"page size (1-500)"	default(50)
//	@Param		after	query		string	false	"cursor from next_after"
//	@Success	200		{object}	EmployeePage
//	@Failure	400		{object}	ListQueryProblem
//	@Failure	401		{object}	UnauthorizedProblem
//	@Failure	403		{object}	ForbiddenProblem
//	@Router		/api/employees/ [get]
func handleListEmployees(q query.ReadModels) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := mustPrincipal(c)
		fields := map[string]string{}
		f := query.EmployeeFilter{Limit: checkLimit(fields, c.QueryParam("limit")), After: checkIDCursor(fields, c.QueryParam("after"))}
		if err := queryError(fields); err != nil {
			return err
		}
		if !access.Allowed(p.Employee, access.EmployeeList, access.Other) {
			f.ManagerID = p.EmployeeID // their reports
		}
		views, next, err := q.ListEmployees(c.Request().Context(), f)
		if err != nil {
			return err
		}
		page := EmployeePage{Items: make([]EmployeeJSON, len(views)), NextAfter: nextAfter(next)}
		for i, v := range views {
			page.Items[i] = employeeViewJSON(v)
		}
		return c.JSON(http.StatusOK, page)
	}
}

// checkIDCursor reads the after cursor of a list ordered by id: the id of
// the previous page's last item.
func checkIDCursor(fields map[string]string, s string) string {
	id := checkUUID(fields, "after", s)
	if _, bad := fields["after"]; bad {
		fields["after"] = "must be a cursor from next_after"
	}
	return id
}

// checkNoCursor refuses an after cursor on a list that is never paged: it
// hands out none, so any is malformed.
func checkNoCursor(fields map[string]string, s string) {
	if s != "" {
		fields["after"] = "must be empty: this list is not paged"
	}
}

// nextAfter is the cursor of the page that follows, null after the last.
func nextAfter(s string) *string { return nonEmpty(s) }

// nonEmpty is s, or null when it is empty.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// visibleEmployee loads the employee at path parameter name; one the caller
// may not see is as unknown as one that does not exist.
func visibleEmployee(c echo.Context, employees query.EmployeeHandler, name string) (employee.Employee, error) {
	id, err := pathID(c, name)
	if err != nil {
		return employee.Employee{}, err
	}
	return visibleEmployeeID(c, employees, id)
}

func visibleEmployeeID(c echo.Context, employees query.EmployeeHandler, id string) (employee.Employee, error) {
	p := mustPrincipal(c)
	e := p.Employee
	if id != p.EmployeeID {
		var err error
		if e, err = employees.Handle(c.Request().Context(), id); err != nil {
			return employee.Employee{}, err
		}
	}
	if !access.Allowed(p.Employee, access.EmployeeRead, access.RelationOf(p.Employee, e)) {
		return employee.Employee{}, errNotFound
	}
	return e, nil
}

// readableScope narrows a list to the records the caller may read:
// everyone's (both empty), their reports' (managerID) or their own
// (employeeID).
func readableScope(p principal) (employeeID, managerID string) {
	switch scope := access.Scope(p.Employee, access.EmployeeRead); {
	case scope&access.Other != 0:
		return "", ""
	case scope&access.Report != 0:
		return "", p.EmployeeID
	default:
		return p.EmployeeID, ""
	}
}

// handleGetEmployee godoc
//
//	@Summary	Get an employee
//	@Tags		employees
//	@Produce	json
//	@Security	BearerAuth
//	@Param		id	path		string	true	"employee id"
//	@Success	200	{object}	EmployeeJSON
//	@Failure	401	{object}	UnauthorizedProblem
//	@Failure	404	{object}	NotFoundProblem
//	@Router		/api/employees/{id}/ [get]
func handleGetEmployee(employees query.EmployeeHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, err := visibleEmployee(c, employees, "id")
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, employeeJSON(e))
	}
}

type patchEmployeeRequest struct {
	Schedule  *schedulePatch `json:"schedule"`
	ManagerID *string        `json:"manager_id"`
	Role      *string        `json:"role" enums:"employee,manager,admin,auditor"`
	Position  *string        `json:"position"`
	Active    *bool          `json:"active"`
	Reason    string         `json:"reason"`
	// HolidayCalendar is the code of a holiday calendar.
	HolidayCalendar *string `json:"holiday_calendar" example:"berlin"`

	managerID string
}

func (r *patchEmployeeRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	r.Schedule.check(fields)
	if r.ManagerID != nil && *r.ManagerID != "" {
		r.managerID = checkUUID(fields, "manager_id", *r.ManagerID)
	}
	if r.Role != nil {
		if _, err := employee.ParseRole(*r.Role); err != nil {
			fields["role"] = employee.ErrInvalidRole.Error()
		}
	}
	if r.HolidayCalendar != nil {
		*r.HolidayCalendar = checkCalendarCode(fields, "holiday_calendar", *r.HolidayCalendar)
	}
	return fields
}

// handlePatchEmployee godoc
//
//	@Summary		Change an employee
//	@Description	Admins change the schedule, manager, role, position, holiday calendar (one no one made is 422), or deactivate (active=false: every session of the employee ends) and reactivate. Nobody changes their own role or deactivates themselves.
//	@Tags			employees
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id		path		string					true	"employee id"
//	@Param			body	body		patchEmployeeRequest	true	"fields to change"
//	@Success		200		{object}	EmployeeJSON
//	@Failure		400		{object}	EmployeeChangeInputProblem
//	@Failure		401		{object}	UnauthorizedProblem
//	@Failure		403		{object}	ForbiddenProblem
//	@Failure		404		{object}	NotFoundProblem
//	@Failure		409		{object}	InactiveEmployeeProblem
//	@Failure		422		{object}	EmployeeHolidayCalendarProblem
//	@Router			/api/employees/{id}/ [patch]
func handlePatchEmployee(change command.ChangeEmployeeHandler, people *recent.Cache[knownEmployee], sessions *Sessions) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		req, err := decodeFor[patchEmployeeRequest](c, change, id)
		if err != nil {
			return err
		}
		cmd := command.ChangeEmployee{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), EmployeeID: id,
			Schedule: req.Schedule.patch(), Position: req.Position, Active: req.Active, Reason: req.Reason,
			HolidayCalendar: req.HolidayCalendar,
		}
		if req.ManagerID != nil {
			cmd.ManagerID = &req.managerID
		}
		if req.Role != nil {
			r := employee.Role(*req.Role)
			cmd.Role = &r
		}
		ctx := c.Request().Context()
		e, err := change.Handle(ctx, cmd)
		if err != nil {
			return err
		}
		people.Forget(id) // the next request of that employee sees the change
		if !e.Active {
			if err := sessions.endAll(ctx, id, "deactivated"); err != nil {
				return err
			}
		}
		return c.JSON(http.StatusOK, employeeJSON(e))
	}
}
