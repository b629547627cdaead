package command

import (
	"context"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// RequestLeave files a leave request of the actor.
type RequestLeave struct {
	Actor      employee.Employee
	Origin     Origin
	Start, End calendar.Date
	Reason     string
}

// RequestLeaveHandler files leave requests.
type RequestLeaveHandler struct {
	store  EventStore
	policy leave.Policy
	now    Now
}

// NewRequestLeaveHandler returns the handler.
func NewRequestLeaveHandler(store EventStore, policy leave.Policy, now Now) RequestLeaveHandler {
	return RequestLeaveHandler{store: store, policy: policy, now: now}
}

// Handle files the request and returns it as filed.
func (h RequestLeaveHandler) Handle(ctx context.Context, cmd RequestLeave) (leave.RequestState, error) {
	actor := cmd.Actor
	if err := authorize(actor, access.LeaveRequest, actor); err != nil {
		return leave.RequestState{}, err
	}
	holidays, err := LoadHolidays(ctx, h.store, actor.HolidayCalendar, cmd.Start.Year)
	if err != nil {
		return leave.RequestState{}, err
	}
	id := uuid.New()
	if seed := cmd.Origin.idSeed(actor.EmployeeID); seed != "" {
		id = DerivedID(seed, "leave-request")
	}
	request := leave.Request{
		RequestID: id.String(), EmployeeID: actor.EmployeeID, Start: cmd.Start, End: cmd.End, Reason: cmd.Reason,
		Workdays: actor.Schedule.Workdays, Holidays: holidays, HireDate: actor.HireDate,
	}
	acct, err := decideLeave(ctx, h.store, h.policy, cmd.Origin, actor.EmployeeID, actor.EmployeeID, request, h.now())
	if err != nil {
		return leave.RequestState{}, err
	}
	r, _ := acct.Request(request.RequestID)
	return r, nil
}
