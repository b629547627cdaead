package http

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
)

const testHeader = "email,full_name,role,manager_email,position,hire_date,timezone,work_start,work_end,workdays,password\n"

func TestParseImport(t *testing.T) {
	t.Parallel()
	nine := calendar.Clock(9 * 60)
	body := "\uFEFF" + testHeader +
		"a@example.com, Ayşe ,manager,,Lead,2024-01-15,Europe/Berlin,09:00,,\"1-3,5\", pass word \n" +
		"\n" +
		"b@example.com,B,,a@example.com,,,,,,,\n" +
		"c@example.com,C,boss,,,2024-02-30,,25:00,,0-9,\n" +
		"d@example.com,D\n"
	lines, refused, err := parseImport([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []command.ImportLine{
		{Line: 2, Email: "a@example.com", FullName: "Ayşe", Role: employee.RoleManager, Position: "Lead",
			HireDate: calendar.Date{Year: 2024, Month: 1, Day: 15}, Password: " pass word ",
			Schedule: &command.SchedulePatch{Timezone: ptr("Europe/Berlin"), WorkStart: &nine, Workdays: []int{1, 2, 3, 5}}},
		{Line: 4, Email: "b@example.com", FullName: "B", Role: employee.RoleEmployee, ManagerEmail: "a@example.com"},
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	wantRefused := []ImportErrorJSON{
		{Line: 5, Error: "hire_date: must be a real date YYYY-MM-DD between 0001-01-01 and 9999-12-31; role: " + employee.ErrInvalidRole.Error() +
			"; work_start: must be a time of day HH:MM between 00:00 and 23:59; workdays: " + errBadWorkdays.Error()},
		{Line: 6, Error: "line: must have 11 cells, has 2"},
	}
	if diff := cmp.Diff(wantRefused, refused); diff != "" {
		t.Errorf("refused (-want +got):\n%s", diff)
	}
}

func TestParseImportRefusesTheFile(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"empty":               "",
		"another header":      "email,name\nx@example.com,X\n",
		"header only in part": strings.Replace(testHeader, "password", "pass", 1),
		"bare quote":          testHeader + "x@example.com,X \"Y\",,,,,,,,,\n",
		"open quote":          testHeader + "x@example.com,\"X,,,,,,,,,\n",
		"10,001 lines":        testHeader + strings.Repeat("x@example.com,X,,,,,,,,,\n", maxImportLines+1),
	} {
		if _, _, err := parseImport([]byte(body)); err == nil {
			t.Errorf("%s: parsed, want refused", name)
		}
	}
	_, _, err := parseImport([]byte(testHeader + strings.Repeat("x@example.com,X,,,,,,,,,\n", maxImportLines+1)))
	var he *echo.HTTPError
	if !errors.As(err, &he) || he.Code != 413 {
		t.Errorf("10,001 lines = %v, want 413", err)
	}
	if lines, _, err := parseImport([]byte(testHeader + strings.Repeat("x@example.com,X,,,,,,,,,\n", maxImportLines))); err != nil || len(lines) != maxImportLines {
		t.Errorf("10,000 lines = %d lines, %v; want all", len(lines), err)
	}
}

func TestParseWorkdays(t *testing.T) {
	t.Parallel()
	for s, want := range map[string][]int{"1-5": {1, 2, 3, 4, 5}, "1,2,3": {1, 2, 3}, "7, 1-2 ,2": {1, 2, 7}, "6-6": {6}} {
		if got, err := parseWorkdays(s); err != nil || !cmp.Equal(got, want) {
			t.Errorf("parseWorkdays(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"0", "8", "5-1", "1-", "-", "a", "1;2", "1,,2", "1-99999999999999999999"} {
		if _, err := parseWorkdays(s); err == nil {
			t.Errorf("parseWorkdays(%q) accepted", s)
		}
	}
}

func TestIsCSV(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]bool{
		"text/csv": true, "text/csv; charset=utf-8": true, "TEXT/CSV; charset=UTF-8": true,
		"": false, "application/json": false, "text/csv; charset=latin1": false, "text/csv;;": false, "text/plain": false,
	} {
		if got := isCSV(ct); got != want {
			t.Errorf("isCSV(%q) = %v, want %v", ct, got, want)
		}
	}
}

// FuzzParseImport feeds arbitrary files: each is refused or parsed into
// lines whose text Postgres takes, never a panic.
func FuzzParseImport(f *testing.F) {
	for _, s := range []string{"", testHeader, testHeader + "a@b.co,A,,,,,,,,1-5,\n", testHeader + "a@b.co,\"A\nB\",,,,,,,,,\n",
		testHeader + "\x00,\xff,,,,,,,,,\n", testHeader + "a,b\n", "\uFEFF" + testHeader + "x,\"\"\"\",,,,,,,,,\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		lines, refused, err := parseImport(body)
		if err != nil {
			if p, _ := problemFor(err); p.Status != 400 && p.Status != 413 {
				t.Fatalf("refused with %d (%v), want 400 or 413", p.Status, err)
			}
			return
		}
		for _, l := range lines {
			for _, s := range []string{l.Email, l.FullName, l.ManagerEmail, l.Position, l.Password, string(l.Role)} {
				if textProblem(s) != "" || len(s) > maxImportCell {
					t.Fatalf("line %d holds %q", l.Line, s)
				}
			}
		}
		for _, r := range refused {
			if !utf8.ValidString(r.Error) || r.Line < 2 {
				t.Fatalf("refusal %+v", r)
			}
		}
	})
}
