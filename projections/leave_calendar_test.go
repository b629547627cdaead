package projections

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// calendarOf reads every page of the calendar f selects, as "date name status".
func calendarOf(t *testing.T, q *readmodel.Queries, f query.LeaveCalendarFilter) []string {
	t.Helper()
	var out []string
	for {
		list, next, err := q.LeaveCalendar(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list {
			out = append(out, d.Date.String()+" "+d.FullName+" "+d.Status)
		}
		if next.IsZero() {
			return out
		}
		f.After = next
	}
}

// TestLeaveCalendarFollowsTheLeave: a request is on the calendar while
// pending, keeps the days its approval charges (a holiday declared in
// between comes off), and leaves it when rejected or cancelled; a rebuild
// gives the same calendar.
func TestLeaveCalendarFollowsTheLeave(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	e.start(e.pipeline(testSettings(), quietClock))
	c := e.company()
	peer := e.register("Deniz Kaya", employee.RoleEmployee, c.manager, c.sched, "2024-01-01")
	other := e.register("Ozan Ak", employee.RoleEmployee, c.admin, c.sched, "2024-01-01")
	file := func(emp, start, end string) string {
		id := uuid.NewString()
		e.leave(emp, leave.Request{RequestID: id, EmployeeID: emp, Start: date(start), End: date(end), Workdays: c.sched.Workdays, Employment: leave.Employment{HireDate: date("2024-01-01")}})
		return id
	}
	// Monday 2024-12-02 to Wednesday the 4th, approved after the 3rd became a holiday.
	week := file(c.emp, "2024-12-02", "2024-12-04")
	e.declareHoliday("2024-12-03", "Founders' Day")
	e.leave(c.emp, leave.Approve{RequestID: week, By: c.manager, Holidays: calendar.Holidays{date("2024-12-03"): "Founders' Day"}})
	file(peer, "2024-12-04", "2024-12-05")
	rejected := file(peer, "2024-12-09", "2024-12-09")
	e.leave(peer, leave.Reject{RequestID: rejected, By: c.manager})
	cancelled := file(c.emp, "2024-12-10", "2024-12-10")
	e.leave(c.emp, leave.Approve{RequestID: cancelled, By: c.manager})
	e.leave(c.emp, leave.Cancel{RequestID: cancelled, By: c.manager})
	file(other, "2024-12-04", "2024-12-04")
	pipelinetest.Eventually(t, "caught up", e.caughtUp)

	q := readmodel.NewQueries(e.pool)
	december := query.LeaveCalendarFilter{From: date("2024-12-01"), To: date("2024-12-31"), Limit: 2}
	everyone := calendarOf(t, q, december)
	slices.Sort(everyone) // the employees of one day come in id order
	want := []string{
		"2024-12-02 Ayşe Yılmaz approved", "2024-12-04 Ayşe Yılmaz approved", "2024-12-04 Deniz Kaya pending",
		"2024-12-04 Ozan Ak pending", "2024-12-05 Deniz Kaya pending",
	}
	if diff := cmp.Diff(want, everyone); diff != "" {
		t.Errorf("everyone's December (-want +got):\n%s", diff)
	}
	team := december
	team.ManagerID, team.ApprovedOnly = c.manager, true
	if got := calendarOf(t, q, team); !slices.Equal(got, []string{"2024-12-02 Ayşe Yılmaz approved", "2024-12-04 Ayşe Yılmaz approved"}) {
		t.Errorf("the team's approved days: got %v", got)
	}
	one := december
	one.EmployeeID, one.From = peer, date("2024-12-05")
	if got := calendarOf(t, q, one); !slices.Equal(got, []string{"2024-12-05 Deniz Kaya pending"}) {
		t.Errorf("one employee from the 5th: got %v", got)
	}

	ctx := context.Background()
	for name, tt := range map[string]struct {
		manager, employee string
		dates             []string
		want              int
	}{
		"a teammate pending on the day":      {c.manager, c.emp, []string{"2024-12-05"}, 1},
		"a teammate on any of the days":      {c.manager, peer, []string{"2024-12-02", "2024-12-03"}, 1},
		"no one on a holiday":                {c.manager, peer, []string{"2024-12-03"}, 0},
		"each teammate once":                 {c.manager, other, []string{"2024-12-04", "2024-12-05"}, 2},
		"the requester is not counted":       {c.manager, c.emp, []string{"2024-12-02"}, 0},
		"a cancelled request is not counted": {c.manager, peer, []string{"2024-12-10"}, 0},
		"another team":                       {c.admin, c.emp, []string{"2024-12-04"}, 1},
	} {
		var dates []calendar.Date
		for _, d := range tt.dates {
			dates = append(dates, date(d))
		}
		got, err := q.TeamOverlap(ctx, tt.manager, tt.employee, dates)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %d (err %v), want %d", name, got, err, tt.want)
		}
	}

	var out bytes.Buffer
	if diffs, err := Verify(ctx, e.pool, e.store, []string{readmodel.LeaveCalendar}, &out, nil); err != nil || diffs != 0 {
		t.Fatalf("verify: %d differences (err %v):\n%s", diffs, err, out.String())
	}
	if err := Rebuild(ctx, e.pool, e.store, []string{readmodel.LeaveCalendar}, nil); err != nil {
		t.Fatal(err)
	}
	rebuilt := calendarOf(t, q, december)
	slices.Sort(rebuilt)
	if diff := cmp.Diff(everyone, rebuilt); diff != "" {
		t.Errorf("the calendar after a rebuild (-live +rebuilt):\n%s", diff)
	}
}

