package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

type leaveBlockJSON struct {
	ID         string   `json:"id"`
	StartDate  string   `json:"start_date"`
	EndDate    string   `json:"end_date"`
	Reason     string   `json:"reason"`
	LeaveTypes []string `json:"leave_types"`
	CreatedBy  string   `json:"created_by"`
	CreatedAt  string   `json:"created_at"`
}

type leaveBlockPage struct {
	Items     []leaveBlockJSON `json:"items"`
	NextAfter *string          `json:"next_after"`
}

// TestLeaveBlocks: an admin blocks a period; everyone lists it; a request
// taking leave on one of its days is refused at once, naming the block,
// while requests filed before stand; a block of other types refuses nothing
// of annual leave; once lifted, the days can be asked for again.
func TestLeaveBlocks(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	auditor := a.register(admin, "auditor", nil)
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})

	var before leaveJSON
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2025-03-04", "end_date": "2025-03-04"}, &before)

	var blk leaveBlockJSON
	a.must(http.StatusCreated, "POST", "/api/leave-blocks/", admin.token,
		map[string]any{"start_date": "2025-03-03", "end_date": "2025-03-07", "reason": " stocktaking "}, &blk)
	if blk.ID == "" || blk.StartDate != "2025-03-03" || blk.EndDate != "2025-03-07" || blk.Reason != "stocktaking" ||
		blk.LeaveTypes != nil || blk.CreatedBy != admin.ID || blk.CreatedAt == "" {
		t.Errorf("created block = %+v, want its dates, trimmed reason, every tracked type (null) and the admin", blk)
	}
	var sickOnly leaveBlockJSON
	a.must(http.StatusCreated, "POST", "/api/leave-blocks/", admin.token,
		map[string]any{"start_date": "2025-04-01", "end_date": "2025-04-01", "reason": "audit", "leave_types": []string{"sick", "sick"}}, &sickOnly)
	if !slices.Equal(sickOnly.LeaveTypes, []string{"sick"}) {
		t.Errorf("block of sick leave lists %v, want [sick]", sickOnly.LeaveTypes)
	}

	for _, u := range []user{emp, mgr, auditor, admin} {
		var page leaveBlockPage
		a.must(http.StatusOK, "GET", "/api/leave-blocks/", u.token, nil, &page)
		if len(page.Items) != 2 || page.NextAfter != nil {
			t.Errorf("blocks as %s: got %d items (next %v), want 2 and no next page", u.Role, len(page.Items), page.NextAfter)
		}
	}

	// Wednesday to the next Monday: it takes the blocked Thursday and Friday.
	r := a.call("POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2025-02-26", "end_date": "2025-03-03", "reason": "trip"})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("request into the block = %s, want 422", r)
	}
	decodeProblem(t, r)
	var refused struct {
		Detail string         `json:"detail"`
		Block  leaveBlockJSON `json:"block"`
	}
	if err := json.Unmarshal(r.body, &refused); err != nil {
		t.Fatal(err)
	}
	if refused.Block.ID != blk.ID || refused.Block.StartDate != "2025-03-03" || refused.Block.EndDate != "2025-03-07" ||
		refused.Block.Reason != "stocktaking" || !strings.Contains(refused.Detail, "stocktaking") {
		t.Errorf("refusal = %+v, want it to name the block %s with its dates and reason", refused, blk.ID)
	}
	// The days around the block are free; the sick-only block leaves annual
	// leave alone.
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2025-02-28", "end_date": "2025-03-02"}, nil)
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2025-03-08", "end_date": "2025-03-10"}, nil)
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2025-04-01", "end_date": "2025-04-01"}, nil)
	// The request filed before the block stands and can be approved.
	a.must(http.StatusOK, "POST", "/api/leave-management/"+before.ID+"/change-status/", mgr.token, map[string]string{"status": "approved"}, nil)

	for _, u := range []user{emp, mgr, auditor} {
		a.must(http.StatusForbidden, "POST", "/api/leave-blocks/", u.token, map[string]any{"start_date": "2025-05-01", "end_date": "2025-05-01", "reason": "x"}, nil)
		a.must(http.StatusForbidden, "DELETE", "/api/leave-blocks/"+blk.ID+"/", u.token, nil, nil)
	}
	a.must(http.StatusNoContent, "DELETE", "/api/leave-blocks/"+blk.ID+"/", admin.token, nil, nil)
	a.must(http.StatusNotFound, "DELETE", "/api/leave-blocks/"+blk.ID+"/", admin.token, nil, nil)
	a.must(http.StatusNotFound, "DELETE", "/api/leave-blocks/not-an-id/", admin.token, nil, nil)
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2025-03-05", "end_date": "2025-03-05"}, nil)
	var page leaveBlockPage
	a.must(http.StatusOK, "GET", "/api/leave-blocks/", emp.token, nil, &page)
	if len(page.Items) != 1 || page.Items[0].ID != sickOnly.ID {
		t.Errorf("blocks after lifting one: got %+v, want only %s", page.Items, sickOnly.ID)
	}

	// Every add and removal is in the audit feed, naming the admin.
	var feed struct {
		Items []struct {
			Type     string `json:"type"`
			Metadata struct {
				Actor string `json:"actor"`
			} `json:"metadata"`
		} `json:"items"`
	}
	// The feed shows what committed before the oldest transaction still open.
	eventually(t, "the blocks' events reach the audit feed", func() bool {
		a.must(http.StatusOK, "GET", "/api/events/?stream=leaveblocks-company", auditor.token, nil, &feed)
		return len(feed.Items) == 3
	})
	var types []string
	for _, ev := range feed.Items {
		types = append(types, ev.Type)
		if ev.Metadata.Actor != admin.ID {
			t.Errorf("%s recorded as %q's, want the admin's", ev.Type, ev.Metadata.Actor)
		}
	}
	if want := []string{"leave_block.added", "leave_block.added", "leave_block.removed"}; !slices.Equal(types, want) {
		t.Errorf("feed of the blocks stream = %v, want %v", types, want)
	}
}

