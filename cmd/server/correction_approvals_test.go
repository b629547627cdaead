package main

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// fileCorrection files emp's correction of date, a day never checked in,
// and returns it with its approvals.
func (a *app) fileCorrection(emp user, date string) chainedJSON {
	a.t.Helper()
	var c chainedJSON
	a.must(http.StatusCreated, "POST", "/api/attendance/corrections/", emp.token, map[string]string{
		"date": date, "check_in": date + "T08:00:00Z", "check_out": date + "T17:00:00Z", "reason": "badge reader down"}, &c)
	return c
}

func (a *app) decideCorrection(u user, id, status string) chainedJSON {
	a.t.Helper()
	var c chainedJSON
	a.must(http.StatusOK, "POST", "/api/attendance/corrections/"+id+"/change-status/", u.token, map[string]string{"status": status}, &c)
	return c
}

// listed returns the ids path lists to u.
func (a *app) listed(u user, path string) []string {
	a.t.Helper()
	var page struct {
		Items []chainedJSON `json:"items"`
	}
	a.must(http.StatusOK, "GET", path, u.token, nil, &page)
	ids := make([]string, len(page.Items))
	for i, it := range page.Items {
		ids[i] = it.ID
	}
	return ids
}

// TestCorrectionChains: a rule for corrections gives them a chain of two
// steps, which they travel as leave requests do: each approver told in turn,
// rejected at whichever step rejects them, decided by a delegate, and found
// by whom they wait on in the lists. Without the rule, a correction is
// decided in one step by the manager, as before.
func TestCorrectionChains(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	head := a.register(admin, "manager", nil)
	mgr := a.register(admin, "manager", map[string]any{"manager_id": head.ID})
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "schedule": utcDays})
	deputy := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})

	bad := a.call("PUT", "/api/approval-policy/", admin.token, map[string]any{"rules": []map[string]any{
		{"applies_to": "correction", "leave_type": "annual", "min_days": 2, "steps": []string{"manager"}},
		{"applies_to": "overtime", "steps": []string{"manager"}}}})
	if p := decodeProblem(t, bad); p.Status != 400 || p.Errors["rules[0].leave_type"] == "" || p.Errors["rules[0].min_days"] == "" ||
		p.Errors["rules[1].applies_to"] == "" {
		t.Errorf("a bad rule for corrections = %s", bad)
	}
	var policy struct {
		Rules []map[string]any `json:"rules"`
	}
	a.must(http.StatusOK, "PUT", "/api/approval-policy/", admin.token, map[string]any{"rules": []map[string]any{
		{"applies_to": "correction", "steps": []string{"manager", "second_manager"}},
		{"min_days": 3, "steps": []string{"manager", "second_manager"}},
	}}, &policy)
	if len(policy.Rules) != 2 || policy.Rules[0]["applies_to"] != "correction" || policy.Rules[1]["applies_to"] != nil {
		t.Errorf("policy set = %+v", policy.Rules)
	}

	// Two steps, both approved.
	c := a.fileCorrection(emp, "2024-12-02")
	wantSteps(t, "filed", c, "pending", step{"manager", mgr.ID, "pending", "", ""}, step{"second_manager", "", "waiting", "", ""})
	a.notified(mgr, "correction_requested", "correction_id", c.ID)
	path := "/api/attendance/corrections/" + c.ID + "/change-status/"
	a.must(http.StatusNotFound, "POST", path, head.token, map[string]string{"status": "approved"}, nil)
	c = a.decideCorrection(mgr, c.ID, "approved")
	wantSteps(t, "first step approved", c, "pending",
		step{"manager", mgr.ID, "approved", mgr.ID, ""}, step{"second_manager", head.ID, "pending", "", ""})
	// The manager's part is done: being the employee's manager decides
	// nothing along a chain.
	a.must(http.StatusForbidden, "POST", path, mgr.token, map[string]string{"status": "approved"}, nil)
	a.notified(head, "correction_requested", "correction_id", c.ID)
	// The second manager, who may not read the employee, finds it in the
	// lists: by default and with awaiting=me; the manager no longer with
	// awaiting=me.
	eventuallyWithin(t, pipelinePatience, "the second manager's lists", func() bool {
		return slices.Contains(a.listed(head, "/api/attendance/corrections/?awaiting=me"), c.ID) &&
			slices.Contains(a.listed(head, "/api/attendance/corrections/"), c.ID)
	})
	if ids := a.listed(mgr, "/api/attendance/corrections/?awaiting=me"); slices.Contains(ids, c.ID) {
		t.Errorf("the manager's awaiting list = %v, holds the correction at step 2", ids)
	}
	c = a.decideCorrection(head, c.ID, "approved")
	wantSteps(t, "second step approved", c, "approved",
		step{"manager", mgr.ID, "approved", mgr.ID, ""}, step{"second_manager", head.ID, "approved", head.ID, ""})
	eventually(t, "the corrected day", func() bool { return a.day(mgr, emp.ID, "2024-12-02").Corrected })
	a.notified(emp, "correction_decided", "correction_id", c.ID)
	a.must(http.StatusConflict, "POST", path, head.token, map[string]string{"status": "approved"}, nil)

	// Rejected at the first step, then at the second.
	first := a.decideCorrection(mgr, a.fileCorrection(emp, "2024-12-03").ID, "rejected")
	wantSteps(t, "rejected at the first step", first, "rejected",
		step{"manager", mgr.ID, "rejected", mgr.ID, ""}, step{"second_manager", "", "skipped", "", ""})
	second := a.fileCorrection(emp, "2024-12-04")
	a.decideCorrection(mgr, second.ID, "approved")
	second = a.decideCorrection(head, second.ID, "rejected")
	wantSteps(t, "rejected at the second step", second, "rejected",
		step{"manager", mgr.ID, "approved", mgr.ID, ""}, step{"second_manager", head.ID, "rejected", head.ID, ""})
	if d := a.day(mgr, emp.ID, "2024-12-04"); d.Corrected {
		t.Errorf("a rejected correction changed its day: %+v", d)
	}

	// A delegate of the manager is told, finds it and decides the step;
	// an admin decides any step.
	today := time.Now().UTC()
	a.must(http.StatusCreated, "POST", "/api/delegations/", mgr.token, map[string]any{"delegate_id": deputy.ID,
		"start_date": today.AddDate(0, 0, -1).Format(time.DateOnly), "end_date": today.AddDate(0, 0, 1).Format(time.DateOnly)}, nil)
	delegated := a.fileCorrection(emp, "2024-12-05")
	a.notified(deputy, "correction_requested", "correction_id", delegated.ID)
	eventuallyWithin(t, pipelinePatience, "the delegate's list", func() bool {
		return slices.Contains(a.listed(deputy, "/api/attendance/corrections/?awaiting=me&status=pending"), delegated.ID)
	})
	delegated = a.decideCorrection(deputy, delegated.ID, "approved")
	wantSteps(t, "decided by the delegate", delegated, "pending",
		step{"manager", mgr.ID, "approved", deputy.ID, ""}, step{"second_manager", head.ID, "pending", "", ""})
	delegated = a.decideCorrection(admin, delegated.ID, "approved")
	wantSteps(t, "decided by an admin", delegated, "approved",
		step{"manager", mgr.ID, "approved", deputy.ID, ""}, step{"second_manager", head.ID, "approved", admin.ID, ""})

	// Leave requests too: the second manager finds the step they hold.
	r := a.file(emp, "2024-12-09", "2024-12-11")
	a.decide(mgr, r.ID, "approved")
	eventuallyWithin(t, pipelinePatience, "the second manager's leave list", func() bool {
		return slices.Contains(a.listed(head, "/api/leave-management/?awaiting=me"), r.ID) &&
			slices.Contains(a.listed(head, "/api/leave-management/"), r.ID)
	})
	for _, q := range []string{"?awaiting=you", "?awaiting=me&employee_id=" + emp.ID} {
		if p := decodeProblem(t, a.call("GET", "/api/leave-management/"+q, head.token, nil)); p.Status != 400 || p.Errors["awaiting"] == "" {
			t.Errorf("%s: got %+v, want 400 naming awaiting", q, p)
		}
	}

	// One step.
	a.must(http.StatusOK, "PUT", "/api/approval-policy/", admin.token, map[string]any{"rules": []map[string]any{
		{"applies_to": "correction", "steps": []string{"manager"}}}}, nil)
	one := a.fileCorrection(emp, "2024-12-06")
	wantSteps(t, "one step", one, "pending", step{"manager", mgr.ID, "pending", "", ""})
	one = a.decideCorrection(mgr, one.ID, "approved")
	wantSteps(t, "one step approved", one, "approved", step{"manager", mgr.ID, "approved", mgr.ID, ""})

	// Without a rule for corrections: one manager step read from the
	// correction, decided by the manager only, the delegate not even seeing it.
	a.must(http.StatusOK, "PUT", "/api/approval-policy/", admin.token, map[string]any{"rules": []any{}}, nil)
	plain := a.fileCorrection(emp, "2024-12-10")
	wantSteps(t, "without a rule", plain, "pending", step{"manager", "", "pending", "", ""})
	a.notified(mgr, "correction_requested", "correction_id", plain.ID)
	a.must(http.StatusNotFound, "POST", "/api/attendance/corrections/"+plain.ID+"/change-status/", deputy.token, map[string]string{"status": "approved"}, nil)
	eventuallyWithin(t, pipelinePatience, "the manager's awaiting list", func() bool {
		return slices.Contains(a.listed(mgr, "/api/attendance/corrections/?awaiting=me"), plain.ID)
	})
	plain = a.decideCorrection(mgr, plain.ID, "approved")
	wantSteps(t, "without a rule, approved", plain, "approved", step{"manager", "", "approved", mgr.ID, ""})
}
