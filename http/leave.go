package http

import (
	"cmp"
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
	ID         string `json:"id"`
	EmployeeID string `json:"employee_id"`
	LeaveType  string `json:"leave_type" example:"annual"`
	// HalfDay is "am" or "pm" for half a day, null for whole days.
	HalfDay *string `json:"half_day" enums:"am,pm"`
	// Hours are the hours of a one-day request in hours, null otherwise.
	Hours     *float64 `json:"hours" example:"2.5"`
	StartDate string   `json:"start_date" example:"2024-12-01"`
	EndDate   string   `json:"end_date" example:"2024-12-05"`
	// Days is the leave the request counts, in days: 0.5 for a half day,
	// hours/8 for hours.
	Days      float64    `json:"days" example:"4"`
	Reason    *string    `json:"reason"` // null when erased
	Status    string     `json:"status" enums:"pending,approved,rejected,cancelled"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedBy *string    `json:"decided_by"`
	DecidedAt *time.Time `json:"decided_at"`
	Note      *string    `json:"note"` // null when erased
	Erased    bool       `json:"erased,omitempty"`
	// Approvals are the request's steps in order (approvals.go).
	Approvals []ApprovalJSON `json:"approvals"`
}

// leaveRequestJSON is r of an employee whose personal data is erased or not.
func leaveRequestJSON(r leave.RequestState, erased bool) LeaveRequestJSON {
	out := LeaveRequestJSON{
		ID: r.ID, EmployeeID: r.EmployeeID, LeaveType: r.LeaveType, HalfDay: optionalText(r.HalfDay), Hours: optionalHours(r.Hours),
		StartDate: r.Start.String(), EndDate: r.End.String(), Days: days(r.Amount),
		Reason: personal(r.Reason, erased), Status: string(r.Status), CreatedAt: r.RequestedAt, Note: personal(r.Note, erased),
		Erased:    erased,
		Approvals: approvalsJSON(r.Approvals),
	}
	if r.DecidedBy != "" {
		by, at := r.DecidedBy, r.DecidedAt
		out.DecidedBy, out.DecidedAt = &by, &at
	}
	return out
}

func leaveViewJSON(v query.LeaveRequestView) LeaveRequestJSON {
	return LeaveRequestJSON{
		ID: v.ID, EmployeeID: v.EmployeeID, LeaveType: v.LeaveType, HalfDay: optionalText(v.HalfDay), Hours: optionalHours(v.Hours),
		StartDate: v.StartDate.String(), EndDate: v.EndDate.String(), Days: math.Round(v.Days*100) / 100,
		Reason: personal(v.Reason, v.Erased), Status: v.Status, CreatedAt: v.CreatedAt, DecidedBy: v.DecidedBy, DecidedAt: v.DecidedAt,
		Note: personal(v.Note, v.Erased), Erased: v.Erased,
		Approvals: approvalsJSON(v.Approvals),
	}
}

func optionalText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optionalHours(h float64) *float64 {
	if h == 0 {
		return nil
	}
	return &h
}

type leaveRequest struct {
	StartDate string `json:"start_date" example:"2024-12-01"`
	EndDate   string `json:"end_date" example:"2024-12-05"`
	Reason    string `json:"reason" example:"family visit"`
	// LeaveType is a leave type's code; annual when absent.
	LeaveType string `json:"leave_type" example:"annual"`
	// HalfDay ("am" or "pm") asks for half of a one-day request's day.
	HalfDay string `json:"half_day" enums:"am,pm"`
	// Hours asks for hours of a one-day request's day.
	Hours *float64 `json:"hours" example:"2.5"`
	// EmployeeID files for someone else: a manager for a report, an admin
	// for anyone. Such a request may cover past dates of any type.
	EmployeeID string `json:"employee_id"`

	start, end calendar.Date
	employeeID string
	hours      float64
}

func (r *leaveRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	r.start, r.end = checkPeriod(fields, r.StartDate, r.EndDate)
	if r.HalfDay != "" && r.HalfDay != leave.HalfDayMorning && r.HalfDay != leave.HalfDayAfternoon {
		fields["half_day"] = `must be "am" or "pm"`
	}
	if r.Hours != nil {
		if r.hours = *r.Hours; !(r.hours > 0) || math.IsInf(r.hours, 0) {
			fields["hours"] = "must be more than 0"
		}
	}
	r.employeeID = checkUUID(fields, "employee_id", r.EmployeeID)
	return fields
}

// handleRequestLeave godoc
//
//	@Summary		Request leave
//	@Description	Files a leave request for the caller, or with employee_id for a report (manager) or anyone (admin). days counts the employee's workdays in the range, both ends included, less company holidays; a half day (half_day, of a one-day request of a type with half days) counts 0.5, hours (of a one-day request of a type with hours, at most the day's scheduled hours) count hours/8. A request overlapping a pending or approved one of any type is refused, except that a morning and an afternoon half day of one date are two requests. leave_type defaults to annual; a tracked type is refused past available, an untracked one only counts days. Past dates: for a type with past_requests, or filed for someone else. A request that takes leave on a day of a blocked period covering its type is refused, naming the block. team_overlap counts the others who share the employee's manager with pending or approved leave on any of its days, as the team calendar shows them.
//	@Tags			leave
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			Idempotency-Key	header		string			false	"makes a retry safe"
//	@Param			body			body		leaveRequest	true	"the dates"
//	@Success		201				{object}	NewLeaveRequestJSON
//	@Failure		400				{object}	LeaveInputProblem
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem			"an auditor changes nothing; an employee files for no one else"
//	@Failure		404				{object}	NotFoundProblem				"employee_id names no one the caller may see"
//	@Failure		422				{object}	LeaveBlockedProblem	"a blocked period (named in block), no workdays in range, overlap, more days than available, an inactive type, or past dates of a type without past_requests"
//	@Router			/api/leave-management/ [post]
func handleRequestLeave(request command.RequestLeaveHandler, overlap query.TeamOverlapHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[leaveRequest](c)
		if err != nil {
			return err
		}
		r, err := request.Handle(c.Request().Context(), command.RequestLeave{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), EmployeeID: req.employeeID, LeaveType: req.LeaveType,
			Start: req.start, End: req.end, HalfDay: req.HalfDay, Hours: req.hours, Reason: req.Reason,
		})
		if err != nil {
			return err
		}
		team, err := overlap.Handle(c.Request().Context(), r)
		if err != nil {
			return err
		}
		return created(c, NewLeaveRequestJSON{LeaveRequestJSON: leaveRequestJSON(r, false), TeamOverlap: team})
	}
}

// NewLeaveRequestJSON is a request as filed, with how many of the team are
// off on its days.
type NewLeaveRequestJSON struct {
	LeaveRequestJSON
	// TeamOverlap counts the others who share the employee's manager with
	// pending or approved leave on any of the request's days.
	TeamOverlap int `json:"team_overlap" example:"1"`
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
//	@Description	Employees see their own, managers their reports' (or one report's with employee_id), admins and auditors everyone's; without employee_id, the list also holds the requests whose current step waits on the caller (as its approver, whom it was routed or escalated to, a delegate of its approver today, or, for a request filed before chains, as the employee's manager; an admin also the admins' steps). awaiting=me lists those alone.
//	@Tags			leave
//	@Produce		json
//	@Security		BearerAuth
//	@Param			status		query		string	false	"status"	Enums(pending, approved, rejected, cancelled)
//	@Param			employee_id	query		string	false	"employee id"
//	@Param			awaiting	query		string	false	"only what waits on the caller"	Enums(me)
//	@Param			limit		query		int		false	"page size (1-500)"	default(50)
//	@Param			after		query		string	false	"cursor from next_after"
//	@Success		200			{object}	LeavePage
//	@Failure		400			{object}	ListQueryProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		404			{object}	NotFoundProblem
//	@Router			/api/leave-management/ [get]
func handleListLeave(employees query.EmployeeHandler, q query.ReadModels, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		f, err := requestFilter(c, employees, leaveStatuses, now)
		if err != nil {
			return err
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

// requestFilter reads the query of a list of requests (leave requests,
// attendance corrections): status among statuses, employee_id of someone the
// caller may see (or, without one, everyone the caller may read and what
// waits on the caller, only the latter with awaiting=me), limit and after.
func requestFilter(c echo.Context, employees query.EmployeeHandler, statuses []string, now func() time.Time) (query.RequestFilter, error) {
	fields := map[string]string{}
	f := query.RequestFilter{
		Status:     c.QueryParam("status"),
		EmployeeID: checkUUID(fields, "employee_id", c.QueryParam("employee_id")),
		Limit:      checkLimit(fields, c.QueryParam("limit")),
		After:      checkIDCursor(fields, c.QueryParam("after")),
	}
	if f.Status != "" && !contains(statuses, f.Status) {
		fields["status"] = "must be one of " + strings.Join(statuses, ", ")
	}
	switch awaiting := c.QueryParam("awaiting"); {
	case awaiting != "" && awaiting != "me":
		fields["awaiting"] = `must be "me"`
	case awaiting != "" && f.EmployeeID != "":
		fields["awaiting"] = "must be left out with employee_id"
	default:
		f.AwaitingOnly = awaiting != ""
	}
	if err := queryError(fields); err != nil {
		return query.RequestFilter{}, err
	}
	if f.EmployeeID == "" {
		p := mustPrincipal(c)
		f.Holder = &query.StepHolder{EmployeeID: p.EmployeeID, Admin: p.Role == employee.RoleAdmin, Today: p.Schedule.Today(now())}
		f.EmployeeID, f.ManagerID = readableScope(p)
	} else if _, err := visibleEmployeeID(c, employees, f.EmployeeID); err != nil {
		return query.RequestFilter{}, err
	}
	return f, nil
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
func handleGetLeave(employees query.EmployeeHandler, requests query.LeaveRequestHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		r, err := requests.Handle(ctx, mustPrincipal(c).Employee, id)
		if err != nil {
			return err
		}
		// What was erased of the employee reads as null.
		owner, err := employees.Handle(ctx, r.EmployeeID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, leaveRequestJSON(r, owner.Erased))
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
		return c.JSON(http.StatusOK, leaveRequestJSON(r, false))
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
		return c.JSON(http.StatusOK, leaveRequestJSON(r, false))
	}
}

// BalanceJSON is a leave year's balance of one type in days:
// entitlement = accrued + adjusted, remaining = entitlement + carried_over -
// expired - used, available = remaining - pending. An untracked type (sick,
// unpaid) only counts days: nothing limits a request of it, and its
// available is null.
type BalanceJSON struct {
	EmployeeID  string  `json:"employee_id"`
	LeaveType   string  `json:"leave_type" example:"annual"`
	Year        int     `json:"year" example:"2024"`
	Entitlement float64 `json:"entitlement" example:"15"`
	Used        float64 `json:"used" example:"4"`
	Pending     float64 `json:"pending" example:"0"`
	Remaining   float64 `json:"remaining" example:"13"`
	// Available is null for an untracked type.
	Available   *float64 `json:"available" example:"13"`
	Accrued     float64  `json:"accrued" example:"15"`
	Adjusted    float64  `json:"adjusted" example:"0"`
	CarriedOver float64  `json:"carried_over" example:"5"`
	Expired     float64  `json:"expired" example:"3"`
	// On is the calendar date asked about, null when none.
	On   *string   `json:"on" example:"2024-06-30"`
	AsOf time.Time `json:"as_of"`
}

func balanceJSON(employeeID, leaveType string, year int, b leave.Balance, on calendar.Date, asOf time.Time) BalanceJSON {
	out := BalanceJSON{
		EmployeeID: employeeID, LeaveType: leaveType, Year: year, Entitlement: days(b.Entitlement), Used: days(b.Used),
		Pending: days(b.Pending), Remaining: days(b.Remaining), Accrued: days(b.Accrued),
		Adjusted: days(b.Adjusted), CarriedOver: days(b.CarriedOver), Expired: days(b.Expired), AsOf: asOf.UTC(),
	}
	if !b.Untracked {
		available := days(b.Available)
		out.Available = &available
	}
	if !on.IsZero() {
		s := on.String()
		out.On = &s
	}
	return out
}

// balanceQuery reads the query of a balance of e: year, as_of, leave_type
// and, when withOn, on. The year defaults to on's, else the current one. A
// list of balances or lines is one page: it refuses a cursor.
func balanceQuery(c echo.Context, e employee.Employee, now time.Time, withOn, list bool) (query.LeaveBalance, time.Time, error) {
	fields := map[string]string{}
	if list {
		checkNoCursor(fields, c.QueryParam("after"))
	}
	q := query.LeaveBalance{Employee: e, Type: c.QueryParam("leave_type")}
	if withOn {
		q.On = checkDate(fields, "on", c.QueryParam("on"), false)
	}
	defaultYear := today(e.Schedule, now).Year
	if !q.On.IsZero() {
		defaultYear = q.On.Year
	}
	q.Year = checkInt(fields, "year", c.QueryParam("year"), defaultYear, 1, 9999)
	if !q.On.IsZero() && q.Year != q.On.Year {
		fields["on"] = "must be a date of the leave year asked for"
	}
	asOf, hasAsOf := checkAsOf(fields, c.QueryParam("as_of"), e.Schedule)
	if err := queryError(fields); err != nil {
		return query.LeaveBalance{}, time.Time{}, err
	}
	if hasAsOf {
		q.AsOf = asOf
	} else {
		asOf = now
	}
	return q, asOf.UTC(), nil
}

// handleGetBalance godoc
//
//	@Summary		Leave balance
//	@Description	Balance of a leave type (annual by default) in a leave year (the current one by default), folded from the leave account's events and the leave types' policy: credits and lapses are there once due, whether or not anything ran that day. as_of answers from the events recorded up to then (a date means the end of that day in the employee's time zone); on=D answers at the end of day D by the calendar: credits, lapses and adjustments dated up to D, and leave on days up to D.
//	@Tags			leave
//	@Produce		json
//	@Security		BearerAuth
//	@Param			employee_id	path		string	true	"employee id"
//	@Param			year		query		int		false	"leave year (default: on's, else the current one)"
//	@Param			as_of		query		string	false	"YYYY-MM-DD or RFC 3339 time"
//	@Param			on			query		string	false	"YYYY-MM-DD, a date of the year"
//	@Param			leave_type	query		string	false	"leave type code"	default(annual)
//	@Success		200			{object}	BalanceJSON
//	@Failure		400			{object}	YearQueryProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		404			{object}	NotFoundProblem
//	@Router			/api/leave-balances/{employee_id}/ [get]
func handleGetBalance(employees query.EmployeeHandler, balances query.LeaveBalanceHandler, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, err := visibleEmployee(c, employees, "employee_id")
		if err != nil {
			return err
		}
		q, asOf, err := balanceQuery(c, e, now(), true, false)
		if err != nil {
			return err
		}
		b, err := balances.Handle(c.Request().Context(), q)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, balanceJSON(e.EmployeeID, cmp.Or(q.Type, leave.TypeAnnual), q.Year, b, q.On, asOf))
	}
}

// BalancesJSON is the balance of every active leave type: one page, whose
// next_after is always null.
type BalancesJSON struct {
	Items     []BalanceJSON `json:"items"`
	NextAfter *string       `json:"next_after"`
}

// handleGetAllBalances godoc
//
//	@Summary		Leave balances of every type
//	@Description	The balance of each active leave type in a leave year, as GET /api/leave-balances/{employee_id}/ answers it.
//	@Tags			leave
//	@Produce		json
//	@Security		BearerAuth
//	@Param			employee_id	path		string	true	"employee id"
//	@Param			year		query		int		false	"leave year (default: on's, else the current one)"
//	@Param			as_of		query		string	false	"YYYY-MM-DD or RFC 3339 time"
//	@Param			on			query		string	false	"YYYY-MM-DD, a date of the year"
//	@Success		200			{object}	BalancesJSON
//	@Failure		400			{object}	YearQueryProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		404			{object}	NotFoundProblem
//	@Router			/api/leave-balances/{employee_id}/all/ [get]
func handleGetAllBalances(employees query.EmployeeHandler, balances query.LeaveBalanceHandler, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, err := visibleEmployee(c, employees, "employee_id")
		if err != nil {
			return err
		}
		q, asOf, err := balanceQuery(c, e, now(), true, true)
		if err != nil {
			return err
		}
		all, err := balances.All(c.Request().Context(), q)
		if err != nil {
			return err
		}
		out := BalancesJSON{Items: make([]BalanceJSON, len(all))}
		for i, tb := range all {
			out.Items[i] = balanceJSON(e.EmployeeID, tb.Type, q.Year, tb.Balance, q.On, asOf)
		}
		return c.JSON(http.StatusOK, out)
	}
}

// LedgerLineJSON is one movement of a balance, in days.
type LedgerLineJSON struct {
	Date           string  `json:"date" example:"2024-04-01"`
	Kind           string  `json:"kind" enums:"grant,accrual,carry_over,expiry,adjustment,leave,leave_cancelled,lateness"`
	Days           float64 `json:"days" example:"-3"`
	RemainingAfter float64 `json:"remaining_after" example:"12"`
	RequestID      *string `json:"request_id"`
	Note           string  `json:"note" example:"carried-over days unused by 2024-03-31"`
	// Position is the event behind the line; null for a credit, carry-over
	// or lapse the policy made due by the calendar.
	Position *int64 `json:"position" example:"1042"`
}

// LedgerJSON is the ledger of a balance: its lines' days add up to the
// balance's remaining. One page: next_after is always null.
type LedgerJSON struct {
	Items     []LedgerLineJSON `json:"items"`
	NextAfter *string          `json:"next_after"`
}

// handleGetLedger godoc
//
//	@Summary		Leave ledger
//	@Description	Every movement of a leave type's balance in a leave year, in date order: grants, accruals, carry-over, lapses, adjustments, leave (dated on its first day), its return when cancelled (on the same day), and lateness. The days of the lines add up to the balance's remaining, and each line names the event behind it.
//	@Tags			leave
//	@Produce		json
//	@Security		BearerAuth
//	@Param			employee_id	path		string	true	"employee id"
//	@Param			year		query		int		false	"leave year (default: the current one)"
//	@Param			leave_type	query		string	false	"leave type code"	default(annual)
//	@Param			as_of		query		string	false	"YYYY-MM-DD or RFC 3339 time"
//	@Success		200			{object}	LedgerJSON
//	@Failure		400			{object}	YearQueryProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		404			{object}	NotFoundProblem
//	@Router			/api/leave-balances/{employee_id}/ledger/ [get]
func handleGetLedger(employees query.EmployeeHandler, balances query.LeaveBalanceHandler, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, err := visibleEmployee(c, employees, "employee_id")
		if err != nil {
			return err
		}
		q, _, err := balanceQuery(c, e, now(), false, true)
		if err != nil {
			return err
		}
		lines, _, err := balances.Ledger(c.Request().Context(), q)
		if err != nil {
			return err
		}
		out := LedgerJSON{Items: make([]LedgerLineJSON, len(lines))}
		for i, l := range lines {
			out.Items[i] = LedgerLineJSON{
				Date: l.Date.String(), Kind: string(l.Kind), Days: days(l.Amount), RemainingAfter: days(l.RemainingAfter),
				RequestID: optionalText(l.RequestID), Note: l.Note,
			}
			if l.Position != 0 {
				position := l.Position
				out.Items[i].Position = &position
			}
		}
		return c.JSON(http.StatusOK, out)
	}
}

type adjustmentRequest struct {
	// LeaveType is a tracked type's code; annual when absent.
	LeaveType string `json:"leave_type" example:"compensatory"`
	// Days credits when positive, debits when negative.
	Days   *float64 `json:"days" example:"1.5"`
	Reason string   `json:"reason" example:"worked on a Saturday"`

	amount leave.Amount
}

func (r *adjustmentRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	switch {
	case r.Days == nil:
		fields["days"] = "required"
	case math.IsNaN(*r.Days) || *r.Days == 0 || math.Abs(*r.Days) > 366:
		fields["days"] = "must be between -366 and 366 days, and not zero"
	default:
		r.amount = leave.Amount(math.Round(*r.Days * leave.MinutesPerDay))
	}
	if strings.TrimSpace(r.Reason) == "" {
		fields["reason"] = "required"
	}
	return fields
}

// handleAdjustLeave godoc
//
//	@Summary		Adjust a leave balance
//	@Description	The employee's manager or an admin credits (positive days) or debits a tracked type's balance of the current leave year, for a reason. Answers the balance after it.
//	@Tags			leave
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			employee_id		path		string				true	"employee id"
//	@Param			Idempotency-Key	header		string				false	"makes a retry safe"
//	@Param			body			body		adjustmentRequest	true	"the adjustment"
//	@Success		201				{object}	BalanceJSON
//	@Failure		400				{object}	AdjustmentInputProblem
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem
//	@Failure		404				{object}	NotFoundProblem
//	@Failure		422				{object}	InsufficientBalanceProblem	"a debit past the remaining balance, or an untracked type"
//	@Router			/api/leave-balances/{employee_id}/adjustments/ [post]
func handleAdjustLeave(adjust command.AdjustLeaveHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "employee_id")
		if err != nil {
			return err
		}
		req, err := decodeFor[adjustmentRequest](c, adjust, id)
		if err != nil {
			return err
		}
		r, err := adjust.Handle(c.Request().Context(), command.AdjustLeave{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), EmployeeID: id, LeaveType: req.LeaveType,
			Amount: req.amount, Reason: req.Reason,
		})
		if err != nil {
			return err
		}
		return created(c, balanceJSON(id, r.Type, r.Year, r.Balance, calendar.Date{}, r.At))
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
		return c.JSON(http.StatusOK, balanceJSON(id, leave.TypeAnnual, req.Year, r.Balance, calendar.Date{}, r.At))
	}
}
