package saga

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/poison"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// onAwaited tells whom a request waits on that it does: the holders of each
// step opened, or, for a request filed without a chain (before chains), its
// manager.
func (n *notifier) onAwaited(ctx context.Context, e eventstore.Event) error {
	switch ev := e.Payload.(type) {
	case leave.ApprovalStepOpened:
		return n.onStepOpened(ctx, e)
	case leave.Requested:
		history, err := n.store.Load(ctx, e.StreamID)
		if err != nil {
			return err
		}
		if leave.Replay(command.Payloads(history)).Chained(ev.RequestID) {
			return nil // its first step's opening tells
		}
		return n.onLeaveRequested(ctx, e)
	}
	return nil
}

// onStepOpened tells who a request's step now waits on that it does:
// leave_requested to its approver (or whom it was routed to, or the admins
// for an admin step), and to the approver's delegates whose delegation covers
// the day it opened.
func (n *notifier) onStepOpened(ctx context.Context, e eventstore.Event) error {
	ev, ok := e.Payload.(leave.ApprovalStepOpened)
	if !ok {
		return nil
	}
	req, err := n.requestAt(ctx, e, ev.RequestID)
	if err != nil {
		return err
	}
	emp, err := n.person(ctx, ev.EmployeeID)
	if err != nil {
		return err
	}
	to, err := n.holders(ctx, emp, approval.Step{ApproverID: ev.ApproverID, RoutedTo: ev.RoutedTo}, ev.OpenedAt)
	if err != nil {
		return err
	}
	msg, data := notification.LeaveRequested(emp.Name, emp.ID, ev.RequestID, req.Start, req.End, req.Days)
	return n.notifyAll(ctx, e, NotifyManagerOnLeaveRequested, to, notification.TypeLeaveRequested, msg, data, notification.Decider{})
}

// holders are who hold a step of emp's request at the moment at: whom it
// waits on (the admins for none) and the approver's delegates that day,
// never the employee themself.
func (n *notifier) holders(ctx context.Context, emp person, step approval.Step, at time.Time) ([]string, error) {
	var to []string
	switch holder := step.Approver(); holder {
	case "":
		admins, err := n.admins(ctx)
		if err != nil {
			return nil, err
		}
		to = admins
	default:
		to = []string{holder}
	}
	if step.ApproverID != "" && step.RoutedTo == "" {
		delegates, err := n.delegatesOn(ctx, step.ApproverID, at)
		if err != nil {
			return nil, err
		}
		for _, d := range delegates {
			if !slices.Contains(to, d) {
				to = append(to, d)
			}
		}
	}
	return slices.DeleteFunc(to, func(id string) bool { return id == emp.ID }), nil
}

