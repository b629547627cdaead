package attendance

import (
	"time"

	"github.com/acme/employee-tracking/domain/approval"
)

// A correction filed while the approval policy has a rule for corrections is
// decided step by step along the chain that rule gave it (domain/approval),
// like a leave request: the last step's approval is CorrectionApproved, a
// rejection at any step CorrectionRejected, and the events below record the
// chain, the steps before the last, and the reminders and escalations of a
// step that waits too long. A correction filed without such a rule has no
// chain: it is decided in one step by the employee's manager or an admin.

// CorrectionApprovalsPlanned names the steps a correction must pass, in order.
type CorrectionApprovalsPlanned struct {
	CorrectionID string          `json:"correction_id" personal:"no"`
	EmployeeID   string          `json:"employee_id" personal:"no"`
	Steps        []approval.Role `json:"steps" personal:"no"`
}

// CorrectionStepOpened makes Step the one the correction waits on:
// ApproverID's ("" for the admins), or RoutedTo's while the approver is away.
type CorrectionStepOpened struct {
	CorrectionID string        `json:"correction_id" personal:"no"`
	EmployeeID   string        `json:"employee_id" personal:"no"`
	Step         int           `json:"step"`
	Role         approval.Role `json:"role" personal:"no"`
	ApproverID   string        `json:"approver_id" personal:"no"`
	RoutedTo     string        `json:"routed_to,omitempty" personal:"no"`
	OpenedAt     time.Time     `json:"opened_at"`
}

// CorrectionStepApproved approves a step before the last; Note is free text
// about the employee.
type CorrectionStepApproved struct {
	CorrectionID string    `json:"correction_id" personal:"no"`
	EmployeeID   string    `json:"employee_id" personal:"subject"`
	Step         int       `json:"step"`
	DecidedBy    string    `json:"decided_by" personal:"no"`
	Note         string    `json:"note,omitempty" personal:"yes"`
	DecidedAt    time.Time `json:"decided_at"`
}

// CorrectionReminded records the one reminder of a step's approver.
type CorrectionReminded struct {
	CorrectionID string    `json:"correction_id" personal:"no"`
	EmployeeID   string    `json:"employee_id" personal:"no"`
	Step         int       `json:"step"`
	ApproverID   string    `json:"approver_id" personal:"no"`
	RemindedAt   time.Time `json:"reminded_at"`
}

// CorrectionEscalated gives a step that waited too long to EscalatedTo, the
// approver's manager ("" for the admins), who may decide it from then on.
type CorrectionEscalated struct {
	CorrectionID string    `json:"correction_id" personal:"no"`
	EmployeeID   string    `json:"employee_id" personal:"no"`
	Step         int       `json:"step"`
	ApproverID   string    `json:"approver_id" personal:"no"`
	EscalatedTo  string    `json:"escalated_to" personal:"no"`
	EscalatedAt  time.Time `json:"escalated_at"`
}

func (CorrectionApprovalsPlanned) EventName() string {
	return "attendance.correction_approvals_planned"
}
func (CorrectionStepOpened) EventName() string   { return "attendance.correction_step_opened" }
func (CorrectionStepApproved) EventName() string { return "attendance.correction_step_approved" }
func (CorrectionReminded) EventName() string     { return "attendance.correction_reminded" }
func (CorrectionEscalated) EventName() string    { return "attendance.correction_escalated" }

// CorrectionChainEvent returns the correction an event of a chain concerns:
// the approval events, and the decisions that end a chain.
func CorrectionChainEvent(event any) (correctionID string, ok bool) {
	switch ev := event.(type) {
	case CorrectionApprovalsPlanned:
		return ev.CorrectionID, true
	case CorrectionStepOpened:
		return ev.CorrectionID, true
	case CorrectionStepApproved:
		return ev.CorrectionID, true
	case CorrectionReminded:
		return ev.CorrectionID, true
	case CorrectionEscalated:
		return ev.CorrectionID, true
	case CorrectionApproved:
		return ev.CorrectionID, true
	case CorrectionRejected:
		return ev.CorrectionID, true
	}
	return "", false
}

// ApplyToCorrectionChain evolves the chain of a correction by an event of it
// (CorrectionChainEvent). The record and the read models fold chains with it
// alike.
func ApplyToCorrectionChain(c *approval.Chain, event any) {
	switch ev := event.(type) {
	case CorrectionApprovalsPlanned:
		*c = approval.Plan(ev.Steps)
	case CorrectionStepOpened:
		c.Open(ev.Step, approval.Assignment{ApproverID: ev.ApproverID, RoutedTo: ev.RoutedTo}, ev.OpenedAt)
	case CorrectionStepApproved:
		c.Approve(ev.Step, ev.DecidedBy, ev.DecidedAt)
	case CorrectionReminded:
		c.Remind(ev.Step)
	case CorrectionEscalated:
		c.Escalate(ev.Step, ev.EscalatedTo)
	case CorrectionApproved:
		c.End(approval.StatusApproved, ev.DecidedBy, ev.DecidedAt)
	case CorrectionRejected:
		c.End(approval.StatusRejected, ev.DecidedBy, ev.DecidedAt)
	}
}

