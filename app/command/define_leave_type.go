package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// DefineLeaveType creates a leave type.
type DefineLeaveType struct {
	Actor  employee.Employee
	Origin Origin
	Type   leave.Type
}

// DefineLeaveTypeHandler creates leave types.
type DefineLeaveTypeHandler struct {
	store  EventStore
	policy leave.Policy
	now    Now
}

// NewDefineLeaveTypeHandler returns the handler; policy gives the built-in
// types.
func NewDefineLeaveTypeHandler(store EventStore, policy leave.Policy, now Now) DefineLeaveTypeHandler {
	return DefineLeaveTypeHandler{store: store, policy: policy, now: now}
}

// Handle creates the type and returns it as recorded.
func (h DefineLeaveTypeHandler) Handle(ctx context.Context, cmd DefineLeaveType) (leave.Type, error) {
	// The company's policy is no one's record: the actor acts on no one.
	if access.Scope(cmd.Actor, access.LeaveTypeDefine) == 0 {
		return leave.Type{}, ErrForbidden
	}
	at := h.now()
	d, err := update(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, leave.TypesStream(), func(history []any) ([]any, error) {
		return leave.DecideType(leave.ReplayTypes(h.policy, history), leave.DefineType{New: cmd.Type, By: cmd.Actor.EmployeeID}, at)
	})
	if err != nil {
		return leave.Type{}, err
	}
	typ, _ := leave.ReplayTypes(h.policy, d.after()).Latest(cmd.Type.Code)
	return typ, nil
}
