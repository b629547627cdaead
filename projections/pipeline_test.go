package projections

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/backlog"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/poison"
	"github.com/acme/employee-tracking/projections/readmodel"
	"github.com/acme/employee-tracking/projections/saga"
)

// company is the cast of most pipeline tests: an admin, a manager and one of
// the manager's reports, all in Istanbul (UTC+3).
type company struct {
	admin, manager, emp string
	sched               employee.Schedule
}

func (e *env) company() company {
	s := schedule("Europe/Istanbul")
	c := company{sched: s}
	c.admin = e.register("Ada Admin", employee.RoleAdmin, "", s, "2024-01-01")
	c.manager = e.register("Mehmet Demir", employee.RoleManager, "", s, "2024-01-01")
	c.emp = e.register("Ayşe Yılmaz", employee.RoleEmployee, c.manager, s, "2024-01-01")
	// The sagas find the admins in the directory.
	pipelinetest.Eventually(e.t, "directory", func() (bool, error) { return e.count(`SELECT count(*) FROM employees`) == 3, nil })
	return c
}

// workday appends a late check-in (08:17 local, 17 minutes late) and a
// check-out at 17:00 local on Monday 2024-12-02: 523 minutes worked.
func (e *env) workday(c company) {
	e.checkIn(c.emp, c.sched, time.Date(2024, 12, 2, 5, 17, 0, 0, time.UTC))
	e.checkOut(c.emp, time.Date(2024, 12, 2, 14, 0, 0, 0, time.UTC))
}

func TestEventReachesEveryReadModel(t *testing.T) {
	t.Parallel()
	for _, busURL := range []string{bus.MemoryURL, pipelinetest.RedisURL()} {
		t.Run(map[bool]string{true: "memory", false: "redis"}[busURL == bus.MemoryURL], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, busURL)
			e.start(e.pipeline(testSettings(), quietClock))
			c := e.company()
			e.declareHoliday("2024-12-25", "Christmas")
			e.workday(c)
			request := uuid.NewString()
			e.leave(c.emp, leave.Grant{EmployeeID: c.emp, Year: 2024})
			e.leave(c.emp, leave.Request{RequestID: request, EmployeeID: c.emp, Start: date("2024-12-09"), End: date("2024-12-10"),
				Reason: "family visit", Workdays: c.sched.Workdays, Employment: leave.Employment{HireDate: date("2024-01-01")}})
			e.leave(c.emp, leave.Approve{RequestID: request, By: c.manager, Note: "enjoy", At: time.Date(2024, 11, 2, 9, 0, 0, 0, time.UTC)})

			pipelinetest.Eventually(t, "read models caught up", e.caughtUp)
			// The sagas' notifications are events too: wait for them and their rows.
			pipelinetest.Eventually(t, "notifications projected", func() (bool, error) {
				return e.count(`SELECT count(*) FROM notifications`) == 4, nil
			})
			pipelinetest.Eventually(t, "read models caught up", e.caughtUp)

			ctx := context.Background()
			q := readmodel.NewQueries(e.pool)
			gotEmp, err := q.Employee(ctx, c.emp)
			if err != nil {
				t.Fatal(err)
			}
			manager := c.manager
			wantEmp := query.EmployeeView{ID: c.emp, Email: c.emp[:8] + "@example.com", FullName: "Ayşe Yılmaz", Role: "employee",
				ManagerID: &manager, Position: "engineer", HireDate: date("2024-01-01"), Schedule: c.sched, HolidayCalendar: "default", Active: true}
			if diff := cmp.Diff(wantEmp, gotEmp); diff != "" {
				t.Errorf("employee (-want +got):\n%s", diff)
			}

			days, err := q.AttendanceDays(ctx, c.emp, date("2024-12-01"), date("2024-12-31"))
			if err != nil {
				t.Fatal(err)
			}
			out := time.Date(2024, 12, 2, 14, 0, 0, 0, time.UTC)
			wantDays := []query.AttendanceDay{{EmployeeID: c.emp, Date: date("2024-12-02"), CheckIn: time.Date(2024, 12, 2, 5, 17, 0, 0, time.UTC),
				CheckOut: &out, WorkedMinutes: 523, LateMinutes: 17, Status: readmodel.StatusLate}}
			if diff := cmp.Diff(wantDays, days, cmpopts.EquateApproxTime(0)); diff != "" {
				t.Errorf("attendance days (-want +got):\n%s", diff)
			}

			req, err := q.LeaveRequest(ctx, request)
			if err != nil {
				t.Fatal(err)
			}
			if req.Status != "approved" || req.Days != 2 || req.DecidedBy == nil || *req.DecidedBy != c.manager || req.Note != "enjoy" {
				t.Errorf("leave request: got %+v, want approved, 2 days, decided by %s with note", req, c.manager)
			}
			if got := e.count(`SELECT count(*) FROM leave_days WHERE employee_id = $1`, c.emp); got != 2 {
				t.Errorf("leave days: got %d, want 2", got)
			}
			var entitlement, used, pending int64
			if err := e.pool.QueryRow(ctx, `SELECT entitlement, used, pending FROM leave_balances WHERE employee_id = $1 AND year = 2024`, c.emp).
				Scan(&entitlement, &used, &pending); err != nil {
				t.Fatal(err)
			}
			if entitlement != int64(leave.Days(15)) || used != int64(leave.Days(2)) || pending != 0 {
				t.Errorf("balance: got entitlement %d, used %d, pending %d; want %d, %d, 0", entitlement, used, pending, leave.Days(15), leave.Days(2))
			}

			hols, err := q.Holidays(ctx, "", 2024)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]readmodel.Holiday{{Date: date("2024-12-25"), Name: "Christmas"}}, hols); diff != "" {
				t.Errorf("holidays (-want +got):\n%s", diff)
			}

			report, err := q.MonthlyWork(ctx, 2024, 12, query.ReportFilter{EmployeeID: c.emp}, date("2024-12-04"))
			if err != nil {
				t.Fatal(err)
			}
			// December 2024 has 22 weekdays; Christmas and two days of leave
			// leave 19 expected days of 9 hours. 2024-12-03 passed without a
			// check-in.
			wantRows := []query.MonthlyRow{{EmployeeID: c.emp, FullName: "Ayşe Yılmaz", DaysWorked: 1, WorkedMinutes: 523, WorkedHours: 8.72,
				ExpectedMinutes: 19 * 540, LateDays: 1, LateMinutes: 17, LeaveDays: 2, AbsentDays: 1}}
			if diff := cmp.Diff(wantRows, report.Employees); diff != "" {
				t.Errorf("monthly work (-want +got):\n%s", diff)
			}

			wantTypes := map[string][]string{
				c.manager: {string(notification.TypeLateness), string(notification.TypeLeaveRequested)},
				c.admin:   {string(notification.TypeLateness)},
				c.emp:     {string(notification.TypeLeaveDecided)},
			}
			for user, want := range wantTypes {
				list, err := q.Notifications(ctx, user, false, 0, 50)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for i, n := range list {
					got = append(got, n.Type)
					if n.Seq != int64(i+1) {
						t.Errorf("notification %d of %s: got seq %d, want %d", i, user, n.Seq, i+1)
					}
				}
				// The sagas run side by side: the order of two causes is free.
				if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
					t.Errorf("notification types of %s (-want +got):\n%s", user, diff)
				}
			}
			late, err := q.Notifications(ctx, c.admin, false, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			if want := "Ayşe Yılmaz checked in 17 minutes late on 2024-12-02."; len(late) != 1 || late[0].Message != want {
				t.Errorf("lateness notification: got %+v, want message %q", late, want)
			}
		})
	}
}

