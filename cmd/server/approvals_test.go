package main

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// pipelinePatience is how long these tests wait for what goes through the
// pipeline, sometimes twice (a step opened, its notification), or waits on
// the chase that runs every 5 seconds: on two cores shared with other suites
// that can take longer than eventually's 10 s.
const pipelinePatience = 30 * time.Second

// approvalJSON is one step of a request's chain as the API shows it.
type approvalJSON struct {
	Step       int     `json:"step"`
	Role       string  `json:"role"`
	ApproverID *string `json:"approver_id"`
	Status     string  `json:"status"`
	DecidedBy  *string `json:"decided_by"`
	RoutedTo   *string `json:"routed_to"`
}

type chainedJSON struct {
	ID        string         `json:"id"`
	Status    string         `json:"status"`
	Approvals []approvalJSON `json:"approvals"`
}

// step is what a test expects of one step: role, approver, status, decider
// and whom it was routed to ("" for null).
type step struct{ role, approver, status, decidedBy, routedTo string }

func steps(list []approvalJSON) []step {
	out := make([]step, len(list))
	for i, s := range list {
		out[i] = step{s.Role, orEmpty(s.ApproverID), s.Status, orEmpty(s.DecidedBy), orEmpty(s.RoutedTo)}
	}
	return out
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// told reports whether u has a notification of typ about request.
func (a *app) told(u user, typ, request string) bool {
	a.t.Helper()
	var inbox struct {
		Items []struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		} `json:"items"`
	}
	a.must(http.StatusOK, "GET", "/api/notifications/?limit=500", u.token, nil, &inbox)
	return slices.ContainsFunc(inbox.Items, func(n struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}) bool {
		return n.Type == typ && n.Data["request_id"] == request
	})
}

func (a *app) file(u user, start, end string) chainedJSON {
	a.t.Helper()
	var r chainedJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", u.token, map[string]string{"start_date": start, "end_date": end}, &r)
	return r
}

func (a *app) decide(u user, request, status string) chainedJSON {
	a.t.Helper()
	var r chainedJSON
	a.must(http.StatusOK, "POST", "/api/leave-management/"+request+"/change-status/", u.token, map[string]string{"status": status}, &r)
	return r
}

func wantSteps(t *testing.T, what string, got chainedJSON, status string, want ...step) {
	t.Helper()
	if got.Status != status {
		t.Errorf("%s: status %s, want %s", what, got.Status, status)
	}
	if diff := cmp.Diff(want, steps(got.Approvals), cmp.AllowUnexported(step{})); diff != "" {
		t.Errorf("%s: approvals (-want +got):\n%s", what, diff)
	}
}

