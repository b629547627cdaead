package http

import (
	"context"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// LeaveRequestJSON is a leave request on the wire.
type LeaveRequestJSON struct {
	ID         string     `json:"id"`
	EmployeeID string     `json:"employee_id"`
	StartDate  string     `json:"start_date" example:"2024-12-01"`
	EndDate    string     `json:"end_date" example:"2024-12-05"`
	Days       int        `json:"days" example:"4"`
	Reason     string     `json:"reason"`
	Status     string     `json:"status" enums:"pending,approved,rejected,cancelled"`
	CreatedAt  time.Time  `json:"created_at"`
	DecidedBy  *string    `json:"decided_by"`
	DecidedAt  *time.Time `json:"decided_at"`
	Note       string     `json:"note"`
	// Approvals are the request's steps in order (approvals.go).
	Approvals []ApprovalJSON `json:"approvals"`
}

func leaveRequestJSON(r leave.RequestState) LeaveRequestJSON {
	out := LeaveRequestJSON{
		ID: r.ID, EmployeeID: r.EmployeeID, StartDate: r.Start.String(), EndDate: r.End.String(), Days: r.Days,
		Reason: r.Reason, Status: string(r.Status), CreatedAt: r.RequestedAt, Note: r.Note, Approvals: approvalsJSON(r.Approvals),
	}
	if r.DecidedBy != "" {
		by, at := r.DecidedBy, r.DecidedAt
		out.DecidedBy, out.DecidedAt = &by, &at
	}
	return out
}

func leaveViewJSON(v query.LeaveRequestView) LeaveRequestJSON {
	return LeaveRequestJSON{
		ID: v.ID, EmployeeID: v.EmployeeID, StartDate: v.StartDate.String(), EndDate: v.EndDate.String(), Days: v.Days,
		Reason: v.Reason, Status: v.Status, CreatedAt: v.CreatedAt, DecidedBy: v.DecidedBy, DecidedAt: v.DecidedAt, Note: v.Note,
		Approvals: approvalsJSON(v.Approvals),
	}
}

type leaveRequest struct {
	StartDate string `json:"start_date" example:"2024-12-01"`
	EndDate   string `json:"end_date" example:"2024-12-05"`
	Reason    string `json:"reason" example:"family visit"`

	start, end calendar.Date
}

func (r *leaveRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	r.start = checkDate(fields, "start_date", r.StartDate, true)
	r.end = checkDate(fields, "end_date", r.EndDate, true)
	if len(fields) == 0 && r.end.Before(r.start) {
		fields["end_date"] = "must not be before start_date"
	}
	return fields
}

// handleRequestLeave godoc
//
//	@Summary		Request leave
//	@Description	Files a leave request for the caller. days counts the caller's workdays in the range, both ends included, less company holidays.
//	@Tags			leave
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			Idempotency-Key	header		string			false	"makes a retry safe"
//	@Param			body			body		leaveRequest	true	"the dates"
//	@Success		201				{object}	LeaveRequestJSON
//	@Failure		400				{object}	LeaveInputProblem
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem			"an auditor changes nothing"
//	@Failure		422				{object}	InsufficientBalanceProblem	"no workdays in range, overlap, or more days than available"
//	@Router			/api/leave-management/ [post]
func handleRequestLeave(request command.RequestLeaveHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[leaveRequest](c)
		if err != nil {
			return err
		}
		r, err := request.Handle(c.Request().Context(), command.RequestLeave{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), Start: req.start, End: req.end, Reason: req.Reason,
		})
		if err != nil {
			return err
		}
		return created(c, leaveRequestJSON(r))
	}
}

// LeavePage is a page of leave requests.
type LeavePage struct {
	Items     []LeaveRequestJSON `json:"items"`
	NextAfter *string            `json:"next_after"`
}

var leaveStatuses = []string{string(leave.StatusPending), string(leave.StatusApproved), string(leave.StatusRejected), string(leave.StatusCancelled)}

