package main

import (
	"io"
	"strings"
	"testing"
)

// TestHostileInputs sends what a careless or hostile client might: every
// answer is a 4xx problem document, never a 500.
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	emp := a.register(admin, "employee", nil)
	other := a.register(admin, "employee", nil)
	huge := `{"reason":"` + strings.Repeat("x", 2<<20) + `"}`
	tests := []struct {
		name         string
		method, path string
		token        string
		body         any
		want         int
		field        string // named in errors, when set
	}{
		{"malformed json", "POST", "/api/attendance/", emp.token, `{"type":`, 400, ""},
		{"not an object", "POST", "/api/attendance/", emp.token, `["check-in"]`, 400, ""},
		{"two objects", "POST", "/api/attendance/", emp.token, `{"type":"check-in"}{"type":"check-in"}`, 400, ""},
		{"empty body", "POST", "/api/leave-management/", emp.token, ``, 400, ""},
		{"wrong type", "POST", "/api/attendance/", emp.token, `{"type":1}`, 400, "type"},
		{"unknown attendance type", "POST", "/api/attendance/", emp.token, `{"type":"lunch"}`, 400, "type"},
		{"huge body", "POST", "/api/leave-management/", emp.token, huge, 413, ""},
		{"huge chunked body", "POST", "/api/leave-management/", emp.token, io.MultiReader(strings.NewReader(huge)), 413, ""},
		{"huge chunked body with a key", "POST", "/api/attendance/", emp.token, io.MultiReader(strings.NewReader(huge)), 413, ""},
		{"february 30", "POST", "/api/leave-management/", emp.token, `{"start_date":"2024-02-30","end_date":"2024-03-01"}`, 400, "start_date"},
		{"year 0", "POST", "/api/leave-management/", emp.token, `{"start_date":"0000-01-01","end_date":"0000-01-02"}`, 400, "start_date"},
		{"year 10000", "POST", "/api/leave-management/", emp.token, `{"start_date":"2024-01-01","end_date":"10000-01-01"}`, 400, "end_date"},
		{"dates as numbers", "POST", "/api/leave-management/", emp.token, `{"start_date":20241201,"end_date":true}`, 400, "start_date"},
		{"spans years", "POST", "/api/leave-management/", emp.token, `{"start_date":"2024-12-30","end_date":"2025-01-02"}`, 422, ""},
		{"unknown status", "POST", "/api/leave-management/00000000-0000-0000-0000-000000000000/change-status/", admin.token, `{"status":"maybe"}`, 404, ""},
		{"non-uuid id", "GET", "/api/employees/abc/", admin.token, nil, 404, ""},
		{"sql in id", "GET", "/api/leave-management/1'%20OR%20'1'='1/", admin.token, nil, 404, ""},
		{"unknown uuid", "GET", "/api/employees/00000000-0000-0000-0000-000000000000/", admin.token, nil, 404, ""},
		{"other user's balance", "GET", "/api/leave-balances/" + other.ID + "/", emp.token, nil, 404, ""},
		{"other user's attendance", "GET", "/api/attendance/?employee_id=" + other.ID, emp.token, nil, 404, ""},
		{"non-uuid employee filter", "GET", "/api/attendance/?employee_id=xyz", emp.token, nil, 400, "employee_id"},
		{"bad date range", "GET", "/api/attendance/?from=2024-13-01&to=2024-01-00", emp.token, nil, 400, "from"},
		{"range too long", "GET", "/api/attendance/?from=2020-01-01&to=2024-01-01", emp.token, nil, 400, "to"},
		{"limit zero", "GET", "/api/employees/?limit=0", admin.token, nil, 400, "limit"},
		{"limit huge", "GET", "/api/employees/?limit=100000", admin.token, nil, 400, "limit"},
		{"limit text", "GET", "/api/notifications/?limit=ten", emp.token, nil, 400, "limit"},
		{"bad after", "GET", "/api/notifications/?after=-5", emp.token, nil, 400, "after"},
		{"bad unread", "GET", "/api/notifications/?unread=maybe", emp.token, nil, 400, "unread"},
		{"month 13", "GET", "/api/reports/monthly-work/?year=2024&month=13", admin.token, nil, 400, "month"},
		{"year 0 report", "GET", "/api/reports/monthly-work/?year=0&month=1", admin.token, nil, 400, "year"},
		{"year 10000 report", "GET", "/api/reports/monthly-work/?year=10000&month=1", admin.token, nil, 400, "year"},
		{"unknown format", "GET", "/api/reports/monthly-work/?format=docx", admin.token, nil, 400, "format"},
		{"bad cursor", "GET", "/api/events/?after=yesterday", admin.token, nil, 400, "after"},
		{"bad as_of", "GET", "/api/leave-balances/" + emp.ID + "/?as_of=2024-02-30", emp.token, nil, 400, "as_of"},
		{"bad year", "GET", "/api/leave-balances/" + emp.ID + "/?year=10000", emp.token, nil, 400, "year"},
		{"bad leave status filter", "GET", "/api/leave-management/?status=maybe", emp.token, nil, 400, "status"},
		{"holiday bad date", "POST", "/api/holidays/", admin.token, `{"date":"2024-02-30","name":"x"}`, 400, "date"},
		{"holiday delete bad date", "DELETE", "/api/holidays/notadate/", admin.token, nil, 404, ""},
		{"entitlement negative", "PUT", "/api/leave-balances/" + emp.ID + "/", admin.token, `{"year":2024,"entitlement_days":-1}`, 400, "entitlement_days"},
		{"entitlement overflow", "PUT", "/api/leave-balances/" + emp.ID + "/", admin.token, `{"year":2024,"entitlement_days":1e400}`, 400, "entitlement_days"},
		{"unknown role", "POST", "/api/employees/", admin.token, `{"email":"x@example.com","password":"12345678","full_name":"x","role":"root"}`, 400, "role"},
		{"bad email", "POST", "/api/employees/", admin.token, `{"email":"not-an-email","password":"12345678","full_name":"x","role":"employee"}`, 400, "email"},
		{"bad email beside other bad fields", "POST", "/api/employees/", admin.token, `{"email":"x","password":"1"}`, 400, "email"},
		{"password too long", "POST", "/api/employees/", admin.token, `{"email":"y@example.com","password":"` + strings.Repeat("p", 100) + `","full_name":"x"}`, 400, "password"},
		{"unknown manager", "POST", "/api/employees/", admin.token, `{"email":"z@example.com","password":"12345678","full_name":"x","manager_id":"00000000-0000-0000-0000-000000000000"}`, 400, "manager_id"},
		{"bad token", "GET", "/api/auth/me/", "not.a.token", nil, 401, ""},
		{"bad refresh", "POST", "/api/auth/refresh/", "", `{"refresh_token":"x"}`, 401, ""},
		{"login unknown email", "POST", "/api/auth/login/", "", `{"email":"nobody@example.com","password":"whatever1"}`, 401, ""},
		{"login missing fields", "POST", "/api/auth/login/", "", `{}`, 400, "email"},
		{"unknown route", "GET", "/api/nothing/", emp.token, nil, 404, ""},
		{"wrong method", "DELETE", "/api/attendance/", emp.token, nil, 404, ""},
		{"idempotency key too long", "POST", "/api/attendance/", emp.token, `{"type":"check-in"}`, 400, "Idempotency-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			switch tt.name {
			case "idempotency key too long":
				headers = []string{"Idempotency-Key", strings.Repeat("k", 300)}
			case "huge chunked body with a key":
				headers = []string{"Idempotency-Key", "big"}
			}
			r := a.call(tt.method, tt.path, tt.token, tt.body, headers...)
			if r.status != tt.want {
				t.Fatalf("%s %s = %s, want %d", tt.method, tt.path, r, tt.want)
			}
			p := decodeProblem(t, r)
			if tt.field != "" {
				if _, ok := p.Errors[tt.field]; !ok {
					t.Errorf("errors = %v, want %q named", p.Errors, tt.field)
				}
			}
		})
	}
}
