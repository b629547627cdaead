package command

import (
	"context"
	"errors"
	"strconv"

	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// ChaseApproval reminds the approver of a step that waited
// APPROVAL_REMINDER_AFTER, and escalates one that waited
// APPROVAL_ESCALATE_AFTER to the approver's manager (the admins when there
// is none). Any instance may run it for any step at any time: the decision,
// on the leave stream, appends only what is owed, and each event's id derives
// from the step and what it does, so however many instances run it at once,
// however often, each step is reminded once and escalated once.
type ChaseApproval struct {
	EmployeeID string
	RequestID  string
	Step       int
}

// ChaseApprovalHandler runs ChaseApproval.
type ChaseApprovalHandler struct {
	store  EventStore
	policy leave.Policy
	timing approval.Timing
	now    Now
}

// NewChaseApprovalHandler returns the handler.
func NewChaseApprovalHandler(store EventStore, policy leave.Policy, timing approval.Timing, now Now) ChaseApprovalHandler {
	return ChaseApprovalHandler{store: store, policy: policy, timing: timing, now: now}
}

// ChaseActor is the actor recorded for reminders and escalations.
const ChaseActor = "approval-chase"

// Handle appends the reminder and the escalation the step is owed, and
// reports whether it appended either.
func (h ChaseApprovalHandler) Handle(ctx context.Context, cmd ChaseApproval) (bool, error) {
	history, err := loadPayloads(ctx, h.store, leave.Stream(cmd.EmployeeID))
	if err != nil {
		return false, err
	}
	r, ok := leave.Replay(history).Request(cmd.RequestID)
	step, awaiting := r.Approvals.Awaiting()
	if !ok || !awaiting || step.Step != cmd.Step {
		return false, nil // decided meanwhile
	}
	to, err := escalationTarget(ctx, h.store, step.Approver())
	if err != nil {
		return false, err
	}
	now := h.now()
	chases := []struct {
		kind string
		cmd  leave.Command
	}{
		{"approval_reminder", leave.Remind{RequestID: cmd.RequestID, Step: cmd.Step, Timing: h.timing}},
		{"approval_escalation", leave.Escalate{RequestID: cmd.RequestID, Step: cmd.Step, To: to, Timing: h.timing}},
	}
	appended := false
	for _, c := range chases {
		// One cause per step and kind: the event's id, so it is appended once.
		origin := Reaction("leave", c.kind+"/"+cmd.RequestID+"/"+strconv.Itoa(cmd.Step), "", "")
		d, err := update(ctx, h.store, origin, ChaseActor, leave.Stream(cmd.EmployeeID), func(history []any) ([]any, error) {
			return leave.Decide(leave.Replay(history), c.cmd, h.policy, now)
		})
		if err != nil {
			return appended, err
		}
		appended = appended || len(d.events) > 0
	}
	return appended, nil
}

// escalationTarget is the manager of approverID, "" (the admins) for an
// approver with none or for the admins' own steps.
func escalationTarget(ctx context.Context, store EventStore, approverID string) (string, error) {
	if approverID == "" {
		return "", nil
	}
	a, err := LoadEmployee(ctx, store, approverID)
	if errors.Is(err, employee.ErrNotFound) {
		return "", nil
	}
	return a.ManagerID, err
}
