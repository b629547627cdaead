package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// TestListCursors: every list of the OpenAPI document refuses a malformed
// after with a 400 naming it, and every list's next_after is null exactly
// when no page follows, also when a page is full or nothing matches.
func TestListCursors(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	a.must(http.StatusCreated, "POST", "/api/holidays/", admin.token, map[string]string{"date": "2024-10-29", "name": "Republic Day"}, nil)
	a.holidayToday(admin, emp) // the manager hears of the leave requests only
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-in"}, nil)
	for _, dates := range [][2]string{{"2024-11-04", "2024-11-05"}, {"2024-11-11", "2024-11-11"}, {"2024-11-18", "2024-11-19"}} {
		a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": dates[0], "end_date": dates[1]}, nil)
		// Filed by the manager, who hears nothing of their own.
		a.must(http.StatusCreated, "POST", "/api/attendance/corrections/", mgr.token, map[string]string{"employee_id": emp.ID,
			"date": dates[0], "check_in": dates[0] + "T06:00:00Z", "check_out": dates[0] + "T14:00:00Z", "reason": "forgot"}, nil)
		a.must(http.StatusCreated, "POST", "/api/delegations/", mgr.token, map[string]string{"delegate_id": emp.ID, "start_date": dates[0], "end_date": dates[1]}, nil)
	}

	// The lists are what the OpenAPI document answers with items.
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Schema struct {
					Ref string `json:"$ref"`
				} `json:"schema"`
			} `json:"responses"`
		} `json:"paths"`
		Definitions map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"definitions"`
	}
	a.must(http.StatusOK, "GET", "/swagger/doc.json", "", nil, &doc)
	var lists []string
	for path, ops := range doc.Paths {
		get, ok := ops["get"]
		if !ok {
			continue
		}
		schema := doc.Definitions[strings.TrimPrefix(get.Responses["200"].Schema.Ref, "#/definitions/")]
		if _, ok := schema.Properties["items"]; !ok {
			continue
		}
		if _, ok := schema.Properties["next_after"]; !ok {
			t.Errorf("GET %s answers items without next_after", path)
		}
		lists = append(lists, path)
	}
	slices.Sort(lists)
	want := []string{"/api/attendance/", "/api/attendance/corrections/", "/api/audit/seals/", "/api/delegations/", "/api/employees/", "/api/employees/{id}/history/",
		"/api/events/", "/api/holiday-calendars/", "/api/holidays/", "/api/leave-balances/{employee_id}/all/", "/api/leave-balances/{employee_id}/ledger/",
		"/api/leave-blocks/", "/api/leave-calendar/", "/api/leave-management/", "/api/leave-types/", "/api/notifications/"}
	if !slices.Equal(lists, want) {
		t.Errorf("lists in the OpenAPI document = %v, want %v", lists, want)
	}
	for _, path := range lists {
		for _, after := range []string{"garbage", "0.0.0", "-1", "%00", "0b7f6c1e-8f0a-5d8e-9a51"} {
			url := strings.NewReplacer("{id}", emp.ID, "{employee_id}", emp.ID).Replace(path) + "?after=" + after
			r := a.call("GET", url, admin.token, nil)
			if r.status != http.StatusBadRequest {
				t.Errorf("GET %s = %s, want 400", url, r)
				continue
			}
			if p := decodeProblem(t, r); p.Errors["after"] == "" {
				t.Errorf("GET %s: problem %+v does not name after", url, p)
			}
		}
	}

	// Paged lists with a known number of items: walked a page of one at a
	// time, every page holds an item and the last one says no page follows;
	// a page as long as the list is the last one.
	eventually(t, "the read models hold the check-in, the leave requests, their notifications, the corrections, the calendar and the delegations", func() bool {
		var leave, notes, days, corrections, off, delegations struct{ Items []json.RawMessage }
		a.must(http.StatusOK, "GET", "/api/leave-management/", admin.token, nil, &leave)
		a.must(http.StatusOK, "GET", "/api/attendance/corrections/", admin.token, nil, &corrections)
		a.must(http.StatusOK, "GET", "/api/notifications/", mgr.token, nil, &notes)
		a.must(http.StatusOK, "GET", "/api/attendance/?employee_id="+emp.ID, admin.token, nil, &days)
		a.must(http.StatusOK, "GET", "/api/leave-calendar/?from=2024-11-01&to=2024-11-30", admin.token, nil, &off)
		a.must(http.StatusOK, "GET", "/api/delegations/", admin.token, nil, &delegations)
		return len(leave.Items) == 3 && len(notes.Items) == 3 && len(days.Items) == 1 && len(corrections.Items) == 3 && len(off.Items) == 5 &&
			len(delegations.Items) == 3
	})
	paged := []struct {
		query, token string
		n            int
	}{
		{"/api/employees/?", admin.token, 3},
		{"/api/employees/?", mgr.token, 1},
		{"/api/leave-management/?", admin.token, 3},
		{"/api/leave-management/?status=pending&", mgr.token, 3},
		{"/api/attendance/corrections/?", admin.token, 3},
		{"/api/attendance/corrections/?status=pending&employee_id=" + emp.ID + "&", mgr.token, 3},
		{"/api/attendance/corrections/?status=approved&", mgr.token, 0},
		{"/api/notifications/?", mgr.token, 3},
		{"/api/delegations/?", admin.token, 3},
		{"/api/delegations/?", emp.token, 3},
		{"/api/notifications/?unread=true&", mgr.token, 3},
		{"/api/leave-calendar/?from=2024-11-01&to=2024-11-30&", admin.token, 5},
		{"/api/leave-calendar/?from=2024-11-01&to=2024-11-30&", mgr.token, 5},
		{"/api/leave-calendar/?from=2024-11-01&to=2024-11-30&", emp.token, 0}, // pending: not the team's to see
		{"/api/leave-blocks/?", admin.token, 0},
		{"/api/events/?type=leave.requested&", admin.token, 3},
		{"/api/events/?type=leave.requested&employee_id=" + emp.ID + "&", admin.token, 3},
		{"/api/events/?type=no.such.type&", admin.token, 0},
		{"/api/events/?employee_id=" + mgr.ID + "&type=leave.requested&", admin.token, 0},
	}
	type page struct {
		Items     []json.RawMessage `json:"items"`
		NextAfter *string           `json:"next_after"`
	}
	for _, p := range paged {
		var whole page
		a.must(http.StatusOK, "GET", p.query+"limit="+strconv.Itoa(max(p.n, 1)), p.token, nil, &whole)
		if len(whole.Items) != p.n || whole.NextAfter != nil {
			t.Errorf("GET %slimit=%d: %d items, next_after %v; want %d, null", p.query, max(p.n, 1), len(whole.Items), deref(whole.NextAfter), p.n)
		}
		seen, after := 0, ""
		for range p.n + 1 {
			var one page
			a.must(http.StatusOK, "GET", p.query+"limit=1&after="+after, p.token, nil, &one)
			seen += len(one.Items)
			if one.NextAfter == nil {
				break
			}
			if len(one.Items) != 1 {
				t.Errorf("GET %slimit=1&after=%s: %d items before a next page, want 1", p.query, after, len(one.Items))
			}
			after = *one.NextAfter
		}
		if seen != p.n {
			t.Errorf("GET %slimit=1 walked to the end: %d items, want %d", p.query, seen, p.n)
		}
	}

	// At the end of the feed a client follows it from its last event's cursor.
	var feed struct {
		Items []struct {
			Cursor string `json:"cursor"`
		} `json:"items"`
		NextAfter *string `json:"next_after"`
	}
	a.must(http.StatusOK, "GET", "/api/events/?type=leave.requested", admin.token, nil, &feed)
	if len(feed.Items) != 3 || feed.NextAfter != nil {
		t.Fatalf("leave requests in the feed: %d, next_after %v; want 3, null", len(feed.Items), deref(feed.NextAfter))
	}
	a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]string{"start_date": "2024-11-25", "end_date": "2024-11-25"}, nil)
	last := feed.Items[2].Cursor
	// The feed shows an event once no older transaction is running, a moment later.
	eventually(t, "the new leave request follows the last one's cursor", func() bool {
		a.must(http.StatusOK, "GET", "/api/events/?type=leave.requested&after="+last, admin.token, nil, &feed)
		return len(feed.Items) == 1
	})

	// The lists that are never paged say so.
	for _, q := range []string{"/api/attendance/?employee_id=" + emp.ID, "/api/holidays/?year=2024", "/api/employees/" + emp.ID + "/history/",
		"/api/leave-balances/" + emp.ID + "/all/", "/api/leave-balances/" + emp.ID + "/ledger/?year=" + strconv.Itoa(time.Now().Year())} {
		var all page
		a.must(http.StatusOK, "GET", q, admin.token, nil, &all)
		if len(all.Items) == 0 || all.NextAfter != nil {
			t.Errorf("GET %s: %d items, next_after %v; want some, null", q, len(all.Items), deref(all.NextAfter))
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return strconv.Quote(*s)
}

// TestAuditFeedPagesThroughThousands: the feed pages through 25,000 events
// to a null next_after, and one employee's events are found across the
// thousands of others between them, where a page stops at the bound of
// what it scans and the client continues from its cursor.
func TestAuditFeedPagesThroughThousands(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	emp := a.register(admin, "employee", nil)
	// No notification of lateness lands after the events are counted.
	a.holidayToday(admin, emp)
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-in"}, nil)

	// Others' events, written in one statement: a stream of a category no
	// projection reads, so only the feed sees them.
	pool, err := pgxpool.New(context.Background(), a.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	const others = 25_000
	if _, err := pool.Exec(context.Background(), `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata)
		SELECT gen_random_uuid(), 'filler-1', v, 'holiday.declared', 1, jsonb_build_object('date', '2024-01-01', 'name', 'x'), '{}'
		FROM generate_series(1, $1) v`, others); err != nil {
		t.Fatal(err)
	}
	a.must(http.StatusCreated, "POST", "/api/attendance/", emp.token, map[string]string{"type": "check-out"}, nil)
	var total int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&total); err != nil {
		t.Fatal(err)
	}

	type page struct {
		Items []struct {
			StreamID string `json:"stream_id"`
			Type     string `json:"type"`
		} `json:"items"`
		NextAfter *string `json:"next_after"`
	}
	// walk pages through query to the end of the feed and returns the
	// events' types of streams ending in suffix, how many events, and how
	// many pages came back empty before the end.
	walk := func(query, suffix string) (types []string, events, empty int) {
		t.Helper()
		after := ""
		for pages := 0; ; pages++ {
			if pages > total {
				t.Fatalf("%s: no end after %d pages", query, pages)
			}
			var p page
			a.must(http.StatusOK, "GET", query+"&after="+after, admin.token, nil, &p)
			events += len(p.Items)
			for _, e := range p.Items {
				if strings.HasSuffix(e.StreamID, suffix) {
					types = append(types, e.Type)
				}
			}
			if p.NextAfter == nil {
				return types, events, empty
			}
			if len(p.Items) == 0 {
				empty++
			}
			after = *p.NextAfter
		}
	}
	var all []string
	eventually(t, "the check-out is in the feed", func() bool {
		types, n, _ := walk("/api/events/?limit=500", emp.ID)
		all = types
		return n == total
	})
	mine, _, empty := walk("/api/events/?limit=2&employee_id="+emp.ID, emp.ID)
	if !slices.Equal(mine, all) {
		t.Errorf("the employee's events paged 2 at a time = %v, want %v", mine, all)
	}
	if empty == 0 {
		t.Errorf("no page stopped at the scan's bound across %d others' events", others)
	}
	if !slices.Contains(mine, "attendance.checked_out") {
		t.Errorf("the employee's events = %v, want the check-out after the others' events", mine)
	}
}
