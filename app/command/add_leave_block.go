package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// AddLeaveBlock blocks a period for new leave requests: of the types listed,
// or of every tracked type when LeaveTypes is nil.
type AddLeaveBlock struct {
	Actor      employee.Employee
	Origin     Origin
	Start, End calendar.Date
	Reason     string
	LeaveTypes []string
}

// AddLeaveBlockHandler adds blocked periods.
type AddLeaveBlockHandler struct {
	store  EventStore
	policy leave.Policy
	now    Now
}

// NewAddLeaveBlockHandler returns the handler; policy gives the built-in
// leave types, which a block may list.
func NewAddLeaveBlockHandler(store EventStore, policy leave.Policy, now Now) AddLeaveBlockHandler {
	return AddLeaveBlockHandler{store: store, policy: policy, now: now}
}

// Handle adds the block and returns it as recorded.
func (h AddLeaveBlockHandler) Handle(ctx context.Context, cmd AddLeaveBlock) (leave.BlockState, error) {
	// The company's calendar is no one's record: the actor acts on no one.
	if access.Scope(cmd.Actor, access.LeaveBlockAdd) == 0 {
		return leave.BlockState{}, ErrForbidden
	}
	types, err := LoadLeaveTypes(ctx, h.store, h.policy)
	if err != nil {
		return leave.BlockState{}, err
	}
	id := cmd.Origin.newID(cmd.Actor.EmployeeID, "leave-block")
	add := leave.AddBlock{
		Block: leave.Block{ID: id.String(), Start: cmd.Start, End: cmd.End, Reason: cmd.Reason, LeaveTypes: cmd.LeaveTypes},
		Types: types, By: cmd.Actor.EmployeeID,
	}
	at := h.now()
	d, err := update(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, leave.BlocksStream(), func(history []any) ([]any, error) {
		return leave.DecideBlock(leave.ReplayBlocks(history), add, at)
	})
	if err != nil {
		return leave.BlockState{}, err
	}
	b, _ := leave.ReplayBlocks(d.after()).Get(add.Block.ID)
	return b, nil
}
