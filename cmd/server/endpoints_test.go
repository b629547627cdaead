package main

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

// TestHolidaysLeaveAndBalanceHistory: a holiday is not counted as leave; an
// entitlement change is answered from the events, also as of an earlier time.
func TestHolidaysLeaveAndBalanceHistory(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})

	var h struct{ Date, Name string }
	a.must(http.StatusCreated, "POST", "/api/holidays/", admin.token, map[string]string{"date": "2024-10-29", "name": "Republic Day"}, &h)
	if h.Date != "2024-10-29" || h.Name != "Republic Day" {
		t.Errorf("declared holiday = %+v", h)
	}
	a.must(http.StatusConflict, "POST", "/api/holidays/", admin.token, map[string]string{"date": "2024-10-29", "name": "Again"}, nil)
	var holidays struct{ Items []struct{ Date, Name string } }
	a.must(http.StatusOK, "GET", "/api/holidays/?year=2024", emp.token, nil, &holidays)
	if len(holidays.Items) != 1 || holidays.Items[0].Date != "2024-10-29" {
		t.Errorf("holidays of 2024 = %+v, want 2024-10-29", holidays.Items)
	}

	// Monday 28 to Friday 1 November, less the Tuesday holiday: 4 days.
	var req leaveJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-10-28", "end_date": "2024-11-01"}, &req)
	if req.Days != 4 {
		t.Errorf("days over a holiday = %d, want 4", req.Days)
	}

	before := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	var set balanceJSON
	a.must(http.StatusOK, "PUT", "/api/leave-balances/"+emp.ID+"/", mgr.token, map[string]any{"year": 2024, "entitlement_days": 20, "reason": "seniority"}, &set)
	if diff := cmp.Diff(balanceJSON{LeaveType: "annual", Year: 2024, Accrued: 20, Entitlement: 20, Pending: 4, Remaining: 20, Available: 16}, set); diff != "" {
		t.Errorf("balance after PUT (-want +got):\n%s", diff)
	}
	var then balanceJSON
	a.must(http.StatusOK, "GET", "/api/leave-balances/"+emp.ID+"/?year=2024&as_of="+before.Format(time.RFC3339Nano), emp.token, nil, &then)
	if diff := cmp.Diff(balanceJSON{LeaveType: "annual", Year: 2024, Accrued: 15, Entitlement: 15, Pending: 4, Remaining: 15, Available: 11}, then); diff != "" {
		t.Errorf("balance as of before the PUT (-want +got):\n%s", diff)
	}
	var early balanceJSON
	a.must(http.StatusOK, "GET", "/api/leave-balances/"+emp.ID+"/?year=2024&as_of=2020-01-01", emp.token, nil, &early)
	if early.Entitlement != 0 {
		t.Errorf("entitlement as of 2020 = %v, want 0: nothing was recorded then", early.Entitlement)
	}

	// Lowered below the pending request, the entitlement no longer covers its approval.
	a.must(http.StatusOK, "PUT", "/api/leave-balances/"+emp.ID+"/", admin.token, map[string]any{"year": 2024, "entitlement_days": 2}, nil)
	a.must(http.StatusUnprocessableEntity, "POST", "/api/leave-management/"+req.ID+"/change-status/", mgr.token, map[string]string{"status": "approved"}, nil)
	var still leaveJSON
	a.must(http.StatusOK, "GET", "/api/leave-management/"+req.ID+"/", emp.token, nil, &still)
	if still.Status != "pending" {
		t.Errorf("status after a refused approval = %q, want pending", still.Status)
	}

	a.must(http.StatusNoContent, "DELETE", "/api/holidays/2024-10-29", admin.token, nil, nil)
	a.must(http.StatusOK, "GET", "/api/holidays/?year=2024", emp.token, nil, &holidays)
	if len(holidays.Items) != 0 {
		t.Errorf("holidays after withdrawal = %+v, want none", holidays.Items)
	}
}

