package http

import (
	"context"
	"fmt"
	"math"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/leave"
)

// LeaveTypeJSON is a leave type's policy as it stands now.
type LeaveTypeJSON struct {
	Code                   string  `json:"code" example:"annual"`
	Name                   string  `json:"name" example:"Annual leave"`
	Paid                   bool    `json:"paid" example:"true"`
	Tracked                bool    `json:"tracked" example:"true"`
	Accrual                string  `json:"accrual" example:"upfront" enums:"upfront,monthly,none"`
	DaysPerYear            float64 `json:"days_per_year" example:"15"`
	CarryOverMaxDays       float64 `json:"carry_over_max_days" example:"0"`
	CarryOverExpiresMonths int     `json:"carry_over_expires_months" example:"3"`
	HalfDays               bool    `json:"half_days" example:"true"`
	Hours                  bool    `json:"hours" example:"false"`
	PastRequests           bool    `json:"past_requests" example:"true"`
	Active                 bool    `json:"active" example:"true"`
}

func leaveTypeJSON(t leave.Type) LeaveTypeJSON {
	return LeaveTypeJSON{
		Code: t.Code, Name: t.Name, Paid: t.Paid, Tracked: t.Tracked, Accrual: string(t.Accrual),
		DaysPerYear: t.PerYear.Days(), CarryOverMaxDays: t.CarryOverMax.Days(), CarryOverExpiresMonths: t.CarryOverExpiresMonths,
		HalfDays: t.HalfDays, Hours: t.Hours, PastRequests: t.PastRequests, Active: t.Active,
	}
}

// LeaveTypePage is every leave type, never paged: next_after is always null.
type LeaveTypePage struct {
	Items     []LeaveTypeJSON `json:"items"`
	NextAfter *string         `json:"next_after"`
}

// handleListLeaveTypes godoc
//
//	@Summary		List leave types
//	@Description	Every leave type with its policy as it stands today, inactive ones included, in the order they were made: the four built-in types first.
//	@Tags			leave-types
//	@Produce		json
//	@Security		BearerAuth
//	@Success		200	{object}	LeaveTypePage
//	@Failure		400	{object}	UnpagedListQueryProblem
//	@Failure		401	{object}	UnauthorizedProblem
//	@Router			/api/leave-types/ [get]
func handleListLeaveTypes(types query.LeaveTypesHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		checkNoCursor(fields, c.QueryParam("after"))
		if err := queryError(fields); err != nil {
			return err
		}
		policy, err := types.Handle(c.Request().Context())
		if err != nil {
			return err
		}
		current := policy.Current()
		list := LeaveTypePage{Items: make([]LeaveTypeJSON, len(current))}
		for i, t := range current {
			list.Items[i] = leaveTypeJSON(t)
		}
		return c.JSON(http.StatusOK, list)
	}
}

// leaveTypeRequest is a new leave type, or the fields of one to change; a
// field left out takes its default (a new type) or stays as it is (a change).
type leaveTypeRequest struct {
	Code                   *string  `json:"code,omitempty" example:"study"`
	Name                   *string  `json:"name" example:"Study leave"`
	Paid                   *bool    `json:"paid" example:"true"`
	Tracked                *bool    `json:"tracked" example:"true"`
	Accrual                *string  `json:"accrual" example:"monthly" enums:"upfront,monthly,none"`
	DaysPerYear            *float64 `json:"days_per_year" example:"6"`
	CarryOverMaxDays       *float64 `json:"carry_over_max_days" example:"0"`
	CarryOverExpiresMonths *int     `json:"carry_over_expires_months" example:"0"`
	HalfDays               *bool    `json:"half_days" example:"true"`
	Hours                  *bool    `json:"hours" example:"false"`
	PastRequests           *bool    `json:"past_requests" example:"false"`
	Active                 *bool    `json:"active" example:"true"`

	change leave.TypeChange
}

// maxTypeDays bounds the days of a policy before they become minutes; the
// domain checks the exact range.
const maxTypeDays = 366

