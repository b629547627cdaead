package main

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type correctionJSON struct {
	ID          string     `json:"id"`
	EmployeeID  string     `json:"employee_id"`
	Date        string     `json:"date"`
	CheckIn     *time.Time `json:"check_in"`
	CheckOut    *time.Time `json:"check_out"`
	Reason      string     `json:"reason"`
	Status      string     `json:"status"`
	RequestedBy string     `json:"requested_by"`
	CreatedAt   time.Time  `json:"created_at"`
	DecidedBy   *string    `json:"decided_by"`
	Note        string     `json:"note"`
}

type correctionPage struct {
	Items     []correctionJSON `json:"items"`
	NextAfter *string          `json:"next_after"`
}

type dayJSON struct {
	Date          string     `json:"date"`
	CheckIn       *time.Time `json:"check_in"`
	CheckOut      *time.Time `json:"check_out"`
	WorkedMinutes int        `json:"worked_minutes"`
	LateMinutes   int        `json:"late_minutes"`
	Status        string     `json:"status"`
	NeedsReview   bool       `json:"needs_review"`
	Corrected     bool       `json:"corrected"`
}

// utcDays is a Monday-to-Friday day shift, 08:00-17:00 UTC.
var utcDays = map[string]any{"timezone": "UTC", "work_start": "08:00", "work_end": "17:00", "workdays": []int{1, 2, 3, 4, 5}}

// notified waits until u has a notification of typ whose data holds key = value.
func (a *app) notified(u user, typ, key, value string) map[string]any {
	a.t.Helper()
	var found map[string]any
	eventually(a.t, typ+" to "+u.Role, func() bool {
		var inbox struct {
			Items []struct {
				Type string         `json:"type"`
				Data map[string]any `json:"data"`
			}
		}
		a.must(http.StatusOK, "GET", "/api/notifications/", u.token, nil, &inbox)
		for _, n := range inbox.Items {
			if n.Type == typ && n.Data[key] == value {
				found = n.Data
				return true
			}
		}
		return false
	})
	return found
}

func (a *app) day(u user, id, date string) dayJSON {
	a.t.Helper()
	var page struct{ Items []dayJSON }
	a.must(http.StatusOK, "GET", fmt.Sprintf("/api/attendance/?employee_id=%s&from=%s&to=%s", id, date, date), u.token, nil, &page)
	if len(page.Items) != 1 {
		return dayJSON{}
	}
	return page.Items[0]
}