// delegatesOn are the delegates of manager whose delegation covers the
// manager's date at at.
func (n *notifier) delegatesOn(ctx context.Context, managerID string, at time.Time) ([]string, error) {
	manager, err := command.LoadEmployee(ctx, n.store, managerID)
	if errors.Is(err, employee.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	delegations, err := command.LoadDelegations(ctx, n.store, managerID)
	if err != nil {
		return nil, err
	}
	return delegations.DelegatesOn(manager.Schedule.Today(at)), nil
}

// onApprovalChased tells the approver of a step that waited too long
// (approval_reminder), and whom it was escalated to (approval_escalated; the
// admins when the approver has no manager).
func (n *notifier) onApprovalChased(ctx context.Context, e eventstore.Event) error {
	var (
		requestID, employeeID, to string
		step                      int
		typ                       notification.Type
		build                     func(name, id, request string, step int, start, end calendar.Date, since time.Time) (string, map[string]any)
	)
	switch ev := e.Payload.(type) {
	case leave.ApprovalReminded:
		requestID, employeeID, to, step = ev.RequestID, ev.EmployeeID, ev.ApproverID, ev.Step
		typ, build = notification.TypeApprovalReminder, notification.ApprovalReminder
	case leave.ApprovalEscalated:
		requestID, employeeID, to, step = ev.RequestID, ev.EmployeeID, ev.EscalatedTo, ev.Step
		typ, build = notification.TypeApprovalEscalated, notification.ApprovalEscalated
	default:
		return nil
	}
	req, err := n.requestAt(ctx, e, requestID)
	if err != nil {
		return err
	}
	emp, recipients, err := n.chased(ctx, e, employeeID, to)
	if err != nil {
		return err
	}
	msg, data := build(emp.Name, emp.ID, requestID, step, req.Start, req.End, openedAt(req.Approvals, step, req.RequestedAt))
	return n.notifyAll(ctx, e, NotifyApproverOnApprovalChased, recipients, typ, msg, data, notification.Decider{})
}

// onCorrectionAwaited tells whom a correction waits on that it does: the
// holders of each step opened (correction_requested), or, for a correction
// filed without a chain, the manager; and whom a step that waits too long
// chases (onCorrectionChased).
func (n *notifier) onCorrectionAwaited(ctx context.Context, e eventstore.Event) error {
	switch ev := e.Payload.(type) {
	case attendance.CorrectionReminded, attendance.CorrectionEscalated:
		return n.onCorrectionChased(ctx, e)
	case attendance.CorrectionStepOpened:
		c, err := n.correctionAt(ctx, e, ev.CorrectionID)
		if err != nil {
			return err
		}
		emp, err := n.person(ctx, ev.EmployeeID)
		if err != nil {
			return err
		}
		to, err := n.holders(ctx, emp, approval.Step{ApproverID: ev.ApproverID, RoutedTo: ev.RoutedTo}, ev.OpenedAt)
		if err != nil {
			return err
		}
		msg, data := notification.CorrectionRequested(emp.Name, emp.ID, c.ID, c.Date, c.CheckIn, c.CheckOut)
		return n.notifyAll(ctx, e, NotifyManagerOnCorrectionRequested, to, notification.TypeCorrectionRequested, msg, data, notification.Decider{})
	case attendance.CorrectionRequested:
		// The chain, if any, is planned in the same append, after the filing.
		history, err := n.store.Load(ctx, e.StreamID)
		if err != nil {
			return err
		}
		if c, _ := attendance.ReplayRecord(command.Payloads(history)).Correction(ev.CorrectionID); c.Chained {
			return nil // its first step's opening tells
		}
		return n.onCorrectionRequested(ctx, e, ev)
	}
	return nil
}

// correctionAt returns the correction as e, an event of its stream, left it.
func (n *notifier) correctionAt(ctx context.Context, e eventstore.Event, id string) (attendance.Correction, error) {
	upTo, err := n.historyAt(ctx, e)
	if err != nil {
		return attendance.Correction{}, err
	}
	c, ok := attendance.ReplayRecord(upTo).Correction(id)
	if !ok {
		return attendance.Correction{}, poison.Mark(fmt.Errorf("%s %s: unknown correction %s", e.Type, e.ID, id))
	}
	return c, nil
}

// onCorrectionChased tells the approver of a correction's step that waited
// too long (approval_reminder), and whom it was escalated to
// (approval_escalated; the admins when the approver has no manager).
func (n *notifier) onCorrectionChased(ctx context.Context, e eventstore.Event) error {
	var (
		id, employeeID, to string
		step               int
		typ                notification.Type
		build              func(name, id, correction string, step int, date calendar.Date, since time.Time) (string, map[string]any)
	)
	switch ev := e.Payload.(type) {
	case attendance.CorrectionReminded:
		id, employeeID, to, step = ev.CorrectionID, ev.EmployeeID, ev.ApproverID, ev.Step
		typ, build = notification.TypeApprovalReminder, notification.CorrectionReminder
	case attendance.CorrectionEscalated:
		id, employeeID, to, step = ev.CorrectionID, ev.EmployeeID, ev.EscalatedTo, ev.Step
		typ, build = notification.TypeApprovalEscalated, notification.CorrectionEscalated
	default:
		return nil
	}
	c, err := n.correctionAt(ctx, e, id)
	if err != nil {
		return err
	}
	emp, recipients, err := n.chased(ctx, e, employeeID, to)
	if err != nil {
		return err
	}
	msg, data := build(emp.Name, emp.ID, id, step, c.Date, openedAt(c.Approvals, step, c.RequestedAt))
	return n.notifyAll(ctx, e, NotifyManagerOnCorrectionRequested, recipients, typ, msg, data, notification.Decider{})
}

// chased are the employee of a chased step and whom it is told to: to, the
// one chased (not their delegates), or the admins for none.
func (n *notifier) chased(ctx context.Context, e eventstore.Event, employeeID, to string) (person, []string, error) {
	emp, err := n.person(ctx, employeeID)
	if err != nil {
		return person{}, nil, err
	}
	if to != "" {
		return emp, []string{to}, nil
	}
	admins, err := n.holders(ctx, emp, approval.Step{}, e.RecordedAt)
	return emp, admins, err
}

// openedAt is when step of c opened, or since for a step it does not have.
func openedAt(c approval.Chain, step int, since time.Time) time.Time {
	if step >= 1 && step <= len(c.Steps) {
		return c.Steps[step-1].OpenedAt
	}
	return since
}

// ChaseApprovals reminds and escalates approval steps that wait too long.
// Like AutoCheckout it is a due-time query that every instance runs: the
// approvals read model holds when each awaited step opened and whether it
// was reminded and escalated, and the steps owed something are chased
// through the application, which decides on the leave stream and derives
// each event's id from the step and what it does. Instances racing for one
// step, or one restarted mid-way, chase it once.
type ChaseApprovals struct {
	queries *readmodel.Queries
	chase   command.ChaseApprovalHandler
	timing  approval.Timing
	now     func() time.Time
	n       *notifier
}

// NewChaseApprovals returns the runner; Run runs it.
func NewChaseApprovals(d Deps) *ChaseApprovals {
	return &ChaseApprovals{queries: d.Queries, chase: d.ChaseApproval, timing: d.Approvals, now: d.Now, n: newNotifier(d)}
}

// Run chases the owed steps every few seconds until ctx ends.
func (c *ChaseApprovals) Run(ctx context.Context) error {
	runEvery(ctx, dueEvery, c.n.logger, "approval chase", c.Once)
	return nil
}

// Once chases every step owed something now, a page at a time, and says how
// many it chased. A read model that lags shows a step still owed: the
// decision, on the stream, appends nothing twice.
func (c *ChaseApprovals) Once(ctx context.Context) (int, error) {
	now := c.now()
	remindBy, escalateBy := now.Add(-c.timing.RemindAfter), now.Add(-c.timing.EscalateAfter)
	return workOffDue(ctx, "approval chase",
		func(after readmodel.AwaitedStep, limit int) ([]readmodel.AwaitedStep, error) {
			return c.queries.StepsOwedBy(ctx, remindBy, escalateBy, after, limit)
		},
		func(s readmodel.AwaitedStep) (bool, error) {
			chased, err := c.chase.Handle(ctx, command.ChaseApproval{Subject: s.Subject, EmployeeID: s.EmployeeID, RequestID: s.RequestID, Step: s.Step})
			if err != nil {
				return false, fmt.Errorf("of %s: %w", s.RequestID, err)
			}
			return chased, nil
		})
}
