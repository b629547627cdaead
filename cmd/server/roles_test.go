package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
	apihttp "github.com/acme/employee-tracking/http"
)

// TestRoleMatrix calls every endpoint as every role and checks the status:
// 401 without a token, 403 when not allowed, 404 for ids the caller may not
// see. emp reports to mgr; stranger reports to otherMgr.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	auditor := a.register(admin, "auditor", nil)
	mgr := a.register(admin, "manager", nil)
	otherMgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	stranger := a.register(admin, "employee", map[string]any{"manager_id": otherMgr.ID})
	var req leaveJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-02", "end_date": "2024-12-03"}, &req)

	roles := []struct {
		name string
		u    user
	}{
		{"none", user{}}, {"employee", emp}, {"stranger", stranger}, {"manager", mgr},
		{"other manager", otherMgr}, {"auditor", auditor}, {"admin", admin},
	}
	var seq atomic.Int64
	unique := func() int64 { return seq.Add(1) }
	// want lists the status per role, in the order of roles.
	type endpoint struct {
		method, path string
		body         func() any
		want         [7]int
	}
	const (
		ok, created, noContent = 200, 201, 204
		bad, unauth, forbidden = 400, 401, 403
		notFound               = 404
	)
	newEmployee := func() any {
		return map[string]any{"email": fmt.Sprintf("new%d@example.com", unique()), "password": password, "full_name": "N", "role": "employee"}
	}
	newManager := func() any {
		return map[string]any{"email": fmt.Sprintf("mgr%d@example.com", unique()), "password": password, "full_name": "N", "role": "manager"}
	}
	e, l := emp.ID, req.ID
	endpoints := []endpoint{
		{"GET", "/api/auth/me/", nil, [7]int{unauth, ok, ok, ok, ok, ok, ok}},
		{"POST", "/api/employees/", newEmployee, [7]int{unauth, forbidden, forbidden, created, created, forbidden, created}},
		{"POST", "/api/employees/", newManager, [7]int{unauth, forbidden, forbidden, forbidden, forbidden, forbidden, created}},
		{"GET", "/api/employees/", nil, [7]int{unauth, forbidden, forbidden, ok, ok, ok, ok}},
		{"GET", "/api/employees/" + e + "/", nil, [7]int{unauth, ok, notFound, ok, notFound, ok, ok}},
		{"PATCH", "/api/employees/" + e + "/", func() any { return map[string]any{"position": fmt.Sprint("p", unique())} }, [7]int{unauth, forbidden, notFound, forbidden, notFound, forbidden, ok}},
		{"GET", "/api/employees/" + e + "/history/", nil, [7]int{unauth, forbidden, notFound, ok, notFound, ok, ok}},
		{"GET", "/api/attendance/?employee_id=" + e, nil, [7]int{unauth, ok, notFound, ok, notFound, ok, ok}},
		{"GET", "/api/attendance/today/", nil, [7]int{unauth, ok, ok, ok, ok, ok, ok}},
		{"GET", "/api/leave-management/", nil, [7]int{unauth, ok, ok, ok, ok, ok, ok}},
		{"GET", "/api/leave-management/?employee_id=" + e, nil, [7]int{unauth, ok, notFound, ok, notFound, ok, ok}},
		{"GET", "/api/leave-management/" + l + "/", nil, [7]int{unauth, ok, notFound, ok, notFound, ok, ok}},
		{"POST", "/api/leave-management/" + l + "/change-status/", func() any { return map[string]string{"status": "approved", "note": "x"} },
			[7]int{unauth, forbidden, notFound, -1, notFound, forbidden, -1}},
		{"POST", "/api/leave-management/" + l + "/cancel/", nil, [7]int{unauth, -1, notFound, -1, notFound, forbidden, -1}},
		{"GET", "/api/leave-balances/" + e + "/", nil, [7]int{unauth, ok, notFound, ok, notFound, ok, ok}},
		{"PUT", "/api/leave-balances/" + e + "/", func() any { return map[string]any{"year": 2030, "entitlement_days": 20} },
			[7]int{unauth, forbidden, notFound, ok, notFound, forbidden, ok}},
		{"GET", "/api/holidays/?year=2024", nil, [7]int{unauth, ok, ok, ok, ok, ok, ok}},
		{"POST", "/api/holidays/", func() any { return map[string]string{"date": "2031-01-01", "name": "H"} },
			[7]int{unauth, forbidden, forbidden, forbidden, forbidden, forbidden, created}},
		{"DELETE", "/api/holidays/2031-01-01/", nil, [7]int{unauth, forbidden, forbidden, forbidden, forbidden, forbidden, -1}},
		{"GET", "/api/leave-blocks/", nil, [7]int{unauth, ok, ok, ok, ok, ok, ok}},
		{"POST", "/api/leave-blocks/", func() any {
			return map[string]string{"start_date": "2031-01-02", "end_date": "2031-01-02", "reason": "R"}
		},
			[7]int{unauth, forbidden, forbidden, forbidden, forbidden, forbidden, created}},
		{"DELETE", "/api/leave-blocks/" + e + "/", nil, [7]int{unauth, forbidden, forbidden, forbidden, forbidden, forbidden, notFound}},
		{"GET", "/api/leave-calendar/?from=2024-12-01&to=2024-12-31", nil, [7]int{unauth, ok, ok, ok, ok, ok, ok}},
		{"GET", "/api/reports/monthly-work/?year=2024&month=12", nil, [7]int{unauth, ok, ok, ok, ok, ok, ok}},
		{"GET", "/api/reports/monthly-work/?year=2024&month=12&employee_id=" + e, nil, [7]int{unauth, ok, notFound, ok, notFound, ok, ok}},
		{"GET", "/api/notifications/", nil, [7]int{unauth, ok, ok, ok, ok, ok, ok}},
		{"POST", "/api/notifications/" + e + "/mark-as-read/", nil, [7]int{unauth, notFound, notFound, notFound, notFound, forbidden, notFound}},
		{"GET", "/api/approval-policy/", nil, [7]int{unauth, forbidden, forbidden, forbidden, forbidden, ok, ok}},
		{"PUT", "/api/approval-policy/", func() any { return map[string]any{"rules": []any{}} }, [7]int{unauth, forbidden, forbidden, forbidden, forbidden, forbidden, ok}},
		{"POST", "/api/delegations/", func() any {
			return map[string]any{"delegate_id": stranger.ID, "start_date": "2030-01-01", "end_date": fmt.Sprintf("2030-01-%02d", 1+unique()%28)}
		}, [7]int{unauth, forbidden, forbidden, created, created, forbidden, created}},
		{"GET", "/api/delegations/", nil, [7]int{unauth, ok, ok, ok, ok, ok, ok}},
		{"DELETE", "/api/delegations/0b7f6c1e-8f0a-4d8e-9a51-3c1f2e4d5a6b/", nil, [7]int{unauth, forbidden, forbidden, notFound, notFound, forbidden, notFound}},
		{"GET", "/api/events/", nil, [7]int{unauth, forbidden, forbidden, forbidden, forbidden, ok, ok}},
		{"GET", "/api/audit/seals/", nil, [7]int{unauth, forbidden, forbidden, forbidden, forbidden, ok, ok}},
		{"GET", "/api/audit/verify/", nil, [7]int{unauth, forbidden, forbidden, forbidden, forbidden, ok, ok}},
	}
	for _, ep := range endpoints {
		for i, r := range roles {
			want := ep.want[i]
			if want < 0 { // allowed, and it changes state: covered by other tests
				continue
			}
			var body any
			if ep.body != nil {
				body = ep.body()
			}
			got := a.call(ep.method, ep.path, r.u.token, body)
			if got.status != want {
				t.Errorf("%s %s as %s = %s, want %d", ep.method, ep.path, r.name, got, want)
			}
			if got.status >= 400 {
				decodeProblem(t, got)
			}
		}
	}
	// The request was neither decided nor cancelled by anyone refused above.
	var after leaveJSON
	a.must(http.StatusOK, "GET", "/api/leave-management/"+l+"/", emp.token, nil, &after)
	if after.Status != "pending" {
		t.Errorf("request status after the refused calls = %q, want pending", after.Status)
	}
	// The employee cancels their own pending request; an approved one goes through the manager.
	a.must(http.StatusOK, "POST", "/api/leave-management/"+l+"/cancel/", emp.token, nil, nil)
	var second leaveJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-09", "end_date": "2024-12-09"}, &second)
	a.must(http.StatusOK, "POST", "/api/leave-management/"+second.ID+"/change-status/", admin.token, map[string]string{"status": "approved"}, nil)
	a.must(http.StatusForbidden, "POST", "/api/leave-management/"+second.ID+"/cancel/", emp.token, nil, nil)
	a.must(http.StatusOK, "POST", "/api/leave-management/"+second.ID+"/cancel/", mgr.token, nil, nil)
	a.must(http.StatusNoContent, "DELETE", "/api/holidays/2031-01-01/", admin.token, nil, nil)
	a.must(http.StatusNotFound, "DELETE", "/api/holidays/2031-01-01/", admin.token, nil, nil)
}