// parse checks the numbers a client sent and fills in change.
func (r *leaveTypeRequest) parse(fields map[string]string) {
	amount := func(name string, d *float64) *leave.Amount {
		if d == nil {
			return nil
		}
		if *d < 0 || *d > maxTypeDays {
			fields[name] = fmt.Sprintf("must be between 0 and %d", maxTypeDays)
			return nil
		}
		a := leave.Amount(math.Round(*d * leave.MinutesPerDay))
		return &a
	}
	r.change = leave.TypeChange{
		Name: r.Name, Paid: r.Paid, Tracked: r.Tracked, PerYear: amount("days_per_year", r.DaysPerYear),
		CarryOverMax: amount("carry_over_max_days", r.CarryOverMaxDays), CarryOverExpiresMonths: r.CarryOverExpiresMonths,
		HalfDays: r.HalfDays, Hours: r.Hours, PastRequests: r.PastRequests, Active: r.Active,
	}
	if r.Accrual != nil {
		a := leave.Accrual(*r.Accrual)
		r.change.Accrual = &a
	}
}

// newLeaveTypeRequest is a new leave type: code, name and accrual required.
type newLeaveTypeRequest leaveTypeRequest

func (r *newLeaveTypeRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if r.Code == nil {
		fields["code"] = "required"
	}
	if r.Name == nil {
		fields["name"] = "required"
	}
	if r.Accrual == nil {
		fields["accrual"] = "required"
	}
	(*leaveTypeRequest)(r).parse(fields)
	return fields
}

// newType is the type the request describes: its fields over a new type's
// defaults, active.
func (r *newLeaveTypeRequest) newType() leave.Type {
	return r.change.Apply(leave.Type{Code: *r.Code, Active: true})
}

// handleDefineLeaveType godoc
//
//	@Summary		Create a leave type
//	@Description	A new type's policy covers every date of every employee's employment, the past included. Fields left out are false or 0; active is true unless given.
//	@Tags			leave-types
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			body	body		newLeaveTypeRequest	true	"the leave type: code, name and accrual required"
//	@Success		201		{object}	LeaveTypeJSON
//	@Failure		400		{object}	LeaveTypeInputProblem
//	@Failure		401		{object}	UnauthorizedProblem
//	@Failure		403		{object}	ForbiddenProblem
//	@Failure		409		{object}	LeaveTypeExistsProblem
//	@Router			/api/leave-types/ [post]
func handleDefineLeaveType(define command.DefineLeaveTypeHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[newLeaveTypeRequest](c)
		if err != nil {
			return err
		}
		t, err := define.Handle(c.Request().Context(), command.DefineLeaveType{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), Type: req.newType(),
		})
		if err != nil {
			return err
		}
		return created(c, leaveTypeJSON(t))
	}
}

// changeLeaveTypeRequest is the fields of a type to change; its code never
// changes.
type changeLeaveTypeRequest leaveTypeRequest

func (r *changeLeaveTypeRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if r.Code != nil {
		fields["code"] = "cannot be changed"
	}
	(*leaveTypeRequest)(r).parse(fields)
	return fields
}

// handleChangeLeaveType godoc
//
//	@Summary		Change a leave type
//	@Description	Sets the fields given from today (the company's day) forward: balances on days before it keep the policy then in force. A body that changes nothing records nothing.
//	@Tags			leave-types
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			code	path		string					true	"leave type code"
//	@Param			body	body		changeLeaveTypeRequest	true	"the fields to change, without code"
//	@Success		200		{object}	LeaveTypeJSON
//	@Failure		400		{object}	LeaveTypeChangeInputProblem
//	@Failure		401		{object}	UnauthorizedProblem
//	@Failure		403		{object}	ForbiddenProblem
//	@Failure		404		{object}	NotFoundProblem
//	@Router			/api/leave-types/{code}/ [patch]
func handleChangeLeaveType(change command.ChangeLeaveTypeHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[changeLeaveTypeRequest](c)
		if err != nil {
			return err
		}
		t, err := change.Handle(c.Request().Context(), command.ChangeLeaveType{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), Code: c.Param("code"), Change: req.change,
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, leaveTypeJSON(t))
	}
}