// TestAttendanceCorrection files a correction of a day never checked in,
// has it approved by the manager, and reads the day, the report in JSON and
// CSV, the notifications both ways and the history, which keeps both events.
func TestAttendanceCorrection(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "schedule": utcDays})

	// Tuesday 3 December 2024: no check-in; the correction makes the day,
	// 10 minutes late.
	body := map[string]string{"date": "2024-12-03", "check_in": "2024-12-03T08:10:00Z", "check_out": "2024-12-03T17:00:00Z", "reason": "badge reader down"}
	var filed correctionJSON
	a.must(http.StatusCreated, "POST", "/api/attendance/corrections/", emp.token, body, &filed)
	if filed.Status != "pending" || filed.EmployeeID != emp.ID || filed.Date != "2024-12-03" || filed.Reason != "badge reader down" ||
		filed.CheckIn == nil || !filed.CheckIn.Equal(time.Date(2024, 12, 3, 8, 10, 0, 0, time.UTC)) || filed.RequestedBy != emp.ID ||
		filed.CreatedAt.IsZero() || filed.DecidedBy != nil {
		t.Fatalf("filed: got %+v, want pending, as sent, by the employee", filed)
	}
	a.notified(mgr, "correction_requested", "correction_id", filed.ID)

	path := "/api/attendance/corrections/" + filed.ID + "/change-status/"
	if r := a.call("POST", path, emp.token, map[string]string{"status": "approved"}); r.status != http.StatusForbidden {
		t.Errorf("the employee approves their own: got %s, want 403", r)
	}
	other := a.register(admin, "manager", nil)
	if r := a.call("POST", path, other.token, map[string]string{"status": "approved"}); r.status != http.StatusNotFound {
		t.Errorf("another manager approves: got %s, want 404", r)
	}
	if r := a.call("POST", path, mgr.token, map[string]string{"status": "maybe"}); r.status != http.StatusBadRequest || decodeProblem(t, r).Errors["status"] == "" {
		t.Errorf("a decision that is none: got %s, want 400 naming status", r)
	}
	var decided correctionJSON
	a.must(http.StatusOK, "POST", path, mgr.token, map[string]string{"status": "approved", "note": "ok"}, &decided)
	if decided.Status != "approved" || decided.DecidedBy == nil || *decided.DecidedBy != mgr.ID || decided.Note != "ok" {
		t.Errorf("decided: got %+v, want approved by the manager with the note", decided)
	}
	if r := a.call("POST", path, mgr.token, map[string]string{"status": "rejected"}); r.status != http.StatusConflict {
		t.Errorf("deciding again: got %s, want 409", r)
	}
	data := a.notified(emp, "correction_decided", "correction_id", filed.ID)
	if data["status"] != "approved" {
		t.Errorf("correction_decided: got %v, want approved", data)
	}

	var d dayJSON
	eventually(t, "the corrected day", func() bool { d = a.day(mgr, emp.ID, "2024-12-03"); return d.Corrected })
	want := dayJSON{Date: "2024-12-03", CheckIn: filed.CheckIn, CheckOut: filed.CheckOut, WorkedMinutes: 530, LateMinutes: 10, Status: "late", Corrected: true}
	if d.Date != want.Date || !d.CheckIn.Equal(*want.CheckIn) || !d.CheckOut.Equal(*want.CheckOut) || d.WorkedMinutes != 530 || d.LateMinutes != 10 ||
		d.Status != "late" || d.NeedsReview {
		t.Errorf("day: got %+v, want %+v", d, want)
	}

	report := "/api/reports/monthly-work/?year=2024&month=12&employee_id=" + emp.ID
	var rep struct {
		Employees []struct {
			DaysWorked    int `json:"days_worked"`
			WorkedMinutes int `json:"worked_minutes"`
			LateDays      int `json:"late_days"`
			LateMinutes   int `json:"late_minutes"`
			CorrectedDays int `json:"corrected_days"`
		}
	}
	eventually(t, "the report counts the day", func() bool {
		a.must(http.StatusOK, "GET", report, emp.token, nil, &rep)
		return len(rep.Employees) == 1 && rep.Employees[0].WorkedMinutes == 530
	})
	if r := rep.Employees[0]; r.DaysWorked != 1 || r.LateDays != 1 || r.LateMinutes != 10 || r.CorrectedDays != 1 {
		t.Errorf("report: got %+v, want 1 day worked, late 10 minutes, 1 corrected", r)
	}
	records, err := csv.NewReader(strings.NewReader(string(a.must(http.StatusOK, "GET", report+"&format=csv", mgr.token, nil, nil).body))).ReadAll()
	if err != nil || len(records) != 2 {
		t.Fatalf("csv: got %v, %v; want a header and a row", records, err)
	}
	if i := slices.Index(records[0], "corrected_days"); i < 0 || records[1][i] != "1" {
		t.Errorf("csv: got %v, want corrected_days 1", records)
	}
	for _, format := range []string{"xlsx", "pdf"} {
		a.must(http.StatusOK, "GET", report+"&format="+format, mgr.token, nil, nil)
	}

	var history struct {
		Items []struct {
			Type string `json:"type"`
		}
	}
	a.must(http.StatusOK, "GET", "/api/employees/"+emp.ID+"/history/", admin.token, nil, &history)
	var types []string
	for _, e := range history.Items {
		if strings.HasPrefix(e.Type, "attendance.") {
			types = append(types, e.Type)
		}
	}
	if want := []string{"attendance.correction_requested", "attendance.correction_approved"}; !slices.Equal(types, want) {
		t.Errorf("history: got %v, want %v", types, want)
	}
}