// TestApprovalChains: a policy gives long requests a second manager; a
// request travels its chain step by step, each approver told in turn, and is
// rejected at whichever step rejects it.
func TestApprovalChains(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	auditor := a.register(admin, "auditor", nil)
	head := a.register(admin, "manager", nil)
	mgr := a.register(admin, "manager", map[string]any{"manager_id": head.ID})
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})

	var policy struct {
		Rules []map[string]any `json:"rules"`
	}
	a.must(http.StatusOK, "GET", "/api/approval-policy/", admin.token, nil, &policy)
	if len(policy.Rules) != 0 {
		t.Fatalf("initial policy = %+v, want no rules", policy)
	}
	body := map[string]any{"rules": []map[string]any{
		{"leave_type": "annual", "min_days": 3, "steps": []string{"manager", "second_manager"}},
		{"leave_type": "sick", "steps": []string{"admin"}},
	}}
	a.must(http.StatusOK, "PUT", "/api/approval-policy/", admin.token, body, &policy)
	if len(policy.Rules) != 2 || policy.Rules[0]["min_days"] != 3.0 || policy.Rules[1]["min_days"] != nil {
		t.Errorf("policy set = %+v", policy.Rules)
	}
	for _, u := range []user{mgr, emp} {
		a.must(http.StatusForbidden, "PUT", "/api/approval-policy/", u.token, body, nil)
		a.must(http.StatusForbidden, "GET", "/api/approval-policy/", u.token, nil, nil)
	}
	a.must(http.StatusOK, "GET", "/api/approval-policy/", auditor.token, nil, &policy)
	if len(policy.Rules) != 2 {
		t.Errorf("the auditor reads %+v", policy.Rules)
	}
	bad := a.call("PUT", "/api/approval-policy/", admin.token, map[string]any{"rules": []map[string]any{
		{"steps": []string{"manager"}}, {"min_days": -1, "steps": []string{"boss"}}}})
	if p := decodeProblem(t, bad); p.Status != 400 || p.Errors["rules[1].steps[0]"] == "" || p.Errors["rules[1].min_days"] == "" {
		t.Errorf("bad policy = %s", bad)
	}
	unknown := a.call("PUT", "/api/approval-policy/", admin.token, map[string]any{"rules": []map[string]any{
		{"leave_type": "holiday", "steps": []string{"manager"}}}})
	if p := decodeProblem(t, unknown); p.Status != 400 || p.Errors["rules[0].leave_type"] != "must name a leave type" {
		t.Errorf("a rule of an unknown type = %s", unknown)
	}

	// Two steps, both approved.
	r := a.file(emp, "2024-12-02", "2024-12-04")
	wantSteps(t, "filed", r, "pending", step{"manager", mgr.ID, "pending", "", ""}, step{"second_manager", "", "waiting", "", ""})
	eventuallyWithin(t, pipelinePatience, "the manager told", func() bool { return a.told(mgr, "leave_requested", r.ID) })
	a.must(http.StatusNotFound, "POST", "/api/leave-management/"+r.ID+"/change-status/", head.token, map[string]string{"status": "approved"}, nil)
	r = a.decide(mgr, r.ID, "approved")
	wantSteps(t, "first step approved", r, "pending",
		step{"manager", mgr.ID, "approved", mgr.ID, ""}, step{"second_manager", head.ID, "pending", "", ""})
	// The first approver's part is done; the second manager, told, sees it.
	a.must(http.StatusForbidden, "POST", "/api/leave-management/"+r.ID+"/change-status/", mgr.token, map[string]string{"status": "approved"}, nil)
	eventuallyWithin(t, pipelinePatience, "the second manager told", func() bool { return a.told(head, "leave_requested", r.ID) })
	a.must(http.StatusOK, "GET", "/api/leave-management/"+r.ID+"/", head.token, nil, nil)
	r = a.decide(head, r.ID, "approved")
	wantSteps(t, "second step approved", r, "approved",
		step{"manager", mgr.ID, "approved", mgr.ID, ""}, step{"second_manager", head.ID, "approved", head.ID, ""})
	eventuallyWithin(t, pipelinePatience, "the employee told", func() bool { return a.told(emp, "leave_decided", r.ID) })
	var bal balanceJSON
	a.must(http.StatusOK, "GET", "/api/leave-balances/"+emp.ID+"/?year=2024", emp.token, nil, &bal)
	if bal.Used != 3 || bal.Pending != 0 {
		t.Errorf("balance after the chain: used %v pending %v, want 3 and 0", bal.Used, bal.Pending)
	}
	a.must(http.StatusConflict, "POST", "/api/leave-management/"+r.ID+"/change-status/", head.token, map[string]string{"status": "approved"}, nil)

	// Rejected at the second step, then at the first.
	second := a.file(emp, "2024-12-09", "2024-12-11")
	a.decide(mgr, second.ID, "approved")
	second = a.decide(head, second.ID, "rejected")
	wantSteps(t, "rejected at the second step", second, "rejected",
		step{"manager", mgr.ID, "approved", mgr.ID, ""}, step{"second_manager", head.ID, "rejected", head.ID, ""})
	first := a.file(emp, "2024-12-16", "2024-12-18")
	first = a.decide(mgr, first.ID, "rejected")
	wantSteps(t, "rejected at the first step", first, "rejected",
		step{"manager", mgr.ID, "rejected", mgr.ID, ""}, step{"second_manager", "", "skipped", "", ""})

	// A short request matches no rule: one manager step. An admin decides
	// any step.
	short := a.file(emp, "2024-12-23", "2024-12-23")
	wantSteps(t, "short", short, "pending", step{"manager", mgr.ID, "pending", "", ""})
	short = a.decide(admin, short.ID, "approved")
	wantSteps(t, "decided by an admin", short, "approved", step{"manager", mgr.ID, "approved", admin.ID, ""})

	// Lists carry the approvals too, from the read model.
	eventuallyWithin(t, pipelinePatience, "the list shows the chains", func() bool {
		var page struct {
			Items []chainedJSON `json:"items"`
		}
		a.must(http.StatusOK, "GET", "/api/leave-management/?employee_id="+emp.ID, mgr.token, nil, &page)
		for _, it := range page.Items {
			if it.ID == second.ID {
				return cmp.Equal(steps(it.Approvals), steps(second.Approvals), cmp.AllowUnexported(step{}))
			}
		}
		return false
	})

	// The policy applies to requests filed after it: cleared, a long
	// request has one step, the ones filed before keep theirs.
	a.must(http.StatusOK, "PUT", "/api/approval-policy/", admin.token, map[string]any{"rules": []any{}}, nil)
	long := a.file(emp, "2024-11-04", "2024-11-06")
	wantSteps(t, "after the policy was cleared", long, "pending", step{"manager", mgr.ID, "pending", "", ""})
}

