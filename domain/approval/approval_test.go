package approval

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/validation"
)

var now = time.Date(2024, 12, 2, 9, 0, 0, 0, time.UTC)

func date(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestPolicySteps(t *testing.T) {
	t.Parallel()
	p := Policy{Rules: []Rule{
		{LeaveType: "unpaid", Steps: []Role{RoleAdmin}},
		{MinDays: 5, Steps: []Role{RoleManager, RoleSecondManager}},
		{LeaveType: "annual", MinDays: 10, Steps: []Role{RoleManager, RoleSecondManager, RoleAdmin}}, // shadowed by the rule above
	}}
	tests := []struct {
		name      string
		leaveType string
		days      float64
		want      []Role
	}{
		{"a type's own rule", "unpaid", 20, []Role{RoleAdmin}},
		{"a long request of any type", "annual", 5, []Role{RoleManager, RoleSecondManager}},
		{"the first match decides", "annual", 12, []Role{RoleManager, RoleSecondManager}},
		{"no match: one manager step", "annual", 4.5, []Role{RoleManager}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, p.Steps(tt.leaveType, tt.days)); diff != "" {
			t.Errorf("%s: steps (-want +got):\n%s", tt.name, diff)
		}
	}
	if diff := cmp.Diff([]Role{RoleManager}, Policy{}.Steps("annual", 30)); diff != "" {
		t.Errorf("no policy: steps (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Role{RoleManager, RoleAdmin}, p.FirstRoles()); diff != "" {
		t.Errorf("first roles (-want +got):\n%s", diff)
	}
	if steps, ok := p.CorrectionSteps(); ok {
		t.Errorf("no rule for corrections: got %v, want none", steps)
	}
}

func TestPolicyCorrectionSteps(t *testing.T) {
	t.Parallel()
	p := Policy{Rules: []Rule{
		{AppliesTo: SubjectCorrection, Steps: []Role{RoleSecondManager, RoleAdmin}},
		{AppliesTo: SubjectLeave, MinDays: 3, Steps: []Role{RoleAdmin}},
		{AppliesTo: SubjectCorrection, Steps: []Role{RoleManager}}, // shadowed by the first
	}}
	steps, ok := p.CorrectionSteps()
	if diff := cmp.Diff([]Role{RoleSecondManager, RoleAdmin}, steps); !ok || diff != "" {
		t.Errorf("correction steps (-want +got):\n%s", diff)
	}
	// A rule for corrections gives leave requests nothing.
	if diff := cmp.Diff([]Role{RoleManager}, p.Steps("annual", 1)); diff != "" {
		t.Errorf("a short leave request (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Role{RoleAdmin}, p.Steps("annual", 3)); diff != "" {
		t.Errorf("a long leave request (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Role{RoleManager, RoleAdmin}, p.FirstRoles()); diff != "" {
		t.Errorf("first roles of leave requests (-want +got):\n%s", diff)
	}
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	many := make([]Rule, MaxRules+1)
	for i := range many {
		many[i] = Rule{Steps: []Role{RoleManager}}
	}
	tests := []struct {
		name  string
		p     Policy
		field string // "" for valid
	}{
		{"no rules", Policy{}, ""},
		{"every role once", Policy{Rules: []Rule{{LeaveType: "sick", MinDays: 0.5, Steps: Roles}}}, ""},
		{"no steps", Policy{Rules: []Rule{{}}}, "rules[0].steps"},
		{"too many steps", Policy{Rules: []Rule{{Steps: []Role{RoleManager, RoleSecondManager, RoleAdmin, RoleManager, RoleAdmin, RoleManager}}}}, "rules[0].steps"},
		{"an unknown step", Policy{Rules: []Rule{{Steps: []Role{RoleManager}}, {Steps: []Role{"boss"}}}}, "rules[1].steps[0]"},
		{"a repeated step", Policy{Rules: []Rule{{Steps: []Role{RoleManager, RoleManager}}}}, "rules[0].steps[1]"},
		{"a bad type code", Policy{Rules: []Rule{{LeaveType: "Sick Leave", Steps: []Role{RoleManager}}}}, "rules[0].leave_type"},
		{"negative days", Policy{Rules: []Rule{{MinDays: -1, Steps: []Role{RoleManager}}}}, "rules[0].min_days"},
		{"too many rules", Policy{Rules: many}, "rules"},
		{"a rule for corrections", Policy{Rules: []Rule{{AppliesTo: SubjectCorrection, Steps: []Role{RoleManager, RoleAdmin}}}}, ""},
		{"a rule for leave named", Policy{Rules: []Rule{{AppliesTo: SubjectLeave, LeaveType: "sick", Steps: []Role{RoleAdmin}}}}, ""},
		{"an unknown subject", Policy{Rules: []Rule{{AppliesTo: "overtime", Steps: []Role{RoleManager}}}}, "rules[0].applies_to"},
		{"a correction rule with a type", Policy{Rules: []Rule{{AppliesTo: SubjectCorrection, LeaveType: "annual", Steps: []Role{RoleManager}}}}, "rules[0].leave_type"},
		{"a correction rule with days", Policy{Rules: []Rule{{AppliesTo: SubjectCorrection, MinDays: 2, Steps: []Role{RoleManager}}}}, "rules[0].min_days"},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		var invalid *validation.Error
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: %v, want valid", tt.name, err)
		case tt.field != "" && (!errors.As(err, &invalid) || invalid.Fields[tt.field] == ""):
			t.Errorf("%s: %v, want %s named", tt.name, err, tt.field)
		}
	}
}

func TestSetPolicy(t *testing.T) {
	t.Parallel()
	p := Policy{Rules: []Rule{{MinDays: 3, Steps: []Role{RoleManager, RoleAdmin}}}}
	events, err := SetPolicy(p, "a1", now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{PolicySet{Rules: p.Rules, SetBy: "a1", SetAt: now}}, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// The last policy set is in force; an empty one means no rules.
	cleared, _ := SetPolicy(Policy{}, "a1", now)
	if diff := cmp.Diff(p, ReplayPolicy(events)); diff != "" {
		t.Errorf("replayed (-want +got):\n%s", diff)
	}
	if got := ReplayPolicy(append(events, cleared...)); len(got.Rules) != 0 {
		t.Errorf("after clearing: %+v, want no rules", got)
	}
	if _, err := SetPolicy(Policy{Rules: []Rule{{}}}, "a1", now); !errors.As(err, new(*validation.Error)) {
		t.Errorf("invalid policy: %v, want a validation error", err)
	}
}

func TestDelegations(t *testing.T) {
	t.Parallel()
	var ds Delegations
	give := func(c Delegate) []any {
		t.Helper()
		events, err := ds.Decide(c, now)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		for _, ev := range events {
			ds.Apply(ev)
		}
		return events
	}
	week := Delegate{DelegationID: "d1", ManagerID: "m1", DelegateID: "x1", Start: date("2024-12-02"), End: date("2024-12-06"), By: "m1"}
	give(week)
	if again := give(week); again != nil {
		t.Errorf("the same delegation again = %v, want nothing", again)
	}
	give(Delegate{DelegationID: "d2", ManagerID: "m1", DelegateID: "x2", Start: date("2024-12-06"), End: date("2024-12-06"), By: "a1"})
	tests := []struct {
		day  string
		want []string
	}{
		{"2024-12-01", nil},
		{"2024-12-02", []string{"x1"}}, // the first day is included
		{"2024-12-06", []string{"x1", "x2"}},
		{"2024-12-07", nil}, // the day after the last
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, ds.DelegatesOn(date(tt.day))); diff != "" {
			t.Errorf("delegates on %s (-want +got):\n%s", tt.day, diff)
		}
	}

	events, err := ds.Revoke("d1", "m1", now)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		ds.Apply(ev)
	}
	if diff := cmp.Diff([]string{"x2"}, ds.DelegatesOn(date("2024-12-06"))); diff != "" {
		t.Errorf("after revoking d1 (-want +got):\n%s", diff)
	}
	for _, id := range []string{"d1", "nope"} {
		if _, err := ds.Revoke(id, "m1", now); !errors.Is(err, ErrDelegationNotFound) {
			t.Errorf("revoke %s: %v, want not found", id, err)
		}
	}

	refused := []struct {
		name string
		c    Delegate
		want string
	}{
		{"to oneself", Delegate{DelegationID: "d3", ManagerID: "m1", DelegateID: "m1", Start: date("2024-12-02"), End: date("2024-12-02")}, "delegate_id"},
		{"ending before it starts", Delegate{DelegationID: "d3", ManagerID: "m1", DelegateID: "x1", Start: date("2024-12-02"), End: date("2024-12-01")}, "end_date"},
		{"longer than a year", Delegate{DelegationID: "d3", ManagerID: "m1", DelegateID: "x1", Start: date("2024-01-01"), End: date("2025-01-02")}, "end_date"},
		{"without dates", Delegate{DelegationID: "d3", ManagerID: "m1", DelegateID: "x1"}, "start_date"},
	}
	for _, tt := range refused {
		_, err := ds.Decide(tt.c, now)
		if fields := fieldsOf(err); fields[tt.want] == "" {
			t.Errorf("%s: %v, want %s named", tt.name, err, tt.want)
		}
	}
}

func fieldsOf(err error) map[string]string {
	var invalid interface{ FieldErrors() map[string]string }
	if errors.As(err, &invalid) {
		return invalid.FieldErrors()
	}
	return nil
}

func TestChain(t *testing.T) {
	t.Parallel()
	c := Plan([]Role{RoleManager, RoleSecondManager, RoleAdmin})
	if _, ok := c.Awaiting(); ok {
		t.Fatal("a chain just planned awaits a step")
	}
	c.Open(1, Assignment{ApproverID: "m1"}, now)
	c.Approve(1, "m1", now.Add(time.Hour))
	c.Open(2, Assignment{ApproverID: "m2", RoutedTo: "m3"}, now.Add(time.Hour))
	s, ok := c.Awaiting()
	if !ok || s.Step != 2 || s.Approver() != "m3" {
		t.Fatalf("awaiting %+v, %v; want step 2 held by m3", s, ok)
	}
	if next, ok := c.Next(2); !ok || next.Role != RoleAdmin {
		t.Errorf("next after 2 = %+v, %v; want the admin step", next, ok)
	}
	if _, ok := c.Next(3); ok {
		t.Error("a step follows the last")
	}
	c.End(StatusRejected, "m3", now.Add(2*time.Hour))
	want := []Step{
		{Step: 1, Role: RoleManager, ApproverID: "m1", Status: StatusApproved, DecidedBy: "m1", DecidedAt: now.Add(time.Hour), OpenedAt: now},
		{Step: 2, Role: RoleSecondManager, ApproverID: "m2", RoutedTo: "m3", Status: StatusRejected, DecidedBy: "m3",
			DecidedAt: now.Add(2 * time.Hour), OpenedAt: now.Add(time.Hour)},
		{Step: 3, Role: RoleAdmin, Status: StatusSkipped},
	}
	if diff := cmp.Diff(want, c.Steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}

	// A withdrawal is nobody's decision.
	w := Plan([]Role{RoleManager})
	w.Open(1, Assignment{ApproverID: "m1"}, now)
	w.End(StatusCancelled, "", now)
	if s := w.Steps[0]; s.Status != StatusCancelled || s.DecidedBy != "" || !s.DecidedAt.IsZero() {
		t.Errorf("cancelled step = %+v", s)
	}
}

func TestHeldBy(t *testing.T) {
	t.Parallel()
	day := date("2024-12-04")
	delegations := Delegations{
		{ID: "d1", ManagerID: "m1", DelegateID: "x1", Start: date("2024-12-02"), End: date("2024-12-06")},
		{ID: "d2", ManagerID: "m1", DelegateID: "x2", Start: date("2024-12-02"), End: date("2024-12-06"), Revoked: true},
		{ID: "d3", ManagerID: "m1", DelegateID: "x3", Start: date("2024-12-05"), End: date("2024-12-06")},
	}
	pending := Step{Step: 1, Role: RoleManager, ApproverID: "m1", Status: StatusPending, OpenedAt: now}
	routed := pending
	routed.RoutedTo = "m2"
	escalated := pending
	escalated.Escalated, escalated.EscalatedTo = true, "m9"
	decided := pending
	decided.Status = StatusApproved
	admins := Step{Step: 2, Role: RoleAdmin, Status: StatusPending}
	tests := []struct {
		name  string
		step  Step
		actor string
		want  bool
	}{
		{"the approver", pending, "m1", true},
		{"a delegate whose delegation runs", pending, "x1", true},
		{"a delegate revoked", pending, "x2", false},
		{"a delegate not yet", pending, "x3", false},
		{"someone else", pending, "m2", false},
		{"whom it was routed to", routed, "m2", true},
		{"the approver of a routed step", routed, "m1", true},
		{"whom it was escalated to", escalated, "m9", true},
		{"nobody once decided", decided, "m1", false},
		{"nobody but the admins on an admin step", admins, "x1", false},
		{"no actor", pending, "", false},
	}
	for _, tt := range tests {
		if got := tt.step.HeldBy(tt.actor, delegations, day); got != tt.want {
			t.Errorf("%s: HeldBy(%s) = %t, want %t", tt.name, tt.actor, got, tt.want)
		}
	}
}

func TestAssign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		approver string
		absence  Absence
		want     Assignment
	}{
		{"present", "m1", Absence{ManagerID: "m2"}, Assignment{ApproverID: "m1"}},
		{"on leave: one level up", "m1", Absence{OnLeave: true, ManagerID: "m2"}, Assignment{ApproverID: "m1", RoutedTo: "m2"}},
		{"on leave with a delegate", "m1", Absence{OnLeave: true, Covered: true, ManagerID: "m2"}, Assignment{ApproverID: "m1"}},
		{"on leave, no manager: the admins", "m1", Absence{OnLeave: true}, Assignment{ApproverID: "m1"}},
		{"an admin step", "", Absence{OnLeave: true, ManagerID: "m2"}, Assignment{}},
	}
	for _, tt := range tests {
		if got := Assign(tt.approver, tt.absence); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestOwed(t *testing.T) {
	t.Parallel()
	timing := DefaultTiming()
	open := Step{Step: 1, Status: StatusPending, OpenedAt: now}
	reminded := open
	reminded.Reminded = true
	both := reminded
	both.Escalated = true
	tests := []struct {
		name                  string
		step                  Step
		waited                time.Duration
		wantRemind, wantEscal bool
	}{
		{"fresh", open, 47 * time.Hour, false, false},
		{"reminder due", open, 48 * time.Hour, true, false},
		{"reminded", reminded, 95 * time.Hour, false, false},
		{"escalation due", reminded, 96 * time.Hour, false, true},
		{"both due after a long stop", open, 200 * time.Hour, true, true},
		{"done", both, 500 * time.Hour, false, false},
		{"decided", Step{Step: 1, Status: StatusApproved, OpenedAt: now}, 500 * time.Hour, false, false},
		{"filed before chains", Step{Step: 1, Status: StatusPending}, 500 * time.Hour, false, false},
	}
	for _, tt := range tests {
		r, e := timing.Owed(tt.step, now.Add(tt.waited))
		if r != tt.wantRemind || e != tt.wantEscal {
			t.Errorf("%s: owed reminder %t, escalation %t; want %t, %t", tt.name, r, e, tt.wantRemind, tt.wantEscal)
		}
	}
}