func TestLeaveBlockInputs(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"no dates", map[string]any{"reason": "x"}, "start_date"},
		{"end before start", map[string]any{"start_date": "2025-03-07", "end_date": "2025-03-03", "reason": "x"}, "end_date"},
		{"impossible date", map[string]any{"start_date": "2025-02-30", "end_date": "2025-03-03", "reason": "x"}, "start_date"},
		{"no reason", map[string]any{"start_date": "2025-03-03", "end_date": "2025-03-07"}, "reason"},
		{"blank reason", map[string]any{"start_date": "2025-03-03", "end_date": "2025-03-07", "reason": " \t"}, "reason"},
		{"reason too long", map[string]any{"start_date": "2025-03-03", "end_date": "2025-03-07", "reason": strings.Repeat("é", 501)}, "reason"},
		{"NUL in the reason", map[string]any{"start_date": "2025-03-03", "end_date": "2025-03-07", "reason": "a\x00b"}, "reason"},
		{"no types", map[string]any{"start_date": "2025-03-03", "end_date": "2025-03-07", "reason": "x", "leave_types": []string{}}, "leave_types"},
		{"unknown type", map[string]any{"start_date": "2025-03-03", "end_date": "2025-03-07", "reason": "x", "leave_types": []string{"annual", "study"}}, "leave_types"},
		{"types not a list", map[string]any{"start_date": "2025-03-03", "end_date": "2025-03-07", "reason": "x", "leave_types": "annual"}, "leave_types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.call("POST", "/api/leave-blocks/", admin.token, tt.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("= %s, want 400", r)
			}
			if p := decodeProblem(t, r); p.Errors[tt.field] == "" {
				t.Errorf("problem %+v does not name %s", p, tt.field)
			}
		})
	}
	for _, q := range []string{"limit=0", "limit=x", "after=x"} {
		a.must(http.StatusBadRequest, "GET", "/api/leave-blocks/?"+q, admin.token, nil, nil)
	}
	var page leaveBlockPage
	a.must(http.StatusOK, "GET", "/api/leave-blocks/", admin.token, nil, &page)
	if len(page.Items) != 0 {
		t.Errorf("blocks after refused bodies: %d, want 0", len(page.Items))
	}

	// The same body with the same idempotency key blocks once.
	body := map[string]any{"start_date": "2025-03-03", "end_date": "2025-03-07", "reason": "x"}
	var first, again leaveBlockJSON
	a.must(http.StatusCreated, "POST", "/api/leave-blocks/", admin.token, body, &first, "Idempotency-Key", "block-1")
	a.must(http.StatusCreated, "POST", "/api/leave-blocks/", admin.token, body, &again, "Idempotency-Key", "block-1")
	a.must(http.StatusOK, "GET", "/api/leave-blocks/", admin.token, nil, &page)
	if first.ID != again.ID || len(page.Items) != 1 {
		t.Errorf("repeated POST: ids %s and %s, %d blocks; want one block", first.ID, again.ID, len(page.Items))
	}
}

