package http

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/internal/recent"
	"github.com/acme/employee-tracking/projections"
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

// EmployeeJSON is an employee on the wire.
type EmployeeJSON struct {
	ID        string       `json:"id"`
	Email     string       `json:"email"`
	FullName  string       `json:"full_name"`
	Role      string       `json:"role" enums:"employee,manager,admin,auditor"`
	ManagerID *string      `json:"manager_id"`
	Position  string       `json:"position"`
	HireDate  string       `json:"hire_date" example:"2024-01-15"`
	Schedule  ScheduleJSON `json:"schedule"`
	Active    bool         `json:"active"`
}

func employeeJSON(e employee.Employee) EmployeeJSON {
	out := EmployeeJSON{
		ID: e.EmployeeID, Email: e.Email, FullName: e.FullName, Role: string(e.Role), Position: e.Position,
		HireDate: e.HireDate.String(), Schedule: scheduleJSON(e.Schedule), Active: e.Active,
	}
	if e.ManagerID != "" {
		m := e.ManagerID
		out.ManagerID = &m
	}
	return out
}

func employeeViewJSON(v projections.EmployeeView) EmployeeJSON {
	return EmployeeJSON{
		ID: v.ID, Email: v.Email, FullName: v.FullName, Role: v.Role, ManagerID: v.ManagerID, Position: v.Position,
		HireDate: v.HireDate.String(), Schedule: scheduleJSON(v.Schedule), Active: v.Active,
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

// apply returns base with the patch's fields set; the domain validates the result.
func (s *schedulePatch) apply(base employee.Schedule) employee.Schedule {
	if s == nil {
		return base
	}
	out := base
	if s.Timezone != nil {
		out.Timezone = *s.Timezone
	}
	if s.WorkStart != nil {
		out.WorkStart, _ = calendar.ParseClock(*s.WorkStart) // checked in Valid
	}
	if s.WorkEnd != nil {
		out.WorkEnd, _ = calendar.ParseClock(*s.WorkEnd)
	}
	if s.GraceMinutes != nil {
		out.GraceMinutes = *s.GraceMinutes
	}
	if s.Workdays != nil {
		out.Workdays = s.Workdays
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

	hireDate  calendar.Date
	managerID string
}

func (r *registerRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	r.Email = strings.TrimSpace(r.Email)
	if msg := employee.CheckEmail(r.Email); msg != "" {
		fields["email"] = msg
	}
	if msg := checkPassword(r.Password); msg != "" {
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
	return fields
}

// handleRegisterEmployee godoc
//
//	@Summary		Register an employee
//	@Description	Admins register anyone; a manager registers employees who report to them. The new employee is granted the year's annual leave.
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
//	@Router			/api/employees/ [post]
func handleRegisterEmployee(accounts *Accounts, store EventStore, defaults employee.Schedule) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := mustPrincipal(c)
		req, err := decode[registerRequest](c)
		if err != nil {
			return err
		}
		// Who may not register people outside their team registers into it.
		if req.managerID == "" && !access.Allowed(p.Employee, access.EmployeeRegister, access.Other) {
			req.managerID = p.EmployeeID
		}
		recruit := employee.Employee{ManagerID: req.managerID, Role: employee.Role(req.Role)}
		if err := permit(c, access.EmployeeRegister, recruit); err != nil {
			return err
		}
		if recruit.Role != employee.RoleEmployee {
			if err := permit(c, access.EmployeeAssignRole, recruit); err != nil {
				return err
			}
		}
		ctx := c.Request().Context()
		if err := checkManager(ctx, store, req.managerID); err != nil {
			return err
		}
		e, err := accounts.Register(ctx, originOf(c), employee.Register{
			Email: req.Email, FullName: req.FullName, Role: recruit.Role, ManagerID: req.managerID,
			Position: req.Position, HireDate: req.hireDate, Schedule: req.Schedule.apply(defaults),
		}, req.Password)
		if err != nil {
			return err
		}
		return created(c, employeeJSON(e))
	}
}

// checkManager refuses a manager_id that names no active manager or admin.
func checkManager(ctx context.Context, store EventStore, id string) error {
	if id == "" {
		return nil
	}
	m, err := loadEmployee(ctx, store, id)
	if errors.Is(err, errNotFound) || (err == nil && (!m.Active || !(m.Role == employee.RoleManager || m.Role == employee.RoleAdmin))) {
		return badRequest("invalid input", map[string]string{"manager_id": "must name an active manager or admin"})
	}
	return err
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
func handleListEmployees(q Queries) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := mustPrincipal(c)
		fields := map[string]string{}
		f := projections.EmployeeFilter{Limit: checkLimit(fields, c.QueryParam("limit")), After: checkIDCursor(fields, c.QueryParam("after"))}
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

func nextAfter(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// visibleEmployee loads the employee at path parameter name; one the caller
// may not see is as unknown as one that does not exist.
func visibleEmployee(c echo.Context, store EventStore, name string) (employee.Employee, error) {
	id, err := pathID(c, name)
	if err != nil {
		return employee.Employee{}, err
	}
	return visibleEmployeeID(c, store, id)
}

func visibleEmployeeID(c echo.Context, store EventStore, id string) (employee.Employee, error) {
	p := mustPrincipal(c)
	e := p.Employee
	if id != p.EmployeeID {
		var err error
		if e, err = loadEmployee(c.Request().Context(), store, id); err != nil {
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
func handleGetEmployee(store EventStore) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, err := visibleEmployee(c, store, "id")
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
	return fields
}

// handlePatchEmployee godoc
//
//	@Summary		Change an employee
//	@Description	Admins change the schedule, manager, role, position, or deactivate (active=false: every session of the employee ends) and reactivate. Nobody changes their own role or deactivates themselves.
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
//	@Router			/api/employees/{id}/ [patch]
func handlePatchEmployee(store EventStore, people *recent.Cache[employee.Employee], sessions *Sessions, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, err := visibleEmployee(c, store, "id")
		if err != nil {
			return err
		}
		if err := permit(c, access.EmployeeChange, e); err != nil {
			return err
		}
		req, err := decode[patchEmployeeRequest](c)
		if err != nil {
			return err
		}
		if req.Role != nil && employee.Role(*req.Role) != e.Role {
			if err := permit(c, access.EmployeeAssignRole, e); err != nil {
				return err
			}
		}
		if req.Active != nil && !*req.Active {
			if err := permit(c, access.EmployeeDeactivate, e); err != nil {
				return err
			}
		}
		ctx := c.Request().Context()
		if err := checkManager(ctx, store, req.managerID); err != nil {
			return err
		}
		d, err := update(ctx, store, originOf(c), employee.Stream(e.EmployeeID), func(history []any) ([]any, error) {
			state := employee.Replay(history)
			var cmds []employee.Command
			if req.Active != nil && *req.Active {
				cmds = append(cmds, employee.Reactivate{})
			}
			change := employee.Change{Position: req.Position}
			if req.ManagerID != nil {
				change.ManagerID = &req.managerID
			}
			if req.Schedule != nil {
				s := req.Schedule.apply(state.Schedule)
				change.Schedule = &s
			}
			if req.Role != nil {
				r := employee.Role(*req.Role)
				change.Role = &r
			}
			if change != (employee.Change{}) {
				cmds = append(cmds, change)
			}
			if req.Active != nil && !*req.Active {
				cmds = append(cmds, employee.Deactivate{Reason: req.Reason})
			}
			return decideAll(&state, cmds, now())
		})
		if err != nil {
			return err
		}
		people.Forget(e.EmployeeID) // the next request of that employee sees the change
		state := employee.Replay(append(d.history, d.events...))
		if !state.Exists {
			return errNotFound
		}
		if !state.Active {
			if err := sessions.endAll(ctx, e.EmployeeID, "deactivated"); err != nil {
				return err
			}
		}
		return c.JSON(http.StatusOK, employeeJSON(state))
	}
}

// decideAll decides the commands in order, each on the state the previous
// ones left.
func decideAll(state *employee.Employee, cmds []employee.Command, now time.Time) ([]any, error) {
	var out []any
	for _, cmd := range cmds {
		events, err := employee.Decide(*state, cmd, now)
		if err != nil {
			return nil, err
		}
		for _, ev := range events {
			state.Apply(ev)
		}
		out = append(out, events...)
	}
	return out, nil
}
