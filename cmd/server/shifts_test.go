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

// TestForgottenCheckOut runs a forgotten check-out through the server: the
// system closes it AUTO_CHECKOUT_AFTER past the check-in (made after the
// shift's end), the day needs review, the employee and the manager are
// told, the report counts it; a check-in meeting a stale open one is
// accepted, and one meeting a fresh one is still 409.
func TestForgottenCheckOut(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"AUTO_CHECKOUT_AFTER": "1s"})
	admin := a.admin()
	manager := a.register(admin, "manager", nil)
	// A one-minute shift that has ended: every check-in is after it.
	now := time.Now().UTC()
	for now.Hour() == 0 && now.Minute() < 2 {
		time.Sleep(time.Second)
		now = time.Now().UTC()
	}
	end := now.Truncate(time.Minute)
	schedule := map[string]any{"timezone": "UTC", "work_start": end.Add(-time.Minute).Format("15:04"), "work_end": end.Format("15:04"),
		"workdays": []int{1, 2, 3, 4, 5, 6, 7}}
	emp := a.register(manager, "employee", map[string]any{"manager_id": manager.ID, "schedule": schedule})

	var in struct {
		At        time.Time `json:"at"`
		LocalDate string    `json:"local_date"`
	}
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-in"}, &in)

	type day struct {
		Date        string     `json:"date"`
		CheckOut    *time.Time `json:"check_out"`
		Status      string     `json:"status"`
		NeedsReview bool       `json:"needs_review"`
	}
	var days struct{ Items []day }
	path := fmt.Sprintf("/api/attendance/?employee_id=%s&from=%s&to=%s", emp.ID, in.LocalDate, in.LocalDate)
	eventually(t, "the forgotten check-out closed", func() bool {
		a.must(http.StatusOK, "GET", path, manager.token, nil, &days)
		return len(days.Items) == 1 && days.Items[0].NeedsReview
	})
	// Past the shift's end, the check-in was late, and closes at itself.
	if d := days.Items[0]; d.Status != "late" || d.CheckOut == nil || d.CheckOut.Sub(in.At).Abs() >= time.Microsecond {
		t.Errorf("closed day: got %+v, want late and checked out at the check-in %s", d, in.At)
	}

	type inbox struct {
		Items []struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
	}
	for _, u := range []user{emp, manager} {
		eventually(t, "missing_checkout to "+u.Role, func() bool {
			var n inbox
			a.must(http.StatusOK, "GET", "/api/notifications/", u.token, nil, &n)
			return slices.ContainsFunc(n.Items, func(i struct {
				Type string         `json:"type"`
				Data map[string]any `json:"data"`
			}) bool {
				return i.Type == "missing_checkout" && i.Data["employee_id"] == emp.ID
			})
		})
	}

	month, _ := time.Parse(time.DateOnly, in.LocalDate)
	report := fmt.Sprintf("/api/reports/monthly-work/?year=%d&month=%d&employee_id=%s", month.Year(), month.Month(), emp.ID)
	var rep struct {
		Employees []struct {
			ReviewDays int `json:"review_days"`
		}
	}
	// The report follows its own read model, monthly_hours, which may be a
	// moment behind the notifications.
	eventually(t, "the report counts the day to review", func() bool {
		a.must(http.StatusOK, "GET", report, emp.token, nil, &rep)
		return len(rep.Employees) == 1 && rep.Employees[0].ReviewDays == 1
	})
	records, err := csv.NewReader(strings.NewReader(string(a.must(http.StatusOK, "GET", report+"&format=csv", manager.token, nil, nil).body))).ReadAll()
	if err != nil || len(records) != 2 {
		t.Fatalf("csv: got %v, %v; want a header and a row", records, err)
	}
	if i := slices.Index(records[0], "review_days"); i < 0 || records[1][i] != "1" {
		t.Errorf("csv: got %v, want review_days 1", records)
	}

	// A fresh open check-in is still a conflict; one past due is closed first.
	other := a.register(manager, "employee", map[string]any{"manager_id": manager.ID, "schedule": schedule})
	a.must(http.StatusCreated, "POST", "/api/attendance/", other.token, map[string]string{"type": "check-in"}, nil)
	time.Sleep(1100 * time.Millisecond)
	a.must(http.StatusCreated, "POST", "/api/attendance/", other.token, map[string]string{"type": "check-in"}, nil)
	if r := a.call("POST", "/api/attendance/", other.token, map[string]string{"type": "check-in"}); r.status != http.StatusConflict {
		t.Errorf("check-in over a fresh one: got %s, want 409", r)
	}
	var history struct {
		Items []struct {
			Type string `json:"type"`
		}
	}
	a.must(http.StatusOK, "GET", "/api/employees/"+other.ID+"/history/", admin.token, nil, &history)
	closes := 0
	for _, e := range history.Items {
		if e.Type == "attendance.auto_checked_out" {
			closes++
		}
	}
	if closes != 1 {
		t.Errorf("closes in the history: got %d, want 1", closes)
	}
}

// TestNightShiftCheckIn checks in after midnight on a night shift: in a
// zone chosen so that it is 00:xx there now, the check-in belongs to the
// shift that began the evening before, and so does today's attendance.
func TestNightShiftCheckIn(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	now := time.Now().UTC()
	if now.Minute() == 59 && now.Second() > 50 { // stay within the local hour 00
		time.Sleep(15 * time.Second)
		now = time.Now().UTC()
	}
	// Etc/GMT+h is h hours behind UTC (the sign is POSIX's).
	zone := fmt.Sprintf("Etc/GMT%+d", now.Hour())
	if now.Hour() > 12 {
		zone = fmt.Sprintf("Etc/GMT%+d", now.Hour()-24)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	if h := now.In(loc).Hour(); h != 0 {
		t.Fatalf("local hour in %s = %d, want 0", zone, h)
	}
	night := a.register(admin, "employee", map[string]any{"schedule": map[string]any{
		"timezone": zone, "work_start": "22:00", "work_end": "06:00", "workdays": []int{1, 2, 3, 4, 5, 6, 7}}})
	shiftDate := now.In(loc).AddDate(0, 0, -1).Format(time.DateOnly)

	var in struct {
		LocalDate   string `json:"local_date"`
		Late        bool   `json:"late"`
		LateMinutes int    `json:"late_minutes"`
	}
	a.must(http.StatusCreated, "POST", "/api/attendance/", night.token, map[string]string{"type": "check-in"}, &in)
	if in.LocalDate != shiftDate || !in.Late || in.LateMinutes < 120 {
		t.Errorf("check-in: got %+v, want the night of %s, two hours late or more", in, shiftDate)
	}
	var today struct {
		Date   string `json:"date"`
		Status string `json:"status"`
	}
	eventually(t, "today's attendance", func() bool {
		a.must(http.StatusOK, "GET", "/api/attendance/today/", night.token, nil, &today)
		return today.Status == "open"
	})
	if today.Date != shiftDate {
		t.Errorf("today: got %s, want the night's date %s", today.Date, shiftDate)
	}
	// An overnight schedule is accepted; an empty shift is not.
	r := a.call("POST", "/api/employees/", admin.token, map[string]any{"email": "empty@example.com", "password": password,
		"full_name": "Empty", "role": "employee", "schedule": map[string]any{"timezone": "UTC", "work_start": "06:00", "work_end": "06:00"}})
	if p := decodeProblem(t, r); r.status != http.StatusBadRequest || p.Errors["schedule.work_end"] == "" {
		t.Errorf("work_end equal to work_start: got %s, want 400 naming schedule.work_end", r)
	}
}
