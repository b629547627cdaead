package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// RequestLeave files a leave request of the actor, or, with EmployeeID, of
// a report of theirs or (for an admin) of anyone: that may cover past dates
// of any type.
type RequestLeave struct {
	Actor      employee.Employee
	Origin     Origin
	EmployeeID string // empty: the actor
	LeaveType  string // empty: annual
	Start, End calendar.Date
	HalfDay    string
	Hours      float64
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
	owner, err := h.Owner(ctx, actor, cmd.EmployeeID)
	if err != nil {
		return leave.RequestState{}, err
	}
	holidays, err := LoadHolidays(ctx, h.store, owner.HolidayCalendar, cmd.Start.Year)
	if err != nil {
		return leave.RequestState{}, err
	}
	blocks, err := LoadLeaveBlocks(ctx, h.store)
	if err != nil {
		return leave.RequestState{}, err
	}
	id := cmd.Origin.newID(actor.EmployeeID, "leave-request")
	now := h.now()
	request := leave.Request{
		RequestID: id.String(), EmployeeID: owner.EmployeeID, LeaveType: cmd.LeaveType, Start: cmd.Start, End: cmd.End,
		HalfDay: cmd.HalfDay, Hours: cmd.Hours, Reason: cmd.Reason, Workdays: owner.Schedule.Workdays,
		DayMinutes: scheduledMinutes(owner.Schedule), Holidays: holidays, Employment: EmploymentOf(owner, now),
		OnBehalf: owner.EmployeeID != actor.EmployeeID, Blocks: blocks,
	}
	approvals, err := LoadApprovalPolicy(ctx, h.store)
	if err != nil {
		return leave.RequestState{}, err
	}
	approvers, err := firstApprovers(ctx, h.store, owner, approvals, now)
	if err != nil {
		return leave.RequestState{}, err
	}
	file := leave.FileRequest{Request: request, Policy: approvals, Approvers: approvers}
	acct, err := decideLeave(ctx, h.store, h.policy, cmd.Origin, actor.EmployeeID, owner.EmployeeID, file, now)
	if err != nil {
		return leave.RequestState{}, err
	}
	r, _ := acct.Request(request.RequestID)
	return r, nil
}

// Owner returns whose leave actor files with the employee id given (empty:
// the actor's own): unknown when they may not see them, refused when they
// may see but not file for them.
func (h RequestLeaveHandler) Owner(ctx context.Context, actor employee.Employee, employeeID string) (employee.Employee, error) {
	if employeeID == "" || employeeID == actor.EmployeeID {
		return actor, authorize(actor, access.LeaveRequest, actor)
	}
	return actOn(ctx, h.store, actor, access.LeaveRequestFor, employeeID)
}

// scheduledMinutes is the length of a working day of s, overnight or not.
func scheduledMinutes(s employee.Schedule) int {
	minutes := int(s.WorkEnd - s.WorkStart)
	if s.Overnight() {
		minutes += 24 * 60
	}
	return minutes
}
