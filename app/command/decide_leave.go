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
// they may not see it, refused when they may see it but not decide it.
func (h DecideLeaveHandler) Authorize(ctx context.Context, actor employee.Employee, requestID string) error {
	_, _, err := h.authorized(ctx, actor, requestID)
	return err
}

func (h DecideLeaveHandler) authorized(ctx context.Context, actor employee.Employee, requestID string) (leave.RequestState, employee.Employee, error) {
	r, owner, err := visibleRequest(ctx, h.store, h.requests, actor, requestID)
	if err != nil {
		return leave.RequestState{}, employee.Employee{}, err
	}
	return r, owner, authorize(actor, access.LeaveDecide, owner)
}

// Handle decides the request and returns it as decided. An approval counts
// the request's days again against the holidays in force.
func (h DecideLeaveHandler) Handle(ctx context.Context, cmd DecideLeave) (leave.RequestState, error) {
	r, owner, err := h.authorized(ctx, cmd.Actor, cmd.RequestID)
	if err != nil {
		return leave.RequestState{}, err
	}
	by := cmd.Actor.EmployeeID
	var decision leave.Command = leave.Reject{RequestID: r.ID, By: by, Note: cmd.Note}
	if cmd.Approve {
		holidays, err := LoadHolidays(ctx, h.store, owner.HolidayCalendar, r.Year)
		if err != nil {
			return leave.RequestState{}, err
		}
		decision = leave.Approve{RequestID: r.ID, By: by, Note: cmd.Note, Holidays: holidays}
	}
	acct, err := decideLeave(ctx, h.store, h.policy, cmd.Origin, by, owner.EmployeeID, decision, h.now())
	if err != nil {
		return leave.RequestState{}, err
	}
	decided, _ := acct.Request(r.ID)
	return decided, nil
}