// TestForgottenCheckOutCorrected closes a forgotten check-out by the system
// and corrects it: the check-out is replaced, the day no longer needs review,
// and both check-outs stay in the history.
func TestForgottenCheckOutCorrected(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"AUTO_CHECKOUT_AFTER": "1s"})
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	// A one-minute shift that has ended: the check-in is after it.
	now := time.Now().UTC()
	for now.Hour() == 0 && now.Minute() < 2 {
		time.Sleep(time.Second)
		now = time.Now().UTC()
	}
	end := now.Truncate(time.Minute)
	schedule := map[string]any{"timezone": "UTC", "work_start": end.Add(-time.Minute).Format("15:04"), "work_end": end.Format("15:04"),
		"workdays": []int{1, 2, 3, 4, 5, 6, 7}}
	emp := a.register(mgr, "employee", map[string]any{"manager_id": mgr.ID, "schedule": schedule})
	var in struct {
		At        time.Time `json:"at"`
		LocalDate string    `json:"local_date"`
	}
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-in"}, &in)
	eventually(t, "the forgotten check-out closed", func() bool { return a.day(emp, emp.ID, in.LocalDate).NeedsReview })

	out := in.At.Add(500 * time.Millisecond)
	var filed correctionJSON
	a.must(http.StatusCreated, "POST", "/api/attendance/corrections/", emp.token,
		map[string]string{"date": in.LocalDate, "check_out": out.Format(time.RFC3339Nano), "reason": "left at once"}, &filed)
	a.must(http.StatusOK, "POST", "/api/attendance/corrections/"+filed.ID+"/change-status/", mgr.token, map[string]string{"status": "approved"}, nil)
	var d dayJSON
	eventually(t, "the day corrected", func() bool { d = a.day(emp, emp.ID, in.LocalDate); return d.Corrected })
	if d.NeedsReview || d.CheckOut == nil || d.CheckOut.Sub(out).Abs() >= time.Microsecond || d.CheckIn.Sub(in.At).Abs() >= time.Microsecond {
		t.Errorf("day: got %+v, want checked out at %s, reviewed", d, out)
	}
	month, _ := time.Parse(time.DateOnly, in.LocalDate)
	var rep struct {
		Employees []struct {
			ReviewDays    int `json:"review_days"`
			CorrectedDays int `json:"corrected_days"`
		}
	}
	// The report follows its own read model, monthly_hours, which may be a
	// moment behind the attendance days.
	eventually(t, "the report counts the correction", func() bool {
		a.must(http.StatusOK, "GET", fmt.Sprintf("/api/reports/monthly-work/?year=%d&month=%d&employee_id=%s", month.Year(), month.Month(), emp.ID), mgr.token, nil, &rep)
		return len(rep.Employees) == 1 && rep.Employees[0].CorrectedDays == 1
	})
	if rep.Employees[0].ReviewDays != 0 {
		t.Errorf("report: got %+v, want no day to review and one corrected", rep.Employees)
	}
	var history struct {
		Items []struct {
			Type string `json:"type"`
		}
	}
	a.must(http.StatusOK, "GET", "/api/employees/"+emp.ID+"/history/", admin.token, nil, &history)
	var types []string
	for _, e := range history.Items {
		if strings.HasPrefix(e.Type, "attendance.") {
			types = append(types, e.Type)
		}
	}
	want := []string{"attendance.checked_in", "attendance.auto_checked_out", "attendance.correction_requested", "attendance.correction_approved"}
	if !slices.Equal(types, want) {
		t.Errorf("history: got %v, want %v", types, want)
	}
	// The day is closed: the employee checks in again without a conflict.
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-in"}, nil)
}

