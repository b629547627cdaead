package projections

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
)

func TestQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, MemoryBus)
	e.start(e.pipeline(testConfig(), quietClock))
	c := e.company()
	for i := range 4 {
		e.register(fmt.Sprintf("Report %d", i), employee.RoleEmployee, c.manager, c.sched, "2024-01-01")
	}
	e.workday(c)
	e.leave(c.emp, leave.Grant{EmployeeID: c.emp, Year: 2024})
	for i, id := range []string{"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"} {
		start := date("2024-12-09").AddDays(7 * i)
		e.leave(c.emp, leave.Request{RequestID: id, EmployeeID: c.emp, Start: start, End: start, Workdays: c.sched.Workdays, HireDate: date("2024-01-01")})
	}
	e.leave(c.emp, leave.Approve{RequestID: "00000000-0000-4000-8000-000000000001", By: c.manager})
	eventually(t, "notifications", func() (bool, error) { return len(e.inbox(c.manager)) == 3, nil })
	first := e.inbox(c.manager)[0]
	e.update(notification.Stream(c.manager), func(h []any) ([]any, error) {
		return notification.Decide(notification.Replay(h), notification.MarkRead{NotificationID: first.NotificationID}, time.Now())
	})
	eventually(t, "caught up", e.caughtUp)
	ctx := context.Background()
	q := NewQueries(e.pool)

	t.Run("employees of a manager, page by page", func(t *testing.T) {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			list, next, err := q.ListEmployees(ctx, EmployeeFilter{ManagerID: c.manager, After: after, Limit: 2})
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
			f    LeaveFilter
			want int
		}{
			{LeaveFilter{}, 2},
			{LeaveFilter{Status: "pending"}, 1},
			{LeaveFilter{Status: "approved", ManagerID: c.manager}, 1},
			{LeaveFilter{ManagerID: c.admin}, 0},
			{LeaveFilter{EmployeeID: c.emp, Limit: 1}, 1},
			{LeaveFilter{EmployeeID: "not-a-uuid"}, 0},
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
		if _, err := q.Notification(ctx, c.emp, first.NotificationID); !errors.Is(err, ErrNotFound) {
			t.Errorf("another user's notification: got %v, want ErrNotFound", err)
		}
	})

	t.Run("not found", func(t *testing.T) {
		for name, err := range map[string]error{
			"unknown employee":   func() error { _, err := q.Employee(ctx, "00000000-0000-4000-8000-00000000beef"); return err }(),
			"malformed employee": func() error { _, err := q.Employee(ctx, "x"); return err }(),
			"malformed request":  func() error { _, err := q.LeaveRequest(ctx, "'; drop table"); return err }(),
		} {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: got %v, want ErrNotFound", name, err)
			}
		}
	})

	t.Run("monthly work of a manager's reports", func(t *testing.T) {
		r, err := q.MonthlyWork(ctx, 2024, 12, ReportFilter{ManagerID: c.manager}, date("2024-12-03"))
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
		if _, err := q.MonthlyWork(ctx, 2024, 13, ReportFilter{}, date("2024-12-03")); !errors.Is(err, ErrInvalidMonth) {
			t.Errorf("month 13: got %v, want ErrInvalidMonth", err)
		}
	})
}

func ExampleReadModelNames() {
	fmt.Println(ReadModelNames())
	// Output: [directory attendance leave monthly_hours holidays notifications]
}
