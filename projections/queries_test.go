package projections

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
)

func TestQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	e.start(e.pipeline(testSettings(), quietClock))
	c := e.company()
	for i := range 4 {
		e.register(fmt.Sprintf("Report %d", i), employee.RoleEmployee, c.manager, c.sched, "2024-01-01")
	}
	e.workday(c)
	e.leave(c.emp, leave.Grant{EmployeeID: c.emp, Year: 2024})
	for i, id := range []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"} {
		start := date("2024-12-09").AddDays(7 * i)
		e.leave(c.emp, leave.Request{RequestID: id, EmployeeID: c.emp, Start: start, End: start, Workdays: c.sched.Workdays, Employment: leave.Employment{HireDate: date("2024-01-01")}})
	}
	e.leave(c.emp, leave.Approve{RequestID: "00000000-0000-4000-8000-000000000001", By: c.manager})
	pipelinetest.Eventually(t, "notifications", func() (bool, error) { return len(e.inbox(c.manager)) == 3, nil })
	first := e.inbox(c.manager)[0]
	e.update(notification.Stream(c.manager), func(h []any) ([]any, error) {
		return notification.Decide(notification.Replay(h), notification.MarkRead{NotificationID: first.NotificationID}, time.Now())
	})
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	ctx := context.Background()
	q := readmodel.NewQueries(e.pool)

	t.Run("employees of a manager, page by page", func(t *testing.T) {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			list, next, err := q.ListEmployees(ctx, query.EmployeeFilter{ManagerID: c.manager, After: after, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range list {
				got = append(got, v.ID)
			}
			if next == "" {
				if pages != 2 {
					t.Errorf("pages: got %d, want 3 of at most 2", pages+1)
				}
				break
			}
			after = next
		}
		if len(got) != 5 {
			t.Errorf("reports of the manager: got %d, want 5", len(got))
		}
	})

	t.Run("admins", func(t *testing.T) {
		got, err := q.Admins(ctx)
		if err != nil || len(got) != 1 || got[0] != c.admin {
			t.Errorf("admins: got %v (err %v), want [%s]", got, err, c.admin)
		}
	})

	t.Run("leave requests by status and manager", func(t *testing.T) {
		tests := []struct {
			f    query.RequestFilter
			want int
		}{
			{query.RequestFilter{}, 2},
			{query.RequestFilter{Status: "pending"}, 1},
			{query.RequestFilter{Status: "approved", ManagerID: c.manager}, 1},
			{query.RequestFilter{ManagerID: c.admin}, 0},
			{query.RequestFilter{EmployeeID: c.emp, Limit: 1}, 1},
			{query.RequestFilter{EmployeeID: "not-a-uuid"}, 0},
		}
		for _, tt := range tests {
			got, _, err := q.ListLeaveRequests(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Errorf("%+v: got %d requests, want %d", tt.f, len(got), tt.want)
			}
		}
	})

	t.Run("notifications", func(t *testing.T) {
		all, err := q.Notifications(ctx, c.manager, false, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		unread, err := q.Notifications(ctx, c.manager, true, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		after, err := q.Notifications(ctx, c.manager, false, 2, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 3 || len(unread) != 2 || len(after) != 1 || after[0].Seq != 3 {
			t.Errorf("got %d notifications, %d unread, %d after seq 2; want 3, 2 and 1 (seq 3)", len(all), len(unread), len(after))
		}
		got, err := q.Notification(ctx, c.manager, first.NotificationID)
		if err != nil || !got.Read {
			t.Errorf("notification read: got %+v (err %v), want read", got, err)
		}
		if _, err := q.Notification(ctx, c.emp, first.NotificationID); !errors.Is(err, query.ErrNotFound) {
			t.Errorf("another user's notification: got %v, want ErrNotFound", err)
		}
	})

	t.Run("not found", func(t *testing.T) {
		for name, err := range map[string]error{
			"unknown employee":   func() error { _, err := q.Employee(ctx, "00000000-0000-4000-8000-00000000beef"); return err }(),
			"malformed employee": func() error { _, err := q.Employee(ctx, "x"); return err }(),
			"malformed request":  func() error { _, err := q.LeaveRequest(ctx, "'; drop table"); return err }(),
		} {
			if !errors.Is(err, query.ErrNotFound) {
				t.Errorf("%s: got %v, want ErrNotFound", name, err)
			}
		}
	})

	t.Run("monthly work of a manager's reports", func(t *testing.T) {
		r, err := q.MonthlyWork(ctx, 2024, 12, query.ReportFilter{ManagerID: c.manager}, date("2024-12-03"))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Employees) != 5 || r.AsOfPosition == "" {
			t.Fatalf("got %d rows as of %q, want 5 rows as of a position", len(r.Employees), r.AsOfPosition)
		}
		for _, row := range r.Employees {
			wantAbsent := 1 // Monday 2024-12-02 without a check-in
			if row.EmployeeID == c.emp {
				wantAbsent = 0
			}
			if row.AbsentDays != wantAbsent {
				t.Errorf("%s: got %d absent days, want %d", row.FullName, row.AbsentDays, wantAbsent)
			}
		}
		if _, err := q.MonthlyWork(ctx, 2024, 13, query.ReportFilter{}, date("2024-12-03")); !errors.Is(err, readmodel.ErrInvalidMonth) {
			t.Errorf("month 13: got %v, want ErrInvalidMonth", err)
		}
	})
}

func ExampleReadModelNames() {
	fmt.Println(ReadModelNames())
	// Output: [directory attendance leave monthly_hours holidays notifications leave_calendar approvals delegations]
}

// TestMonthlyWorkByHand checks the report of February 2024 (Thursday the 1st
// to Thursday the 29th, 21 weekdays) against a month counted by hand, from
// read model rows written directly.
func TestMonthlyWorkByHand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	const (
		manager = "00000000-0000-4000-8000-00000000000a"
		ada     = "00000000-0000-4000-8000-000000000001" // Mon-Fri 09:00-17:00, hired before the month
		bora    = "00000000-0000-4000-8000-000000000002" // weekends 10:00-14:00, hired on the 15th
		cem     = "00000000-0000-4000-8000-000000000003" // inactive, no work this month: not reported
		deniz   = "00000000-0000-4000-8000-000000000004" // inactive with work this month, no hire date
	)
	weekdays := `{"timezone": "UTC", "work_start": "09:00", "work_end": "17:00", "workdays": [1, 2, 3, 4, 5], "grace_minutes": 0}`
	weekends := `{"timezone": "UTC", "work_start": "10:00", "work_end": "14:00", "workdays": [6, 7], "grace_minutes": 0}`
	long := `{"timezone": "UTC", "work_start": "08:00", "work_end": "17:00", "workdays": [1, 2, 3, 4, 5], "grace_minutes": 0}`
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	employeeRow := `INSERT INTO employees (id, email, full_name, role, manager_id, position, hire_date, schedule, active, registered_at)
		VALUES ($1, lower($2) || '@example.com', $2, 'employee', $3, '', $4, $5, $6, now())`
	exec(employeeRow, ada, "Ada", manager, "2024-01-01", weekdays, true)
	exec(employeeRow, bora, "Bora", manager, "2024-02-15", weekends, true)
	exec(employeeRow, cem, "Cem", nil, "2024-01-01", weekdays, false)
	exec(employeeRow, deniz, "Deniz", nil, nil, long, false)
	hours := `INSERT INTO monthly_hours (employee_id, year, month, days_worked, worked_minutes, late_days, late_minutes) VALUES ($1, 2024, $2, $3, $4, $5, $6)`
	exec(hours, ada, 1, 1, 480, 0, 0)
	exec(hours, ada, 2, 3, 1500, 1, 10)
	exec(hours, bora, 2, 1, 300, 0, 0)
	exec(hours, deniz, 2, 11, 12000, 0, 0)
	exec(hours, cem, 1, 20, 9600, 0, 0) // another month
	attended := map[string][]string{
		ada:   {"2024-01-31", "2024-02-01", "2024-02-02", "2024-02-03"}, // a day of January and a Saturday
		bora:  {"2024-02-17"},
		deniz: {"2024-02-01", "2024-02-02", "2024-02-05", "2024-02-06", "2024-02-07", "2024-02-08", "2024-02-09", "2024-02-12", "2024-02-13", "2024-02-15", "2024-02-16"},
	}
	for id, days := range attended {
		for _, d := range days {
			exec(`UPDATE monthly_hours SET attended = attended | (1::bigint << (extract(day FROM $2::date)::int - 1))
				WHERE employee_id = $1 AND year = extract(year FROM $2::date) AND month = extract(month FROM $2::date)`, id, d)
		}
	}
	for _, d := range []string{"2024-02-05", "2024-02-06", "2024-03-01"} { // two days of leave this month, one next month
		exec(`INSERT INTO leave_days (employee_id, date, request_id) VALUES ($1, $2, $3)`, ada, d, "00000000-0000-4000-8000-0000000000f1")
	}
	exec(`INSERT INTO holidays (date, name) VALUES ('2024-02-14', 'Holiday'), ('2024-01-01', 'New Year')`)

	// Ada: 21 weekdays less 2 of leave and the holiday = 18 expected (8,640
	// min); before the 20th, 13 weekdays less leave and holiday = 10, of which
	// she attended 2: 8 absent.
	// Bora: weekend days from the 15th: 17, 18, 24, 25 = 4 x 240 min; before
	// the 20th she missed the 18th.
	// Deniz: 21 weekdays less the holiday = 20 x 540 = 10,800 min, 1,200 of
	// overtime; of the 12 expected days before the 20th she missed the 19th.
	want := []query.MonthlyRow{
		{EmployeeID: ada, FullName: "Ada", DaysWorked: 3, WorkedMinutes: 1500, WorkedHours: 25, ExpectedMinutes: 8640,
			LateDays: 1, LateMinutes: 10, LeaveDays: 2, AbsentDays: 8},
		{EmployeeID: bora, FullName: "Bora", DaysWorked: 1, WorkedMinutes: 300, WorkedHours: 5, ExpectedMinutes: 960, AbsentDays: 1},
		{EmployeeID: deniz, FullName: "Deniz", DaysWorked: 11, WorkedMinutes: 12000, WorkedHours: 200, ExpectedMinutes: 10800,
			AbsentDays: 1, OvertimeMinutes: 1200},
	}
	q := readmodel.NewQueries(pool)
	tests := []struct {
		name string
		f    query.ReportFilter
		want []query.MonthlyRow
	}{
		{"everyone", query.ReportFilter{}, want},
		{"a manager's reports", query.ReportFilter{ManagerID: manager}, want[:2]},
		{"one employee", query.ReportFilter{EmployeeID: bora}, want[1:2]},
		{"an inactive employee without work", query.ReportFilter{EmployeeID: cem}, []query.MonthlyRow{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := q.MonthlyWork(ctx, 2024, 2, tt.f, date("2024-02-20"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Employees); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			if got.AsOfPosition != (eventstore.Cursor{}).String() {
				t.Errorf("as of: got %q, want the start of the feed (no checkpoint yet)", got.AsOfPosition)
			}
		})
	}
}
