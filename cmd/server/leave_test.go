package main

import (
	"net/http"
	"testing"
	"time"
)

// TestLeaveRecountedAtApproval: a holiday declared between a request and
// its approval costs no leave; one declared after the approval leaves it as
// approved. Either way the request, the balance and the monthly report agree
// and no day counts twice; an approval that holidays leave without a
// workday is refused.
func TestLeaveRecountedAtApproval(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})

	// Monday 2 to Friday 6 December 2024; Wednesday becomes a holiday before
	// the approval, Thursday after it.
	var req leaveJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-02", "end_date": "2024-12-06"}, &req)
	if req.Days != 5 {
		t.Fatalf("requested days = %d, want 5", req.Days)
	}
	a.must(http.StatusCreated, "POST", "/api/holidays/", admin.token, map[string]string{"date": "2024-12-04", "name": "Founders' Day"}, nil)
	var decided leaveJSON
	a.must(http.StatusOK, "POST", "/api/leave-management/"+req.ID+"/change-status/", mgr.token, map[string]string{"status": "approved"}, &decided)
	if decided.Status != "approved" || decided.Days != 4 {
		t.Errorf("approved = %s, %d days; want approved, 4 days", decided.Status, decided.Days)
	}
	a.must(http.StatusCreated, "POST", "/api/holidays/", admin.token, map[string]string{"date": "2024-12-05", "name": "Declared late"}, nil)

	var got leaveJSON
	a.must(http.StatusOK, "GET", "/api/leave-management/"+req.ID+"/", emp.token, nil, &got)
	if got.Days != 4 {
		t.Errorf("request after approval = %d days, want 4", got.Days)
	}
	var balance balanceJSON
	a.must(http.StatusOK, "GET", "/api/leave-balances/"+emp.ID+"/?year=2024", emp.token, nil, &balance)
	if balance.Used != 4 || balance.Pending != 0 || balance.Remaining != 11 {
		t.Errorf("balance = %+v, want 4 used, none pending, 11 remaining", balance)
	}

	type row struct {
		LeaveDays       int `json:"leave_days"`
		AbsentDays      int `json:"absent_days"`
		ExpectedMinutes int `json:"expected_minutes"`
	}
	// report answers the employee's row, the zero row while the directory
	// does not hold them yet.
	report := func() row {
		var r struct{ Employees []row }
		a.must(http.StatusOK, "GET", "/api/reports/monthly-work/?year=2024&month=12&employee_id="+emp.ID, admin.token, nil, &r)
		if len(r.Employees) > 1 {
			t.Fatalf("report rows = %d, want 1", len(r.Employees))
		}
		if len(r.Employees) == 0 {
			return row{}
		}
		return r.Employees[0]
	}
	// December 2024 has 22 workdays: the holiday on the 4th, the 4 days of
	// leave charged (the 5th among them, charged before it became a holiday)
	// and 17 days expected, none worked. Each day counts once.
	want := row{LeaveDays: 4, AbsentDays: 17, ExpectedMinutes: 17 * 9 * 60}
	// The leave and the holidays reach the report through two read models,
	// each in its own time: wait for both.
	r, deadline := report(), time.Now().Add(10*time.Second)
	for r != want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		r = report()
	}
	if r != want {
		t.Errorf("report = %+v, want %+v (the balance's 4 days of leave)", r, want)
	}
	var list struct{ Items []leaveJSON }
	a.must(http.StatusOK, "GET", "/api/leave-management/?employee_id="+emp.ID, mgr.token, nil, &list)
	if len(list.Items) != 1 || list.Items[0].Days != 4 {
		t.Errorf("listed requests = %+v, want one of 4 days", list.Items)
	}

	// Cancelled, the approval gives back the 4 days it charged.
	a.must(http.StatusOK, "POST", "/api/leave-management/"+req.ID+"/cancel/", mgr.token, nil, nil)
	a.must(http.StatusOK, "GET", "/api/leave-balances/"+emp.ID+"/?year=2024", emp.token, nil, &balance)
	if balance.Used != 0 || balance.Remaining != 15 {
		t.Errorf("balance after cancelling = %+v, want 0 used, 15 remaining", balance)
	}
	eventually(t, "the cancellation reaches the report", func() bool { r = report(); return r.LeaveDays == 0 && r.AbsentDays > 0 })
	if want := (row{AbsentDays: 20, ExpectedMinutes: 20 * 9 * 60}); r != want {
		t.Errorf("report after cancelling = %+v, want %+v", r, want)
	}

	// A request whose only day became a holiday is not approved for nothing.
	var one leaveJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-10", "end_date": "2024-12-10"}, &one)
	a.must(http.StatusCreated, "POST", "/api/holidays/", admin.token, map[string]string{"date": "2024-12-10", "name": "Another"}, nil)
	res := a.call("POST", "/api/leave-management/"+one.ID+"/change-status/", mgr.token, map[string]string{"status": "approved"})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("approving a request that holidays cover = %s, want 422", res)
	}
	decodeProblem(t, res)
	a.must(http.StatusOK, "GET", "/api/leave-management/"+one.ID+"/", emp.token, nil, &got)
	if got.Status != "pending" {
		t.Errorf("status after the refused approval = %q, want pending", got.Status)
	}
	a.must(http.StatusOK, "POST", "/api/leave-management/"+one.ID+"/change-status/", mgr.token, map[string]string{"status": "rejected"}, nil)
}