// TestApprovalChainBalanceAtEveryStep: the first step of two is refused when
// the final approval would take the balance below zero.
func TestApprovalChainBalanceAtEveryStep(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	head := a.register(admin, "manager", nil)
	mgr := a.register(admin, "manager", map[string]any{"manager_id": head.ID})
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	a.must(http.StatusOK, "PUT", "/api/approval-policy/", admin.token, map[string]any{"rules": []map[string]any{
		{"steps": []string{"manager", "second_manager"}}}}, nil)
	r := a.file(emp, "2024-12-02", "2024-12-06")
	a.must(http.StatusOK, "PUT", "/api/leave-balances/"+emp.ID+"/", admin.token, map[string]any{"year": 2024, "entitlement_days": 4}, nil)
	a.must(http.StatusUnprocessableEntity, "POST", "/api/leave-management/"+r.ID+"/change-status/", mgr.token, map[string]string{"status": "approved"}, nil)
	a.must(http.StatusOK, "PUT", "/api/leave-balances/"+emp.ID+"/", admin.token, map[string]any{"year": 2024, "entitlement_days": 5}, nil)
	a.decide(mgr, r.ID, "approved")
	a.must(http.StatusOK, "PUT", "/api/leave-balances/"+emp.ID+"/", admin.token, map[string]any{"year": 2024, "entitlement_days": 4}, nil)
	a.must(http.StatusUnprocessableEntity, "POST", "/api/leave-management/"+r.ID+"/change-status/", head.token, map[string]string{"status": "approved"}, nil)
}