// TestCorrectionInputs sends every refusal of a correction's filing.
func TestCorrectionInputs(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "schedule": utcDays})
	stranger := a.register(admin, "employee", map[string]any{"schedule": utcDays})
	tomorrow := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	tests := []struct {
		name   string
		caller user
		body   any
		status int
		fields []string
	}{
		{"no time", emp, map[string]string{"date": "2024-12-03", "reason": "r"}, 400, []string{"check_in", "check_out"}},
		{"no reason, no date", emp, map[string]string{"check_in": "2024-12-03T08:00:00Z"}, 400, []string{"reason", "date"}},
		{"a time that is none", emp, map[string]string{"date": "2024-12-03", "check_in": "08:00", "reason": "r"}, 400, []string{"check_in"}},
		{"the zero instant", emp, map[string]string{"date": "0001-01-01", "check_in": "0001-01-01T00:00:00Z", "check_out": "0001-01-01T01:00:00Z", "reason": "r"}, 400, []string{"check_in"}},
		{"a date that is none", emp, map[string]string{"date": "2024-02-30", "check_out": "2024-12-03T08:00:00Z", "reason": "r"}, 400, []string{"date"}},
		{"an employee_id that is none", mgr, map[string]string{"employee_id": "x", "date": "2024-12-03", "check_out": "2024-12-03T08:00:00Z", "reason": "r"}, 400, []string{"employee_id"}},
		{"a reason too long", emp, map[string]string{"date": "2024-12-03", "check_in": "2024-12-03T08:00:00Z", "check_out": "2024-12-03T09:00:00Z", "reason": strings.Repeat("x", 501)}, 400, []string{"reason"}},
		{"a NUL in the reason", emp, `{"date":"2024-12-03","check_in":"2024-12-03T08:00:00Z","reason":"a\u0000b"}`, 400, []string{"reason"}},
		{"a number for a time", emp, `{"date":"2024-12-03","check_in":8,"reason":"r"}`, 400, []string{"check_in"}},
		{"malformed JSON", emp, `{"date":`, 400, nil},
		{"a future date", emp, map[string]string{"date": tomorrow, "check_in": "2024-12-03T08:00:00Z", "check_out": "2024-12-03T09:00:00Z", "reason": "r"}, 422, nil},
		{"a future time", emp, map[string]string{"date": "2024-12-03", "check_in": "2024-12-03T08:00:00Z", "check_out": "2999-12-03T09:00:00Z", "reason": "r"}, 422, nil},
		{"check-out before check-in", emp, map[string]string{"date": "2024-12-03", "check_in": "2024-12-03T09:00:00Z", "check_out": "2024-12-03T08:00:00Z", "reason": "r"}, 422, nil},
		{"a check-in of another date", emp, map[string]string{"date": "2024-12-03", "check_in": "2024-12-04T08:00:00Z", "check_out": "2024-12-04T09:00:00Z", "reason": "r"}, 422, nil},
		{"one time on a day without a check-in", emp, map[string]string{"date": "2024-12-03", "check_out": "2024-12-03T17:00:00Z", "reason": "r"}, 422, nil},
		{"for someone not their report", mgr, map[string]string{"employee_id": stranger.ID, "date": "2024-12-03", "check_in": "2024-12-03T08:00:00Z", "check_out": "2024-12-03T09:00:00Z", "reason": "r"}, 404, nil},
		{"an employee for someone else", emp, map[string]string{"employee_id": mgr.ID, "date": "2024-12-03", "check_in": "2024-12-03T08:00:00Z", "check_out": "2024-12-03T09:00:00Z", "reason": "r"}, 404, nil},
	}
	for _, tt := range tests {
		r := a.call("POST", "/api/attendance/corrections/", tt.caller.token, tt.body)
		if r.status != tt.status {
			t.Errorf("%s: got %s, want %d", tt.name, r, tt.status)
			continue
		}
		p := decodeProblem(t, r)
		for _, f := range tt.fields {
			if p.Errors[f] == "" {
				t.Errorf("%s: got errors %v, want %s named", tt.name, p.Errors, f)
			}
		}
	}
	if r := a.call("POST", "/api/attendance/corrections/00000000-0000-0000-0000-000000000000/change-status/", mgr.token, map[string]string{"status": "approved"}); r.status != http.StatusNotFound {
		t.Errorf("an unknown correction: got %s, want 404", r)
	}
	if r := a.call("POST", "/api/attendance/corrections/not-an-id/change-status/", mgr.token, map[string]string{"status": "approved"}); r.status != http.StatusNotFound {
		t.Errorf("a correction id that is none: got %s, want 404", r)
	}
}

