package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// DecideLeave approves or rejects a pending leave request.
type DecideLeave struct {
	Actor     employee.Employee
	Origin    Origin
	RequestID string
	Approve   bool // rejects otherwise
	Note      string
}

// DecideLeaveHandler decides leave requests.
type DecideLeaveHandler struct {
	store    EventStore
	requests LeaveRequests
	policy   leave.Policy
	now      Now
}

// NewDecideLeaveHandler returns the handler.
func NewDecideLeaveHandler(store EventStore, requests LeaveRequests, policy leave.Policy, now Now) DecideLeaveHandler {
	return DecideLeaveHandler{store: store, requests: requests, policy: policy, now: now}
}

// Authorize is nil when actor may decide the request: it is unknown when
// they may not see it, refused when they may see it but not decide the step
// it waits on.
func (h DecideLeaveHandler) Authorize(ctx context.Context, actor employee.Employee, requestID string) error {
	_, err := h.authorized(ctx, actor, requestID)
	return err
}

func (h DecideLeaveHandler) authorized(ctx context.Context, actor employee.Employee, requestID string) (chainedRequest, error) {
	cr, err := loadChained(ctx, h.store, h.requests, actor, requestID, h.now())
	if err != nil {
		return chainedRequest{}, err
	}
	if !access.Allowed(actor, access.LeaveDecide, cr.relationToStep(actor)) {
		return chainedRequest{}, ErrForbidden
	}
	return cr, nil
}

// Handle decides the step the request waits on and returns the request as
// decided: approved at its last step, rejected at any, pending in between
// with the next step opened. An approval counts the request's days again
// against the holidays in force, and passes the balance check at every step.
func (h DecideLeaveHandler) Handle(ctx context.Context, cmd DecideLeave) (leave.RequestState, error) {
	cr, err := h.authorized(ctx, cmd.Actor, cmd.RequestID)
	if err != nil {
		return leave.RequestState{}, err
	}
	if !cr.awaiting {
		return leave.RequestState{}, leave.ErrNotPending
	}
	now := h.now()
	by := cmd.Actor.EmployeeID
	decision := leave.DecideStep{RequestID: cr.ID, Step: cr.awaited.Step, Approve: cmd.Approve, By: by, Note: cmd.Note}
	if cmd.Approve {
		if decision.Holidays, err = LoadHolidays(ctx, h.store, cr.owner.HolidayCalendar, cr.Year); err != nil {
			return leave.RequestState{}, err
		}
		decision.Employment = EmploymentOf(cr.owner, now)
		if next, ok := cr.Approvals.Next(cr.awaited.Step); ok {
			if decision.Next, err = assign(ctx, h.store, cr.owner, next.Role, now); err != nil {
				return leave.RequestState{}, err
			}
		}
	}
	acct, err := decideLeave(ctx, h.store, h.policy, cmd.Origin, by, cr.owner.EmployeeID, decision, now)
	if err != nil {
		return leave.RequestState{}, err
	}
	decided, _ := acct.Request(cr.ID)
	return decided, nil
}
