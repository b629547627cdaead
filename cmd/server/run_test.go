package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	apihttp "github.com/acme/employee-tracking/http"
	"github.com/acme/employee-tracking/internal/testenv"
)

type leaveJSON struct {
	ID         string  `json:"id"`
	EmployeeID string  `json:"employee_id"`
	StartDate  string  `json:"start_date"`
	EndDate    string  `json:"end_date"`
	Days       int     `json:"days"`
	Status     string  `json:"status"`
	DecidedBy  *string `json:"decided_by"`
}

type balanceJSON struct {
	LeaveType   string  `json:"leave_type"`
	Year        int     `json:"year"`
	Accrued     float64 `json:"accrued"`
	Adjusted    float64 `json:"adjusted"`
	CarriedOver float64 `json:"carried_over"`
	Expired     float64 `json:"expired"`
	On          *string `json:"on"`
	Entitlement float64 `json:"entitlement"`
	Used        float64 `json:"used"`
	Pending     float64 `json:"pending"`
	Remaining   float64 `json:"remaining"`
	Available   float64 `json:"available"`
}

// TestOriginalExamples replays the original system's example requests: a
// check-in, a leave request over a weekend counted as workdays only, and its
// approval; then the mistakes it allowed are refused.
func TestOriginalExamples(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "hire_date": "2024-01-01"})

	var in struct {
		ID         string `json:"id"`
		EmployeeID string `json:"employee_id"`
		Type       string `json:"type"`
		At         string `json:"at"`
		LocalDate  string `json:"local_date"`
	}
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-in"}, &in)
	if in.EmployeeID != emp.ID || in.Type != "check-in" || in.ID == "" || !strings.HasSuffix(in.At, "Z") {
		t.Errorf("check-in = %+v, want a check-in of %s at a UTC time", in, emp.ID)
	}
	if p := decodeProblem(t, a.must(http.StatusConflict, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-in"}, nil)); p.Title != "Conflict" {
		t.Errorf("second check-in title = %q, want Conflict", p.Title)
	}
	a.must(http.StatusCreated, "POST", "/api/attendance", emp.token, map[string]string{"type": "check-out"}, nil)
	a.must(http.StatusConflict, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-out"}, nil)

	// 2024-12-01 is a Sunday: Monday to Thursday are the 4 workdays.
	var req leaveJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token,
		map[string]string{"start_date": "2024-12-01", "end_date": "2024-12-05", "reason": "family"}, &req)
	if req.Days != 4 || req.Status != "pending" || req.EmployeeID != emp.ID {
		t.Fatalf("leave request = %+v, want 4 days pending for %s", req, emp.ID)
	}
	balance := func() balanceJSON {
		var b balanceJSON
		a.must(http.StatusOK, "GET", "/api/leave-balances/"+emp.ID+"/?year=2024", emp.token, nil, &b)
		return b
	}
	if diff := cmp.Diff(balanceJSON{LeaveType: "annual", Year: 2024, Accrued: 15, Entitlement: 15, Pending: 4, Remaining: 15, Available: 11}, balance()); diff != "" {
		t.Errorf("balance after request (-want +got):\n%s", diff)
	}

	var approved leaveJSON
	a.must(http.StatusOK, "POST", "/api/leave-management/"+req.ID+"/change-status/", mgr.token, map[string]string{"status": "approved"}, &approved)
	if approved.Status != "approved" || approved.DecidedBy == nil || *approved.DecidedBy != mgr.ID {
		t.Errorf("approval = %+v, want approved by %s", approved, mgr.ID)
	}
	want := balanceJSON{LeaveType: "annual", Year: 2024, Accrued: 15, Entitlement: 15, Used: 4, Remaining: 11, Available: 11}
	if diff := cmp.Diff(want, balance()); diff != "" {
		t.Errorf("balance after approval (-want +got):\n%s", diff)
	}

	// Approving twice is refused and spends nothing.
	a.must(http.StatusConflict, "POST", "/api/leave-management/"+req.ID+"/change-status/", mgr.token, map[string]string{"status": "approved"}, nil)
	a.must(http.StatusConflict, "POST", "/api/leave-management/"+req.ID+"/change-status/", admin.token, map[string]string{"status": "rejected"}, nil)
	if diff := cmp.Diff(want, balance()); diff != "" {
		t.Errorf("balance after a second approval (-want +got):\n%s", diff)
	}

	// Overlap, no workdays, past the balance, end before start.
	a.must(http.StatusUnprocessableEntity, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-05", "end_date": "2024-12-06"}, nil)
	a.must(http.StatusUnprocessableEntity, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-07", "end_date": "2024-12-08"}, nil)
	a.must(http.StatusUnprocessableEntity, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-09", "end_date": "2024-12-31"}, nil)
	p := decodeProblem(t, a.must(http.StatusBadRequest, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-10", "end_date": "2024-12-09"}, nil))
	if _, ok := p.Errors["end_date"]; !ok {
		t.Errorf("end before start errors = %v, want end_date named", p.Errors)
	}

	// The manager cancels the approved leave: its days come back.
	var cancelled leaveJSON
	a.must(http.StatusOK, "POST", "/api/leave-management/"+req.ID+"/cancel/", mgr.token, nil, &cancelled)
	if cancelled.Status != "cancelled" {
		t.Errorf("cancel status = %q, want cancelled", cancelled.Status)
	}
	if diff := cmp.Diff(balanceJSON{LeaveType: "annual", Year: 2024, Accrued: 15, Entitlement: 15, Remaining: 15, Available: 15}, balance()); diff != "" {
		t.Errorf("balance after cancellation (-want +got):\n%s", diff)
	}

	// The read model lists the request and the day.
	eventually(t, "the leave request reaches the list", func() bool {
		var page struct{ Items []leaveJSON }
		a.must(http.StatusOK, "GET", "/api/leave-management/?employee_id="+emp.ID, mgr.token, nil, &page)
		return len(page.Items) == 1 && page.Items[0].Status == "cancelled"
	})
	eventually(t, "the day reaches the attendance list", func() bool {
		var page struct {
			Items []struct {
				Status   string  `json:"status"`
				CheckOut *string `json:"check_out"`
			}
		}
		a.must(http.StatusOK, "GET", "/api/attendance/?employee_id="+emp.ID, mgr.token, nil, &page)
		return len(page.Items) == 1 && page.Items[0].CheckOut != nil
	})
}

// TestIdempotencyKey: a repeated POST with the same key answers the first
// response and appends nothing; the same key with another body is a 409.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	emp := a.register(admin, "employee", nil)

	first := a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, `{"type":"check-in"}`, nil, "Idempotency-Key", "k1")
	again := a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, `{"type":"check-in"}`, nil, "Idempotency-Key", "k1")
	if string(first.body) != string(again.body) {
		t.Errorf("repeat answered %s, want the first answer %s", again.body, first.body)
	}
	a.must(http.StatusConflict, "POST", "/api/attendance/", emp.token, `{"type":"check-out"}`, nil, "Idempotency-Key", "k1")
	// Another user may use the same key.
	other := a.register(admin, "employee", nil)
	a.must(http.StatusCreated, "POST", "/api/attendance/", other.token, `{"type":"check-in"}`, nil, "Idempotency-Key", "k1")

	var history struct {
		Items []struct {
			Type     string `json:"type"`
			Metadata struct {
				Actor          string `json:"actor"`
				RequestID      string `json:"request_id"`
				IdempotencyKey string `json:"idempotency_key"`
			} `json:"metadata"`
		}
	}
	a.must(http.StatusOK, "GET", "/api/employees/"+emp.ID+"/history/", admin.token, nil, &history)
	var checkIns int
	for _, e := range history.Items {
		if e.Type == "attendance.checked_in" {
			checkIns++
			if e.Metadata.Actor != emp.ID || e.Metadata.IdempotencyKey != "k1" || e.Metadata.RequestID == "" {
				t.Errorf("check-in metadata = %+v, want actor %s, key k1 and a request id", e.Metadata, emp.ID)
			}
		}
	}
	if checkIns != 1 {
		t.Errorf("check-in events = %d, want 1", checkIns)
	}
}

// TestIdempotencyKeyExpires: after IDEMPOTENCY_KEY_TTL a key is free again,
// for the same request or another.
func TestIdempotencyKeyExpires(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"IDEMPOTENCY_KEY_TTL": "500ms"})
	emp := a.register(a.admin(), "employee", nil)
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, `{"type":"check-in"}`, nil, "Idempotency-Key", "k1")
	a.must(http.StatusConflict, "POST", "/api/attendance/", emp.token, `{"type":"check-out"}`, nil, "Idempotency-Key", "k1")
	time.Sleep(600 * time.Millisecond)
	out := a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, `{"type":"check-out"}`, nil, "Idempotency-Key", "k1")
	if out.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("an expired key replayed its first answer")
	}

	// The periodic clean-up deletes what expired, and only that.
	pool, err := pgxpool.New(context.Background(), a.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, `{"type":"check-in"}`, nil, "Idempotency-Key", "k2")
	n, err := apihttp.ExpireIdempotencyKeys(context.Background(), pool, time.Now().Add(-10*time.Second))
	if err != nil || n != 0 {
		t.Fatalf("expire keys older than 10s: deleted %d (%v), want 0", n, err)
	}
	n, err = apihttp.ExpireIdempotencyKeys(context.Background(), pool, time.Now().Add(time.Second))
	if err != nil || n != 2 {
		t.Fatalf("expire every key: deleted %d (%v), want 2", n, err)
	}
}