// TestDelegations: while a delegation runs, the delegate decides the
// manager's steps and is told of them; before it starts, after it ends or
// once revoked, not.
func TestDelegations(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	auditor := a.register(admin, "auditor", nil)
	mgr := a.register(admin, "manager", nil)
	other := a.register(admin, "manager", nil)
	deputy := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	istanbul, _ := time.LoadLocation("Europe/Istanbul")
	today := time.Now().In(istanbul)
	day := func(d int) string { return today.AddDate(0, 0, d).Format(time.DateOnly) }

	type delegation struct {
		ID         string `json:"id"`
		ManagerID  string `json:"manager_id"`
		DelegateID string `json:"delegate_id"`
		Revoked    bool   `json:"revoked"`
	}
	delegate := func(by user, body map[string]any, want int) delegation {
		t.Helper()
		var d delegation
		a.must(want, "POST", "/api/delegations/", by.token, body, &d)
		return d
	}
	// Not yet running, and run out: the deputy cannot decide.
	delegate(mgr, map[string]any{"delegate_id": deputy.ID, "start_date": day(1), "end_date": day(5)}, http.StatusCreated)
	delegate(mgr, map[string]any{"delegate_id": deputy.ID, "start_date": day(-5), "end_date": day(-1)}, http.StatusCreated)
	r := a.file(emp, "2024-12-02", "2024-12-02")
	a.must(http.StatusNotFound, "POST", "/api/leave-management/"+r.ID+"/change-status/", deputy.token, map[string]string{"status": "approved"}, nil)

	// Running: the deputy decides and is told of new requests.
	running := delegate(mgr, map[string]any{"delegate_id": deputy.ID, "start_date": day(0), "end_date": day(0)}, http.StatusCreated)
	if running.ManagerID != mgr.ID || running.DelegateID != deputy.ID || running.Revoked {
		t.Errorf("delegation = %+v", running)
	}
	a.decide(deputy, r.ID, "approved")
	told := a.file(emp, "2024-12-09", "2024-12-09")
	eventuallyWithin(t, pipelinePatience, "the deputy told", func() bool { return a.told(deputy, "leave_requested", told.ID) })
	// Never their own request.
	own := a.file(deputy, "2024-12-10", "2024-12-10")
	a.must(http.StatusForbidden, "POST", "/api/leave-management/"+own.ID+"/change-status/", deputy.token, map[string]string{"status": "approved"}, nil)

	// Who may delegate what.
	delegate(emp, map[string]any{"delegate_id": deputy.ID, "start_date": day(0), "end_date": day(1)}, http.StatusForbidden)
	delegate(auditor, map[string]any{"delegate_id": deputy.ID, "start_date": day(0), "end_date": day(1)}, http.StatusForbidden)
	delegate(mgr, map[string]any{"delegate_id": deputy.ID, "start_date": day(0), "end_date": day(1), "manager_id": other.ID}, http.StatusForbidden)
	delegate(mgr, map[string]any{"delegate_id": mgr.ID, "start_date": day(0), "end_date": day(1)}, http.StatusBadRequest)
	delegate(mgr, map[string]any{"delegate_id": auditor.ID, "start_date": day(0), "end_date": day(1)}, http.StatusBadRequest)
	byAdmin := delegate(admin, map[string]any{"delegate_id": deputy.ID, "start_date": day(0), "end_date": day(1), "manager_id": other.ID}, http.StatusCreated)
	if byAdmin.ManagerID != other.ID {
		t.Errorf("an admin's delegation for another manager = %+v", byAdmin)
	}

	// Lists: the admin and the auditor see all, the others what they gave or received.
	count := func(u user) int {
		var page struct {
			Items []delegation `json:"items"`
		}
		a.must(http.StatusOK, "GET", "/api/delegations/", u.token, nil, &page)
		return len(page.Items)
	}
	eventuallyWithin(t, pipelinePatience, "delegations listed", func() bool {
		return count(admin) == 4 && count(auditor) == 4 && count(mgr) == 3 && count(deputy) == 4 && count(other) == 1 && count(emp) == 0
	})

	// Revoked: the deputy decides no more.
	a.must(http.StatusNotFound, "DELETE", "/api/delegations/"+running.ID+"/", other.token, nil, nil)
	a.must(http.StatusForbidden, "DELETE", "/api/delegations/"+running.ID+"/", deputy.token, nil, nil)
	a.must(http.StatusNoContent, "DELETE", "/api/delegations/"+running.ID+"/", mgr.token, nil, nil)
	a.must(http.StatusNotFound, "DELETE", "/api/delegations/"+running.ID+"/", mgr.token, nil, nil)
	a.must(http.StatusNoContent, "DELETE", "/api/delegations/"+byAdmin.ID+"/", admin.token, nil, nil)
	after := a.file(emp, "2024-12-11", "2024-12-11")
	a.must(http.StatusNotFound, "POST", "/api/leave-management/"+after.ID+"/change-status/", deputy.token, map[string]string{"status": "approved"}, nil)
	a.decide(mgr, after.ID, "approved")
}

