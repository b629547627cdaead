package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

// example returns the example of a definition's property, nil when none.
func (d openAPI) example(ref, property string) json.RawMessage {
	return d.Definitions[strings.TrimPrefix(ref, "#/definitions/")].Properties[property].Example
}

// TestProblemExamples: every failure the OpenAPI document shows with an
// example is an answer its endpoint gives, word for word; the login example
// logs in as the admin the README starts the server with.
func TestProblemExamples(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	var doc openAPI
	a.must(http.StatusOK, "GET", "/swagger/doc.json", "", nil, &doc)

	var login struct{ Email, Password string }
	for field, into := range map[string]*string{"email": &login.Email, "password": &login.Password} {
		if err := json.Unmarshal(doc.example("#/definitions/http.loginRequest", field), into); err != nil {
			t.Fatalf("login example %s: %v", field, err)
		}
	}
	if r := a.call("POST", "/api/auth/login/", "", map[string]string{"email": login.Email, "password": login.Password}); r.status != http.StatusOK {
		t.Errorf("login with the documented example %+v = %s, want 200", login, r)
	}

	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	other := a.register(admin, "employee", nil)
	gone := a.register(admin, "employee", nil)
	auditor := a.register(admin, "auditor", nil)
	a.must(http.StatusOK, "PATCH", "/api/employees/"+gone.ID, admin.token, map[string]any{"active": false}, nil)
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-in"}, nil)
	a.must(http.StatusCreated, "POST", "/api/holidays/", admin.token, map[string]string{"date": "2024-05-01", "name": "Labour Day"}, nil)
	var pending, rejected, approved leaveJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-02", "end_date": "2024-12-06"}, &pending)
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-09", "end_date": "2024-12-09"}, &rejected)
	a.must(http.StatusOK, "POST", "/api/leave-management/"+rejected.ID+"/change-status/", mgr.token, map[string]string{"status": "rejected"}, nil)
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-10", "end_date": "2024-12-10"}, &approved)
	a.must(http.StatusOK, "POST", "/api/leave-management/"+approved.ID+"/change-status/", mgr.token, map[string]string{"status": "approved"}, nil)
	a.must(http.StatusOK, "PUT", "/api/leave-balances/"+emp.ID+"/", admin.token, map[string]any{"year": 2024, "entitlement_days": 3}, nil)
	a.must(http.StatusOK, "PUT", "/api/leave-balances/"+other.ID+"/", admin.token, map[string]any{"year": 2024, "entitlement_days": 2}, nil)
	a.must(http.StatusCreated, "POST", "/api/leave-blocks/", admin.token, map[string]string{"start_date": "2025-03-03", "end_date": "2025-03-07", "reason": "stocktaking"}, nil)
	unknown := "0b7f6c1e-8f0a-4d8e-9a51-3c1f2e4d5a6b"
	// Corrections: one pending, one decided, and one whose day moved on
	// since it was filed: its check-out is now before the day's last check-in.
	correction := func(u user, body map[string]string) correctionJSON {
		var c correctionJSON
		a.must(http.StatusCreated, "POST", "/api/attendance/corrections/", u.token, body, &c)
		return c
	}
	madeDay := map[string]string{"date": "2024-12-03", "check_in": "2024-12-03T06:00:00Z", "check_out": "2024-12-03T14:00:00Z", "reason": "forgot"}
	pendingFix, decidedFix := correction(emp, madeDay), correction(emp, madeDay)
	a.must(http.StatusOK, "POST", "/api/attendance/corrections/"+decidedFix.ID+"/change-status/", mgr.token, map[string]string{"status": "rejected"}, nil)
	movedOn := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	var in struct {
		At        time.Time `json:"at"`
		LocalDate string    `json:"local_date"`
	}
	a.must(http.StatusCreated, "POST", "/api/attendance/", movedOn.token, map[string]string{"type": "check-in"}, &in)
	time.Sleep(10 * time.Millisecond)
	staleFix := correction(movedOn, map[string]string{"date": in.LocalDate, "check_out": in.At.Add(time.Millisecond).Format(time.RFC3339Nano), "reason": "forgot"})
	a.must(http.StatusCreated, "POST", "/api/attendance/", movedOn.token, map[string]string{"type": "check-out"}, nil)
	a.must(http.StatusCreated, "POST", "/api/attendance/", movedOn.token, map[string]string{"type": "check-in"}, nil)
	fixPath := func(id string) string { return "/api/attendance/corrections/" + id + "/change-status/" }
	// Two days left this year, so that a debit of five reproduces the
	// example of a balance too small.
	var left balanceJSON
	a.must(http.StatusOK, "GET", "/api/leave-balances/"+other.ID+"/", admin.token, nil, &left)
	a.must(http.StatusCreated, "POST", "/api/leave-balances/"+other.ID+"/adjustments/", admin.token,
		map[string]any{"days": 2 - left.Remaining, "reason": "sold back"}, nil)

	type failure struct {
		path, method string // as the document names the operation
		status       string
		url, token   string
		body         any
	}
	failures := []failure{
		{"/api/attendance/", "post", "400", "/api/attendance/", emp.token, map[string]string{"type": "nap"}},
		{"/api/attendance/", "post", "403", "/api/attendance/", auditor.token, map[string]string{"type": "check-in"}},
		{"/api/attendance/", "post", "409", "/api/attendance/", emp.token, map[string]string{"type": "check-in"}},
		{"/api/attendance/", "get", "400", "/api/attendance/?from=2024-02-01&to=2024-01-01", emp.token, nil},
		{"/api/attendance/", "get", "404", "/api/attendance/?employee_id=" + unknown, emp.token, nil},
		{"/api/attendance/corrections/", "post", "400", "/api/attendance/corrections/", emp.token, map[string]string{"date": "2024-12-03", "check_in": "2024-12-03T06:00:00Z"}},
		{"/api/attendance/corrections/", "post", "403", "/api/attendance/corrections/", auditor.token, madeDay},
		{"/api/attendance/corrections/", "post", "404", "/api/attendance/corrections/", mgr.token, map[string]string{"employee_id": unknown, "date": "2024-12-03", "check_in": "2024-12-03T06:00:00Z", "reason": "forgot"}},
		{"/api/attendance/corrections/", "post", "422", "/api/attendance/corrections/", emp.token, map[string]string{"date": "2024-12-03", "check_in": "2024-12-03T09:00:00Z", "check_out": "2024-12-03T08:00:00Z", "reason": "forgot"}},
		{"/api/attendance/corrections/", "get", "400", "/api/attendance/corrections/?limit=0", emp.token, nil},
		{"/api/attendance/corrections/", "get", "404", "/api/attendance/corrections/?employee_id=" + unknown, emp.token, nil},
		{"/api/attendance/corrections/{id}/change-status/", "post", "400", fixPath(pendingFix.ID), mgr.token, map[string]string{"status": "maybe"}},
		{"/api/attendance/corrections/{id}/change-status/", "post", "403", fixPath(pendingFix.ID), emp.token, map[string]string{"status": "approved"}},
		{"/api/attendance/corrections/{id}/change-status/", "post", "404", fixPath(unknown), mgr.token, map[string]string{"status": "approved"}},
		{"/api/attendance/corrections/{id}/change-status/", "post", "409", fixPath(decidedFix.ID), mgr.token, map[string]string{"status": "approved"}},
		{"/api/attendance/corrections/{id}/change-status/", "post", "422", fixPath(staleFix.ID), mgr.token, map[string]string{"status": "approved"}},
		{"/api/events/", "get", "400", "/api/events/?limit=0", admin.token, nil},
		{"/api/events/", "get", "403", "/api/events/", emp.token, nil},
		{"/api/events/{position}/proof/", "get", "403", "/api/events/1/proof/", emp.token, nil},
		{"/api/events/{position}/proof/", "get", "404", "/api/events/x/proof/", auditor.token, nil},
		{"/api/audit/seals/", "get", "400", "/api/audit/seals/?limit=0", auditor.token, nil},
		{"/api/audit/seals/", "get", "403", "/api/audit/seals/", mgr.token, nil},
		{"/api/audit/verify/", "get", "400", "/api/audit/verify/?from_seq=3&to_seq=2", auditor.token, nil},
		{"/api/audit/verify/", "get", "403", "/api/audit/verify/", emp.token, nil},
		{"/api/employees/{id}/history/", "get", "400", "/api/employees/" + emp.ID + "/history/?after=1", admin.token, nil},
		{"/api/employees/{id}/history/", "get", "403", "/api/employees/" + emp.ID + "/history/", emp.token, nil},
		{"/api/employees/{id}/history/", "get", "404", "/api/employees/" + unknown + "/history/", admin.token, nil},
		{"/api/employees/", "post", "400", "/api/employees/", admin.token,
			map[string]string{"email": "new@example.com", "password": password, "role": "employee"}},
		{"/api/employees/", "post", "403", "/api/employees/", emp.token,
			map[string]string{"email": "new@example.com", "password": password, "full_name": "New", "role": "employee"}},
		{"/api/employees/", "post", "409", "/api/employees/", admin.token,
			map[string]string{"email": emp.Email, "password": password, "full_name": "Again", "role": "employee"}},
		{"/api/employees/", "get", "400", "/api/employees/?limit=0", admin.token, nil},
		{"/api/employees/", "get", "403", "/api/employees/", emp.token, nil},
		{"/api/employees/{id}/", "get", "404", "/api/employees/" + unknown + "/", admin.token, nil},
		{"/api/employees/{id}/", "patch", "400", "/api/employees/" + emp.ID + "/", admin.token, map[string]any{"manager_id": other.ID}},
		{"/api/employees/{id}/", "patch", "403", "/api/employees/" + emp.ID + "/", mgr.token, map[string]any{"position": "Lead"}},
		{"/api/employees/{id}/", "patch", "404", "/api/employees/" + unknown + "/", admin.token, map[string]any{"position": "Lead"}},
		{"/api/employees/{id}/", "patch", "409", "/api/employees/" + gone.ID + "/", admin.token, map[string]any{"position": "Lead"}},
		{"/api/holidays/", "get", "400", "/api/holidays/?year=0", emp.token, nil},
		{"/api/holidays/", "post", "400", "/api/holidays/", admin.token, map[string]string{"date": "2024-05-02"}},
		{"/api/holidays/", "post", "403", "/api/holidays/", emp.token, map[string]string{"date": "2024-05-02", "name": "Mine"}},
		{"/api/holidays/", "post", "409", "/api/holidays/", admin.token, map[string]string{"date": "2024-05-01", "name": "Again"}},
		{"/api/holidays/{date}/", "delete", "403", "/api/holidays/2024-05-01/", emp.token, nil},
		{"/api/holidays/{date}/", "delete", "404", "/api/holidays/2024-05-02/", admin.token, nil},
		{"/api/holidays/{date}/", "delete", "400", "/api/holidays/2024-05-01/?calendar=Paris", admin.token, nil},
		{"/api/holidays/", "get", "404", "/api/holidays/?calendar=paris", emp.token, nil},
		{"/api/holidays/", "post", "422", "/api/holidays/", admin.token, map[string]string{"calendar": "paris", "date": "2024-05-02", "name": "Fête"}},
		{"/api/holiday-calendars/", "get", "400", "/api/holiday-calendars/?after=1", emp.token, nil},
		{"/api/holiday-calendars/", "post", "400", "/api/holiday-calendars/", admin.token, map[string]string{"code": "Berlin", "name": "Berlin"}},
		{"/api/holiday-calendars/", "post", "403", "/api/holiday-calendars/", emp.token, map[string]string{"code": "berlin", "name": "Berlin"}},
		{"/api/holiday-calendars/", "post", "409", "/api/holiday-calendars/", admin.token, map[string]string{"code": "default", "name": "Default"}},
		{"/api/employees/", "post", "422", "/api/employees/", admin.token,
			map[string]string{"email": "new@example.com", "password": password, "full_name": "New", "holiday_calendar": "paris"}},
		{"/api/employees/{id}/", "patch", "422", "/api/employees/" + emp.ID + "/", admin.token, map[string]any{"holiday_calendar": "paris"}},
		{"/api/employees/import", "post", "400", "/api/employees/import", admin.token, csvBody("email,name\n")},
		{"/api/employees/import", "post", "403", "/api/employees/import", mgr.token, csvBody(importHeader)},
		{"/api/employees/import", "post", "413", "/api/employees/import", admin.token, csvBody(importHeader + strings.Repeat("x@example.com,X,,,,,,,,,\n", 10_001))},
		{"/api/employees/import", "post", "415", "/api/employees/import", admin.token, map[string]string{"email": "x@example.com"}},
		{"/api/leave-types/", "get", "400", "/api/leave-types/?after=1", emp.token, nil},
		{"/api/leave-types/", "post", "400", "/api/leave-types/", admin.token, map[string]any{"name": "Study", "accrual": "none"}},
		{"/api/leave-types/", "post", "403", "/api/leave-types/", emp.token, map[string]any{"code": "study", "name": "Study", "accrual": "none"}},
		{"/api/leave-types/", "post", "409", "/api/leave-types/", admin.token, map[string]any{"code": "sick", "name": "Sick", "accrual": "none"}},
		{"/api/leave-types/{code}/", "patch", "400", "/api/leave-types/annual/", admin.token, map[string]any{"code": "holiday"}},
		{"/api/leave-types/{code}/", "patch", "403", "/api/leave-types/annual/", emp.token, map[string]any{"active": false}},
		{"/api/leave-types/{code}/", "patch", "404", "/api/leave-types/nope/", admin.token, map[string]any{"active": false}},
		{"/api/leave-management/", "post", "400", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-12-06", "end_date": "2024-12-02"}},
		{"/api/leave-management/", "post", "403", "/api/leave-management/", auditor.token, map[string]string{"start_date": "2024-12-02", "end_date": "2024-12-06"}},
		{"/api/leave-management/", "post", "422", "/api/leave-management/", emp.token, map[string]string{"start_date": "2025-03-07", "end_date": "2025-03-10"}},
		{"/api/leave-blocks/", "get", "400", "/api/leave-blocks/?limit=0", emp.token, nil},
		{"/api/leave-blocks/", "post", "400", "/api/leave-blocks/", admin.token, map[string]string{"start_date": "2025-03-03", "end_date": "2025-03-07"}},
		{"/api/leave-blocks/", "post", "403", "/api/leave-blocks/", mgr.token, map[string]string{"start_date": "2025-03-03", "end_date": "2025-03-07", "reason": "mine"}},
		{"/api/leave-blocks/{id}/", "delete", "403", "/api/leave-blocks/" + unknown + "/", emp.token, nil},
		{"/api/leave-blocks/{id}/", "delete", "404", "/api/leave-blocks/" + unknown + "/", admin.token, nil},
		{"/api/leave-calendar/", "get", "400", "/api/leave-calendar/?from=2024-02-01&to=2024-01-01", emp.token, nil},
		{"/api/leave-management/", "get", "400", "/api/leave-management/?limit=0", emp.token, nil},
		{"/api/leave-management/", "get", "404", "/api/leave-management/?employee_id=" + unknown, emp.token, nil},
		{"/api/leave-management/{id}/", "get", "404", "/api/leave-management/" + unknown + "/", emp.token, nil},
		{"/api/leave-management/{id}/change-status/", "post", "400", "/api/leave-management/" + pending.ID + "/change-status/", mgr.token, map[string]string{"status": "maybe"}},
		{"/api/leave-management/{id}/change-status/", "post", "403", "/api/leave-management/" + pending.ID + "/change-status/", emp.token, map[string]string{"status": "approved"}},
		{"/api/leave-management/{id}/change-status/", "post", "404", "/api/leave-management/" + unknown + "/change-status/", mgr.token, map[string]string{"status": "approved"}},
		{"/api/leave-management/{id}/change-status/", "post", "409", "/api/leave-management/" + rejected.ID + "/change-status/", mgr.token, map[string]string{"status": "approved"}},
		{"/api/leave-management/{id}/change-status/", "post", "422", "/api/leave-management/" + pending.ID + "/change-status/", mgr.token, map[string]string{"status": "approved"}},
		{"/api/leave-management/{id}/cancel/", "post", "403", "/api/leave-management/" + approved.ID + "/cancel/", emp.token, nil},
		{"/api/leave-management/{id}/cancel/", "post", "404", "/api/leave-management/" + unknown + "/cancel/", mgr.token, nil},
		{"/api/leave-management/{id}/cancel/", "post", "409", "/api/leave-management/" + rejected.ID + "/cancel/", mgr.token, nil},
		{"/api/leave-balances/{employee_id}/", "get", "400", "/api/leave-balances/" + emp.ID + "/?year=0", emp.token, nil},
		{"/api/leave-balances/{employee_id}/", "get", "404", "/api/leave-balances/" + unknown + "/", emp.token, nil},
		{"/api/leave-balances/{employee_id}/", "put", "400", "/api/leave-balances/" + emp.ID + "/", mgr.token, map[string]any{"year": 2024}},
		{"/api/leave-balances/{employee_id}/", "put", "403", "/api/leave-balances/" + emp.ID + "/", emp.token, map[string]any{"year": 2024, "entitlement_days": 30}},
		{"/api/leave-balances/{employee_id}/", "put", "404", "/api/leave-balances/" + unknown + "/", mgr.token, map[string]any{"year": 2024, "entitlement_days": 30}},
		{"/api/leave-management/", "post", "404", "/api/leave-management/", mgr.token, map[string]string{"start_date": "2024-12-02", "end_date": "2024-12-06", "employee_id": unknown}},
		{"/api/leave-balances/{employee_id}/all/", "get", "400", "/api/leave-balances/" + emp.ID + "/all/?year=0", emp.token, nil},
		{"/api/leave-balances/{employee_id}/all/", "get", "404", "/api/leave-balances/" + unknown + "/all/", emp.token, nil},
		{"/api/leave-balances/{employee_id}/ledger/", "get", "400", "/api/leave-balances/" + emp.ID + "/ledger/?year=0", emp.token, nil},
		{"/api/leave-balances/{employee_id}/ledger/", "get", "404", "/api/leave-balances/" + unknown + "/ledger/", emp.token, nil},
		{"/api/leave-balances/{employee_id}/adjustments/", "post", "400", "/api/leave-balances/" + emp.ID + "/adjustments/", mgr.token, map[string]any{"days": 1}},
		{"/api/leave-balances/{employee_id}/adjustments/", "post", "403", "/api/leave-balances/" + emp.ID + "/adjustments/", emp.token, map[string]any{"days": 1, "reason": "mine"}},
		{"/api/leave-balances/{employee_id}/adjustments/", "post", "404", "/api/leave-balances/" + unknown + "/adjustments/", mgr.token, map[string]any{"days": 1, "reason": "x"}},
		{"/api/leave-balances/{employee_id}/adjustments/", "post", "422", "/api/leave-balances/" + other.ID + "/adjustments/", admin.token, map[string]any{"days": -5, "reason": "sold back"}},
		{"/api/employees/{id}/erase/", "post", "403", "/api/employees/" + emp.ID + "/erase/", mgr.token, map[string]string{"reason": "asked for"}},
		{"/api/employees/{id}/erase/", "post", "404", "/api/employees/" + unknown + "/erase/", admin.token, map[string]string{"reason": "asked for"}},
		{"/api/employees/{id}/export/", "get", "403", "/api/employees/" + emp.ID + "/export/", mgr.token, nil},
		{"/api/employees/{id}/export/", "get", "404", "/api/employees/" + unknown + "/export/", emp.token, nil},
		{"/api/notifications/", "get", "400", "/api/notifications/?limit=0", emp.token, nil},
		{"/api/notifications/{id}/mark-as-read/", "post", "403", "/api/notifications/" + unknown + "/mark-as-read/", auditor.token, nil},
		{"/api/notifications/{id}/mark-as-read/", "post", "404", "/api/notifications/" + unknown + "/mark-as-read/", emp.token, nil},
		{"/api/approval-policy/", "get", "403", "/api/approval-policy/", emp.token, nil},
		{"/api/approval-policy/", "put", "400", "/api/approval-policy/", admin.token, map[string]any{"rules": []any{map[string]any{"steps": []string{}}}}},
		{"/api/approval-policy/", "put", "403", "/api/approval-policy/", mgr.token, map[string]any{"rules": []any{}}},
		{"/api/delegations/", "post", "400", "/api/delegations/", mgr.token,
			map[string]string{"delegate_id": emp.ID, "start_date": "2024-12-09", "end_date": "2024-12-02"}},
		{"/api/delegations/", "post", "403", "/api/delegations/", emp.token,
			map[string]string{"delegate_id": mgr.ID, "start_date": "2024-12-02", "end_date": "2024-12-09"}},
		{"/api/delegations/", "get", "400", "/api/delegations/?limit=0", emp.token, nil},
		{"/api/delegations/{id}/", "delete", "403", "/api/delegations/" + unknown + "/", emp.token, nil},
		{"/api/delegations/{id}/", "delete", "404", "/api/delegations/" + unknown + "/", admin.token, nil},
		{"/api/reports/monthly-work/", "get", "400", "/api/reports/monthly-work/?month=13", mgr.token, nil},
		{"/api/reports/monthly-work/", "get", "404", "/api/reports/monthly-work/?employee_id=" + unknown, mgr.token, nil},
	}
	// Every operation shown refusing a request without a token does.
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if res, ok := op.Responses["401"]; ok && doc.example(res.Schema.Ref, "title") != nil {
				url := strings.NewReplacer("{id}", unknown, "{employee_id}", unknown, "{date}", "2024-05-01").Replace(path)
				failures = append(failures, failure{path, method, "401", url, "", nil})
			}
		}
	}

	type shown struct {
		Title  string            `json:"title"`
		Status int               `json:"status"`
		Detail string            `json:"detail"`
		Errors map[string]string `json:"errors"`
	}
	reproduced := map[string]bool{}
	for _, f := range failures {
		op := f.method + " " + f.path + " " + f.status
		ref := doc.Paths[f.path][f.method].Responses[f.status].Schema.Ref
		var want shown
		for field, into := range map[string]any{"title": &want.Title, "status": &want.Status, "detail": &want.Detail, "errors": &want.Errors} {
			if ex := doc.example(ref, field); ex != nil {
				if err := json.Unmarshal(ex, into); err != nil {
					t.Fatalf("%s: example %s of %s: %v", op, field, ref, err)
				}
			}
		}
		if want.Status == 0 {
			t.Errorf("%s: the document shows no example status (%q)", op, ref)
			continue
		}
		var headers []string
		if b, ok := f.body.(csvBody); ok {
			f.body, headers = string(b), []string{"Content-Type", "text/csv"}
		}
		r := a.call(strings.ToUpper(f.method), f.url, f.token, f.body, headers...)
		var got shown
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Errorf("%s: %s %s = %s, not a problem document", op, f.method, f.url, r)
			continue
		}
		if got.Title != want.Title || got.Status != want.Status || got.Detail != want.Detail || !maps.Equal(got.Errors, want.Errors) {
			t.Errorf("%s: %s %s answers %+v, the document's example is %+v", op, f.method, f.url, got, want)
		}
		reproduced[op] = true
	}

	// Every failure shown with an example is one of those reproduced above,
	// and shows its own status.
	for path, ops := range doc.Paths {
		for method, op := range ops {
			for status, res := range op.Responses {
				ex := doc.example(res.Schema.Ref, "status")
				if status[0] < '4' || ex == nil || doc.example(res.Schema.Ref, "title") == nil { // not a problem document
					continue
				}
				if string(ex) != status {
					t.Errorf("%s %s %s: the example's status is %s", method, path, status, ex)
				}
				if !reproduced[method+" "+path+" "+status] {
					t.Errorf("%s %s %s: an example no request here reproduces", method, path, status)
				}
			}
		}
	}
}

// csvBody is a failure's body sent as text/csv.
type csvBody string
