package projections

import (
	"context"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
)

// TestAutoCheckoutClosesOnce: hundreds of forgotten check-outs, more than
// one page of the due-time query, found by runners of two instances at once, then by one
// restarted with nothing cached while the read model still shows them open:
// each is closed once, at its shift's end, and the day needs review.
func TestAutoCheckoutClosesOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	clock := newTestClock()
	setClock := clock.set
	p := e.pipeline(testSettings(), clock.now)
	stop := e.start(p)

	sched := schedule("Europe/Istanbul") // 08:00-17:00, 05:00Z-14:00Z
	manager := e.register("Mehmet Demir", employee.RoleManager, "", sched, "2024-01-01")
	const forgetful = 600
	var ids []string
	for range forgetful {
		ids = append(ids, e.register("Unutkan", employee.RoleEmployee, manager, sched, "2024-01-01"))
	}
	checkedInAt := time.Date(2024, 12, 2, 5, 0, 0, 0, time.UTC) // Monday 08:00
	for _, id := range ids {
		e.checkIn(id, sched, checkedInAt)
	}
	pipelinetest.Eventually(t, "check-ins projected", e.caughtUp)
	// The pipeline's own runner would race this test's: the read model
	// stays as it is from here on.
	stop()

	closes := func() int {
		return e.count(`SELECT count(*) FROM events WHERE type = 'attendance.auto_checked_out'`)
	}

	// 17:59:59 Istanbul time plus four hours less a second: none is due.
	setClock(time.Date(2024, 12, 2, 17, 59, 59, 0, time.UTC))
	e.onceAll(p.autoCheckout())
	if got := closes(); got != 0 {
		t.Fatalf("before due: got %d closes, want 0", got)
	}
	// Due: two instances at once.
	setClock(time.Date(2024, 12, 2, 18, 0, 1, 0, time.UTC))
	e.onceAll(p.autoCheckout(), p.autoCheckout())
	if got := closes(); got != forgetful {
		t.Fatalf("two runners: got %d closes, want %d", got, forgetful)
	}
	// Restarted, the read model still shows every day open: nothing more.
	setClock(time.Date(2024, 12, 2, 19, 0, 0, 0, time.UTC))
	e.onceAll(p.autoCheckout())
	if got := closes(); got != forgetful {
		t.Fatalf("after a restart: got %d closes, want %d", got, forgetful)
	}
	if got := e.count(`SELECT count(DISTINCT stream_id) FROM events WHERE type = 'attendance.auto_checked_out'`); got != forgetful {
		t.Errorf("employees closed: got %d, want %d", got, forgetful)
	}

	e.start(p)
	pipelinetest.Eventually(t, "closes projected", e.caughtUp)
	if got := e.count(`SELECT count(*) FROM attendance_days WHERE needs_review AND status = 'present'
		AND check_out = '2024-12-02T14:00:00Z' AND worked_minutes = 540 AND close_at IS NULL`); got != forgetful {
		t.Errorf("days closed at the shift's end needing review: got %d, want %d", got, forgetful)
	}
	if got := e.count(`SELECT count(*) FROM monthly_hours WHERE worked_minutes = 540`); got != forgetful {
		t.Errorf("months with the shift's 540 minutes: got %d, want %d", got, forgetful)
	}
	// The employee and the manager are told, once each.
	pipelinetest.Eventually(t, "missing_checkout notifications", func() (bool, error) {
		return e.count(`SELECT count(*) FROM events WHERE type = 'notification.raised' AND data->>'type' = $1`,
			string(notification.TypeMissingCheckout)) == 2*forgetful, nil
	})
	for _, n := range e.inbox(ids[0]) {
		if n.Type != notification.TypeMissingCheckout || n.Data["closed_at"] != "2024-12-02T14:00:00Z" {
			t.Errorf("employee's notification: got %s %v, want missing_checkout closed at 14:00Z", n.Type, n.Data)
		}
	}
}

// TestCheckInClosesAForgottenCheckOut: the next morning's check-in closes the
// forgotten one itself when no runner did yet, and a runner then finds
// nothing to close.
func TestCheckInClosesAForgottenCheckOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	clock := time.Date(2024, 12, 3, 5, 0, 0, 0, time.UTC)
	p := e.pipeline(testSettings(), func() time.Time { return clock })
	sched := schedule("Europe/Istanbul")
	id := e.register("Unutkan", employee.RoleEmployee, "", sched, "2024-01-01")
	e.checkIn(id, sched, time.Date(2024, 12, 2, 5, 0, 0, 0, time.UTC))
	e.checkIn(id, sched, clock)
	e.start(p)
	pipelinetest.Eventually(t, "projected", e.caughtUp)
	if n, err := p.autoCheckout().Once(context.Background()); err != nil || n != 0 {
		t.Errorf("runner after the check-in: got %d closed, %v; want 0", n, err)
	}
	types := e.count(`SELECT count(*) FROM events WHERE stream_id = $1 AND type = 'attendance.auto_checked_out'`, attendance.Stream(id))
	if types != 1 {
		t.Errorf("closes: got %d, want 1", types)
	}
	if got := e.count(`SELECT count(*) FROM attendance_days WHERE employee_id = $1 AND date = '2024-12-02' AND needs_review`, id); got != 1 {
		t.Errorf("monday needs review: got %d rows, want 1", got)
	}
	if got := e.count(`SELECT count(*) FROM attendance_days WHERE employee_id = $1 AND date = '2024-12-03' AND status = 'open' AND NOT needs_review`, id); got != 1 {
		t.Errorf("tuesday open: got %d rows, want 1", got)
	}
}
