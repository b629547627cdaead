package http

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
)

// CorrectionJSON is an attendance correction on the wire.
type CorrectionJSON struct {
	ID          string     `json:"id"`
	EmployeeID  string     `json:"employee_id"`
	Date        string     `json:"date" example:"2024-12-02"`
	CheckIn     *time.Time `json:"check_in"`
	CheckOut    *time.Time `json:"check_out"`
	Reason      *string    `json:"reason"` // null when erased
	Status      string     `json:"status" enums:"pending,approved,rejected"`
	RequestedBy string     `json:"requested_by"`
	CreatedAt   time.Time  `json:"created_at"`
	DecidedBy   *string    `json:"decided_by"`
	DecidedAt   *time.Time `json:"decided_at"`
	Note        *string    `json:"note"` // null when erased
	Erased      bool       `json:"erased,omitempty"`
	// Approvals are the correction's steps in order: those of the chain a
	// rule for corrections gave it, or one manager step (approvals.go).
	Approvals []ApprovalJSON `json:"approvals"`
}

func correctionJSON(c attendance.Correction) CorrectionJSON {
	out := CorrectionJSON{
		ID: c.ID, EmployeeID: c.EmployeeID, Date: c.Date.String(), CheckIn: optionalTime(c.CheckIn), CheckOut: optionalTime(c.CheckOut),
		Reason: &c.Reason, Status: string(c.Status), RequestedBy: c.RequestedBy, CreatedAt: c.RequestedAt, Note: &c.Note,
		Approvals: approvalsJSON(c.Approvals),
	}
	if c.DecidedBy != "" {
		by, at := c.DecidedBy, c.DecidedAt
		out.DecidedBy, out.DecidedAt = &by, &at
	}
	return out
}

func correctionViewJSON(v query.CorrectionView) CorrectionJSON {
	return CorrectionJSON{
		ID: v.ID, EmployeeID: v.EmployeeID, Date: v.Date.String(), CheckIn: v.CheckIn, CheckOut: v.CheckOut,
		Reason: personal(v.Reason, v.Erased), Status: v.Status, RequestedBy: v.RequestedBy, CreatedAt: v.CreatedAt,
		DecidedBy: v.DecidedBy, DecidedAt: v.DecidedAt, Note: personal(v.Note, v.Erased), Erased: v.Erased,
		Approvals: approvalsJSON(v.Approvals),
	}
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

type correctionRequest struct {
	// EmployeeID is whose day it is: a manager's report, or anyone's for an
	// admin; the caller's own when empty.
	EmployeeID string `json:"employee_id"`
	Date       string `json:"date" example:"2024-12-02"`
	CheckIn    string `json:"check_in" example:"2024-12-02T05:00:00Z"`
	CheckOut   string `json:"check_out" example:"2024-12-02T14:00:00Z"`
	Reason     string `json:"reason" example:"forgot to check out"`

	date     calendar.Date
	in, out  time.Time
	employee string
}

func (r *correctionRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	r.employee = checkUUID(fields, "employee_id", r.EmployeeID)
	r.date = checkDate(fields, "date", r.Date, true)
	r.in = checkTime(fields, "check_in", r.CheckIn)
	r.out = checkTime(fields, "check_out", r.CheckOut)
	if r.CheckIn == "" && r.CheckOut == "" {
		fields["check_in"] = "check_in or check_out is required"
		fields["check_out"] = "check_in or check_out is required"
	}
	if strings.TrimSpace(r.Reason) == "" {
		fields["reason"] = "required"
	}
	return fields
}

// checkTime parses an RFC 3339 time; empty is the zero time.
func checkTime(fields map[string]string, name, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	// The zero instant would read as no time at all.
	if err != nil || t.IsZero() || t.Year() < 1 || t.Year() > 9999 {
		fields[name] = "must be an RFC 3339 time such as 2024-12-02T05:00:00Z"
		return time.Time{}
	}
	return t.UTC()
}

// handleRequestCorrection godoc
//
//	@Summary		Request an attendance correction
//	@Description	Files a correction of a day's first check-in and/or last check-out: the caller's own, or with employee_id a report's (a manager) or anyone's (an admin). Times are RFC 3339 instants; check_in must count for date as a check-in at that time would (on an overnight shift, 01:00 of the next calendar day corrects the night that began on date), and check_out may fall on the next calendar day, after the check-in it closes and at most 24 hours after it. A date without a check-in needs both times. While the approval policy has a rule for corrections (applies_to correction), the correction gets that rule's steps (approvals) and whom its first step waits on gets correction_requested (their delegates of the day too; routed one level up while they are on leave); without one, the employee's manager (the admins, when there is none) gets it.
//	@Tags			attendance
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			Idempotency-Key	header		string				false	"makes a retry safe"
//	@Param			body			body		correctionRequest	true	"the date, the times and why"
//	@Success		201				{object}	CorrectionJSON
//	@Failure		400				{object}	CorrectionInputProblem
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem		"an auditor changes nothing; an employee corrects only their own days"
//	@Failure		404				{object}	NotFoundProblem			"an employee_id the caller may not see"
//	@Failure		422				{object}	CorrectionRuleProblem	"a future date or time, a check_out not after its check-in, a check_in of another date's shift, a day without a check-in and one time, times overlapping another date"
//	@Router			/api/attendance/corrections/ [post]
func handleRequestCorrection(request command.RequestCorrectionHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[correctionRequest](c)
		if err != nil {
			return err
		}
		r, err := request.Handle(c.Request().Context(), command.RequestCorrection{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), EmployeeID: req.employee,
			Date: req.date, CheckIn: req.in, CheckOut: req.out, Reason: req.Reason,
		})
		if err != nil {
			return err
		}
		return created(c, correctionJSON(r))
	}
}

