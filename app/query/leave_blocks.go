package query

import (
	"context"
	"slices"
	"strings"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/leave"
)

// LeaveBlocksHandler lists the blocked periods in force, read from their
// stream: what the list shows is what a new request is checked against.
type LeaveBlocksHandler struct{ store command.EventStore }

// NewLeaveBlocksHandler returns the handler.
func NewLeaveBlocksHandler(store command.EventStore) LeaveBlocksHandler {
	return LeaveBlocksHandler{store: store}
}

// Handle returns up to limit blocks in force by id, after the id after; next
// is the cursor of the following page, "" after the last.
func (h LeaveBlocksHandler) Handle(ctx context.Context, after string, limit int) (list []leave.BlockState, next string, err error) {
	blocks, err := command.LoadLeaveBlocks(ctx, h.store)
	if err != nil {
		return nil, "", err
	}
	all := blocks.InForce()
	slices.SortFunc(all, func(a, b leave.BlockState) int { return strings.Compare(a.ID, b.ID) })
	all = slices.DeleteFunc(all, func(b leave.BlockState) bool { return b.ID <= after })
	if len(all) <= limit {
		return all, "", nil
	}
	return all[:limit], all[limit-1].ID, nil
}
