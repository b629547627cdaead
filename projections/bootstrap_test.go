package projections

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// lockedBuffer is a log that pipelines running side by side write to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A read model an upgrade adds to a store with history (here the team
// calendar, its rows, versions and checkpoints gone, as before the upgrade
// that brought it) is built from the store when the pipeline starts: once,
// by one of two instances starting at once; it then equals a rebuild, and
// its checkpoints are where the build read to, so that neither the relay
// (which rewinds to the lowest checkpoint when the bus loses its streams)
// nor the monitor (/readyz) takes it for a consumer at the start of the feed.
func TestNewReadModelIsBuiltAtStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	stop := e.start(e.pipeline(testSettings(), quietClock))
	c := e.company()
	hired := leave.Employment{HireDate: date("2024-01-01")}
	for i, start := range []string{"2024-12-02", "2024-12-09", "2024-12-16", "2024-12-23"} {
		id := uuid.NewString()
		e.leave(c.emp, leave.Request{RequestID: id, EmployeeID: c.emp, Start: date(start), End: date(start).AddDays(2),
			Workdays: c.sched.Workdays, Employment: hired})
		switch i {
		case 1:
			e.leave(c.emp, leave.Approve{RequestID: id, By: c.manager})
		case 2:
			e.leave(c.emp, leave.Approve{RequestID: id, By: c.manager})
			e.leave(c.emp, leave.Cancel{RequestID: id, By: c.manager})
		}
	}
	// The sagas tell the manager of each request and the employee of each
	// decision. Stopped before the notifications reach their read model, the
	// next start would build that model too, as new to the store.
	pipelinetest.Eventually(t, "caught up, the notifications applied", func() (bool, error) {
		ok, err := e.caughtUp()
		return ok && e.count(`SELECT count(*) FROM notifications`) == 6, err
	})
	want := e.count(`SELECT count(*) FROM leave_calendar`)
	if want != 9 {
		t.Fatalf("calendar days before the upgrade: %d, want 9 (two pending requests and an approved one, of 3 days each)", want)
	}
	stop()

	ctx := context.Background()
	for _, sql := range []string{`DELETE FROM leave_calendar`, `DELETE FROM leave_calendar_requests`,
		`DELETE FROM projection_versions WHERE projection = 'leave_calendar'`,
		`DELETE FROM projection_checkpoints WHERE projection = 'leave_calendar'`} {
		if _, err := e.pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}

	// Two instances start at once.
	var log lockedBuffer
	instance := func() *Pipeline {
		p, err := New(Deps{LeavePolicy: testSettings().policy, DailyCheckAt: testSettings().checkAt, Pool: e.pool, Store: e.store,
			Bus: e.bus, Now: quietClock, Logger: slog.New(slog.NewTextHandler(&log, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	stops := []func(){e.start(instance()), e.start(instance())}
	pipelinetest.Eventually(t, "the calendar built", func() (bool, error) {
		ok, err := e.caughtUp()
		return ok && e.count(`SELECT count(*) FROM leave_calendar`) == want && strings.Contains(log.String(), "built a read model"), err
	})
	if n := strings.Count(log.String(), "built a read model new to this store"); n != 1 {
		t.Errorf("builds logged: %d, want 1:\n%s", n, log.String())
	}
	if !strings.Contains(log.String(), "read_model="+readmodel.LeaveCalendar) {
		t.Errorf("log: %s\nwant the build of %s", log.String(), readmodel.LeaveCalendar)
	}

	var out bytes.Buffer
	if diffs, err := Verify(ctx, e.pool, e.store, []string{readmodel.LeaveCalendar}, &out, nil); err != nil || diffs != 0 {
		t.Fatalf("verify of the built calendar: %d differences (err %v), want 0:\n%s", diffs, err, out.String())
	}
	// Every partition has a checkpoint past the start of the feed.
	if n := e.count(`SELECT count(*) FROM projection_checkpoints WHERE projection = $1 AND position > 0`, readmodel.LeaveCalendar); n != e.bus.Partitions() {
		t.Errorf("checkpoints of the built calendar past the start: %d, want one per partition (%d)", n, e.bus.Partitions())
	}
	pipelinetest.Eventually(t, "monitor", func() (bool, error) {
		st, err := NewMonitor(e.pool).Status(ctx)
		if err != nil {
			return false, err
		}
		for _, cs := range st.Consumers {
			if cs.Name == readmodel.LeaveCalendar {
				return cs.LagEvents == 0 && len(st.Stalled()) == 0, nil
			}
		}
		return false, nil
	})

	// Built, it is not built again at the next start.
	for _, stop := range stops {
		stop()
	}
	e.start(instance())
	e.leave(c.emp, leave.Request{RequestID: uuid.NewString(), EmployeeID: c.emp, Start: date("2024-11-04"), End: date("2024-11-04"),
		Workdays: c.sched.Workdays, Employment: hired})
	pipelinetest.Eventually(t, "the restarted calendar", func() (bool, error) {
		return e.count(`SELECT count(*) FROM leave_calendar`) == want+1, nil
	})
	if n := strings.Count(log.String(), "built a read model"); n != 1 {
		t.Errorf("builds logged after a restart: %d, want 1", n)
	}
}
