package leave

import (
	"slices"
	"time"

	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/calendar"
)

// A request is decided step by step along the approval chain the policy gave
// it when it was filed (domain/approval). The last step's approval is
// Approved, a rejection at any step is Rejected; the events below record the
// chain, the steps before the last, and the reminders and escalations of a
// step that waits too long. A request filed before chains existed reads as
// one manager step.

// ErrStepDecided refuses a decision on a step the request no longer waits on.
var ErrStepDecided = approval.ErrStepDecided

// ApprovalsPlanned names the steps a request must pass, in order.
type ApprovalsPlanned struct {
	RequestID  string          `json:"request_id" personal:"no"`
	EmployeeID string          `json:"employee_id" personal:"no"`
	Steps      []approval.Role `json:"steps" personal:"no"`
}

// ApprovalStepOpened makes Step the one the request waits on: ApproverID's
// ("" for the admins), or RoutedTo's while the approver is away.
type ApprovalStepOpened struct {
	RequestID  string        `json:"request_id" personal:"no"`
	EmployeeID string        `json:"employee_id" personal:"no"`
	Step       int           `json:"step"`
	Role       approval.Role `json:"role" personal:"no"`
	ApproverID string        `json:"approver_id" personal:"no"`
	RoutedTo   string        `json:"routed_to,omitempty" personal:"no"`
	OpenedAt   time.Time     `json:"opened_at"`
}

// ApprovalStepApproved approves a step before the last; Note is free text
// about the employee.
type ApprovalStepApproved struct {
	RequestID  string    `json:"request_id" personal:"no"`
	EmployeeID string    `json:"employee_id" personal:"subject"`
	Step       int       `json:"step"`
	DecidedBy  string    `json:"decided_by" personal:"no"`
	Note       string    `json:"note" personal:"yes"`
	DecidedAt  time.Time `json:"decided_at"`
}

// ApprovalReminded records the one reminder of a step's approver.
type ApprovalReminded struct {
	RequestID  string    `json:"request_id" personal:"no"`
	EmployeeID string    `json:"employee_id" personal:"no"`
	Step       int       `json:"step"`
	ApproverID string    `json:"approver_id" personal:"no"`
	RemindedAt time.Time `json:"reminded_at"`
}

// ApprovalEscalated gives a step that waited too long to EscalatedTo, the
// approver's manager ("" for the admins), who may decide it from then on.
type ApprovalEscalated struct {
	RequestID   string    `json:"request_id" personal:"no"`
	EmployeeID  string    `json:"employee_id" personal:"no"`
	Step        int       `json:"step"`
	ApproverID  string    `json:"approver_id" personal:"no"`
	EscalatedTo string    `json:"escalated_to" personal:"no"`
	EscalatedAt time.Time `json:"escalated_at"`
}

func (ApprovalsPlanned) EventName() string     { return "leave.approvals_planned" }
func (ApprovalStepOpened) EventName() string   { return "leave.approval_step_opened" }
func (ApprovalStepApproved) EventName() string { return "leave.approval_step_approved" }
func (ApprovalReminded) EventName() string     { return "leave.approval_reminded" }
func (ApprovalEscalated) EventName() string    { return "leave.approval_escalated" }

// ApprovalEvents lists a zero value of each approval event, for the codec
// registry.
func ApprovalEvents() []any {
	return []any{ApprovalsPlanned{}, ApprovalStepOpened{}, ApprovalStepApproved{}, ApprovalReminded{}, ApprovalEscalated{}}
}

// ChainEvent returns the request an event of the chain concerns: the
// approval events, and the decisions and cancellations that end a chain.
func ChainEvent(event any) (requestID string, ok bool) {
	switch ev := event.(type) {
	case ApprovalsPlanned:
		return ev.RequestID, true
	case ApprovalStepOpened:
		return ev.RequestID, true
	case ApprovalStepApproved:
		return ev.RequestID, true
	case ApprovalReminded:
		return ev.RequestID, true
	case ApprovalEscalated:
		return ev.RequestID, true
	case Approved:
		return ev.RequestID, true
	case Rejected:
		return ev.RequestID, true
	case Cancelled:
		return ev.RequestID, true
	}
	return "", false
}

// ApplyToChain evolves the chain of a request by an event of it (ChainEvent).
// The account and the read models fold chains with it alike.
func ApplyToChain(c *approval.Chain, event any) {
	switch ev := event.(type) {
	case ApprovalsPlanned:
		*c = approval.Plan(ev.Steps)
	case ApprovalStepOpened:
		c.Open(ev.Step, approval.Assignment{ApproverID: ev.ApproverID, RoutedTo: ev.RoutedTo}, ev.OpenedAt)
	case ApprovalStepApproved:
		c.Approve(ev.Step, ev.DecidedBy, ev.DecidedAt)
	case ApprovalReminded:
		c.Remind(ev.Step)
	case ApprovalEscalated:
		c.Escalate(ev.Step, ev.EscalatedTo)
	case Approved:
		c.End(approval.StatusApproved, ev.DecidedBy, ev.DecidedAt)
	case Rejected:
		c.End(approval.StatusRejected, ev.DecidedBy, ev.DecidedAt)
	case Cancelled:
		c.End(approval.StatusCancelled, "", ev.CancelledAt)
	}
}

// applyApprovals folds the chain events into the account's chains.
func (a *Account) applyApprovals(event any) {
	id, ok := ChainEvent(event)
	if !ok {
		return
	}
	c, planned := a.chains[id]
	if _, plans := event.(ApprovalsPlanned); !planned && !plans {
		return // a request filed before chains: its one step is read from it
	}
	ApplyToChain(&c, event)
	a.chains[id] = c
}