// TestAuditorChangesNothing: an auditor reads everything and changes nothing,
// not even their own records: no check-in, no leave request, no cancelling
// the request they filed as an employee, no marking a notification read.
func TestAuditorChangesNothing(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	aud := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	var pending, rejected leaveJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", aud.token, map[string]string{"start_date": "2024-12-02", "end_date": "2024-12-03"}, &pending)
	a.must(http.StatusCreated, "POST", "/api/leave-management/", aud.token, map[string]string{"start_date": "2024-12-09", "end_date": "2024-12-09"}, &rejected)
	a.must(http.StatusOK, "POST", "/api/leave-management/"+rejected.ID+"/change-status/", mgr.token, map[string]string{"status": "rejected"}, nil)
	var inbox struct {
		Items []struct {
			ID   string `json:"id"`
			Read bool   `json:"read"`
		} `json:"items"`
	}
	eventually(t, "the decision notice reaches the employee", func() bool {
		a.must(http.StatusOK, "GET", "/api/notifications/", aud.token, nil, &inbox)
		return len(inbox.Items) > 0
	})
	a.must(http.StatusOK, "PATCH", "/api/employees/"+aud.ID+"/", admin.token, map[string]any{"role": "auditor"}, nil)

	writes := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/attendance/", map[string]string{"type": "check-in"}},
		{"POST", "/api/attendance/", map[string]string{"type": "check-out"}},
		{"POST", "/api/leave-management/", map[string]string{"start_date": "2024-12-16", "end_date": "2024-12-17"}},
		{"POST", "/api/leave-management/" + pending.ID + "/cancel/", nil},
		{"POST", "/api/notifications/" + inbox.Items[0].ID + "/mark-as-read/", nil},
	}
	for _, w := range writes {
		got := a.call(w.method, w.path, aud.token, w.body)
		if got.status != http.StatusForbidden {
			t.Errorf("%s %s as auditor = %s, want 403", w.method, w.path, got)
			continue
		}
		decodeProblem(t, got)
	}

	var history struct {
		Items []struct {
			Type string `json:"type"`
		} `json:"items"`
	}
	a.must(http.StatusOK, "GET", "/api/employees/"+aud.ID+"/history/", admin.token, nil, &history)
	if last := history.Items[len(history.Items)-1].Type; last != "employee.role_changed" {
		t.Errorf("last event about the auditor = %s, want employee.role_changed: nothing after it", last)
	}
	var still leaveJSON
	a.must(http.StatusOK, "GET", "/api/leave-management/"+pending.ID+"/", aud.token, nil, &still)
	if still.Status != "pending" {
		t.Errorf("the auditor's request = %q, want pending", still.Status)
	}
}