// TestLeaveCalendarAtSize: 2,000 employees in teams of 20, each with leave
// on a third of a month's workdays, some pending: every page of everyone's
// month, a manager's and a team's views answer quickly, and the pages add
// up to every day once.
func TestLeaveCalendarAtSize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	const employees, teamSize = 2000, 20
	sched := schedule("UTC")
	june := []calendar.Date{}
	for d := date("2025-06-02"); !d.After(date("2025-06-27")); d = d.AddDays(1) {
		if d.ISOWeekday() <= 5 {
			june = append(june, d)
		}
	}
	var events []eventstore.Event
	add := func(stream string, payload eventstore.Payload) {
		events = append(events, eventstore.Event{ID: uuid.New(), StreamID: stream, Type: payload.EventName(), Payload: payload, RecordedAt: time.Now()})
	}
	var managers []string
	wantDays, wantPending := 0, 0
	for i := range employees {
		id := uuid.NewString()
		manager := ""
		if i%teamSize == 0 {
			managers = append(managers, id)
		} else {
			manager = managers[len(managers)-1]
		}
		add(employee.Stream(id), employee.Registered{EmployeeID: id, FullName: fmt.Sprint("Employee ", i), Role: employee.RoleEmployee,
			ManagerID: manager, HireDate: date("2024-01-01"), Schedule: sched})
		dates := []calendar.Date{}
		for j, d := range june {
			if (i+j)%3 == 0 {
				dates = append(dates, d)
			}
		}
		request := uuid.NewString()
		add(leave.Stream(id), leave.Requested{RequestID: request, EmployeeID: id, StartDate: dates[0], EndDate: dates[len(dates)-1],
			Days: len(dates), Dates: dates, Amount: leave.Days(len(dates)), Year: 2025})
		wantDays += len(dates)
		if i%4 == 0 {
			wantPending += len(dates)
			continue
		}
		add(leave.Stream(id), leave.Approved{RequestID: request, EmployeeID: id, Year: 2025, Amount: leave.Days(len(dates)), Days: len(dates), Dates: dates})
	}
	load(t, pool, events, readmodel.Directory, readmodel.LeaveCalendar)
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}

	q := readmodel.NewQueries(pool)
	walk := func(f query.LeaveCalendarFilter) (days int, slowest time.Duration) {
		for {
			start := time.Now()
			list, next, err := q.LeaveCalendar(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			slowest = max(slowest, time.Since(start))
			days += len(list)
			if next.IsZero() {
				return days, slowest
			}
			if !f.After.IsZero() && !less(f.After, next) {
				t.Fatalf("cursor went from %v back to %v", f.After, next)
			}
			f.After = next
		}
	}
	month := query.LeaveCalendarFilter{From: date("2025-06-01"), To: date("2025-06-30"), Limit: 500}
	got, slowest := walk(month)
	t.Logf("everyone's month: %d days in pages of 500, slowest page %v", got, slowest)
	if got != wantDays {
		t.Errorf("everyone's month: %d days, want %d", got, wantDays)
	}
	mgr := month
	mgr.ManagerID = managers[len(managers)/2]
	gotMgr, slowestMgr := walk(mgr)
	teamView := mgr
	teamView.ApprovedOnly = true
	gotTeam, slowestTeam := walk(teamView)
	t.Logf("a manager's month: %d days, slowest page %v; the team's approved: %d, slowest page %v", gotMgr, slowestMgr, gotTeam, slowestTeam)
	if gotMgr == 0 || gotTeam >= gotMgr {
		t.Errorf("a manager sees %d days, the team %d approved: want some, fewer approved", gotMgr, gotTeam)
	}
	// Generous for a shared machine: an index scan answers in milliseconds,
	// a scan of the table in far more.
	for what, d := range map[string]time.Duration{"everyone": slowest, "manager": slowestMgr, "team": slowestTeam} {
		if d > 300*time.Millisecond {
			t.Errorf("%s: slowest page took %v, want well under 300ms", what, d)
		}
	}
	overlap, err := q.TeamOverlap(ctx, managers[0], "00000000-0000-4000-8000-000000000000", june)
	if err != nil || overlap != teamSize-1 {
		t.Errorf("team overlap over the month: got %d (err %v), want the %d reports", overlap, err, teamSize-1)
	}
	approved := month
	approved.ApprovedOnly = true
	if got, _ := walk(approved); got != wantDays-wantPending {
		t.Errorf("everyone's approved days: %d, want %d", got, wantDays-wantPending)
	}
}

// less orders calendar cursors as the calendar does.
func less(a, b query.CalendarCursor) bool {
	if c := a.Date.Compare(b.Date); c != 0 {
		return c < 0
	}
	return a.EmployeeID+a.RequestID < b.EmployeeID+b.RequestID
}

// load folds events into the named read models in memory and copies them
// into the live tables, as a rebuild does.
func load(t *testing.T, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}, events []eventstore.Event, names ...string) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, m := range readmodel.All() {
		if !slices.Contains(names, m.Name) {
			continue
		}
		apply, tables := m.Memory()
		for _, ev := range events {
			if category, _, _ := streamid.Split(ev.StreamID); category != m.Category {
				continue
			}
			if err := apply(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		sort.Slice(tables, func(i, j int) bool { return tables[i].TableName() < tables[j].TableName() })
		for _, table := range tables {
			if _, err := table.CopyTo(ctx, tx, "public"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
