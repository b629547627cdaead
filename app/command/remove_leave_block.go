package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// RemoveLeaveBlock lifts a blocked period. Requests refused while it stood
// stay refused; new ones on its days are no longer.
type RemoveLeaveBlock struct {
	Actor  employee.Employee
	Origin Origin
	ID     string
}

// RemoveLeaveBlockHandler lifts blocked periods.
type RemoveLeaveBlockHandler struct {
	store EventStore
	now   Now
}

// NewRemoveLeaveBlockHandler returns the handler.
func NewRemoveLeaveBlockHandler(store EventStore, now Now) RemoveLeaveBlockHandler {
	return RemoveLeaveBlockHandler{store: store, now: now}
}

// Handle lifts the block, or answers leave.ErrBlockNotFound.
func (h RemoveLeaveBlockHandler) Handle(ctx context.Context, cmd RemoveLeaveBlock) error {
	if access.Scope(cmd.Actor, access.LeaveBlockRemove) == 0 {
		return ErrForbidden
	}
	at := h.now()
	_, err := update(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, leave.BlocksStream(), func(history []any) ([]any, error) {
		return leave.DecideBlock(leave.ReplayBlocks(history), leave.RemoveBlock{ID: cmd.ID, By: cmd.Actor.EmployeeID}, at)
	})
	return err
}
