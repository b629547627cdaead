package http

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/validation"
)

// ApprovalJSON is one step of a request's approval chain.
type ApprovalJSON struct {
	Step       int        `json:"step" example:"1"`
	Role       string     `json:"role" enums:"manager,second_manager,admin"`
	ApproverID *string    `json:"approver_id"` // null for a step any admin decides
	Status     string     `json:"status" enums:"waiting,pending,approved,rejected,cancelled,skipped"`
	DecidedBy  *string    `json:"decided_by"`
	DecidedAt  *time.Time `json:"decided_at"`
	RoutedTo   *string    `json:"routed_to"` // who holds the step while its approver is away
}

func approvalsJSON(c approval.Chain) []ApprovalJSON {
	out := make([]ApprovalJSON, len(c.Steps))
	for i, s := range c.Steps {
		out[i] = ApprovalJSON{Step: s.Step, Role: string(s.Role), ApproverID: nonEmpty(s.ApproverID), Status: string(s.Status),
			DecidedBy: nonEmpty(s.DecidedBy), RoutedTo: nonEmpty(s.RoutedTo)}
		if !s.DecidedAt.IsZero() {
			at := s.DecidedAt.UTC()
			out[i].DecidedAt = &at
		}
	}
	return out
}

// ApprovalRuleJSON gives the steps of the requests it matches: what it
// applies to (leave requests when left out, or attendance corrections), and
// of leave requests of leave_type (any when left out) and at least min_days
// long; a rule for corrections names neither.
type ApprovalRuleJSON struct {
	AppliesTo string   `json:"applies_to,omitempty" enums:"leave,correction" example:"leave"`
	LeaveType string   `json:"leave_type,omitempty" example:"annual"`
	MinDays   *float64 `json:"min_days,omitempty" example:"5"`
	Steps     []string `json:"steps" example:"manager,second_manager"`
}

// ApprovalPolicyJSON is the company's approval policy: its rules, tried in
// order; a request no rule matches has one manager step.
type ApprovalPolicyJSON struct {
	Rules []ApprovalRuleJSON `json:"rules"`
}

func approvalPolicyJSON(p approval.Policy) ApprovalPolicyJSON {
	out := ApprovalPolicyJSON{Rules: make([]ApprovalRuleJSON, len(p.Rules))}
	for i, r := range p.Rules {
		out.Rules[i] = ApprovalRuleJSON{AppliesTo: string(r.AppliesTo), LeaveType: r.LeaveType, Steps: make([]string, len(r.Steps))}
		if r.MinDays != 0 {
			d := r.MinDays
			out.Rules[i].MinDays = &d
		}
		for j, s := range r.Steps {
			out.Rules[i].Steps[j] = string(s)
		}
	}
	return out
}

// approvalPolicyRequest is a whole new policy.
type approvalPolicyRequest struct {
	Rules *[]ApprovalRuleJSON `json:"rules"`

	policy approval.Policy
}

func (r *approvalPolicyRequest) Valid(context.Context) map[string]string {
	if r.Rules == nil {
		return map[string]string{"rules": "required"}
	}
	r.policy = approval.Policy{Rules: make([]approval.Rule, len(*r.Rules))}
	for i, rule := range *r.Rules {
		out := approval.Rule{AppliesTo: approval.Subject(rule.AppliesTo), LeaveType: rule.LeaveType, Steps: make([]approval.Role, len(rule.Steps))}
		if rule.MinDays != nil {
			out.MinDays = *rule.MinDays
		}
		for j, s := range rule.Steps {
			out.Steps[j] = approval.Role(s)
		}
		r.policy.Rules[i] = out
	}
	var invalid *validation.Error
	if err := r.policy.Validate(); errors.As(err, &invalid) {
		return invalid.Fields
	}
	return nil
}

// handleGetApprovalPolicy godoc
//
//	@Summary		Approval policy
//	@Description	The rules that give a request its approval steps: of a leave request, the first rule for leave (applies_to leave or left out) whose leave type and minimum length match decides, and without a match, one manager step; of an attendance correction, the first rule for corrections (applies_to correction), and without one the correction is decided in one step by the employee's manager or an admin.
//	@Tags			approvals
//	@Produce		json
//	@Security		BearerAuth
//	@Success		200	{object}	ApprovalPolicyJSON
//	@Failure		401	{object}	UnauthorizedProblem
//	@Failure		403	{object}	ForbiddenProblem
//	@Router			/api/approval-policy/ [get]
func handleGetApprovalPolicy(policy query.ApprovalPolicyHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := policy.Handle(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, approvalPolicyJSON(p))
	}
}

// handleSetApprovalPolicy godoc
//
//	@Summary		Replace the approval policy
//	@Description	Steps are manager (the employee's manager), second_manager (that manager's manager) and admin. A rule applies to leave requests unless applies_to is correction; a rule for corrections names no leave_type and no min_days. Requests and corrections filed after the change follow it; those filed before keep their steps.
//	@Tags			approvals
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			body	body		approvalPolicyRequest	true	"the policy"
//	@Success		200		{object}	ApprovalPolicyJSON
//	@Failure		400		{object}	ApprovalPolicyInputProblem
//	@Failure		401		{object}	UnauthorizedProblem
//	@Failure		403		{object}	ForbiddenProblem
//	@Router			/api/approval-policy/ [put]
func handleSetApprovalPolicy(set command.SetApprovalPolicyHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[approvalPolicyRequest](c)
		if err != nil {
			return err
		}
		p, err := set.Handle(c.Request().Context(), command.SetApprovalPolicy{Actor: mustPrincipal(c).Employee, Origin: originOf(c), Policy: req.policy})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, approvalPolicyJSON(p))
	}
}

