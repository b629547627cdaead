package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const importHeader = "email,full_name,role,manager_email,position,hire_date,timezone,work_start,work_end,workdays,password\n"

type importResult struct {
	Created  int `json:"created"`
	Existing int `json:"existing"`
	Errors   []struct {
		Line  int    `json:"line"`
		Error string `json:"error"`
	} `json:"errors"`
}

// importCSV posts a file of employees as u.
func (a *app) importCSV(u user, file string) response {
	a.t.Helper()
	return a.call("POST", "/api/employees/import", u.token, file, "Content-Type", "text/csv")
}

// TestImportEmployees: an admin imports a file whose lines are registered
// or reported one by one; a manager may be a line before; importing the
// file again registers nobody twice; a line without a password cannot log
// in until an admin sets one; nobody else may import.
func TestImportEmployees(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	auditor := a.register(admin, "auditor", nil)

	file := importHeader + strings.Join([]string{
		"lead@example.com,Lea Lead,manager,,Team lead,2024-01-15,Europe/Berlin,09:00,18:00,1-5,lead-password",
		"dev@example.com, Deniz Dev ,,lead@example.com,Engineer,,,,,\"1,2,3\",",
		"night@example.com,Nil Night,employee," + mgr.Email + ",,,UTC,22:00,06:00,\"1-4,7\",",
		"not-an-email,Bad Email,,,,,,,,,",
		"role@example.com,Bad Role,root,,,,,,,,",
		"days@example.com,Bad Days,,,,,,,,8-9,",
		"short@example.com,Short Line",
		"nul@example.com,N\x00L,,,,,,,,,",
		"utf@example.com,\xff\xfe,,,,,,,,,",
		"huge@example.com," + strings.Repeat("x", 5000) + ",,,,,,,,,",
		"nomgr@example.com,No Manager,,nobody@example.com,,,,,,,",
		"pw@example.com,Short Password,,,,,,,,,short",
		emp.Email + ",Already Here,,,,,,,,,",
		"LEAD@example.com,Lead Again,,,,,,,,,",
		"",
		"zone@example.com,Bad Zone,,,,,Mars/Olympus,,,,",
	}, "\n") + "\n"
	var got importResult
	decode(t, a.importCSV(admin, file), &got)
	if got.Created != 3 || got.Existing != 2 {
		t.Errorf("created %d, existing %d; want 3 and 2 (%+v)", got.Created, got.Existing, got.Errors)
	}
	wantErrors := map[int]string{
		5: "email", 6: "role", 7: "workdays", 8: "line", 9: "full_name", 10: "full_name", 11: "full_name",
		12: "manager_email", 13: "password", 17: "timezone",
	}
	gotErrors := map[int]string{}
	for _, e := range got.Errors {
		field, _, _ := strings.Cut(e.Error, ":")
		gotErrors[e.Line] = field
	}
	if diff := cmp.Diff(wantErrors, gotErrors); diff != "" {
		t.Errorf("the fields of the lines refused (-want +got):\n%s\n%+v", diff, got.Errors)
	}

	// The same file again registers nobody and reports the same lines.
	var again importResult
	decode(t, a.importCSV(admin, file), &again)
	if again.Created != 0 || again.Existing != 5 || !cmp.Equal(got.Errors, again.Errors) {
		t.Errorf("second import: created %d, existing %d, errors %+v; want 0, 5 and the same errors", again.Created, again.Existing, again.Errors)
	}

	var all struct {
		Items []struct {
			ID        string  `json:"id"`
			Email     string  `json:"email"`
			FullName  string  `json:"full_name"`
			Role      string  `json:"role"`
			ManagerID *string `json:"manager_id"`
			HireDate  string  `json:"hire_date"`
			Schedule  struct {
				Timezone  string `json:"timezone"`
				WorkStart string `json:"work_start"`
				WorkEnd   string `json:"work_end"`
				Workdays  []int  `json:"workdays"`
			} `json:"schedule"`
		}
	}
	byEmail := map[string]int{}
	eventually(t, "the imported employees listed", func() bool {
		a.must(http.StatusOK, "GET", "/api/employees/?limit=500", admin.token, nil, &all)
		for i, e := range all.Items {
			byEmail[e.Email] = i
		}
		_, ok := byEmail["night@example.com"]
		return ok && len(all.Items) == 7
	})
	lead, dev, night := all.Items[byEmail["lead@example.com"]], all.Items[byEmail["dev@example.com"]], all.Items[byEmail["night@example.com"]]
	if lead.Role != "manager" || lead.HireDate != "2024-01-15" || lead.Schedule.Timezone != "Europe/Berlin" || lead.Schedule.WorkStart != "09:00" {
		t.Errorf("lead = %+v", lead)
	}
	if dev.FullName != "Deniz Dev" || dev.ManagerID == nil || *dev.ManagerID != lead.ID || !cmp.Equal(dev.Schedule.Workdays, []int{1, 2, 3}) {
		t.Errorf("dev = %+v, want Deniz Dev reporting to the lead of the line before, on 1,2,3", dev)
	}
	if night.ManagerID == nil || *night.ManagerID != mgr.ID || night.Schedule.WorkEnd != "06:00" || !cmp.Equal(night.Schedule.Workdays, []int{1, 2, 3, 4, 7}) {
		t.Errorf("night = %+v, want reporting to the manager, 22:00-06:00 on 1-4,7", night)
	}

	a.login("lead@example.com", "lead-password")
	// Without a password, nobody logs in until an admin sets one.
	if r := a.call("POST", "/api/auth/login/", "", map[string]string{"email": "dev@example.com", "password": ""}); r.status != http.StatusBadRequest && r.status != http.StatusUnauthorized {
		t.Errorf("login without a password = %s, want 400 or 401", r)
	}
	if r := a.call("POST", "/api/auth/login/", "", map[string]string{"email": "dev@example.com", "password": "any password at all"}); r.status != http.StatusUnauthorized {
		t.Errorf("login of an account without a password = %s, want 401", r)
	}
	a.must(http.StatusNoContent, "POST", "/api/employees/"+dev.ID+"/password", admin.token, map[string]string{"new_password": "set by the admin"}, nil)
	a.login("dev@example.com", "set by the admin")

	for _, u := range []user{emp, mgr, auditor} {
		if r := a.importCSV(u, importHeader+"x@example.com,X,,,,,,,,,\n"); r.status != http.StatusForbidden {
			t.Errorf("import as %s = %s, want 403", u.Role, r)
		}
	}
	if r := a.call("POST", "/api/employees/import", "", importHeader, "Content-Type", "text/csv"); r.status != http.StatusUnauthorized {
		t.Errorf("import without a token = %s, want 401", r)
	}
}