// CorrectionPage is a page of attendance corrections.
type CorrectionPage struct {
	Items     []CorrectionJSON `json:"items"`
	NextAfter *string          `json:"next_after"`
}

var correctionStatuses = []string{string(attendance.Pending), string(attendance.Approved), string(attendance.Rejected)}

// handleListCorrections godoc
//
//	@Summary		List attendance corrections
//	@Description	Employees see their own, managers their reports' (or one report's with employee_id), admins and auditors everyone's; without employee_id, the list also holds the corrections whose current step waits on the caller (as its approver, whom it was routed or escalated to, a delegate of its approver today, or, without a chain, as the employee's manager; an admin also the admins' steps). awaiting=me lists those alone.
//	@Tags			attendance
//	@Produce		json
//	@Security		BearerAuth
//	@Param			status		query		string	false	"status"	Enums(pending, approved, rejected)
//	@Param			employee_id	query		string	false	"employee id"
//	@Param			awaiting	query		string	false	"only what waits on the caller"	Enums(me)
//	@Param			limit		query		int		false	"page size (1-500)"	default(50)
//	@Param			after		query		string	false	"cursor from next_after"
//	@Success		200			{object}	CorrectionPage
//	@Failure		400			{object}	ListQueryProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		404			{object}	NotFoundProblem
//	@Router			/api/attendance/corrections/ [get]
func handleListCorrections(employees query.EmployeeHandler, q query.ReadModels, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		f, err := requestFilter(c, employees, correctionStatuses, now)
		if err != nil {
			return err
		}
		views, next, err := q.ListCorrections(c.Request().Context(), f)
		if err != nil {
			return err
		}
		page := CorrectionPage{Items: make([]CorrectionJSON, len(views)), NextAfter: nextAfter(next)}
		for i, v := range views {
			page.Items[i] = correctionViewJSON(v)
		}
		return c.JSON(http.StatusOK, page)
	}
}

// handleDecideCorrection godoc
//
//	@Summary		Approve or reject an attendance correction
//	@Description	The employee's manager or an admin decides a pending correction; one filed with a chain is decided at the step it waits on, by whoever holds it (its approver, their delegate while the delegation runs, the one it was routed or escalated to) or an admin: it is applied when its last step approves, rejected at the first rejection, and stays pending in between, the next step's approver getting correction_requested. Approval replaces the day's first check-in and/or last check-out with the correction's times (closing a check-in still open), counts the day's worked and late minutes again and clears needs_review; the punches stay in the history. A day whose check-in is still open is approved only with a check_out (422). The employee gets correction_decided.
//	@Tags			attendance
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id				path		string				true	"correction id"
//	@Param			Idempotency-Key	header		string				false	"makes a retry safe"
//	@Param			body			body		decideLeaveRequest	true	"the decision"
//	@Success		200				{object}	CorrectionJSON
//	@Failure		400				{object}	DecisionInputProblem
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem				"the employee, a manager of someone else, or along a chain anyone but the holder of its step"
//	@Failure		404				{object}	NotFoundProblem
//	@Failure		409				{object}	CorrectionNotPendingProblem		"not pending, or the step was decided meanwhile"
//	@Failure		422				{object}	CorrectionRuleProblem			"the day changed since the filing and the times no longer fit it"
//	@Router			/api/attendance/corrections/{id}/change-status/ [post]
func handleDecideCorrection(decide command.DecideCorrectionHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		req, err := decodeFor[decideLeaveRequest](c, decide, id)
		if err != nil {
			return err
		}
		r, err := decide.Handle(c.Request().Context(), command.DecideCorrection{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), CorrectionID: id,
			Approve: req.Status == string(attendance.Approved), Note: req.Note,
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, correctionJSON(r))
	}
}
