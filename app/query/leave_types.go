package query

import (
	"context"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/leave"
)

// LeaveTypesHandler reads the company's leave policy.
type LeaveTypesHandler struct {
	store  command.EventStore
	policy leave.Policy
}

// NewLeaveTypesHandler returns the handler; policy gives the built-in types.
func NewLeaveTypesHandler(store command.EventStore, policy leave.Policy) LeaveTypesHandler {
	return LeaveTypesHandler{store: store, policy: policy}
}

// Handle returns every leave type with the policy of each in force.
func (h LeaveTypesHandler) Handle(ctx context.Context) (leave.Types, error) {
	return command.LoadLeaveTypes(ctx, h.store, h.policy)
}