// TestDeactivatedUserLosesAccess: deactivation ends tokens at once, and a
// reactivated user logs in again; nobody raises their own role or
// deactivates themselves.
func TestDeactivatedUserLosesAccess(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	emp := a.register(admin, "employee", nil)
	var pair struct {
		RefreshToken string `json:"refresh_token"`
	}
	a.must(http.StatusOK, "POST", "/api/auth/login/", "", map[string]string{"email": emp.Email, "password": password}, &pair)
	a.must(http.StatusOK, "POST", "/api/auth/refresh/", "", map[string]string{"refresh_token": pair.RefreshToken}, nil)

	a.must(http.StatusForbidden, "PATCH", "/api/employees/"+admin.ID+"/", admin.token, map[string]any{"role": "employee"}, nil)
	a.must(http.StatusForbidden, "PATCH", "/api/employees/"+admin.ID+"/", admin.token, map[string]any{"active": false}, nil)
	a.must(http.StatusForbidden, "PATCH", "/api/employees/"+emp.ID+"/", emp.token, map[string]any{"role": "admin"}, nil)

	var changed struct {
		Active bool `json:"active"`
	}
	a.must(http.StatusOK, "PATCH", "/api/employees/"+emp.ID+"/", admin.token, map[string]any{"active": false, "reason": "left"}, &changed)
	if changed.Active {
		t.Error("after deactivation active = true, want false")
	}
	a.must(http.StatusUnauthorized, "GET", "/api/auth/me/", emp.token, nil, nil)
	refused := a.must(http.StatusUnauthorized, "POST", "/api/auth/refresh/", "", map[string]string{"refresh_token": pair.RefreshToken}, nil)
	if !strings.Contains(string(refused.body), "refresh token") {
		t.Errorf("refresh of a deactivated user: %s, want a problem naming the refresh token", refused.body)
	}
	a.must(http.StatusUnauthorized, "POST", "/api/auth/login/", "", map[string]string{"email": emp.Email, "password": password}, nil)

	a.must(http.StatusOK, "PATCH", "/api/employees/"+emp.ID+"/", admin.token, map[string]any{"active": true}, nil)
	a.must(http.StatusUnauthorized, "GET", "/api/auth/me/", emp.token, nil, nil)
	a.must(http.StatusOK, "GET", "/api/auth/me/", a.login(emp.Email, password), nil, nil)
}

