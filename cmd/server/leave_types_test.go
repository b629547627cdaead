package main

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

type leaveTypeJSON struct {
	Code                   string  `json:"code"`
	Name                   string  `json:"name"`
	Paid                   bool    `json:"paid"`
	Tracked                bool    `json:"tracked"`
	Accrual                string  `json:"accrual"`
	DaysPerYear            float64 `json:"days_per_year"`
	CarryOverMaxDays       float64 `json:"carry_over_max_days"`
	CarryOverExpiresMonths int     `json:"carry_over_expires_months"`
	HalfDays               bool    `json:"half_days"`
	Hours                  bool    `json:"hours"`
	PastRequests           bool    `json:"past_requests"`
	Active                 bool    `json:"active"`
}

type leaveTypeList struct {
	Items []leaveTypeJSON `json:"items"`
}

func (l leaveTypeList) find(code string) (leaveTypeJSON, bool) {
	for _, t := range l.Items {
		if t.Code == code {
			return t, true
		}
	}
	return leaveTypeJSON{}, false
}

// TestLeaveTypes: everyone lists the types, the four built-in ones from the
// start; only an admin creates and changes them, each change an event in the
// audit feed naming the admin.
func TestLeaveTypes(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"ANNUAL_LEAVE_DAYS": "18"})
	admin := a.admin()
	auditor := a.register(admin, "auditor", nil)
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})

	builtIn := map[string]leaveTypeJSON{
		"annual": {Code: "annual", Name: "Annual leave", Paid: true, Tracked: true, Accrual: "upfront", DaysPerYear: 18,
			CarryOverExpiresMonths: 3, HalfDays: true, PastRequests: true, Active: true},
		"sick":   {Code: "sick", Name: "Sick leave", Paid: true, Accrual: "none", HalfDays: true, PastRequests: true, Active: true},
		"unpaid": {Code: "unpaid", Name: "Unpaid leave", Accrual: "none", Active: true},
		"compensatory": {Code: "compensatory", Name: "Compensatory leave", Paid: true, Tracked: true, Accrual: "none",
			HalfDays: true, Hours: true, Active: true},
	}
	for _, u := range []user{emp, mgr, auditor, admin} {
		var list leaveTypeList
		a.must(http.StatusOK, "GET", "/api/leave-types/", u.token, nil, &list)
		if len(list.Items) != len(builtIn) {
			t.Fatalf("types listed = %+v, want the %d built-in ones", list.Items, len(builtIn))
		}
		for code, want := range builtIn {
			if got, _ := list.find(code); got != want {
				t.Errorf("%s = %+v, want %+v", code, got, want)
			}
		}
	}
	a.must(http.StatusUnauthorized, "GET", "/api/leave-types", "", nil, nil)

	study := map[string]any{"code": "study", "name": "Study leave", "paid": true, "tracked": true, "accrual": "monthly", "days_per_year": 6}
	for _, u := range []user{emp, mgr, auditor} {
		decodeProblem(t, a.must(http.StatusForbidden, "POST", "/api/leave-types/", u.token, study, nil))
		decodeProblem(t, a.must(http.StatusForbidden, "PATCH", "/api/leave-types/annual/", u.token, map[string]any{"days_per_year": 30}, nil))
	}
	var made leaveTypeJSON
	a.must(http.StatusCreated, "POST", "/api/leave-types/", admin.token, study, &made)
	want := leaveTypeJSON{Code: "study", Name: "Study leave", Paid: true, Tracked: true, Accrual: "monthly", DaysPerYear: 6, Active: true}
	if made != want {
		t.Errorf("created %+v, want %+v", made, want)
	}
	decodeProblem(t, a.must(http.StatusConflict, "POST", "/api/leave-types/", admin.token, study, nil))
	decodeProblem(t, a.must(http.StatusConflict, "POST", "/api/leave-types", admin.token, map[string]any{"code": "sick", "name": "Sick", "accrual": "none"}, nil))

	var changed leaveTypeJSON
	a.must(http.StatusOK, "PATCH", "/api/leave-types/annual", admin.token, map[string]any{"days_per_year": 20.5, "carry_over_max_days": 5}, &changed)
	wantAnnual := builtIn["annual"]
	wantAnnual.DaysPerYear, wantAnnual.CarryOverMaxDays = 20.5, 5
	if changed != wantAnnual {
		t.Errorf("changed annual = %+v, want %+v", changed, wantAnnual)
	}
	// The change counts from today: a year already begun keeps its grant, the
	// next one is granted the new days.
	nextYear := time.Now().Year() + 1
	firstWorkday := time.Date(nextYear, 3, 1, 0, 0, 0, 0, time.UTC)
	for firstWorkday.Weekday() == time.Saturday || firstWorkday.Weekday() == time.Sunday {
		firstWorkday = firstWorkday.AddDate(0, 0, 1)
	}
	for year, day := range map[int]string{2025: "2025-03-05", nextYear: firstWorkday.Format(time.DateOnly)} {
		a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": day, "end_date": day}, nil)
		var balance struct {
			Entitlement float64 `json:"entitlement"`
		}
		a.must(http.StatusOK, "GET", fmt.Sprintf("/api/leave-balances/%s/?year=%d", emp.ID, year), emp.token, nil, &balance)
		want := 18.0
		if year == nextYear {
			want = 20.5
		}
		if balance.Entitlement != want {
			t.Errorf("entitlement of %d after the change = %v, want %v", year, balance.Entitlement, want)
		}
	}
	a.must(http.StatusOK, "PATCH", "/api/leave-types/study/", admin.token, map[string]any{"active": false}, &changed)
	decodeProblem(t, a.must(http.StatusNotFound, "PATCH", "/api/leave-types/nope/", admin.token, map[string]any{"active": false}, nil))
	var list leaveTypeList
	a.must(http.StatusOK, "GET", "/api/leave-types/", emp.token, nil, &list)
	if got, _ := list.find("annual"); got != wantAnnual {
		t.Errorf("listed annual = %+v, want %+v", got, wantAnnual)
	}
	if got, ok := list.find("study"); !ok || got.Active {
		t.Errorf("listed study = %+v, %t; want it inactive", got, ok)
	}

	var feed struct {
		Items []struct {
			StreamID string `json:"stream_id"`
			Type     string `json:"type"`
			Metadata struct {
				Actor string `json:"actor"`
			} `json:"metadata"`
		} `json:"items"`
	}
	// The feed shows what committed before the oldest transaction still open.
	eventually(t, "the policy events reach the audit feed", func() bool {
		a.must(http.StatusOK, "GET", "/api/events/?stream=leavetypes-company", auditor.token, nil, &feed)
		return len(feed.Items) == 3
	})
	var types []string
	for _, e := range feed.Items {
		if e.StreamID != "leavetypes-company" || e.Metadata.Actor != admin.ID {
			t.Errorf("policy event %+v, want one in leavetypes-company by %s", e, admin.ID)
		}
		types = append(types, e.Type)
	}
	if got, want := strings.Join(types, " "), "leave_type.defined leave_type.changed leave_type.changed"; got != want {
		t.Errorf("policy events %q, want %q", got, want)
	}
}

