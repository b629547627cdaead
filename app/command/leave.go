package command

import (
	"context"
	"fmt"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/streamid"
)

// LeaveRequests finds whose leave account holds a request;
// *eventstore.Store satisfies it.
type LeaveRequests interface {
	// StreamOfLeaveRequest names the leave account stream that holds the
	// request, or "" when none does.
	StreamOfLeaveRequest(ctx context.Context, requestID string) (string, error)
}

// LeaveOwner is the id of the employee whose leave account holds the
// request, or leave.ErrRequestNotFound.
func LeaveOwner(ctx context.Context, requests LeaveRequests, requestID string) (string, error) {
	stream, err := requests.StreamOfLeaveRequest(ctx, requestID)
	if err != nil {
		return "", err
	}
	if stream == "" {
		return "", leave.ErrRequestNotFound
	}
	category, employeeID, ok := streamid.Split(stream)
	if !ok || category != leave.Category {
		return "", fmt.Errorf("command: leave request %q is held by stream %q, which is no leave account", requestID, stream)
	}
	return employeeID, nil
}

// visibleRequest returns the request with id and its employee, loaded for
// actor: a request of someone the actor may not see is unknown.
func visibleRequest(ctx context.Context, store EventStore, requests LeaveRequests, actor employee.Employee, id string) (leave.RequestState, employee.Employee, error) {
	ownerID, err := LeaveOwner(ctx, requests, id)
	if err != nil {
		return leave.RequestState{}, employee.Employee{}, err
	}
	owner, err := visible(ctx, store, actor, ownerID)
	if err != nil {
		return leave.RequestState{}, employee.Employee{}, err
	}
	history, err := loadPayloads(ctx, store, leave.Stream(ownerID))
	if err != nil {
		return leave.RequestState{}, employee.Employee{}, err
	}
	r, ok := leave.Replay(history).Request(id)
	if !ok {
		return leave.RequestState{}, employee.Employee{}, leave.ErrRequestNotFound
	}
	return r, owner, nil
}

// EmploymentOf is what a balance needs of e at now: the hire date, and the
// date now is where e works.
func EmploymentOf(e employee.Employee, now time.Time) leave.Employment {
	loc, err := e.Schedule.Location()
	if err != nil {
		loc = time.UTC
	}
	return leave.Employment{HireDate: e.HireDate, Today: calendar.DateOf(now, loc)}
}

// decideLeave decides cmd on the employee's leave account as actor's, under
// the company's leave types as they stand, and returns the account as the
// decision left it.
func decideLeave(ctx context.Context, store EventStore, policy leave.Policy, o Origin, actor, employeeID string, cmd leave.Command, at time.Time) (leave.Account, error) {
	types, err := LoadLeaveTypes(ctx, store, policy)
	if err != nil {
		return leave.Account{}, err
	}
	policy.Types = types
	d, err := update(ctx, store, o, actor, leave.Stream(employeeID), func(history []any) ([]any, error) {
		return leave.Decide(leave.Replay(history), cmd, policy, at)
	})
	if err != nil {
		return leave.Account{}, err
	}
	return leave.Replay(d.after()), nil
}