// TestEveryRouteAsEveryRole walks every route of the router as each role and
// without a token, and compares the answer with the policy: 401 without a
// token except on public routes; where the policy allows, neither 401 nor 403
// (a bad body's 400 is fine); where it refuses, 403, or 404 for an employee
// the caller may not even see. Routes that name an employee, or their leave
// request, are called once for each relationship the caller can have to one.
// Whatever the policy says, an auditor changes nothing but their own session.
func TestEveryRouteAsEveryRole(t *testing.T) {
	t.Parallel()
	routes := apihttp.New(apihttp.Deps{Logger: slog.New(slog.DiscardHandler)}).Routes()

	a := startApp(t, nil)
	boot := a.admin()
	admin := a.register(boot, "admin", nil) // hired in 2024, like everyone below
	mgr := a.register(boot, "manager", nil)
	otherMgr := a.register(boot, "manager", nil)
	emp := a.register(boot, "employee", map[string]any{"manager_id": mgr.ID})
	adminReport := a.register(boot, "employee", map[string]any{"manager_id": admin.ID})
	stranger := a.register(boot, "employee", map[string]any{"manager_id": otherMgr.ID})
	auditor := a.register(boot, "employee", nil) // files leave before becoming an auditor
	requests := map[string]string{}              // each user's pending leave request, by user id
	corrections := map[string]string{}           // each user's pending attendance correction, by user id
	for _, u := range []user{admin, mgr, emp, adminReport, stranger, auditor} {
		var r leaveJSON
		a.must(http.StatusCreated, "POST", "/api/leave-management/", u.token, map[string]string{"start_date": "2024-12-02", "end_date": "2024-12-03"}, &r)
		requests[u.ID] = r.ID
		var c correctionJSON
		a.must(http.StatusCreated, "POST", "/api/attendance/corrections/", u.token, map[string]string{
			"date": "2024-12-02", "check_in": "2024-12-02T07:00:00Z", "check_out": "2024-12-02T15:00:00Z", "reason": "forgot",
		}, &c)
		corrections[u.ID] = c.ID
	}
	a.must(http.StatusOK, "PATCH", "/api/employees/"+auditor.ID+"/", boot.token, map[string]any{"role": "auditor"}, nil)

	// Path parameters naming an employee or their request, by the segment
	// before them; the others get one fixed value.
	namesTarget := map[string]func(target user) string{
		"employees/:id":               func(u user) string { return u.ID },
		"leave-balances/:employee_id": func(u user) string { return u.ID },
		"leave-management/:id":        func(u user) string { return requests[u.ID] },
		"corrections/:id":             func(u user) string { return corrections[u.ID] },
	}
	fixed := map[string]string{
		"notifications/:id": "00000000-0000-0000-0000-000000000000",
		"holidays/:date":    "2031-01-01",
		"leave-types/:code": "annual",
		"leave-blocks/:id":  "00000000-0000-0000-0000-000000000000",
		"events/:position":  "1",
		"delegations/:id":   "00000000-0000-0000-0000-000000000000",
		"swagger/*":         "index.html",
	}
	type related struct {
		rel    access.Relationship
		target user
	}
	callers := []struct {
		role    employee.Role
		u       user
		targets []related // one employee per relationship the role can have
	}{
		{employee.RoleEmployee, emp, []related{{access.Self, emp}, {access.Other, stranger}}},
		{employee.RoleManager, mgr, []related{{access.Self, mgr}, {access.Report, emp}, {access.Other, stranger}}},
		{employee.RoleAdmin, admin, []related{{access.Self, admin}, {access.Report, adminReport}, {access.Other, stranger}}},
		{employee.RoleAuditor, auditor, []related{{access.Self, auditor}, {access.Other, stranger}}},
	}

	checked := 0
	for _, r := range routes {
		route := r.Method + " " + r.Path
		if r.Action == "" && !r.Public {
			t.Errorf("%s declares no action: add it to the routes table in http/routes.go", route)
			continue
		}
		if !r.Public && !slices.Contains(access.Actions(), r.Action) {
			t.Errorf("%s declares %q, which the policy does not know", route, r.Action)
		}
		var body any
		if r.Method != http.MethodGet {
			body = map[string]any{} // invalid for every write that takes a body: nothing is written
		}
		path := func(target user) (string, bool) {
			segments := strings.Split(r.Path, "/")
			named := false
			for i, s := range segments {
				if !strings.HasPrefix(s, ":") && s != "*" {
					continue
				}
				key := segments[i-1] + "/" + s
				if v, ok := fixed[key]; ok {
					segments[i] = v
				} else if f, ok := namesTarget[key]; ok {
					segments[i], named = f(target), true
				} else {
					t.Fatalf("%s: no value for %s: add one to this test", route, key)
				}
			}
			return strings.Join(segments, "/"), named
		}

		p, named := path(emp)
		got := a.call(r.Method, p, "", body)
		if r.Public && (got.status == http.StatusUnauthorized || got.status == http.StatusForbidden || got.status >= 500) {
			t.Errorf("%s without a token = %s, want a public answer", route, got)
		}
		if !r.Public && got.status != http.StatusUnauthorized {
			t.Errorf("%s without a token = %s, want 401", route, got)
		}
		for _, c := range callers {
			actor := employee.Employee{Role: c.role}
			targets := c.targets
			if !named {
				targets = []related{{0, c.u}}
			}
			for _, tg := range targets {
				p, _ := path(tg.target)
				got := a.call(r.Method, p, c.u.token, body)
				checked++
				rel := tg.rel
				if r.Action == access.LeaveDecide && rel == access.Report {
					rel = access.Approver // a report's request waits on its one manager step
				}
				var want expectation
				switch {
				case r.Public, !named && access.Scope(actor, r.Action) != 0:
					want = allowed
				case named && access.Allowed(actor, r.Action, rel):
					want = allowedOnFound
				case named && !access.Allowed(actor, access.EmployeeRead, tg.rel):
					want = unseen
				default:
					want = refused
				}
				if !want.ok(got.status) {
					as := string(c.role)
					if named {
						as += " on " + relationName(tg.rel)
					}
					t.Errorf("%s (%s) as %s = %s, want %s", route, p, as, got, want.what)
				}
				ownSession := strings.HasPrefix(r.Path, "/api/auth/")
				if c.role == employee.RoleAuditor && r.Method != http.MethodGet && !r.Public && !ownSession && got.status != http.StatusForbidden {
					t.Errorf("%s (%s) as auditor = %s: an auditor changes nothing, want 403", route, p, got)
				}
			}
		}
	}
	t.Logf("%d routes, %d calls with a token", len(routes), checked)
	if checked < 100 {
		t.Fatalf("%d calls checked, want every route: is the router empty?", checked)
	}
}

// expectation is what an answer's status must be.
type expectation struct {
	what string
	ok   func(status int) bool
}

var (
	allowed = expectation{"neither 401 nor 403", func(s int) bool {
		return s < 500 && s != http.StatusUnauthorized && s != http.StatusForbidden
	}}
	allowedOnFound = expectation{"neither 401, 403 nor 404", func(s int) bool {
		return allowed.ok(s) && s != http.StatusNotFound
	}}
	unseen  = expectation{"404", func(s int) bool { return s == http.StatusNotFound }}
	refused = expectation{"403", func(s int) bool { return s == http.StatusForbidden }}
)

func relationName(rel access.Relationship) string {
	switch rel {
	case access.Self:
		return "themselves"
	case access.Report:
		return "their report"
	}
	return "someone else"
}