// TestReportsAndAudit: the monthly report in every format, the audit feed
// with its cursor, an employee's history, the directory.
func TestReportsAndAudit(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "full_name": "Ayşe Yılmaz"})
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-in"}, nil)

	now := time.Now().UTC()
	query := "/api/reports/monthly-work/?year=" + now.Format("2006") + "&month=" + now.Format("1")
	type row struct {
		EmployeeID string `json:"employee_id"`
		FullName   string `json:"full_name"`
		DaysWorked int    `json:"days_worked"`
	}
	var report struct {
		Year, Month int
		Employees   []row
	}
	eventually(t, "the check-in reaches the report", func() bool {
		a.must(http.StatusOK, "GET", query, mgr.token, nil, &report)
		return len(report.Employees) == 1 && report.Employees[0].DaysWorked == 1
	})
	if report.Employees[0].EmployeeID != emp.ID || report.Year != now.Year() {
		t.Errorf("manager's report = %+v, want one row of %s", report, emp.ID)
	}
	var own struct{ Employees []row }
	a.must(http.StatusOK, "GET", query, emp.token, nil, &own)
	if len(own.Employees) != 1 || own.Employees[0].EmployeeID != emp.ID {
		t.Errorf("employee's own report = %+v, want only themselves", own.Employees)
	}

	name := "monthly-work-" + now.Format("2006-01")
	formats := []struct{ format, contentType string }{
		{"csv", "text/csv; charset=utf-8"},
		{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"pdf", "application/pdf"},
	}
	for _, f := range formats {
		r := a.must(http.StatusOK, "GET", query+"&format="+f.format, mgr.token, nil, nil)
		if got := r.header.Get("Content-Type"); got != f.contentType {
			t.Errorf("%s Content-Type = %q, want %q", f.format, got, f.contentType)
		}
		if got, want := r.header.Get("Content-Disposition"), `attachment; filename="`+name+"."+f.format+`"`; got != want {
			t.Errorf("%s Content-Disposition = %q, want %q", f.format, got, want)
		}
		switch f.format {
		case "csv":
			records, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
			if err != nil || len(records) != 2 || records[1][0] != emp.ID || records[1][1] != "Ayşe Yılmaz" {
				t.Errorf("csv = %v (%v), want a header and the row of %s", records, err, emp.ID)
			}
		case "xlsx":
			x, err := excelize.OpenReader(bytes.NewReader(r.body))
			if err != nil {
				t.Fatalf("xlsx: %v", err)
			}
			rows, err := x.GetRows(now.Format("2006-01"))
			if err != nil || len(rows) != 2 || rows[1][0] != emp.ID {
				t.Errorf("xlsx rows = %v (%v), want a header and the row of %s", rows, err, emp.ID)
			}
		case "pdf":
			if !bytes.HasPrefix(r.body, []byte("%PDF-")) {
				t.Errorf("pdf starts with %q, want %%PDF-", r.body[:min(8, len(r.body))])
			}
			// Core PDF fonts cannot print "ş" or "ı": the report embeds a Unicode font.
			if !bytes.Contains(r.body, []byte("/BaseFont /utf8dejavusans")) {
				t.Error("pdf does not embed the DejaVu Sans font, so Turkish names print wrong")
			}
		}
	}

	// The audit feed pages with its cursor and names the actor.
	type event struct {
		StreamID string `json:"stream_id"`
		Type     string `json:"type"`
		Metadata struct {
			Actor string `json:"actor"`
		} `json:"metadata"`
	}
	var page struct {
		Items     []event
		NextAfter *string `json:"next_after"`
	}
	var all []event
	after := ""
	for range 100 {
		a.must(http.StatusOK, "GET", "/api/events/?limit=3&after="+after, admin.token, nil, &page)
		all = append(all, page.Items...)
		if page.NextAfter == nil {
			break
		}
		if *page.NextAfter == after {
			t.Fatalf("next_after did not move from %q", after)
		}
		after = *page.NextAfter
	}
	var checkIn *event
	for i, e := range all {
		if e.Type == "attendance.checked_in" {
			checkIn = &all[i]
		}
	}
	if checkIn == nil || checkIn.StreamID != "attendance-"+emp.ID || checkIn.Metadata.Actor != emp.ID {
		t.Fatalf("audit feed check-in = %+v, want one in attendance-%s by %s", checkIn, emp.ID, emp.ID)
	}
	var filtered struct{ Items []event }
	a.must(http.StatusOK, "GET", "/api/events/?type=attendance.checked_in", admin.token, nil, &filtered)
	if len(filtered.Items) != 1 {
		t.Errorf("events of type attendance.checked_in = %d, want 1", len(filtered.Items))
	}
	a.must(http.StatusOK, "GET", "/api/events/?employee_id="+emp.ID, admin.token, nil, &filtered)
	for _, e := range filtered.Items {
		if !strings.HasSuffix(e.StreamID, emp.ID) {
			t.Errorf("events of employee %s include %s", emp.ID, e.StreamID)
		}
	}
	if len(filtered.Items) < 3 { // registered, granted, checked in
		t.Errorf("events of the employee = %d, want at least 3", len(filtered.Items))
	}

	var history struct{ Items []event }
	a.must(http.StatusOK, "GET", "/api/employees/"+emp.ID+"/history/", mgr.token, nil, &history)
	var types []string
	for _, e := range history.Items {
		types = append(types, e.Type)
	}
	// Hired in 2024: the hire year's leave and this year's are granted.
	if want := []string{"employee.registered", "leave.granted", "leave.granted", "attendance.checked_in"}; !cmp.Equal(types[:min(4, len(types))], want) {
		t.Errorf("history types = %v, want to start with %v", types, want)
	}

	// The directory: the manager sees their report; PATCH changes the schedule.
	eventually(t, "the employee reaches the directory", func() bool {
		var list struct {
			Items []struct {
				ID string `json:"id"`
			}
		}
		a.must(http.StatusOK, "GET", "/api/employees/", mgr.token, nil, &list)
		return len(list.Items) == 1 && list.Items[0].ID == emp.ID
	})
	var patched struct {
		Position string `json:"position"`
		Schedule struct {
			WorkStart    string `json:"work_start"`
			GraceMinutes int    `json:"grace_minutes"`
			Timezone     string `json:"timezone"`
		} `json:"schedule"`
	}
	a.must(http.StatusOK, "PATCH", "/api/employees/"+emp.ID, admin.token,
		map[string]any{"position": "Lead", "schedule": map[string]any{"work_start": "09:30", "grace_minutes": 10}}, &patched)
	if patched.Position != "Lead" || patched.Schedule.WorkStart != "09:30" || patched.Schedule.GraceMinutes != 10 || patched.Schedule.Timezone != "Europe/Istanbul" {
		t.Errorf("patched = %+v, want position Lead, start 09:30, grace 10, zone kept", patched)
	}
	a.must(http.StatusBadRequest, "PATCH", "/api/employees/"+emp.ID, admin.token, map[string]any{"manager_id": emp.ID}, nil)

	var today struct {
		Status  string  `json:"status"`
		CheckIn *string `json:"check_in"`
	}
	eventually(t, "today shows the open check-in", func() bool {
		a.must(http.StatusOK, "GET", "/api/attendance/today/", emp.token, nil, &today)
		return today.Status == "open" && today.CheckIn != nil
	})
}
