package approval

import (
	"slices"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/errkind"
)

// ErrStepDecided refuses a decision on a step the request no longer waits on.
var ErrStepDecided error = errkind.New(errkind.Conflict, "the approval step was decided meanwhile")

// Status is where one step of a chain stands.
type Status string

const (
	StatusWaiting   Status = "waiting"   // an earlier step is still pending
	StatusPending   Status = "pending"   // the step the request waits on
	StatusApproved  Status = "approved"  //
	StatusRejected  Status = "rejected"  // the request was rejected at this step
	StatusCancelled Status = "cancelled" // the request was withdrawn while waiting on this step
	StatusSkipped   Status = "skipped"   // the request ended before this step
)

// Step is one approval of a request, numbered from 1. ApproverID is empty
// for a step any admin decides. RoutedTo is who holds the step instead of
// an approver away when it opened; EscalatedTo who holds it too once it
// waited too long (with Escalated and no one, the admins).
type Step struct {
	Step        int       `json:"step"`
	Role        Role      `json:"role"`
	ApproverID  string    `json:"approver_id,omitempty"`
	Status      Status    `json:"status"`
	DecidedBy   string    `json:"decided_by,omitempty"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
	RoutedTo    string    `json:"routed_to,omitempty"`
	OpenedAt    time.Time `json:"opened_at,omitzero"`
	Reminded    bool      `json:"reminded,omitempty"`
	Escalated   bool      `json:"escalated,omitempty"`
	EscalatedTo string    `json:"escalated_to,omitempty"`
}

// Approver is who the step waits on: the one it was routed to, else its
// approver ("" for the admins).
func (s Step) Approver() string {
	if s.RoutedTo != "" {
		return s.RoutedTo
	}
	return s.ApproverID
}

// HeldBy reports whether actor may decide the step on day besides the
// admins: its approver, the one it was routed or escalated to, or a delegate
// whose delegation of the approver's steps (approverDelegations) covers day.
func (s Step) HeldBy(actor string, approverDelegations Delegations, day calendar.Date) bool {
	if actor == "" || s.Status != StatusPending {
		return false
	}
	if actor == s.ApproverID || actor == s.RoutedTo || (s.Escalated && actor == s.EscalatedTo) {
		return true
	}
	return s.ApproverID != "" && slices.Contains(approverDelegations.DelegatesOn(day), actor)
}

// Chain is the steps of one request, in order.
type Chain struct {
	Steps []Step `json:"steps"`
}

// Plan is the chain of roles, every step waiting.
func Plan(roles []Role) Chain {
	c := Chain{Steps: make([]Step, len(roles))}
	for i, r := range roles {
		c.Steps[i] = Step{Step: i + 1, Role: r, Status: StatusWaiting}
	}
	return c
}

// OneStep is the chain of a request decided without one: one manager step,
// pending, or ended with status (approved, rejected or cancelled) by by at at.
func OneStep(status Status, by string, at time.Time) Chain {
	c := Plan(DefaultSteps)
	c.Open(1, Assignment{}, time.Time{})
	switch status {
	case StatusApproved, StatusRejected:
		c.End(status, by, at)
	case StatusCancelled:
		c.End(StatusCancelled, "", time.Time{})
	}
	return c
}

// Awaiting returns the step the request waits on.
func (c Chain) Awaiting() (Step, bool) {
	for _, s := range c.Steps {
		if s.Status == StatusPending {
			return s, true
		}
	}
	return Step{}, false
}

// Next returns the step after n, if any.
func (c Chain) Next(n int) (Step, bool) {
	if n < 1 || n >= len(c.Steps) {
		return Step{}, false
	}
	return c.Steps[n], true
}

// Decide checks that a decision of step n, the step the decider was allowed
// to decide, still meets the step the request waits on (ErrStepDecided when
// it moved on), and returns the step an approval opens next, if any: without
// one, the approval is the request's.
func (c Chain) Decide(n int) (next Step, more bool, err error) {
	if s, ok := c.Awaiting(); !ok || s.Step != n {
		return Step{}, false, ErrStepDecided
	}
	next, more = c.Next(n)
	return next, more, nil
}

func (c *Chain) step(n int) *Step {
	if n < 1 || n > len(c.Steps) {
		return nil
	}
	return &c.Steps[n-1]
}

// Open makes step n the one the request waits on, held as a says.
func (c *Chain) Open(n int, a Assignment, at time.Time) {
	if s := c.step(n); s != nil {
		s.Status, s.ApproverID, s.RoutedTo, s.OpenedAt = StatusPending, a.ApproverID, a.RoutedTo, at
	}
}

// Approve records step n approved by by at at.
func (c *Chain) Approve(n int, by string, at time.Time) {
	if s := c.step(n); s != nil {
		s.Status, s.DecidedBy, s.DecidedAt = StatusApproved, by, at
	}
}

// End records the request's end while waiting: the awaited step takes
// status (approved, rejected or cancelled), by and at; a cancellation is
// nobody's decision, so it names no decider. Steps never reached are skipped.
func (c *Chain) End(status Status, by string, at time.Time) {
	for i := range c.Steps {
		s := &c.Steps[i]
		switch s.Status {
		case StatusPending:
			s.Status = status
			if status != StatusCancelled {
				s.DecidedBy, s.DecidedAt = by, at
			}
		case StatusWaiting:
			s.Status = StatusSkipped
		}
	}
}

// Remind records that step n's approver was reminded.
func (c *Chain) Remind(n int) {
	if s := c.step(n); s != nil {
		s.Reminded = true
	}
}

// Escalate records step n escalated to to ("" for the admins).
func (c *Chain) Escalate(n int, to string) {
	if s := c.step(n); s != nil {
		s.Escalated, s.EscalatedTo = true, to
	}
}

// Assignment is who a step waits on: its approver ("" for the admins), and
// the one it went to instead when the approver was away.
type Assignment struct {
	ApproverID string
	RoutedTo   string
}

// Absence is what routing needs to know of an approver on a day.
type Absence struct {
	// OnLeave is true when the approver is on approved leave that day.
	OnLeave bool
	// Covered is true when a delegation of the approver covers that day.
	Covered bool
	// ManagerID is the approver's manager, "" for none (then the admins).
	ManagerID string
}

// Assign returns who a step of approverID waits on: the approver, unless
// they are on leave with nobody covering, when it goes one level up to their
// manager, or to the admins when they have none (RoutedTo stays empty: any
// admin may decide any step).
func Assign(approverID string, a Absence) Assignment {
	out := Assignment{ApproverID: approverID}
	if approverID != "" && a.OnLeave && !a.Covered && a.ManagerID != approverID {
		out.RoutedTo = a.ManagerID
	}
	return out
}

// Timing is how long a pending step waits before a reminder and before its
// escalation.
type Timing struct {
	RemindAfter   time.Duration
	EscalateAfter time.Duration
}

// DefaultTiming is APPROVAL_REMINDER_AFTER's and APPROVAL_ESCALATE_AFTER's
// defaults.
func DefaultTiming() Timing {
	return Timing{RemindAfter: 48 * time.Hour, EscalateAfter: 96 * time.Hour}
}

// Chase returns step n of c when c still waits on it, and what it is owed
// at now (Owed); nothing once the request moved on.
func (t Timing) Chase(c Chain, n int, now time.Time) (s Step, remind, escalate bool) {
	s, ok := c.Awaiting()
	if !ok || s.Step != n {
		return Step{}, false, false
	}
	remind, escalate = t.Owed(s, now)
	return s, remind, escalate
}

// Owed says what pending step s is owed at now: its one reminder, and its
// escalation. A step that waited past both is owed both, so nothing is lost
// while no process ran.
func (t Timing) Owed(s Step, now time.Time) (remind, escalate bool) {
	if s.Status != StatusPending || s.OpenedAt.IsZero() {
		return false, false
	}
	waited := now.Sub(s.OpenedAt)
	return !s.Reminded && waited >= t.RemindAfter, !s.Escalated && waited >= t.EscalateAfter
}