// TestLateCheckInDeductsLeaveOnce: with the deduction on, a late check-in
// costs its minutes of leave once, under the id derived from the check-in,
// recorded as the saga's and caused by the check-in, even when the saga is
// handed the check-in again.
func TestLateCheckInDeductsLeaveOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	settings := testSettings()
	settings.policy.LatenessDeductsLeave = true
	p := e.pipeline(settings, quietClock)
	e.start(p)
	c := e.company()
	e.leave(c.emp, leave.Grant{EmployeeID: c.emp, Year: 2024})
	e.workday(c)

	deductions := func() []eventstore.Event {
		history, err := e.store.Load(context.Background(), leave.Stream(c.emp))
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(history, func(ev eventstore.Event) bool { return ev.Type != "leave.lateness_deducted" })
	}
	pipelinetest.Eventually(t, "the deduction", func() (bool, error) { return len(deductions()) == 1, nil })
	checkIns, err := e.store.Load(context.Background(), attendance.Stream(c.emp))
	if err != nil {
		t.Fatal(err)
	}
	got := deductions()[0]
	if want := command.ReactionIDs.ID("leave", checkIns[0].ID.String(), "0"); got.ID != want {
		t.Errorf("deduction id = %s, want %s", got.ID, want)
	}
	if got.Metadata.Actor != saga.DeductLeaveOnLateCheckIn || got.Metadata.CausationID != checkIns[0].ID.String() {
		t.Errorf("deduction metadata = %+v, want the saga's, caused by check-in %s", got.Metadata, checkIns[0].ID)
	}
	if ev := got.Payload.(leave.LatenessDeducted); ev.LateMinutes != 17 {
		t.Errorf("deducted %d late minutes, want 17", ev.LateMinutes)
	}

	deduct := sagaNamed(t, p, saga.DeductLeaveOnLateCheckIn)
	if err := deduct.React(context.Background(), checkIns[0]); err != nil && !poison.Is(err) {
		t.Fatalf("reacting again: %v", err)
	}
	if n := len(deductions()); n != 1 {
		t.Errorf("%d deductions after the check-in came again, want 1", n)
	}
}

// sagaNamed is the saga called name among p's saga groups.
func sagaNamed(t *testing.T, p *Pipeline, name string) saga.Saga {
	t.Helper()
	for _, g := range p.sagas {
		for _, s := range g.sagas {
			if s.Name == name {
				return s
			}
		}
	}
	t.Fatalf("no saga %s", name)
	return saga.Saga{}
}

