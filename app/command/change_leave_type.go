package command

import (
	"context"
	"time"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// ChangeLeaveType changes a leave type's policy from today on.
type ChangeLeaveType struct {
	Actor  employee.Employee
	Origin Origin
	Code   string
	Change leave.TypeChange
}

// ChangeLeaveTypeHandler changes leave types.
type ChangeLeaveTypeHandler struct {
	store  EventStore
	policy leave.Policy
	zone   *time.Location
	now    Now
}

// NewChangeLeaveTypeHandler returns the handler; policy gives the built-in
// types, and zone, the company's, says which day a change takes effect.
func NewChangeLeaveTypeHandler(store EventStore, policy leave.Policy, zone *time.Location, now Now) ChangeLeaveTypeHandler {
	return ChangeLeaveTypeHandler{store: store, policy: policy, zone: zone, now: now}
}

// Handle changes the type and returns it as it now stands.
func (h ChangeLeaveTypeHandler) Handle(ctx context.Context, cmd ChangeLeaveType) (leave.Type, error) {
	if access.Scope(cmd.Actor, access.LeaveTypeChange) == 0 {
		return leave.Type{}, ErrForbidden
	}
	at := h.now()
	change := leave.ChangeType{Code: cmd.Code, Change: cmd.Change, On: calendar.DateOf(at, h.zone), By: cmd.Actor.EmployeeID}
	d, err := update(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, leave.TypesStream(), func(history []any) ([]any, error) {
		return leave.DecideType(leave.ReplayTypes(h.policy, history), change, at)
	})
	if err != nil {
		return leave.Type{}, err
	}
	typ, _ := leave.ReplayTypes(h.policy, d.after()).Latest(cmd.Code)
	return typ, nil
}
