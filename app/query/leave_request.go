package query

import (
	"context"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/leave"
)

// LeaveRequestHandler reads one leave request from its employee's leave
// account, so a request is found the moment it is filed.
type LeaveRequestHandler struct {
	store    EventStore
	requests command.LeaveRequests
}

// NewLeaveRequestHandler returns the handler.
func NewLeaveRequestHandler(store EventStore, requests command.LeaveRequests) LeaveRequestHandler {
	return LeaveRequestHandler{store: store, requests: requests}
}

// Owner is the id of the employee whose request it is, or
// leave.ErrRequestNotFound.
func (h LeaveRequestHandler) Owner(ctx context.Context, id string) (string, error) {
	return command.LeaveOwner(ctx, h.requests, id)
}

// Handle returns the request with id, or leave.ErrRequestNotFound.
func (h LeaveRequestHandler) Handle(ctx context.Context, id string) (leave.RequestState, error) {
	owner, err := h.Owner(ctx, id)
	if err != nil {
		return leave.RequestState{}, err
	}
	events, err := h.store.Load(ctx, leave.Stream(owner))
	if err != nil {
		return leave.RequestState{}, err
	}
	r, ok := leave.Replay(command.Payloads(events)).Request(id)
	if !ok {
		return leave.RequestState{}, leave.ErrRequestNotFound
	}
	return r, nil
}