// Each consumer group reads the topics of its stream category only, and each
// topic carries the events of its category only: a check-in wakes the groups
// that handle attendance, not every group.
func TestEachGroupReadsOnlyItsCategory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	p := e.pipeline(testSettings(), quietClock)
	e.start(p)
	c := e.company()
	e.declareHoliday("2024-12-25", "Christmas")
	e.workday(c)
	e.leave(c.emp, leave.Grant{EmployeeID: c.emp, Year: 2024})
	pipelinetest.Eventually(t, "lateness notified", func() (bool, error) { return len(e.inbox(c.manager)) == 1, nil })
	// The notification is in the store; now everything is published too.
	pipelinetest.Eventually(t, "caught up", e.caughtUp)

	ctx := context.Background()
	keys, err := e.redis.Keys(ctx, e.prefix+"events.*").Result()
	if err != nil {
		t.Fatal(err)
	}
	readers := map[string][]string{} // category -> groups
	for _, cons := range p.consumers {
		readers[cons.reads()] = append(readers[cons.reads()], cons.name())
	}
	carried := map[string]int{} // category -> events seen on its topics
	var codec redisstream.DefaultMarshallerUnmarshaller
	for _, topic := range keys {
		category, _, _ := strings.Cut(strings.TrimPrefix(topic, e.prefix+"events."), ".")
		groups, err := e.redis.XInfoGroups(ctx, topic).Result()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, g := range groups {
			names = append(names, g.Name)
		}
		slices.Sort(names)
		want := slices.Sorted(slices.Values(readers[category]))
		if !slices.Equal(names, want) {
			t.Errorf("%s: read by %v, want %v", topic, names, want)
		}
		entries, err := e.redis.XRange(ctx, topic, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, xm := range entries {
			msg, err := codec.Unmarshal(xm.Values)
			if err != nil {
				t.Fatal(err)
			}
			stream := msg.Metadata.Get(bus.MetaStream)
			if stream == "" {
				continue // a watermark
			}
			if got, _, _ := streamid.Split(stream); got != category {
				t.Errorf("%s carries an event of %s", topic, stream)
			}
			carried[category]++
		}
	}
	for _, category := range []string{"employee", "attendance", "leave", "holidays", "notify"} {
		if carried[category] == 0 {
			t.Errorf("no event of %s on its topics %v", category, keys)
		}
	}
}

// The in-process bus works off a backlog at a rate of the order of Redis's:
// thousands of events a second, not one transaction per event and consumer
// while the relay waits for each.
func TestMemoryBusWorksOffABacklogQuickly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	const events, employees = 20_000, 500
	if err := backlog.Attendance(context.Background(), e.pool, events, employees, date("2024-01-01"), "test"); err != nil {
		t.Fatal(err)
	}
	p := e.pipeline(testSettings(), quietClock)
	start := time.Now()
	e.start(p)
	// Measured on two cores shared with other test suites (load 4): 3.6 to
	// 4.2 s with batches, 19.5 s one event at a time.
	deadline := start.Add(12 * time.Second)
	for {
		ok, err := e.caughtUp()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events not applied after %s: the in-process bus drains too slowly", events, time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d events through every read model and saga in %s", events, time.Since(start).Round(time.Millisecond))
}

// A stream id without a category (no dash) is none the domain writes, so it
// goes to no topic and no read model: the events around it are projected, live
// and by a rebuild, and a stream named exactly "employee" reaches no fold that
// expects "employee-<id>".
func TestStreamWithoutCategoryGoesToNoConsumer(t *testing.T) {
	t.Parallel()
	for _, busURL := range []string{bus.MemoryURL, pipelinetest.RedisURL()} {
		t.Run(busURL, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, busURL)
			e.start(e.pipeline(testSettings(), quietClock))
			if _, err := e.store.Append(context.Background(), employee.Category, 0, eventstore.EventData{
				ID: uuid.New(), Payload: employee.Deactivated{EmployeeID: "nobody", Reason: "no category"}, Metadata: eventstore.Metadata{Actor: "test"},
			}); err != nil {
				t.Fatal(err)
			}
			id := e.register("After", "employee", "", schedule("UTC"), "2024-01-01")
			pipelinetest.Eventually(t, "the employee after it projected", func() (bool, error) {
				return e.count(`SELECT count(*) FROM employees WHERE id = $1`, id) == 1, nil
			})
			if err := Rebuild(context.Background(), e.pool, e.store, []string{readmodel.Directory}, io.Discard); err != nil {
				t.Fatal(err)
			}
			if got := e.count(`SELECT count(*) FROM employees`); got != 1 {
				t.Errorf("%d employees after the rebuild, want 1", got)
			}
			if got := e.count(`SELECT count(*) FROM parked_messages`); got != 0 {
				t.Errorf("%d parked messages, want 0: the event reached a consumer", got)
			}
		})
	}
}
