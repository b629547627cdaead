package main

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
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
		{"GET", "/api/reports/monthly-work/?year=2024&month=12", nil, [7]int{unauth, ok, ok, ok, ok, ok, ok}},
		{"GET", "/api/reports/monthly-work/?year=2024&month=12&employee_id=" + e, nil, [7]int{unauth, ok, notFound, ok, notFound, ok, ok}},
		{"GET", "/api/notifications/", nil, [7]int{unauth, ok, ok, ok, ok, ok, ok}},
		{"POST", "/api/notifications/" + e + "/mark-as-read/", nil, [7]int{unauth, notFound, notFound, notFound, notFound, notFound, notFound}},
		{"GET", "/api/events/", nil, [7]int{unauth, forbidden, forbidden, forbidden, forbidden, ok, ok}},
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