// TestImportRefusesHostileFiles: what is no file of employees is refused as
// a whole, registering nobody.
func TestImportRefusesHostileFiles(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	line := "x@example.com,X,,,,,,,,,\n"
	tooMany := importHeader + strings.Repeat(line, 10_001)
	for _, tt := range []struct {
		name, contentType, body string
		want                    int
	}{
		{"json", "application/json", `{"email":"x@example.com"}`, http.StatusUnsupportedMediaType},
		{"no content type", "", importHeader + line, http.StatusUnsupportedMediaType},
		{"latin-1", "text/csv; charset=iso-8859-1", importHeader + line, http.StatusUnsupportedMediaType},
		{"empty", "text/csv", "", http.StatusBadRequest},
		{"another header", "text/csv", "mail,name\n" + line, http.StatusBadRequest},
		{"a header short of a column", "text/csv", strings.Replace(importHeader, ",password", "", 1) + line, http.StatusBadRequest},
		{"a NUL in the header", "text/csv", "email\x00" + importHeader[5:] + line, http.StatusBadRequest},
		{"a bare quote", "text/csv", importHeader + "x@example.com,X \"Q\" Y,,,,,,,,,\n", http.StatusBadRequest},
		{"an open quote", "text/csv", importHeader + "x@example.com,\"X,,,,,,,,,\n", http.StatusBadRequest},
		{"10,001 lines", "text/csv", tooMany, http.StatusRequestEntityTooLarge},
		{"a body over 8 MiB", "text/csv", importHeader + "x@example.com," + strings.Repeat("x", 9<<20) + ",,,,,,,,,\n", http.StatusRequestEntityTooLarge},
	} {
		r := a.call("POST", "/api/employees/import", admin.token, tt.body, "Content-Type", tt.contentType)
		if r.status != tt.want {
			t.Errorf("%s: import = %.300s, want %d", tt.name, r, tt.want)
			continue
		}
		decodeProblem(t, r)
	}
	// The feed shows what committed before any transaction still open.
	var page struct{ Items []any }
	eventually(t, "the admin's registration in the feed", func() bool {
		a.must(http.StatusOK, "GET", "/api/events/?type=employee.registered", admin.token, nil, &page)
		return len(page.Items) > 0
	})
	if len(page.Items) != 1 {
		t.Errorf("registrations after the refused files = %d, want the admin's alone", len(page.Items))
	}
}

// TestImportTenThousand: a file of 10,000 lines without passwords, its
// managers among them, registers everyone, and again nobody.
func TestImportTenThousand(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	var b strings.Builder
	b.WriteString(importHeader)
	for i := range 10_000 {
		switch {
		case i%100 == 0:
			fmt.Fprintf(&b, "m%d@example.com,Manager %d,manager,,Lead,2024-01-01,,,,,\n", i/100, i)
		default:
			fmt.Fprintf(&b, "e%d@example.com,Employee %d,,m%d@example.com,Engineer,2024-01-01,,,,1-5,\n", i, i, i/100)
		}
	}
	start := time.Now()
	var got importResult
	decode(t, a.importCSV(admin, b.String()), &got)
	t.Logf("10,000 lines without passwords in %v", time.Since(start).Round(time.Millisecond))
	if got.Created != 10_000 || got.Existing != 0 || len(got.Errors) != 0 {
		t.Fatalf("created %d, existing %d, errors %d (%+v); want 10000, 0, 0", got.Created, got.Existing, len(got.Errors), got.Errors[:min(3, len(got.Errors))])
	}
	decode(t, a.importCSV(admin, b.String()), &got)
	if got.Created != 0 || got.Existing != 10_000 || len(got.Errors) != 0 {
		t.Errorf("again: created %d, existing %d, errors %d; want 0, 10000, 0", got.Created, got.Existing, len(got.Errors))
	}
}

// decode fails the test unless r is a 200 whose body decodes into out.
func decode(t *testing.T, r response, out any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("got %.500s, want 200", r)
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		t.Fatalf("decode %.500s: %v", r.body, err)
	}
}