// DelegationJSON is a delegation of a manager's approval steps.
type DelegationJSON struct {
	ID          string    `json:"id"`
	ManagerID   string    `json:"manager_id"`
	DelegateID  string    `json:"delegate_id"`
	StartDate   string    `json:"start_date" example:"2024-12-02"`
	EndDate     string    `json:"end_date" example:"2024-12-13"`
	DelegatedBy string    `json:"delegated_by"`
	DelegatedAt time.Time `json:"delegated_at"`
	Revoked     bool      `json:"revoked"`
}

type delegationRequest struct {
	DelegateID string `json:"delegate_id"`
	StartDate  string `json:"start_date" example:"2024-12-02"`
	EndDate    string `json:"end_date" example:"2024-12-13"`
	// ManagerID is whose steps are delegated; an admin's choice, the caller's
	// own when left out.
	ManagerID string `json:"manager_id,omitempty"`

	start, end calendar.Date
}

func (r *delegationRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if r.DelegateID == "" {
		fields["delegate_id"] = "required"
	}
	r.DelegateID = checkUUID(fields, "delegate_id", r.DelegateID)
	r.ManagerID = checkUUID(fields, "manager_id", r.ManagerID)
	r.start = checkDate(fields, "start_date", r.StartDate, true)
	r.end = checkDate(fields, "end_date", r.EndDate, true)
	if fields["start_date"] == "" && fields["end_date"] == "" && r.end.Before(r.start) {
		fields["end_date"] = "must not be before start_date"
	}
	return fields
}

// handleDelegate godoc
//
//	@Summary		Delegate approvals
//	@Description	From start_date to end_date (both included), the delegate may decide the manager's approval steps and is told of them as the manager is. A manager delegates their own steps; an admin anyone's (manager_id).
//	@Tags			approvals
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			Idempotency-Key	header		string				false	"makes a retry safe"
//	@Param			body			body		delegationRequest	true	"the delegation"
//	@Success		201				{object}	DelegationJSON
//	@Failure		400				{object}	DelegationInputProblem
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem
//	@Router			/api/delegations/ [post]
func handleDelegate(delegate command.DelegateApprovalsHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[delegationRequest](c)
		if err != nil {
			return err
		}
		d, err := delegate.Handle(c.Request().Context(), command.DelegateApprovals{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), ManagerID: req.ManagerID, DelegateID: req.DelegateID,
			Start: req.start, End: req.end,
		})
		if err != nil {
			return err
		}
		return created(c, DelegationJSON{ID: d.ID, ManagerID: d.ManagerID, DelegateID: d.DelegateID, StartDate: d.Start.String(),
			EndDate: d.End.String(), DelegatedBy: d.DelegatedBy, DelegatedAt: d.DelegatedAt.UTC(), Revoked: d.Revoked})
	}
}

// DelegationPage is a page of delegations.
type DelegationPage struct {
	Items     []DelegationJSON `json:"items"`
	NextAfter *string          `json:"next_after"`
}

// handleListDelegations godoc
//
//	@Summary		List delegations
//	@Description	Admins and auditors see every delegation; anyone else those they gave or received.
//	@Tags			approvals
//	@Produce		json
//	@Security		BearerAuth
//	@Param			limit	query		int		false	"page size (1-500)"	default(50)
//	@Param			after	query		string	false	"cursor from next_after"
//	@Success		200		{object}	DelegationPage
//	@Failure		400		{object}	ListQueryProblem
//	@Failure		401		{object}	UnauthorizedProblem
//	@Router			/api/delegations/ [get]
func handleListDelegations(q query.ReadModels) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		f := query.DelegationFilter{Limit: checkLimit(fields, c.QueryParam("limit")), After: checkIDCursor(fields, c.QueryParam("after"))}
		if err := queryError(fields); err != nil {
			return err
		}
		if p := mustPrincipal(c); access.Scope(p.Employee, access.DelegationList)&access.Other == 0 {
			f.Involving = p.EmployeeID
		}
		views, next, err := q.ListDelegations(c.Request().Context(), f)
		if err != nil {
			return err
		}
		page := DelegationPage{Items: make([]DelegationJSON, len(views)), NextAfter: nextAfter(next)}
		for i, v := range views {
			page.Items[i] = DelegationJSON{ID: v.ID, ManagerID: v.ManagerID, DelegateID: v.DelegateID, StartDate: v.StartDate.String(),
				EndDate: v.EndDate.String(), DelegatedBy: v.DelegatedBy, DelegatedAt: v.DelegatedAt.UTC(), Revoked: v.Revoked}
		}
		return c.JSON(http.StatusOK, page)
	}
}

// handleRevokeDelegation godoc
//
//	@Summary		Revoke a delegation
//	@Description	Ends the delegation now. A manager revokes their own; an admin anyone's. One revoked already is not found.
//	@Tags			approvals
//	@Security		BearerAuth
//	@Param			id	path	string	true	"delegation id"
//	@Success		204
//	@Failure		401	{object}	UnauthorizedProblem
//	@Failure		403	{object}	ForbiddenProblem
//	@Failure		404	{object}	NotFoundProblem
//	@Router			/api/delegations/{id}/ [delete]
func handleRevokeDelegation(revoke command.RevokeDelegationHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		if err := revoke.Handle(c.Request().Context(), command.RevokeDelegation{Actor: mustPrincipal(c).Employee, Origin: originOf(c), DelegationID: id}); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
