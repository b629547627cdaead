package projections

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
)

// takenLeave is the events of approved annual leave on n weekdays from start.
func takenLeave(emp string, n int, id, start string) []any {
	var dates []calendar.Date
	for d := date(start); len(dates) < n; d = d.AddDays(1) {
		if d.ISOWeekday() <= 5 {
			dates = append(dates, d)
		}
	}
	amount := leave.Days(n)
	return []any{
		leave.Requested{RequestID: id, EmployeeID: emp, StartDate: dates[0], EndDate: dates[n-1], Days: n, Dates: dates, Amount: amount, Year: dates[0].Year},
		leave.Approved{RequestID: id, EmployeeID: emp, Year: dates[0].Year, Amount: amount, Days: n, Dates: dates},
	}
}

// A lapse of carried-over days records no event; the daily sweep reports
// the low balance it causes, once the lapse is due by the employee's day,
// once however many sweeps run at the same time and however often.
func TestDailySweepReportsLowBalanceOfLapse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	clock := newTestClock()
	cfg := testSettings()
	// 5 days carried over, lapsing at the end of March; reported below 3.
	cfg.policy.CarryOverMaxDays, cfg.policy.CarryOverExpiresMonths = 5, 3
	p := e.pipeline(cfg, clock.now)
	e.start(p)

	// The lapse follows what was recorded before its day, and events are
	// recorded now: the years are this one and the next.
	this, next := time.Now().Year(), time.Now().Year()+1
	on := func(yr int, monthDay string) string { return fmt.Sprintf("%d-%s", yr, monthDay) }
	istanbul := schedule("Europe/Istanbul")
	manager := e.register("Mehmet Demir", employee.RoleManager, "", istanbul, on(this, "01-02"))
	emp := e.register("Ayşe Kaya", employee.RoleEmployee, manager, istanbul, on(this, "01-02"))
	// This year: 15 days, 8 taken, 5 of the 7 left carried into the next.
	// The next: 15 days and the 5, 13 taken in May: 7 left until the lapse
	// at the end of March, 2 after it.
	e.update(leave.Stream(emp), func([]any) ([]any, error) {
		events := []any{leave.Granted{EmployeeID: emp, Year: this, Amount: leave.Days(15), Reason: "annual leave"}}
		events = append(events, takenLeave(emp, 8, "00000000-0000-4000-8000-000000000023", on(this, "06-05"))...)
		events = append(events, leave.Granted{EmployeeID: emp, Year: next, Amount: leave.Days(15), Reason: "annual leave"})
		return append(events, takenLeave(emp, 13, "00000000-0000-4000-8000-000000000024", on(next, "05-03"))...), nil
	})

	reports := func() int {
		return e.count(`SELECT count(*) FROM events WHERE stream_id = $1 AND type = 'leave.low_balance_reached'`, leave.Stream(emp))
	}
	// sweepAt runs the sweeps of several instances at once, at 10:30 in
	// Istanbul on day.
	sweepAt := func(day string, sweeps ...interface {
		Once(context.Context) error
	}) {
		t.Helper()
		pipelinetest.Eventually(t, "caught up", e.caughtUp)
		d := date(day)
		clock.set(time.Date(d.Year, d.Month, d.Day, 7, 30, 0, 0, time.UTC))
		var wg sync.WaitGroup
		for _, s := range sweeps {
			wg.Go(func() {
				if err := s.Once(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}

	sweepAt(on(next, "03-29"), p.sweep())
	if n := reports(); n != 0 {
		t.Fatalf("low balances reported before the lapse: %d, want 0", n)
	}
	// The clock moves past the lapse on the 31st to April 2nd; two
	// instances sweep at once.
	sweepAt(on(next, "04-02"), p.sweep(), e.pipeline(cfg, clock.now).sweep())
	if n := reports(); n != 1 {
		t.Fatalf("low balances reported after the lapse: %d, want 1", n)
	}
	history, err := e.store.Load(context.Background(), leave.Stream(emp))
	if err != nil {
		t.Fatal(err)
	}
	low := history[len(history)-1].Payload.(leave.LowBalanceReached)
	if want := (leave.LowBalanceReached{EmployeeID: emp, Year: next, Remaining: leave.Days(2), Threshold: leave.Days(3),
		LeaveType: leave.TypeAnnual, Lapse: date(on(next, "03-31"))}); low != want {
		t.Errorf("reported %+v, want %+v", low, want)
	}
	told := func() (bool, error) {
		n := 0
		for _, r := range e.inbox(manager) {
			if r.Type == notification.TypeLowLeaveBalance {
				n++
			}
		}
		return n == 1, nil
	}
	pipelinetest.Eventually(t, "the manager told once", told)

	// Restarted, the next days' sweeps report nothing again.
	restarted := e.pipeline(cfg, clock.now)
	for _, day := range []string{on(next, "04-03"), on(next, "06-01")} {
		sweepAt(day, restarted.sweep(), p.sweep())
	}
	if n := reports(); n != 1 {
		t.Errorf("low balances reported after restarts: %d, want 1", n)
	}
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	if ok, _ := told(); !ok {
		t.Errorf("manager's notifications: %+v, want one low balance", e.inbox(manager))
	}
}