// TestRoutingAroundAnAbsentApprover: a step whose approver is on approved
// leave today goes to their manager, unless a delegation covers today.
func TestRoutingAroundAnAbsentApprover(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	head := a.register(admin, "manager", nil)
	everyDay := map[string]any{"timezone": "Europe/Istanbul", "work_start": "08:00", "work_end": "17:00", "workdays": []int{1, 2, 3, 4, 5, 6, 7}}
	mgr := a.register(admin, "manager", map[string]any{"manager_id": head.ID, "schedule": everyDay})
	deputy := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	istanbul, _ := time.LoadLocation("Europe/Istanbul")
	today := time.Now().In(istanbul).Format(time.DateOnly)

	away := a.file(mgr, today, today)
	a.decide(head, away.ID, "approved")
	r := a.file(emp, "2024-12-02", "2024-12-02")
	wantSteps(t, "approver away", r, "pending", step{"manager", mgr.ID, "pending", "", head.ID})
	eventuallyWithin(t, pipelinePatience, "the manager's manager told", func() bool { return a.told(head, "leave_requested", r.ID) })
	r = a.decide(head, r.ID, "approved")
	wantSteps(t, "decided by whom it was routed to", r, "approved", step{"manager", mgr.ID, "approved", head.ID, head.ID})

	// A delegation covering today keeps the step with the approver, for the
	// delegate to decide.
	a.must(http.StatusCreated, "POST", "/api/delegations/", mgr.token, map[string]any{"delegate_id": deputy.ID, "start_date": today, "end_date": today}, nil)
	covered := a.file(emp, "2024-12-03", "2024-12-03")
	wantSteps(t, "approver away, covered", covered, "pending", step{"manager", mgr.ID, "pending", "", ""})
	a.decide(deputy, covered.ID, "approved")

	// A correction along a chain is routed alike: revoked, the delegation
	// covers nothing, and its step goes to the manager's manager.
	var delegations struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	eventuallyWithin(t, pipelinePatience, "the delegation listed", func() bool {
		a.must(http.StatusOK, "GET", "/api/delegations/", mgr.token, nil, &delegations)
		return len(delegations.Items) == 1
	})
	a.must(http.StatusNoContent, "DELETE", "/api/delegations/"+delegations.Items[0].ID+"/", mgr.token, nil, nil)
	a.must(http.StatusOK, "PUT", "/api/approval-policy/", admin.token, map[string]any{"rules": []map[string]any{
		{"applies_to": "correction", "steps": []string{"manager"}}}}, nil)
	clocked := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "schedule": utcDays})
	c := a.fileCorrection(clocked, "2024-12-02")
	wantSteps(t, "a correction, approver away", c, "pending", step{"manager", mgr.ID, "pending", "", head.ID})
	a.notified(head, "correction_requested", "correction_id", c.ID)
	c = a.decideCorrection(head, c.ID, "approved")
	wantSteps(t, "a correction decided by whom it was routed to", c, "approved", step{"manager", mgr.ID, "approved", head.ID, head.ID})
}

// TestApprovalRemindersAndEscalation: with short waits, a step left pending
// reminds its approver, then goes to the approver's manager, who may decide
// it.
func TestApprovalRemindersAndEscalation(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"APPROVAL_REMINDER_AFTER": "1s", "APPROVAL_ESCALATE_AFTER": "2s"})
	admin := a.admin()
	head := a.register(admin, "manager", nil)
	mgr := a.register(admin, "manager", map[string]any{"manager_id": head.ID})
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	r := a.file(emp, "2024-12-02", "2024-12-02")
	eventuallyWithin(t, pipelinePatience, "the approver reminded", func() bool { return a.told(mgr, "approval_reminder", r.ID) })
	eventuallyWithin(t, pipelinePatience, "the approver's manager told", func() bool { return a.told(head, "approval_escalated", r.ID) })
	r = a.decide(head, r.ID, "approved")
	wantSteps(t, "decided after the escalation", r, "approved", step{"manager", mgr.ID, "approved", head.ID, ""})
}