// Approvals returns the approval chain of request id. A request filed before
// chains reads as one manager step, as decided as the request.
func (a Account) Approvals(id string) approval.Chain {
	if c, ok := a.chains[id]; ok {
		return c
	}
	r := a.requests[id]
	return approval.OneStep(approval.Status(r.Status), r.DecidedBy, r.DecidedAt)
}

// Chained reports whether request id was filed with an approval chain.
func (a Account) Chained(id string) bool {
	_, ok := a.chains[id]
	return ok
}

// OnLeave reports whether the employee has approved leave on day.
func (a Account) OnLeave(day calendar.Date) bool {
	for _, id := range a.order {
		if r := a.requests[id]; r.Status == StatusApproved && slices.Contains(r.Dates, day) {
			return true
		}
	}
	return false
}

// FileRequest files Request under the approval policy: the first rule that
// matches its type and days gives its steps, and the first step waits as
// Approvers say for its role.
type FileRequest struct {
	Request
	Policy approval.Policy
	// Approvers are who a first step of each role would wait on now, as the
	// caller resolved them (see approval.Policy.FirstRoles).
	Approvers map[approval.Role]approval.Assignment
}

// DecideStep approves or rejects Step, the step the decider was allowed to
// decide. A step before the last spends nothing but passes the balance check
// of the final approval, and opens the next step, held as Next says; the
// last step's approval is Approve's.
type DecideStep struct {
	RequestID string
	Step      int
	Approve   bool
	By        string
	Note      string
	At        time.Time // zero means now
	Holidays  calendar.Holidays
	// Employment dates the balance check, as Approve's does.
	Employment Employment
	Next       approval.Assignment
}

// Remind reminds the approver of Step once Timing says a reminder is owed.
type Remind struct {
	RequestID string
	Step      int
	Timing    approval.Timing
}

// Escalate gives Step to To ("" for the admins) once Timing says its
// escalation is owed.
type Escalate struct {
	RequestID string
	Step      int
	To        string
	Timing    approval.Timing
}

func (FileRequest) command() {}
func (DecideStep) command()  {}
func (Remind) command()      {}
func (Escalate) command()    {}

func fileRequest(a Account, c FileRequest, p Policy, now time.Time) ([]any, error) {
	events, err := request(a, c.Request, p, now)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(events, func(ev any) bool { _, ok := ev.(Requested); return ok })
	if i < 0 {
		return events, nil // filed already
	}
	req := events[i].(Requested)
	steps := c.Policy.Steps(req.Type(), req.Amount.Days())
	first := c.Approvers[steps[0]]
	return append(events,
		ApprovalsPlanned{RequestID: req.RequestID, EmployeeID: req.EmployeeID, Steps: steps},
		ApprovalStepOpened{RequestID: req.RequestID, EmployeeID: req.EmployeeID, Step: 1, Role: steps[0],
			ApproverID: first.ApproverID, RoutedTo: first.RoutedTo, OpenedAt: req.RequestedAt},
	), nil
}

func decideStep(a Account, c DecideStep, p Policy, now time.Time) ([]any, error) {
	r, err := pending(a, c.RequestID)
	if err != nil {
		return nil, err
	}
	next, more, err := a.Approvals(r.ID).Decide(c.Step)
	if err != nil {
		return nil, err
	}
	if !c.Approve {
		return reject(a, Reject{RequestID: r.ID, By: c.By, Note: c.Note, At: c.At}, now)
	}
	final := Approve{RequestID: r.ID, By: c.By, Note: c.Note, At: c.At, Holidays: c.Holidays, Employment: c.Employment}
	if !more {
		return approve(a, final, p, now)
	}
	// The balance check of the final approval runs at every step.
	if _, err := approve(a, final, p, now); err != nil {
		return nil, err
	}
	at := orNow(c.At, now)
	return []any{
		ApprovalStepApproved{RequestID: r.ID, EmployeeID: r.EmployeeID, Step: c.Step, DecidedBy: c.By, Note: c.Note, DecidedAt: at},
		ApprovalStepOpened{RequestID: r.ID, EmployeeID: r.EmployeeID, Step: next.Step, Role: next.Role,
			ApproverID: c.Next.ApproverID, RoutedTo: c.Next.RoutedTo, OpenedAt: at},
	}, nil
}

// owed returns the pending request id, its step and what the step is owed
// at now, nothing once the request moved on.
func owed(a Account, id string, step int, t approval.Timing, now time.Time) (r RequestState, s approval.Step, remind, escalate bool) {
	r, ok := a.requests[id]
	if !ok || r.Status != StatusPending {
		return RequestState{}, approval.Step{}, false, false
	}
	s, remind, escalate = t.Chase(a.Approvals(id), step, now)
	return r, s, remind, escalate
}

func remind(a Account, c Remind, now time.Time) ([]any, error) {
	r, s, remind, _ := owed(a, c.RequestID, c.Step, c.Timing, now)
	if !remind {
		return nil, nil
	}
	return []any{ApprovalReminded{RequestID: r.ID, EmployeeID: r.EmployeeID, Step: s.Step, ApproverID: s.Approver(), RemindedAt: now.UTC()}}, nil
}

func escalate(a Account, c Escalate, now time.Time) ([]any, error) {
	r, s, _, escalate := owed(a, c.RequestID, c.Step, c.Timing, now)
	if !escalate {
		return nil, nil
	}
	return []any{ApprovalEscalated{RequestID: r.ID, EmployeeID: r.EmployeeID, Step: s.Step, ApproverID: s.Approver(),
		EscalatedTo: c.To, EscalatedAt: now.UTC()}}, nil
}