// handleListLeave godoc
//
//	@Summary		List leave requests
//	@Description	Employees see their own, managers their reports' (or one report's with employee_id), admins and auditors everyone's.
//	@Tags			leave
//	@Produce		json
//	@Security		BearerAuth
//	@Param			status		query		string	false	"status"	Enums(pending, approved, rejected, cancelled)
//	@Param			employee_id	query		string	false	"employee id"
//	@Param			limit		query		int		false	"page size (1-500)"	default(50)
//	@Param			after		query		string	false	"cursor from next_after"
//	@Success		200			{object}	LeavePage
//	@Failure		400			{object}	ListQueryProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		404			{object}	NotFoundProblem
//	@Router			/api/leave-management/ [get]
func handleListLeave(employees query.EmployeeHandler, q query.ReadModels) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		f := query.LeaveFilter{
			Status:     c.QueryParam("status"),
			EmployeeID: checkUUID(fields, "employee_id", c.QueryParam("employee_id")),
			Limit:      checkLimit(fields, c.QueryParam("limit")),
			After:      checkIDCursor(fields, c.QueryParam("after")),
		}
		if f.Status != "" && !contains(leaveStatuses, f.Status) {
			fields["status"] = "must be one of " + strings.Join(leaveStatuses, ", ")
		}
		if err := queryError(fields); err != nil {
			return err
		}
		if f.EmployeeID != "" {
			if _, err := visibleEmployeeID(c, employees, f.EmployeeID); err != nil {
				return err
			}
		} else {
			f.EmployeeID, f.ManagerID = readableScope(mustPrincipal(c))
		}
		views, next, err := q.ListLeaveRequests(c.Request().Context(), f)
		if err != nil {
			return err
		}
		page := LeavePage{Items: make([]LeaveRequestJSON, len(views)), NextAfter: nextAfter(next)}
		for i, v := range views {
			page.Items[i] = leaveViewJSON(v)
		}
		return c.JSON(http.StatusOK, page)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// handleGetLeave godoc
//
//	@Summary		Get a leave request
//	@Description	Visible to whoever may read the employee, and to whom its approval chain names or waits on (a second manager, a delegate, the one it was routed or escalated to).
//	@Tags			leave
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id	path		string	true	"request id"
//	@Success		200	{object}	LeaveRequestJSON
//	@Failure		401	{object}	UnauthorizedProblem
//	@Failure		404	{object}	NotFoundProblem
//	@Router			/api/leave-management/{id}/ [get]
func handleGetLeave(requests query.LeaveRequestHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		r, err := requests.Handle(c.Request().Context(), mustPrincipal(c).Employee, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, leaveRequestJSON(r))
	}
}

type decideLeaveRequest struct {
	Status string `json:"status" enums:"approved,rejected" example:"approved"`
	Note   string `json:"note"`
}

func (r *decideLeaveRequest) Valid(context.Context) map[string]string {
	if r.Status != string(leave.StatusApproved) && r.Status != string(leave.StatusRejected) {
		return map[string]string{"status": `must be "approved" or "rejected"`}
	}
	return nil
}

// handleDecideLeave godoc
//
//	@Summary		Approve or reject a leave request
//	@Description	Decides the step the request waits on: whoever holds it (its approver, their delegate while the delegation runs, the one it was routed or escalated to) or an admin. The request is approved when its last step approves, rejected at the first rejection, and stays pending in between, the next step's approver being told. The balance check runs at every step. Approval spends the balance for the request's days less any holiday declared since it was filed (days in the answer); a holiday declared after the approval leaves it as approved.
//	@Tags			leave
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		string				true	"request id"
//	@Param			Idempotency-Key	header		string				false	"makes a retry safe"
//	@Param			body			body		decideLeaveRequest	true	"the decision"
//	@Success		200				{object}	LeaveRequestJSON
//	@Failure		400				{object}	DecisionInputProblem
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem
//	@Failure		404				{object}	NotFoundProblem
//	@Failure		409				{object}	NotPendingProblem	"not pending, or the step was decided meanwhile"
//	@Failure		422				{object}	InsufficientBalanceProblem	"approval past the balance, or holidays declared since cover every day of the request"
//	@Router			/api/leave-management/{id}/change-status/ [post]
func handleDecideLeave(decide command.DecideLeaveHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		req, err := decodeFor[decideLeaveRequest](c, decide, id)
		if err != nil {
			return err
		}
		r, err := decide.Handle(c.Request().Context(), command.DecideLeave{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), RequestID: id,
			Approve: req.Status == string(leave.StatusApproved), Note: req.Note,
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, leaveRequestJSON(r))
	}
}

// handleCancelLeave godoc
//
//	@Summary		Cancel a leave request
//	@Description	The employee cancels their pending request; their manager or an admin cancels a pending or approved one, whose days return to the balance.
//	@Tags			leave
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		string	true	"request id"
//	@Param			Idempotency-Key	header		string	false	"makes a retry safe"
//	@Success		200				{object}	LeaveRequestJSON
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem
//	@Failure		404				{object}	NotFoundProblem
//	@Failure		409				{object}	NotCancellableProblem
//	@Router			/api/leave-management/{id}/cancel/ [post]
func handleCancelLeave(cancel command.CancelLeaveHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		r, err := cancel.Handle(c.Request().Context(), command.CancelLeave{Actor: mustPrincipal(c).Employee, Origin: originOf(c), RequestID: id})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, leaveRequestJSON(r))
	}
}

// BalanceJSON is a leave year's balance in days.
type BalanceJSON struct {
	EmployeeID  string    `json:"employee_id"`
	Year        int       `json:"year" example:"2024"`
	Entitlement float64   `json:"entitlement" example:"15"`
	Used        float64   `json:"used" example:"4"`
	Pending     float64   `json:"pending" example:"0"`
	Remaining   float64   `json:"remaining" example:"11"`
	Available   float64   `json:"available" example:"11"`
	AsOf        time.Time `json:"as_of"`
}

