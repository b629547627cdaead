package query

import (
	"context"
	"time"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// LeaveRequestHandler reads one leave request from its employee's leave
// account, so a request is found the moment it is filed.
type LeaveRequestHandler struct {
	store    command.EventStore
	requests command.LeaveRequests
	now      func() time.Time
}

// NewLeaveRequestHandler returns the handler.
func NewLeaveRequestHandler(store command.EventStore, requests command.LeaveRequests, now func() time.Time) LeaveRequestHandler {
	return LeaveRequestHandler{store: store, requests: requests, now: now}
}

// Handle returns the request with id as actor may see it, or
// leave.ErrRequestNotFound: a request of someone the actor may not read is
// unknown, unless its approval chain names the actor or waits on them.
func (h LeaveRequestHandler) Handle(ctx context.Context, actor employee.Employee, id string) (leave.RequestState, error) {
	return command.LeaveRequestFor(ctx, h.store, h.requests, actor, id, h.now())
}
