package leave

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/acme/employee-tracking/domain/approval"
)

// twoSteps asks a second manager for requests of three days or more.
var twoSteps = approval.Policy{Rules: []approval.Rule{{MinDays: 3, Steps: []approval.Role{approval.RoleManager, approval.RoleSecondManager}}}}

var firstApprovers = map[approval.Role]approval.Assignment{approval.RoleManager: {ApproverID: "m1"}}

func file(id, start, end string, p approval.Policy) FileRequest {
	return FileRequest{Request: req(id, start, end), Policy: p, Approvers: firstApprovers}
}

func statuses(c approval.Chain) []approval.Status {
	out := make([]approval.Status, len(c.Steps))
	for i, s := range c.Steps {
		out[i] = s.Status
	}
	return out
}

func TestFileRequestPlansTheChain(t *testing.T) {
	t.Parallel()
	a := Replay([]any{granted(2024, 15)})
	events := decide(t, &a, file("r1", "2024-12-02", "2024-12-04", twoSteps), policy)
	if diff := cmp.Diff([]string{"leave.requested", "leave.approvals_planned", "leave.approval_step_opened"}, names(events)); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	opened := events[2].(ApprovalStepOpened)
	want := ApprovalStepOpened{RequestID: "r1", EmployeeID: "e1", Step: 1, Role: approval.RoleManager, ApproverID: "m1", OpenedAt: now}
	if diff := cmp.Diff(want, opened); diff != "" {
		t.Errorf("opened (-want +got):\n%s", diff)
	}
	r, _ := a.Request("r1")
	if diff := cmp.Diff([]approval.Status{approval.StatusPending, approval.StatusWaiting}, statuses(r.Approvals)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	// A short request matches no rule: one manager step.
	decide(t, &a, file("r2", "2024-12-09", "2024-12-10", twoSteps), policy)
	if r, _ := a.Request("r2"); len(r.Approvals.Steps) != 1 || r.Approvals.Steps[0].Role != approval.RoleManager {
		t.Errorf("short request's steps = %+v, want one manager step", r.Approvals.Steps)
	}
	// Filing the same request again files nothing.
	if events, err := Decide(a, file("r1", "2024-12-02", "2024-12-04", twoSteps), policy, now); err != nil || events != nil {
		t.Errorf("again = %v, %v; want nothing", names(events), err)
	}
}

func TestDecideStep(t *testing.T) {
	t.Parallel()
	later := now.Add(time.Hour)
	step := func(n int, approve bool, by string) DecideStep {
		return DecideStep{RequestID: "r1", Step: n, Approve: approve, By: by, At: later, Next: approval.Assignment{ApproverID: "m2"}}
	}
	tests := []struct {
		name       string
		policy     approval.Policy
		decisions  []DecideStep
		wantEvents []string // of the last decision
		wantStatus Status
		wantSteps  []approval.Status
	}{
		{"one step approved", approval.Policy{}, []DecideStep{step(1, true, "m1")},
			[]string{"leave.approved"}, StatusApproved, []approval.Status{approval.StatusApproved}},
		{"one step rejected", approval.Policy{}, []DecideStep{step(1, false, "m1")},
			[]string{"leave.rejected"}, StatusRejected, []approval.Status{approval.StatusRejected}},
		{"two steps: the first approved", twoSteps, []DecideStep{step(1, true, "m1")},
			[]string{"leave.approval_step_approved", "leave.approval_step_opened"}, StatusPending,
			[]approval.Status{approval.StatusApproved, approval.StatusPending}},
		{"two steps: rejected at the first", twoSteps, []DecideStep{step(1, false, "m1")},
			[]string{"leave.rejected"}, StatusRejected, []approval.Status{approval.StatusRejected, approval.StatusSkipped}},
		{"two steps: both approved", twoSteps, []DecideStep{step(1, true, "m1"), step(2, true, "m2")},
			[]string{"leave.approved"}, StatusApproved, []approval.Status{approval.StatusApproved, approval.StatusApproved}},
		{"two steps: rejected at the second", twoSteps, []DecideStep{step(1, true, "m1"), step(2, false, "m2")},
			[]string{"leave.rejected"}, StatusRejected, []approval.Status{approval.StatusApproved, approval.StatusRejected}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := Replay([]any{granted(2024, 15)})
			decide(t, &a, file("r1", "2024-12-02", "2024-12-04", tt.policy), policy)
			var events []any
			for _, d := range tt.decisions {
				events = decide(t, &a, d, policy)
			}
			if diff := cmp.Diff(tt.wantEvents, names(events)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			r, _ := a.Request("r1")
			if r.Status != tt.wantStatus {
				t.Errorf("status %s, want %s", r.Status, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantSteps, statuses(r.Approvals)); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			last := tt.decisions[len(tt.decisions)-1]
			if s := r.Approvals.Steps[last.Step-1]; s.DecidedBy != last.By || !s.DecidedAt.Equal(later) {
				t.Errorf("step %d decided by %q at %v, want %q at %v", last.Step, s.DecidedBy, s.DecidedAt, last.By, later)
			}
			// Spent only once the last step approves.
			b := v1Balance(a, 2024)
			if r.Status == StatusApproved && b.Used != Days(3) || r.Status != StatusApproved && b.Used != 0 {
				t.Errorf("used %v with the request %s", b.Used, r.Status)
			}
		})
	}
}

func TestDecideStepRefusals(t *testing.T) {
	t.Parallel()
	a := Replay([]any{granted(2024, 15)})
	decide(t, &a, file("r1", "2024-12-02", "2024-12-04", twoSteps), policy)
	// The balance check runs at the first step already.
	tight := Replay([]any{granted(2024, 15)})
	decide(t, &tight, file("r1", "2024-12-02", "2024-12-04", twoSteps), policy)
	tight.Apply(EntitlementSet{EmployeeID: "e1", Year: 2024, Amount: Days(2)})
	var short *InsufficientBalanceError
	if _, err := Decide(tight, DecideStep{RequestID: "r1", Step: 1, Approve: true, By: "m1"}, policy, now); !errors.As(err, &short) {
		t.Errorf("first step past the balance: %v, want insufficient balance", err)
	}
	// A rejection needs no balance.
	if _, err := Decide(tight, DecideStep{RequestID: "r1", Step: 1, By: "m1"}, policy, now); err != nil {
		t.Errorf("rejection past the balance: %v", err)
	}
	// A decision on a step the request no longer waits on is refused.
	decide(t, &a, DecideStep{RequestID: "r1", Step: 1, Approve: true, By: "m1", Next: approval.Assignment{ApproverID: "m2"}}, policy)
	if _, err := Decide(a, DecideStep{RequestID: "r1", Step: 1, Approve: true, By: "m1"}, policy, now); !errors.Is(err, ErrStepDecided) {
		t.Errorf("step 1 again: %v, want ErrStepDecided", err)
	}
	decide(t, &a, DecideStep{RequestID: "r1", Step: 2, Approve: true, By: "m2"}, policy)
	if _, err := Decide(a, DecideStep{RequestID: "r1", Step: 2, Approve: true, By: "m2"}, policy, now); !errors.Is(err, ErrNotPending) {
		t.Errorf("decided request: %v, want ErrNotPending", err)
	}
	if _, err := Decide(a, DecideStep{RequestID: "nope", Step: 1}, policy, now); !errors.Is(err, ErrRequestNotFound) {
		t.Errorf("unknown request: %v, want ErrRequestNotFound", err)
	}
}

func TestLegacyRequestReadsAsOneManagerStep(t *testing.T) {
	t.Parallel()
	// Filed and decided before chains: no approval events at all.
	a := Replay([]any{granted(2024, 15)})
	decide(t, &a, req("old", "2024-12-02", "2024-12-02"), policy)
	decide(t, &a, req("older", "2024-12-03", "2024-12-03"), policy)
	decide(t, &a, Approve{RequestID: "older", By: "m1", At: now}, policy)
	r, _ := a.Request("old")
	want := []approval.Step{{Step: 1, Role: approval.RoleManager, Status: approval.StatusPending}}
	if diff := cmp.Diff(want, r.Approvals.Steps); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	decided, _ := a.Request("older")
	want = []approval.Step{{Step: 1, Role: approval.RoleManager, Status: approval.StatusApproved, DecidedBy: "m1", DecidedAt: now}}
	if diff := cmp.Diff(want, decided.Approvals.Steps); diff != "" {
		t.Errorf("decided (-want +got):\n%s", diff)
	}
	// Its one step is decided like any last step.
	events := decide(t, &a, DecideStep{RequestID: "old", Step: 1, Approve: true, By: "m1"}, policy)
	if diff := cmp.Diff([]string{"leave.approved"}, names(events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// Nothing is ever owed to it: it has no moment it opened at.
	if events, _ := Decide(a, Remind{RequestID: "old", Step: 1, Timing: approval.DefaultTiming()}, policy, now.Add(1000*time.Hour)); events != nil {
		t.Errorf("reminder of a request filed before chains: %v", names(events))
	}
}

func TestRemindAndEscalate(t *testing.T) {
	t.Parallel()
	timing := approval.DefaultTiming()
	a := Replay([]any{granted(2024, 15)})
	decide(t, &a, file("r1", "2024-12-02", "2024-12-04", twoSteps), policy)
	remind := Remind{RequestID: "r1", Step: 1, Timing: timing}
	escalate := Escalate{RequestID: "r1", Step: 1, To: "m2", Timing: timing}
	at := func(d time.Duration, c Command) []any {
		t.Helper()
		events, err := Decide(a, c, policy, now.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			a.Apply(ev)
		}
		return events
	}
	if events := at(47*time.Hour, remind); events != nil {
		t.Errorf("reminder before it is due: %v", names(events))
	}
	want := []any{ApprovalReminded{RequestID: "r1", EmployeeID: "e1", Step: 1, ApproverID: "m1", RemindedAt: now.Add(48 * time.Hour)}}
	if diff := cmp.Diff(want, at(48*time.Hour, remind)); diff != "" {
		t.Errorf("reminder (-want +got):\n%s", diff)
	}
	if events := at(49*time.Hour, remind); events != nil {
		t.Errorf("second reminder: %v", names(events))
	}
	if events := at(95*time.Hour, escalate); events != nil {
		t.Errorf("escalation before it is due: %v", names(events))
	}
	want = []any{ApprovalEscalated{RequestID: "r1", EmployeeID: "e1", Step: 1, ApproverID: "m1", EscalatedTo: "m2", EscalatedAt: now.Add(96 * time.Hour)}}
	if diff := cmp.Diff(want, at(96*time.Hour, escalate)); diff != "" {
		t.Errorf("escalation (-want +got):\n%s", diff)
	}
	if events := at(97*time.Hour, escalate); events != nil {
		t.Errorf("second escalation: %v", names(events))
	}
	r, _ := a.Request("r1")
	if s := r.Approvals.Steps[0]; !s.Reminded || !s.Escalated || s.EscalatedTo != "m2" {
		t.Errorf("step after the chase = %+v", s)
	}
	// The step moved on: nothing is owed to the old one, and the new one's
	// clock starts when it opened.
	next := now.Add(100 * time.Hour)
	decide(t, &a, DecideStep{RequestID: "r1", Step: 1, Approve: true, By: "m2", At: next, Next: approval.Assignment{ApproverID: "m3"}}, policy)
	if events := at(200*time.Hour, Remind{RequestID: "r1", Step: 1, Timing: timing}); events != nil {
		t.Errorf("reminder of a decided step: %v", names(events))
	}
	if events := at(147*time.Hour, Remind{RequestID: "r1", Step: 2, Timing: timing}); events != nil {
		t.Errorf("reminder of step 2 after 47 hours: %v", names(events))
	}
	if events := at(148*time.Hour, Remind{RequestID: "r1", Step: 2, Timing: timing}); len(events) != 1 {
		t.Errorf("reminder of step 2 after 48 hours: %v", names(events))
	}
}

func TestOnLeave(t *testing.T) {
	t.Parallel()
	a := Replay([]any{granted(2024, 15)})
	decide(t, &a, req("r1", "2024-12-02", "2024-12-06"), policy)
	if a.OnLeave(date("2024-12-03")) {
		t.Error("on leave while the request is pending")
	}
	decide(t, &a, Approve{RequestID: "r1", By: "m1"}, policy)
	for day, want := range map[string]bool{"2024-12-01": false, "2024-12-02": true, "2024-12-06": true, "2024-12-07": false} {
		if got := a.OnLeave(date(day)); got != want {
			t.Errorf("on leave %s = %t, want %t", day, got, want)
		}
	}
}
