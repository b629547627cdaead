package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// CancelLeave cancels a pending or approved leave request.
type CancelLeave struct {
	Actor     employee.Employee
	Origin    Origin
	RequestID string
}

// CancelLeaveHandler cancels leave requests: the employee their pending
// ones, their manager or an admin approved ones too.
type CancelLeaveHandler struct {
	store    EventStore
	requests LeaveRequests
	policy   leave.Policy
	now      Now
}

// NewCancelLeaveHandler returns the handler.
func NewCancelLeaveHandler(store EventStore, requests LeaveRequests, policy leave.Policy, now Now) CancelLeaveHandler {
	return CancelLeaveHandler{store: store, requests: requests, policy: policy, now: now}
}

// Handle cancels the request and returns it as cancelled; an approved
// request's days return to the balance.
func (h CancelLeaveHandler) Handle(ctx context.Context, cmd CancelLeave) (leave.RequestState, error) {
	r, owner, err := visibleRequest(ctx, h.store, h.requests, cmd.Actor, cmd.RequestID)
	if err != nil {
		return leave.RequestState{}, err
	}
	action := access.LeaveCancel
	if r.Status == leave.StatusApproved {
		action = access.LeaveCancelApproved
	}
	if err := authorize(cmd.Actor, action, owner); err != nil {
		return leave.RequestState{}, err
	}
	by := cmd.Actor.EmployeeID
	acct, err := decideLeave(ctx, h.store, h.policy, cmd.Origin, by, owner.EmployeeID, leave.Cancel{RequestID: r.ID, By: by}, h.now())
	if err != nil {
		return leave.RequestState{}, err
	}
	cancelled, _ := acct.Request(r.ID)
	return cancelled, nil
}
