package command

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// ChaseApproval reminds the approver of a step that waited
// APPROVAL_REMINDER_AFTER, and escalates one that waited
// APPROVAL_ESCALATE_AFTER to the approver's manager (the admins when there
// is none). Any instance may run it for any step at any time: the decision,
// on the leave stream (or the attendance stream, for a correction), appends
// only what is owed, and each event's id derives from the step and what it
// does, so however many instances run it at once, however often, each step
// is reminded once and escalated once.
type ChaseApproval struct {
	// Subject is whose chain it is: a leave request's (empty too) or an
	// attendance correction's.
	Subject    approval.Subject
	EmployeeID string
	// RequestID is the leave request's or the correction's id.
	RequestID string
	Step      int
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

// chased is where a chain is chased: its stream, the chain on it, and the
// decisions of its reminder and its escalation to to.
type chased struct {
	category, stream string
	chain            func(history []any) (approval.Chain, bool)
	remind, escalate func(history []any, to string, now time.Time) ([]any, error)
}

func (h ChaseApprovalHandler) chased(cmd ChaseApproval) chased {
	if cmd.Subject == approval.SubjectCorrection {
		decide := func(history []any, c attendance.CorrectionCommand, now time.Time) ([]any, error) {
			return attendance.DecideCorrection(attendance.ReplayRecord(history), c, now)
		}
		return chased{
			category: attendance.Category, stream: attendance.Stream(cmd.EmployeeID),
			chain: func(history []any) (approval.Chain, bool) {
				c, ok := attendance.ReplayRecord(history).Correction(cmd.RequestID)
				return c.Approvals, ok && c.Chained
			},
			remind: func(history []any, _ string, now time.Time) ([]any, error) {
				return decide(history, attendance.RemindCorrection{CorrectionID: cmd.RequestID, Step: cmd.Step, Timing: h.timing}, now)
			},
			escalate: func(history []any, to string, now time.Time) ([]any, error) {
				return decide(history, attendance.EscalateCorrection{CorrectionID: cmd.RequestID, Step: cmd.Step, To: to, Timing: h.timing}, now)
			},
		}
	}
	decide := func(history []any, c leave.Command, now time.Time) ([]any, error) {
		return leave.Decide(leave.Replay(history), c, h.policy, now)
	}
	return chased{
		category: leave.Category, stream: leave.Stream(cmd.EmployeeID),
		chain: func(history []any) (approval.Chain, bool) {
			r, ok := leave.Replay(history).Request(cmd.RequestID)
			return r.Approvals, ok
		},
		remind: func(history []any, _ string, now time.Time) ([]any, error) {
			return decide(history, leave.Remind{RequestID: cmd.RequestID, Step: cmd.Step, Timing: h.timing}, now)
		},
		escalate: func(history []any, to string, now time.Time) ([]any, error) {
			return decide(history, leave.Escalate{RequestID: cmd.RequestID, Step: cmd.Step, To: to, Timing: h.timing}, now)
		},
	}
}

// Handle appends the reminder and the escalation the step is owed, and
// reports whether it appended either.
func (h ChaseApprovalHandler) Handle(ctx context.Context, cmd ChaseApproval) (bool, error) {
	on := h.chased(cmd)
	history, err := loadPayloads(ctx, h.store, on.stream)
	if err != nil {
		return false, err
	}
	chain, ok := on.chain(history)
	step, awaiting := chain.Awaiting()
	if !ok || !awaiting || step.Step != cmd.Step {
		return false, nil // decided meanwhile
	}
	to, err := escalationTarget(ctx, h.store, step.Approver())
	if err != nil {
		return false, err
	}
	now := h.now()
	chases := []struct {
		kind   string
		decide func(history []any, to string, now time.Time) ([]any, error)
	}{
		{"approval_reminder", on.remind},
		{"approval_escalation", on.escalate},
	}
	appended := false
	for _, c := range chases {
		// One cause per step and kind: the event's id, so it is appended once.
		origin := Reaction(on.category, c.kind+"/"+cmd.RequestID+"/"+strconv.Itoa(cmd.Step), "", "")
		d, err := update(ctx, h.store, origin, ChaseActor, on.stream, func(history []any) ([]any, error) {
			return c.decide(history, to, now)
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