// TestLeaveTypeBadInput: every bad field of a new or changed type is a 400
// naming it, and nothing is recorded.
func TestLeaveTypeBadInput(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	valid := func(edit map[string]any) map[string]any {
		body := map[string]any{"code": "study", "name": "Study leave", "tracked": true, "accrual": "upfront", "days_per_year": 5}
		for k, v := range edit {
			body[k] = v
		}
		return body
	}
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"no code", valid(map[string]any{"code": ""}), "code"},
		{"code of one letter", valid(map[string]any{"code": "s"}), "code"},
		{"code with a capital", valid(map[string]any{"code": "Study"}), "code"},
		{"code with a digit first", valid(map[string]any{"code": "1study"}), "code"},
		{"code with a dash", valid(map[string]any{"code": "study-leave"}), "code"},
		{"code of 33 characters", valid(map[string]any{"code": "s" + strings.Repeat("a", 32)}), "code"},
		{"code with a path", valid(map[string]any{"code": "../annual"}), "code"},
		{"code with a NUL", `{"code":"stu\u0000dy","name":"Study","accrual":"none"}`, "code"},
		{"code not a string", valid(map[string]any{"code": 7}), "code"},
		{"name with invalid UTF-8", "{\"code\":\"study\",\"name\":\"\xff\xfe\",\"accrual\":\"none\"}", "name"},
		{"blank name", valid(map[string]any{"name": "   "}), "name"},
		{"long name", valid(map[string]any{"name": strings.Repeat("n", 101)}), "name"},
		{"no name", map[string]any{"code": "study", "accrual": "none"}, "name"},
		{"no accrual", map[string]any{"code": "study", "name": "Study"}, "accrual"},
		{"unknown accrual", valid(map[string]any{"accrual": "weekly"}), "accrual"},
		{"negative days", valid(map[string]any{"days_per_year": -1}), "days_per_year"},
		{"huge days", valid(map[string]any{"days_per_year": 1e300}), "days_per_year"},
		{"days as text", valid(map[string]any{"days_per_year": "5"}), "days_per_year"},
		{"huge carry-over", valid(map[string]any{"carry_over_max_days": 400}), "carry_over_max_days"},
		{"expiry past december", valid(map[string]any{"carry_over_expires_months": 13}), "carry_over_expires_months"},
		{"untracked that accrues", valid(map[string]any{"tracked": false}), "tracked"},
		{"paid as text", valid(map[string]any{"paid": "yes"}), "paid"},
	}
	for _, tt := range tests {
		for _, path := range []string{"/api/leave-types/", "/api/leave-types/annual/"} {
			method := http.MethodPost
			if strings.HasSuffix(path, "annual/") {
				method = http.MethodPatch
				if tt.field == "code" || strings.HasPrefix(tt.name, "no ") {
					continue // a change has no code, and leaves out what it keeps
				}
			}
			body := tt.body
			if m, ok := body.(map[string]any); ok && method == http.MethodPatch {
				m = maps.Clone(m)
				delete(m, "code")
				body = m
			}
			got := a.call(method, path, admin.token, body)
			if got.status != http.StatusBadRequest {
				t.Errorf("%s %s: %s, want 400", method, tt.name, got)
				continue
			}
			if p := decodeProblem(t, got); p.Errors[tt.field] == "" {
				t.Errorf("%s %s: errors %v, want one naming %s", method, tt.name, p.Errors, tt.field)
			}
		}
	}
	decodeProblem(t, a.must(http.StatusBadRequest, "PATCH", "/api/leave-types/annual/", admin.token, map[string]any{"code": "holiday"}, nil))
	var list leaveTypeList
	a.must(http.StatusOK, "GET", "/api/leave-types/", admin.token, nil, &list)
	if len(list.Items) != 4 {
		t.Errorf("types after bad input = %d, want the 4 built-in ones", len(list.Items))
	}
	if annual, _ := list.find("annual"); annual.DaysPerYear != 15 {
		t.Errorf("annual after bad changes = %+v, want it unchanged", annual)
	}
}

// TestManyLeaveTypes: a company with hundreds of types lists every one, in
// the order they were made.
func TestManyLeaveTypes(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	const n = 300
	for i := range n {
		a.must(http.StatusCreated, "POST", "/api/leave-types/", admin.token,
			map[string]any{"code": fmt.Sprintf("type_%03d", i), "name": fmt.Sprint("Type ", i), "accrual": "none"}, nil)
	}
	var list leaveTypeList
	a.must(http.StatusOK, "GET", "/api/leave-types/", admin.token, nil, &list)
	if len(list.Items) != 4+n {
		t.Fatalf("types listed = %d, want %d", len(list.Items), 4+n)
	}
	for i, typ := range list.Items[4:] {
		if want := fmt.Sprintf("type_%03d", i); typ.Code != want {
			t.Fatalf("type %d = %s, want %s", i, typ.Code, want)
		}
	}
}