// TestCorrectionsByRole files corrections as each role, lists them as each
// role, and decides them as the manager and an admin.
func TestCorrectionsByRole(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	boot := a.admin()
	admin := a.register(boot, "admin", map[string]any{"schedule": utcDays})
	mgr := a.register(boot, "manager", map[string]any{"schedule": utcDays})
	emp := a.register(boot, "employee", map[string]any{"manager_id": mgr.ID, "schedule": utcDays})
	other := a.register(boot, "employee", map[string]any{"schedule": utcDays})
	auditor := a.register(boot, "auditor", nil)
	// The sagas find the admins, and the lists a manager's reports, in the
	// directory, which follows the registrations a moment later.
	eventually(t, "the directory", func() bool {
		var all, reports struct{ Items []user }
		a.must(http.StatusOK, "GET", "/api/employees/?limit=500", boot.token, nil, &all)
		a.must(http.StatusOK, "GET", "/api/employees/", mgr.token, nil, &reports)
		return len(all.Items) == 6 && len(reports.Items) == 1
	})

	file := func(caller user, employeeID, date string) correctionJSON {
		t.Helper()
		body := map[string]string{"date": date, "check_in": date + "T08:00:00Z", "check_out": date + "T16:00:00Z", "reason": "forgot"}
		if employeeID != "" {
			body["employee_id"] = employeeID
		}
		var c correctionJSON
		a.must(http.StatusCreated, "POST", "/api/attendance/corrections/", caller.token, body, &c)
		return c
	}
	own := file(emp, "", "2024-12-02")
	byManager := file(mgr, emp.ID, "2024-12-04")
	mgrOwn := file(mgr, "", "2024-12-02")
	byAdmin := file(admin, other.ID, "2024-12-02")
	if byManager.EmployeeID != emp.ID || byManager.RequestedBy != mgr.ID {
		t.Errorf("filed by the manager: got %+v, want the employee's, requested by the manager", byManager)
	}
	if r := a.call("POST", "/api/attendance/corrections/", auditor.token, map[string]string{"date": "2024-12-02", "check_in": "2024-12-02T08:00:00Z", "reason": "r"}); r.status != http.StatusForbidden {
		t.Errorf("an auditor files: got %s, want 403", r)
	}

	list := func(u user, query string) []string {
		t.Helper()
		var ids []string
		for after := ""; ; {
			var p correctionPage
			a.must(http.StatusOK, "GET", "/api/attendance/corrections/?limit=1"+query+after, u.token, nil, &p)
			for _, c := range p.Items {
				ids = append(ids, c.ID)
			}
			if p.NextAfter == nil {
				break
			}
			after = "&after=" + *p.NextAfter
		}
		slices.Sort(ids)
		return ids
	}
	sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
	all := sorted(own.ID, byManager.ID, mgrOwn.ID, byAdmin.ID)
	eventually(t, "the corrections listed", func() bool { return len(list(boot, "")) == 4 })
	for _, tt := range []struct {
		name  string
		u     user
		query string
		want  []string
	}{
		{"the employee", emp, "", sorted(own.ID, byManager.ID)},
		{"the manager", mgr, "", sorted(own.ID, byManager.ID)},
		{"the manager, their own", mgr, "&employee_id=" + mgr.ID, sorted(mgrOwn.ID)},
		{"an admin", admin, "", all},
		{"an auditor", auditor, "", all},
		{"an auditor, pending", auditor, "&status=pending", all},
		{"an auditor, approved", auditor, "&status=approved", nil},
		{"the other employee", other, "", sorted(byAdmin.ID)},
	} {
		// Each list reads the corrections and, for a manager, the directory.
		eventually(t, tt.name+" lists "+fmt.Sprint(tt.want), func() bool { return slices.Equal(list(tt.u, tt.query), tt.want) })
	}
	for _, q := range []string{"status=done", "employee_id=x", "limit=0", "after=x"} {
		if r := a.call("GET", "/api/attendance/corrections/?"+q, admin.token, nil); r.status != http.StatusBadRequest {
			t.Errorf("list ?%s: got %s, want 400", q, r)
		}
	}
	if r := a.call("GET", "/api/attendance/corrections/?employee_id="+other.ID, mgr.token, nil); r.status != http.StatusNotFound {
		t.Errorf("a manager lists someone else's: got %s, want 404", r)
	}

	decide := func(u user, id, status string) response {
		return a.call("POST", "/api/attendance/corrections/"+id+"/change-status/", u.token, map[string]string{"status": status})
	}
	for _, tt := range []struct {
		name   string
		u      user
		id     string
		status int
	}{
		{"an auditor", auditor, own.ID, http.StatusForbidden},
		{"the manager, their own", mgr, mgrOwn.ID, http.StatusForbidden},
		{"the employee", emp, byManager.ID, http.StatusForbidden},
		{"the manager", mgr, own.ID, http.StatusOK},
		{"an admin", admin, byAdmin.ID, http.StatusOK},
		{"an admin, the manager's own", admin, mgrOwn.ID, http.StatusOK},
	} {
		if r := decide(tt.u, tt.id, "rejected"); r.status != tt.status {
			t.Errorf("%s rejects: got %s, want %d", tt.name, r, tt.status)
		}
	}
	data := a.notified(emp, "correction_decided", "correction_id", own.ID)
	if data["status"] != "rejected" {
		t.Errorf("correction_decided: got %v, want rejected", data)
	}
	eventually(t, "rejections listed", func() bool { return len(list(auditor, "&status=rejected")) == 3 })
	if d := a.day(emp, emp.ID, "2024-12-02"); d.Corrected {
		t.Errorf("a rejected correction's day: got %+v, want none corrected", d)
	}
	// A manager without a manager files their own: the admins hear of it.
	a.notified(boot, "correction_requested", "correction_id", mgrOwn.ID)
}