func TestLeaveBlocksPaged(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	const n = 120
	for i := range n {
		d := fmt.Sprintf("2025-%02d-%02d", 1+i%12, 1+i%28)
		a.must(http.StatusCreated, "POST", "/api/leave-blocks/", admin.token, map[string]any{"start_date": d, "end_date": d, "reason": fmt.Sprint("block ", i)}, nil)
	}
	seen := map[string]bool{}
	after := ""
	for pages := 1; ; pages++ {
		var page leaveBlockPage
		a.must(http.StatusOK, "GET", "/api/leave-blocks/?limit=50&after="+after, admin.token, nil, &page)
		for _, b := range page.Items {
			if seen[b.ID] || b.ID <= after {
				t.Fatalf("page %d repeats or goes back to %s", pages, b.ID)
			}
			seen[b.ID] = true
		}
		if page.NextAfter == nil {
			if pages != 3 {
				t.Errorf("%d pages of 50, want 3", pages)
			}
			break
		}
		after = *page.NextAfter
	}
	if len(seen) != n {
		t.Errorf("listed %d blocks, want %d", len(seen), n)
	}
}

type leaveDayJSON struct {
	EmployeeID string  `json:"employee_id"`
	FullName   string  `json:"full_name"`
	Date       string  `json:"date"`
	LeaveType  string  `json:"leave_type"`
	HalfDay    *string `json:"half_day"`
	Status     string  `json:"status"`
}

type leaveCalendarPage struct {
	Items     []leaveDayJSON `json:"items"`
	NextAfter *string        `json:"next_after"`
}

// calendar reads every page of the calendar from from to to as u.
func (a *app) calendar(u user, from, to string, limit int) []leaveDayJSON {
	a.t.Helper()
	var all []leaveDayJSON
	after := ""
	for {
		q := url.Values{"from": {from}, "to": {to}, "limit": {fmt.Sprint(limit)}, "after": {after}}
		var page leaveCalendarPage
		a.must(http.StatusOK, "GET", "/api/leave-calendar/?"+q.Encode(), u.token, nil, &page)
		all = append(all, page.Items...)
		if page.NextAfter == nil {
			return all
		}
		after = *page.NextAfter
	}
}

// days lists the calendar's items as "name date status".
func days(items []leaveDayJSON) []string {
	out := make([]string, len(items))
	for i, d := range items {
		out[i] = d.FullName + " " + d.Date + " " + d.Status
	}
	return out
}

type newLeaveJSON struct {
	leaveJSON
	TeamOverlap *int `json:"team_overlap"`
}

