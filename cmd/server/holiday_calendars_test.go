package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/acme/employee-tracking/internal/testenv"
)

type holidayCalendarJSON struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type holidayJSON struct {
	Calendar string `json:"calendar"`
	Date     string `json:"date"`
	Name     string `json:"name"`
}

// TestHolidayCalendars: only an admin makes a calendar, everyone lists
// them; holidays are declared, listed and withdrawn per calendar, those
// without one in the default calendar; an unknown calendar is 404 where the
// URL names it and 422 where a body does, a malformed code 400.
func TestHolidayCalendars(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	auditor := a.register(admin, "auditor", nil)

	berlin := map[string]string{"code": "berlin", "name": "Berlin office"}
	for _, u := range []user{emp, mgr, auditor} {
		if r := a.call("POST", "/api/holiday-calendars/", u.token, berlin); r.status != http.StatusForbidden {
			t.Errorf("POST /api/holiday-calendars/ as %s = %s, want 403", u.Role, r)
		}
	}
	var made holidayCalendarJSON
	a.must(http.StatusCreated, "POST", "/api/holiday-calendars/", admin.token, berlin, &made)
	if made != (holidayCalendarJSON{"berlin", "Berlin office"}) {
		t.Errorf("made %+v, want berlin", made)
	}
	for body, want := range map[string]int{
		`{"code":"berlin","name":"Again"}`:  http.StatusConflict,
		`{"code":"default","name":"Mine"}`:  http.StatusConflict,
		`{"code":"Berlin","name":"Berlin"}`: http.StatusBadRequest,
		`{"code":"b","name":"Berlin"}`:      http.StatusBadRequest,
		`{"code":"paris"}`:                  http.StatusBadRequest,
		`{"code":"paris","name":"\u0000"}`:  http.StatusBadRequest,
	} {
		r := a.call("POST", "/api/holiday-calendars/", admin.token, body)
		if r.status != want {
			t.Errorf("POST %s = %s, want %d", body, r, want)
			continue
		}
		decodeProblem(t, r)
	}
	want := []holidayCalendarJSON{{"default", "Default"}, {"berlin", "Berlin office"}}
	for _, u := range []user{emp, mgr, admin, auditor} {
		var page struct{ Items []holidayCalendarJSON }
		a.must(http.StatusOK, "GET", "/api/holiday-calendars/", u.token, nil, &page)
		if diff := cmp.Diff(want, page.Items); diff != "" {
			t.Errorf("calendars as %s (-want +got):\n%s", u.Role, diff)
		}
	}

	var h holidayJSON
	a.must(http.StatusCreated, "POST", "/api/holidays/", admin.token, map[string]string{"calendar": "berlin", "date": "2024-03-08", "name": "Frauentag"}, &h)
	if h != (holidayJSON{"berlin", "2024-03-08", "Frauentag"}) {
		t.Errorf("declared %+v", h)
	}
	a.must(http.StatusCreated, "POST", "/api/holidays/", admin.token, map[string]string{"date": "2024-03-08", "name": "Company Day"}, &h)
	if h.Calendar != "default" {
		t.Errorf("a holiday without a calendar went to %q, want default", h.Calendar)
	}
	r := a.call("POST", "/api/holidays/", admin.token, map[string]string{"calendar": "paris", "date": "2024-03-08", "name": "Fête"})
	if p := decodeProblem(t, r); r.status != http.StatusUnprocessableEntity || p.Errors["calendar"] == "" {
		t.Errorf("a holiday in an unknown calendar = %s, want 422 naming calendar", r)
	}
	if r := a.call("POST", "/api/holidays/", emp.token, map[string]string{"calendar": "berlin", "date": "2024-05-01", "name": "x"}); r.status != http.StatusForbidden {
		t.Errorf("a holiday declared by an employee = %s, want 403", r)
	}

	list := func(query string) []holidayJSON {
		t.Helper()
		var page struct{ Items []holidayJSON }
		a.must(http.StatusOK, "GET", "/api/holidays/?year=2024"+query, emp.token, nil, &page)
		return page.Items
	}
	if diff := cmp.Diff([]holidayJSON{{"berlin", "2024-03-08", "Frauentag"}}, list("&calendar=berlin")); diff != "" {
		t.Errorf("Berlin's holidays (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]holidayJSON{{"default", "2024-03-08", "Company Day"}}, list("")); diff != "" {
		t.Errorf("the default calendar's holidays (-want +got):\n%s", diff)
	}
	for path, want := range map[string]int{
		"/api/holidays/?calendar=paris":         http.StatusNotFound,
		"/api/holidays/?calendar=Paris%21":      http.StatusBadRequest,
		"/api/holidays/?calendar=" + longCode(): http.StatusBadRequest,
	} {
		if r := a.call("GET", path, emp.token, nil); r.status != want {
			t.Errorf("GET %s = %s, want %d", path, r, want)
		}
	}

	for path, want := range map[string]int{
		"/api/holidays/2024-03-08/?calendar=paris":  http.StatusNotFound,
		"/api/holidays/2024-03-08/?calendar=P-1":    http.StatusBadRequest,
		"/api/holidays/2024-03-09/?calendar=berlin": http.StatusNotFound,
		"/api/holidays/2024-03-08/?calendar=berlin": http.StatusNoContent,
	} {
		if r := a.call("DELETE", path, admin.token, nil); r.status != want {
			t.Errorf("DELETE %s = %s, want %d", path, r, want)
		}
	}
	if got := list("&calendar=berlin"); len(got) != 0 {
		t.Errorf("Berlin's holidays after the withdrawal = %v, want none", got)
	}
	if got := list(""); len(got) != 1 {
		t.Errorf("the default calendar's holidays after Berlin's withdrawal = %v, want one", got)
	}
}

func longCode() string { return "a123456789012345678901234567890123" }

// TestEmployeesHolidayCalendar: an employee keeps the default calendar
// unless given another on registration or by PATCH; an unknown calendar is
// refused. Leave day counts (at the request and again at the approval) and
// lateness follow each employee's calendar.
func TestEmployeesHolidayCalendar(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	a.must(http.StatusCreated, "POST", "/api/holiday-calendars/", admin.token, map[string]string{"code": "berlin", "name": "Berlin"}, nil)
	mgr := a.register(admin, "manager", nil)
	// Work all day every day, so that a check-in is late unless its day is
	// a holiday.
	// In a zone where it is about noon now: a check-in is hours late, and
	// its day is the zone's today.
	zone, loc := testenv.NoonZone()
	allDay := map[string]any{"timezone": zone, "work_start": "00:00", "work_end": "23:59", "workdays": []int{1, 2, 3, 4, 5, 6, 7}}
	home := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "schedule": allDay})
	there := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "schedule": allDay, "holiday_calendar": "berlin"})

	type emp struct {
		HolidayCalendar string `json:"holiday_calendar"`
	}
	for id, want := range map[string]string{home.ID: "default", there.ID: "berlin"} {
		var e emp
		a.must(http.StatusOK, "GET", "/api/employees/"+id+"/", admin.token, nil, &e)
		if e.HolidayCalendar != want {
			t.Errorf("holiday_calendar of %s = %q, want %q", id, e.HolidayCalendar, want)
		}
	}
	r := a.call("POST", "/api/employees/", admin.token, map[string]any{"email": "p@example.com", "password": password, "full_name": "P", "holiday_calendar": "paris"})
	if p := decodeProblem(t, r); r.status != http.StatusUnprocessableEntity || p.Errors["holiday_calendar"] == "" {
		t.Errorf("registration in an unknown calendar = %s, want 422 naming holiday_calendar", r)
	}
	r = a.call("POST", "/api/employees/", admin.token, map[string]any{"email": "p@example.com", "password": password, "full_name": "P", "holiday_calendar": "Paris!"})
	if p := decodeProblem(t, r); r.status != http.StatusBadRequest || p.Errors["holiday_calendar"] == "" {
		t.Errorf("registration with a malformed calendar = %s, want 400 naming holiday_calendar", r)
	}
	r = a.call("PATCH", "/api/employees/"+home.ID+"/", admin.token, map[string]any{"holiday_calendar": "paris"})
	if p := decodeProblem(t, r); r.status != http.StatusUnprocessableEntity || p.Errors["holiday_calendar"] == "" {
		t.Errorf("a PATCH to an unknown calendar = %s, want 422 naming holiday_calendar", r)
	}
	if r := a.call("PATCH", "/api/employees/"+home.ID+"/", mgr.token, map[string]any{"holiday_calendar": "berlin"}); r.status != http.StatusForbidden {
		t.Errorf("a PATCH of the calendar by the manager = %s, want 403", r)
	}
	moved := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	var e emp
	a.must(http.StatusOK, "PATCH", "/api/employees/"+moved.ID+"/", admin.token, map[string]any{"holiday_calendar": "berlin"}, &e)
	if e.HolidayCalendar != "berlin" {
		t.Errorf("after the PATCH, holiday_calendar = %q, want berlin", e.HolidayCalendar)
	}
	a.must(http.StatusOK, "GET", "/api/employees/"+moved.ID+"/", moved.token, nil, &e)
	if e.HolidayCalendar != "berlin" {
		t.Errorf("the moved employee reads holiday_calendar %q, want berlin", e.HolidayCalendar)
	}

	// Leave from Monday 2 to Friday 6 December 2024: Berlin's Wednesday is a
	// holiday before the request, its Thursday before the approval.
	a.must(http.StatusCreated, "POST", "/api/holidays/", admin.token, map[string]string{"calendar": "berlin", "date": "2024-12-04", "name": "Eins"}, nil)
	days := map[string]int{}
	requests := map[string]string{}
	for _, u := range []user{home, there, moved} {
		var req leaveJSON
		a.must(http.StatusCreated, "POST", "/api/leave-management/", u.token, map[string]string{"start_date": "2024-12-02", "end_date": "2024-12-06"}, &req)
		days[u.ID], requests[u.ID] = req.Days, req.ID
	}
	if days[home.ID] != 5 || days[there.ID] != 4 || days[moved.ID] != 4 {
		t.Errorf("requested days: default %d, Berlin %d, moved to Berlin %d; want 5, 4, 4", days[home.ID], days[there.ID], days[moved.ID])
	}
	a.must(http.StatusCreated, "POST", "/api/holidays/", admin.token, map[string]string{"calendar": "berlin", "date": "2024-12-05", "name": "Zwei"}, nil)
	for _, u := range []user{home, there} {
		var decided leaveJSON
		a.must(http.StatusOK, "POST", "/api/leave-management/"+requests[u.ID]+"/change-status/", mgr.token, map[string]string{"status": "approved"}, &decided)
		days[u.ID] = decided.Days
	}
	if days[home.ID] != 5 || days[there.ID] != 3 {
		t.Errorf("approved days: default %d, Berlin %d; want 5, 3", days[home.ID], days[there.ID])
	}

	// Today is a holiday in Berlin only: the check-in there is not late.
	today := time.Now().In(loc).Format(time.DateOnly)
	a.must(http.StatusCreated, "POST", "/api/holidays/", admin.token, map[string]string{"calendar": "berlin", "date": today, "name": "Heute"}, nil)
	type checkIn struct {
		Late bool `json:"late"`
	}
	var in checkIn
	a.must(http.StatusCreated, "POST", "/api/attendance/", there.token, map[string]string{"type": "check-in"}, &in)
	if in.Late {
		t.Error("a check-in on a holiday of the employee's calendar is late")
	}
	a.must(http.StatusCreated, "POST", "/api/attendance/", home.token, map[string]string{"type": "check-in"}, &in)
	if !in.Late {
		t.Error("a check-in on a holiday of another calendar is not late")
	}
}