// handleGetBalance godoc
//
//	@Summary		Leave balance
//	@Description	Balance of a leave year (the current one by default), answered from the leave account's events; as_of answers from the events recorded up to then (a date means the end of that day in the employee's time zone).
//	@Tags			leave
//	@Produce		json
//	@Security		BearerAuth
//	@Param			employee_id	path		string	true	"employee id"
//	@Param			year		query		int		false	"leave year"
//	@Param			as_of		query		string	false	"YYYY-MM-DD or RFC 3339 time"
//	@Success		200			{object}	BalanceJSON
//	@Failure		400			{object}	YearQueryProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		404			{object}	NotFoundProblem
//	@Router			/api/leave-balances/{employee_id}/ [get]
func handleGetBalance(employees query.EmployeeHandler, accounts query.LeaveAccountHandler, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, err := visibleEmployee(c, employees, "employee_id")
		if err != nil {
			return err
		}
		fields := map[string]string{}
		year := checkInt(fields, "year", c.QueryParam("year"), today(e.Schedule, now()).Year, 1, 9999)
		asOf, hasAsOf := checkAsOf(fields, c.QueryParam("as_of"), e.Schedule)
		if err := queryError(fields); err != nil {
			return err
		}
		ctx := c.Request().Context()
		var acct leave.Account
		if hasAsOf {
			acct, err = accounts.AsOf(ctx, e.EmployeeID, asOf)
		} else {
			asOf = now().UTC()
			acct, err = accounts.Handle(ctx, e.EmployeeID)
		}
		if err != nil {
			return err
		}
		b := acct.Balance(year)
		return c.JSON(http.StatusOK, BalanceJSON{
			EmployeeID: e.EmployeeID, Year: year, Entitlement: days(b.Entitlement), Used: days(b.Used), Pending: days(b.Pending),
			Remaining: days(b.Remaining), Available: days(b.Available), AsOf: asOf.UTC(),
		})
	}
}

// days is an amount of leave in days, rounded to hundredths.
func days(a leave.Amount) float64 { return math.Round(a.Days()*100) / 100 }

// checkAsOf parses a date (the end of that day in the schedule's zone) or an
// RFC 3339 time.
func checkAsOf(fields map[string]string, s string, sched employee.Schedule) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil && t.Year() >= 1 && t.Year() <= 9999 {
		return t, true
	}
	d, err := calendar.ParseDate(s)
	if err != nil {
		fields["as_of"] = "must be a date YYYY-MM-DD or an RFC 3339 time"
		return time.Time{}, false
	}
	loc, err := sched.Location()
	if err != nil {
		loc = time.UTC
	}
	return d.AddDays(1).In(loc).Add(-time.Nanosecond), true
}

type entitlementRequest struct {
	Year            int      `json:"year" example:"2024"`
	EntitlementDays *float64 `json:"entitlement_days" example:"20"`
	Reason          string   `json:"reason" example:"seniority"`
}

func (r *entitlementRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if r.Year < 1 || r.Year > 9999 {
		fields["year"] = "must be between 1 and 9999"
	}
	if r.EntitlementDays == nil {
		fields["entitlement_days"] = "required"
	} else if d := *r.EntitlementDays; math.IsNaN(d) || d < 0 || d > 366 {
		fields["entitlement_days"] = "must be between 0 and 366 days"
	}
	return fields
}

// handleSetEntitlement godoc
//
//	@Summary		Define annual leave
//	@Description	The employee's manager or an admin defines the leave of a year.
//	@Tags			leave
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			employee_id	path		string				true	"employee id"
//	@Param			body		body		entitlementRequest	true	"the entitlement"
//	@Success		200			{object}	BalanceJSON
//	@Failure		400			{object}	EntitlementInputProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		403			{object}	ForbiddenProblem
//	@Failure		404			{object}	NotFoundProblem
//	@Router			/api/leave-balances/{employee_id}/ [put]
func handleSetEntitlement(set command.SetEntitlementHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "employee_id")
		if err != nil {
			return err
		}
		req, err := decodeFor[entitlementRequest](c, set, id)
		if err != nil {
			return err
		}
		r, err := set.Handle(c.Request().Context(), command.SetEntitlement{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), EmployeeID: id, Year: req.Year,
			Amount: leave.Amount(math.Round(*req.EntitlementDays * leave.MinutesPerDay)), Reason: req.Reason,
		})
		if err != nil {
			return err
		}
		b := r.Balance
		return c.JSON(http.StatusOK, BalanceJSON{
			EmployeeID: id, Year: req.Year, Entitlement: days(b.Entitlement), Used: days(b.Used), Pending: days(b.Pending),
			Remaining: days(b.Remaining), Available: days(b.Available), AsOf: r.At.UTC(),
		})
	}
}