// applyChain folds the chain events into the record's chains; a correction
// filed without a chain has none.
func (r *Record) applyChain(event any) {
	id, ok := CorrectionChainEvent(event)
	if !ok {
		return
	}
	c, planned := r.chains[id]
	if _, plans := event.(CorrectionApprovalsPlanned); !planned && !plans {
		return
	}
	ApplyToCorrectionChain(&c, event)
	r.chains[id] = c
}

// RemindCorrection reminds the approver of Step once Timing says a reminder
// is owed.
type RemindCorrection struct {
	CorrectionID string
	Step         int
	Timing       approval.Timing
}

// EscalateCorrection gives Step to To ("" for the admins) once Timing says
// its escalation is owed.
type EscalateCorrection struct {
	CorrectionID string
	Step         int
	To           string
	Timing       approval.Timing
}

func (RemindCorrection) correctionCommand()   {}
func (EscalateCorrection) correctionCommand() {}

// planned returns the events that give a correction just filed its chain of
// steps, its first step waiting as first says; none without steps.
func planned(req CorrectionRequested, steps []approval.Role, first approval.Assignment) []any {
	if len(steps) == 0 {
		return nil
	}
	return []any{
		CorrectionApprovalsPlanned{CorrectionID: req.CorrectionID, EmployeeID: req.EmployeeID, Steps: steps},
		CorrectionStepOpened{CorrectionID: req.CorrectionID, EmployeeID: req.EmployeeID, Step: 1, Role: steps[0],
			ApproverID: first.ApproverID, RoutedTo: first.RoutedTo, OpenedAt: req.RequestedAt},
	}
}

// decideChainedApproval approves step of corr's chain: a step before the
// last checks the correction still fits its day (final, the approval of the
// last step, says) and opens the next step as next says; the last step's
// approval is final's.
func decideChainedApproval(corr Correction, step int, by, note string, next approval.Assignment, final func() ([]any, error), now time.Time) ([]any, error) {
	following, more, err := corr.Approvals.Decide(step)
	if err != nil {
		return nil, err
	}
	events, err := final()
	if err != nil || !more {
		return events, err
	}
	at := now.UTC()
	return []any{
		CorrectionStepApproved{CorrectionID: corr.ID, EmployeeID: corr.EmployeeID, Step: step, DecidedBy: by, Note: note, DecidedAt: at},
		CorrectionStepOpened{CorrectionID: corr.ID, EmployeeID: corr.EmployeeID, Step: following.Step, Role: following.Role,
			ApproverID: next.ApproverID, RoutedTo: next.RoutedTo, OpenedAt: at},
	}, nil
}

// owedCorrection returns the pending correction id, its step and what the
// step is owed at now; nothing once the correction moved on.
func owedCorrection(r Record, id string, step int, t approval.Timing, now time.Time) (c Correction, s approval.Step, remind, escalate bool) {
	c, ok := r.Correction(id)
	if !ok || c.Status != Pending || !c.Chained {
		return Correction{}, approval.Step{}, false, false
	}
	s, remind, escalate = t.Chase(c.Approvals, step, now)
	return c, s, remind, escalate
}

func remindCorrection(r Record, c RemindCorrection, now time.Time) ([]any, error) {
	corr, s, remind, _ := owedCorrection(r, c.CorrectionID, c.Step, c.Timing, now)
	if !remind {
		return nil, nil
	}
	return []any{CorrectionReminded{CorrectionID: corr.ID, EmployeeID: corr.EmployeeID, Step: s.Step, ApproverID: s.Approver(), RemindedAt: now.UTC()}}, nil
}

func escalateCorrection(r Record, c EscalateCorrection, now time.Time) ([]any, error) {
	corr, s, _, escalate := owedCorrection(r, c.CorrectionID, c.Step, c.Timing, now)
	if !escalate {
		return nil, nil
	}
	return []any{CorrectionEscalated{CorrectionID: corr.ID, EmployeeID: corr.EmployeeID, Step: s.Step, ApproverID: s.Approver(),
		EscalatedTo: c.To, EscalatedAt: now.UTC()}}, nil
}
