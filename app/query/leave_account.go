package query

import (
	"context"
	"time"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/leave"
)

// LeaveAccountHandler folds an employee's leave account from its stream, so
// a balance is exact the moment a command is answered.
type LeaveAccountHandler struct{ store EventStore }

// NewLeaveAccountHandler returns the handler.
func NewLeaveAccountHandler(store EventStore) LeaveAccountHandler {
	return LeaveAccountHandler{store: store}
}

// Handle returns the account as of now.
func (h LeaveAccountHandler) Handle(ctx context.Context, employeeID string) (leave.Account, error) {
	events, err := h.store.Load(ctx, leave.Stream(employeeID))
	if err != nil {
		return leave.Account{}, err
	}
	return leave.Replay(command.Payloads(events)), nil
}

// AsOf returns the account from the events recorded up to until.
func (h LeaveAccountHandler) AsOf(ctx context.Context, employeeID string, until time.Time) (leave.Account, error) {
	events, err := h.store.LoadUntil(ctx, leave.Stream(employeeID), until)
	if err != nil {
		return leave.Account{}, err
	}
	return leave.Replay(command.Payloads(events)), nil
}
