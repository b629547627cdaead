package projections

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// An append whose wake reaches the relay while an older transaction is still
// open is hidden by the feed's fence; the relay must read it again as soon as
// that transaction ends, not at its next poll.
func TestRelayRereadsQuicklyWhenTheFenceHidesAnEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	r := NewRelay(e.pool, e.store, e.bus, pipelinetest.Logger(t), nil)
	r.poll = time.Hour // only the wake and the quick re-reads can publish
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	e.register("First", "employee", "", schedule("UTC"), "2024-01-01")
	pipelinetest.Eventually(t, "first event published", func() (bool, error) { return counterValue(r.metrics.relayPublished) == 1, nil })

	older, err := e.pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer older.Rollback(context.Background())
	if _, err := older.Exec(context.Background(), `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	e.register("Second", "employee", "", schedule("UTC"), "2024-01-01")
	time.Sleep(100 * time.Millisecond)
	if got := counterValue(r.metrics.relayPublished); got != 1 {
		t.Fatalf("published %v events while an older transaction was open, want 1: the fence did not hide the second", got)
	}
	if err := older.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The fence is the oldest transaction of the whole server: others' may
	// hold it a little longer. Without the re-reads this waits for an hour.
	committed := time.Now()
	for counterValue(r.metrics.relayPublished) != 2 {
		if time.Since(committed) > 5*time.Second {
			t.Fatalf("hidden event not published %s after the fence lifted", time.Since(committed).Round(time.Millisecond))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An append made by a process whose relay stands by (the API server, say)
// wakes the active relay of another process (the worker) at once.
func TestAppendElsewhereWakesTheActiveRelay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	active := NewRelay(e.pool, e.store, e.bus, pipelinetest.Logger(t), nil)
	active.poll = time.Hour // only a wake can make it publish
	elsewhere := *e
	elsewhere.store = eventstore.New(e.pool, e.store.Codec())
	standby := NewRelay(e.pool, elsewhere.store, e.bus, pipelinetest.Logger(t), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- active.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	})
	e.register("First", "employee", "", schedule("UTC"), "2024-01-01")
	pipelinetest.Eventually(t, "first event published", func() (bool, error) { return counterValue(active.metrics.relayPublished) == 1, nil })
	go func() { done <- standby.Run(ctx) }()

	elsewhere.register("Second", "employee", "", schedule("UTC"), "2024-01-01")
	appended := time.Now()
	for counterValue(active.metrics.relayPublished) != 2 {
		if time.Since(appended) > 5*time.Second {
			t.Fatalf("event appended elsewhere not published after %s", time.Since(appended).Round(time.Millisecond))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := counterValue(standby.metrics.relayPublished); got != 0 {
		t.Errorf("standby relay published %v events, want 0", got)
	}
}

// A relay that stands by keeps one connection to retry the lock on, rather
// than opening a new one every second.
func TestStandbyRelayHoldsOneConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	active := NewRelay(e.pool, e.store, e.bus, pipelinetest.Logger(t), nil)
	standby := NewRelay(e.pool, e.store, e.bus, pipelinetest.Logger(t), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- active.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	})
	e.register("First", "employee", "", schedule("UTC"), "2024-01-01")
	pipelinetest.Eventually(t, "active relay publishes", func() (bool, error) { return counterValue(active.metrics.relayPublished) == 1, nil })
	go func() { done <- standby.Run(ctx) }()

	// The standby's session is the one whose last statement tried the lock.
	standbySessions := func() []int {
		rows, err := e.pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND query = 'SELECT pg_try_advisory_lock($1)'`)
		if err != nil {
			t.Fatal(err)
		}
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			t.Fatal(err)
		}
		return pids
	}
	pipelinetest.Eventually(t, "standby connected", func() (bool, error) { return len(standbySessions()) == 1, nil })
	first := standbySessions()
	for end := time.Now().Add(3*relayLeaderRetry + relayLeaderRetry/2); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if got := standbySessions(); !slices.Equal(got, first) {
			t.Fatalf("standby sessions: got %v, want the one it started with, %v", got, first)
		}
	}
	if got := counterValue(standby.metrics.relayPublished); got != 0 {
		t.Errorf("standby relay published %v events, want 0", got)
	}
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