// TestLeaveCalendar: managers see their reports' pending and approved days,
// employees the approved days of those who share their manager, admins and
// auditors everyone's; a rejected or cancelled request leaves the calendar;
// a new request says how many of its team are off on its days.
func TestLeaveCalendar(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	auditor := a.register(admin, "auditor", nil)
	mgr := a.register(admin, "manager", map[string]any{"full_name": "Mona"})
	otherMgr := a.register(admin, "manager", map[string]any{"full_name": "Omar"})
	ada := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "full_name": "Ada"})
	bob := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "full_name": "Bob"})
	cem := a.register(admin, "employee", map[string]any{"manager_id": otherMgr.ID, "full_name": "Cem"})
	dan := a.register(admin, "employee", map[string]any{"full_name": "Dan"}) // no manager

	file := func(u user, start, end string) newLeaveJSON {
		t.Helper()
		var r newLeaveJSON
		a.must(http.StatusCreated, "POST", "/api/leave-management/", u.token, map[string]string{"start_date": start, "end_date": end, "reason": "private"}, &r)
		if r.TeamOverlap == nil {
			t.Fatalf("request of %s: no team_overlap in %+v", u.Email, r)
		}
		return r
	}
	decide := func(r newLeaveJSON, status string) {
		t.Helper()
		a.must(http.StatusOK, "POST", "/api/leave-management/"+r.ID+"/change-status/", admin.token, map[string]string{"status": status}, nil)
	}
	// onCalendar says whether u's request on date is in the calendar, as the
	// admin sees it (pending requests too). The calendar follows the store a
	// moment later: a request must be seen there before its rejection or
	// cancellation is awaited, or the wait could end before the calendar
	// ever held it, and the request then show up later.
	onCalendar := func(u user, date string) bool {
		for _, d := range a.calendar(admin, date, date, 50) {
			if d.EmployeeID == u.ID {
				return true
			}
		}
		return false
	}
	// Monday 2025-06-02 to Wednesday the 4th, and Friday the 6th.
	adaWeek := file(ada, "2025-06-02", "2025-06-04")
	decide(adaWeek, "approved")
	adaFriday := file(ada, "2025-06-06", "2025-06-06")
	decide(file(cem, "2025-06-03", "2025-06-03"), "approved")
	decide(file(dan, "2025-06-05", "2025-06-05"), "approved")
	rejected := file(bob, "2025-06-09", "2025-06-09")
	eventually(t, "the request to reject reaches the calendar", func() bool { return onCalendar(bob, "2025-06-09") })
	decide(rejected, "rejected")
	cancelled := file(bob, "2025-06-10", "2025-06-10")
	eventually(t, "the request to cancel reaches the calendar", func() bool { return onCalendar(bob, "2025-06-10") })
	a.must(http.StatusOK, "POST", "/api/leave-management/"+cancelled.ID+"/cancel/", bob.token, nil, nil)

	everyone := []string{"Ada 2025-06-02 approved", "Ada 2025-06-03 approved", "Cem 2025-06-03 approved", "Ada 2025-06-04 approved",
		"Dan 2025-06-05 approved", "Ada 2025-06-06 pending"}
	// The names come from the employees' read model, which may be behind the
	// calendar's.
	eventually(t, "the calendar shows every request with its name", func() bool {
		got := days(a.calendar(admin, "2025-06-01", "2025-06-30", 500))
		return slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(everyone)))
	})
	tests := []struct {
		name string
		u    user
		want []string
	}{
		{"admin", admin, everyone},
		{"auditor", auditor, everyone},
		{"manager: reports, pending too", mgr, []string{"Ada 2025-06-02 approved", "Ada 2025-06-03 approved", "Ada 2025-06-04 approved", "Ada 2025-06-06 pending"}},
		{"other manager", otherMgr, []string{"Cem 2025-06-03 approved"}},
		{"employee: the team's approved days", bob, []string{"Ada 2025-06-02 approved", "Ada 2025-06-03 approved", "Ada 2025-06-04 approved"}},
		{"employee: their own", ada, []string{"Ada 2025-06-02 approved", "Ada 2025-06-03 approved", "Ada 2025-06-04 approved"}},
		{"employee of another team", cem, []string{"Cem 2025-06-03 approved"}},
		{"employee without a manager", dan, []string{"Dan 2025-06-05 approved"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 500} {
				got := a.calendar(tt.u, "2025-06-01", "2025-06-30", limit)
				inOrder := slices.IsSortedFunc(got, func(x, y leaveDayJSON) int {
					return strings.Compare(x.Date+x.EmployeeID, y.Date+y.EmployeeID)
				})
				if !inOrder || !slices.Equal(slices.Sorted(slices.Values(days(got))), slices.Sorted(slices.Values(tt.want))) {
					t.Errorf("limit %d: got %v, want %v by date then employee", limit, days(got), tt.want)
				}
			}
		})
	}
	got := a.calendar(mgr, "2025-06-03", "2025-06-03", 50)
	if len(got) != 1 || got[0].EmployeeID != ada.ID || got[0].LeaveType != "annual" || got[0].HalfDay != nil {
		t.Errorf("one day of the manager's calendar: got %+v, want Ada's annual whole day", got)
	}
	var raw map[string][]map[string]any
	a.must(http.StatusOK, "GET", "/api/leave-calendar/?from=2025-06-02&to=2025-06-02", bob.token, nil, &raw)
	if _, ok := raw["items"][0]["reason"]; ok || len(raw["items"][0]) != 6 {
		t.Errorf("a teammate's day = %v, want exactly the six fields, no reason", raw["items"][0])
	}

	// Ada is off on the 3rd (approved) and the 6th (pending); Cem, of
	// another team, is not counted, nor is the requester herself.
	overlaps := []struct {
		u          user
		start, end string
		want       int
	}{
		{bob, "2025-06-03", "2025-06-03", 1},
		{bob, "2025-06-06", "2025-06-06", 1},
		{bob, "2025-06-05", "2025-06-05", 0},
		{ada, "2025-06-05", "2025-06-05", 0},
		{cem, "2025-06-02", "2025-06-02", 0},
		{dan, "2025-06-02", "2025-06-02", 0},
	}
	for _, o := range overlaps {
		r := file(o.u, o.start, o.end)
		if *r.TeamOverlap != o.want {
			t.Errorf("team_overlap of %s on %s = %d, want %d", o.u.Email, o.start, *r.TeamOverlap, o.want)
		}
		// team_overlap reads the calendar: the next request must not meet
		// this cancelled one there.
		eventually(t, "the request reaches the calendar", func() bool { return onCalendar(o.u, o.start) })
		a.must(http.StatusOK, "POST", "/api/leave-management/"+r.ID+"/cancel/", o.u.token, nil, nil)
		eventually(t, "the cancelled request leaves the calendar", func() bool { return !onCalendar(o.u, o.start) })
	}
	a.must(http.StatusOK, "POST", "/api/leave-management/"+adaFriday.ID+"/cancel/", ada.token, nil, nil)
	eventually(t, "a cancelled request leaves the calendar", func() bool {
		return len(a.calendar(mgr, "2025-06-06", "2025-06-06", 50)) == 0
	})
}

func TestLeaveCalendarInputs(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	tests := []struct {
		query, field string
	}{
		{"from=2025-02-30", "from"},
		{"to=x", "to"},
		{"from=2025-06-30&to=2025-06-01", "to"},
		{"from=2024-01-01&to=2025-01-02", "to"},
		{"limit=0", "limit"},
		{"limit=501", "limit"},
		{"after=2025-06-01", "after"},
		{"after=2025-06-01.x.y", "after"},
		{"after=2025-06-01.00000000-0000-0000-0000-000000000000.00000000-0000-0000-0000-00000000000A", "after"},
		{"from=%00", "from"},
	}
	for _, tt := range tests {
		r := a.call("GET", "/api/leave-calendar/?"+tt.query, admin.token, nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("?%s = %s, want 400", tt.query, r)
			continue
		}
		if p := decodeProblem(t, r); p.Errors[tt.field] == "" {
			t.Errorf("?%s: problem %+v does not name %s", tt.query, p, tt.field)
		}
	}
	for _, q := range []string{"", "from=2025-06-01", "to=2025-06-30", "from=2024-01-01&to=2025-01-01"} {
		a.must(http.StatusOK, "GET", "/api/leave-calendar/?"+q, admin.token, nil, nil)
	}
}