// TestRegistration: emails are unique whatever their case; only an admin
// creates managers, admins and auditors; a manager's recruits report to them.
func TestRegistration(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	other := a.register(admin, "manager", nil)

	body := func(role, email string, extra map[string]any) map[string]any {
		b := map[string]any{"email": email, "password": password, "full_name": "X", "role": role}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	a.must(http.StatusConflict, "POST", "/api/employees/", admin.token, body("employee", strings.ToUpper(mgr.Email), nil), nil)
	for _, role := range []string{"manager", "admin", "auditor"} {
		a.must(http.StatusForbidden, "POST", "/api/employees/", mgr.token, body(role, role+"-by-mgr@example.com", nil), nil)
	}
	a.must(http.StatusForbidden, "POST", "/api/employees/", mgr.token, body("employee", "e1@example.com", map[string]any{"manager_id": other.ID}), nil)

	var e struct {
		ManagerID *string `json:"manager_id"`
		Schedule  struct {
			Timezone  string `json:"timezone"`
			WorkStart string `json:"work_start"`
			Workdays  []int  `json:"workdays"`
		} `json:"schedule"`
	}
	a.must(http.StatusCreated, "POST", "/api/employees/", mgr.token, body("employee", "e2@example.com", nil), &e)
	if e.ManagerID == nil || *e.ManagerID != mgr.ID {
		t.Errorf("manager's recruit manager_id = %v, want %s", e.ManagerID, mgr.ID)
	}
	if e.Schedule.Timezone != "Europe/Istanbul" || e.Schedule.WorkStart != "08:00" || !cmp.Equal(e.Schedule.Workdays, []int{1, 2, 3, 4, 5}) {
		t.Errorf("default schedule = %+v, want Europe/Istanbul 08:00 Monday to Friday", e.Schedule)
	}
	// The new employee got the year's leave.
	var b balanceJSON
	tok := a.login("e2@example.com", password)
	a.must(http.StatusOK, "GET", "/api/leave-balances/"+*eID(t, a, tok)+"/", tok, nil, &b)
	if b.Entitlement != 15 {
		t.Errorf("new employee's entitlement = %v, want 15", b.Entitlement)
	}
	p := decodeProblem(t, a.must(http.StatusBadRequest, "POST", "/api/employees/", admin.token,
		body("employee", "e3@example.com", map[string]any{"schedule": map[string]any{"work_start": "18:00", "work_end": "18:00", "workdays": []int{0, 8}, "timezone": "Mars/Olympus"}}), nil))
	for _, f := range []string{"schedule.work_end", "schedule.workdays", "schedule.timezone"} {
		if _, ok := p.Errors[f]; !ok {
			t.Errorf("bad schedule errors = %v, want %s named", p.Errors, f)
		}
	}
	// A failed registration frees the email.
	a.must(http.StatusCreated, "POST", "/api/employees/", admin.token, body("employee", "e3@example.com", nil), nil)
}

func eID(t *testing.T, a *app, token string) *string {
	t.Helper()
	var me user
	a.must(http.StatusOK, "GET", "/api/auth/me/", token, nil, &me)
	return &me.ID
}

// TestOperations: health, readiness, metrics, the OpenAPI document.
func TestOperations(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	a.must(http.StatusOK, "GET", "/healthz", "", nil, nil)
	a.must(http.StatusOK, "GET", "/readyz/", "", nil, nil)
	admin := a.admin()
	a.must(http.StatusOK, "GET", "/api/auth/me", admin.token, nil, nil)

	metrics := a.must(http.StatusOK, "GET", "/metrics", "", nil, nil)
	for _, name := range []string{"http_requests_total", "http_request_duration_seconds", "websocket_sessions_open", "go_goroutines"} {
		if !strings.Contains(string(metrics.body), name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(a.base + "/swagger")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/swagger/index.html" {
		t.Errorf("/swagger = %d to %q, want 301 to /swagger/index.html", res.StatusCode, res.Header.Get("Location"))
	}
	a.must(http.StatusOK, "GET", "/swagger/index.html", "", nil, nil)
	var doc struct {
		Paths               map[string]map[string]json.RawMessage `json:"paths"`
		SecurityDefinitions map[string]json.RawMessage            `json:"securityDefinitions"`
	}
	a.must(http.StatusOK, "GET", "/swagger/doc.json", "", nil, &doc)
	if _, ok := doc.SecurityDefinitions["BearerAuth"]; !ok {
		t.Error("the OpenAPI document lacks the BearerAuth scheme")
	}
	for _, p := range []string{"/api/attendance/", "/api/leave-management/{id}/change-status/", "/api/reports/monthly-work/", "/ws/notifications"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("the OpenAPI document lacks %s", p)
		}
	}
}

// TestHealthcheckFlag: -healthcheck exits 0 against a running server and
// fails against nothing.
func TestHealthcheckFlag(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	addr := strings.TrimPrefix(a.base, "http://")
	env := func(k string) string {
		if k == "HTTP_ADDR" {
			return addr
		}
		return ""
	}
	if err := run(t.Context(), env, &testenv.LockedBuffer{}, []string{"-healthcheck"}); err != nil {
		t.Errorf("healthcheck against a running server = %v, want nil", err)
	}
	closed := func(k string) string {
		if k == "HTTP_ADDR" {
			return "127.0.0.1:" + testenv.FreePort(t)
		}
		return ""
	}
	if err := run(t.Context(), closed, &testenv.LockedBuffer{}, []string{"-healthcheck"}); err == nil {
		t.Error("healthcheck against no server = nil, want an error")
	}
}

func TestProfilesOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	addr := "127.0.0.1:" + testenv.FreePort(t)
	a := startApp(t, map[string]string{"PPROF_ADDR": addr})
	res, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatalf("GET profiles on PPROF_ADDR: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET profiles on PPROF_ADDR = %d, want 200", res.StatusCode)
	}
	res, err = http.Get(a.base + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusOK {
		t.Error("the API serves profiles, want them only on PPROF_ADDR")
	}
}
