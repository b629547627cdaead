package relay

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/backlog"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/cursor"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
)

// env is one test's database, store and in-process bus.
type env struct {
	t     *testing.T
	pool  *pgxpool.Pool
	store *eventstore.Store
	bus   *bus.Bus
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool := pipelinetest.Pool(t)
	b, err := bus.New(bus.Settings{URL: bus.MemoryURL, Prefix: pipelinetest.Prefix(), Partitions: 3, ClaimAfter: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &env{t: t, pool: pool, store: pipelinetest.Store(t, pool), bus: b}
}

// register appends one event, an employee's registration.
func (e *env) register(name string) {
	e.t.Helper()
	pipelinetest.Register(e.t, e.store, employee.Register{
		FullName: name, Role: "employee", Position: "engineer", HireDate: calendar.Date{Year: 2024, Month: 1, Day: 1},
		Schedule: employee.Schedule{Timezone: "UTC", WorkStart: 8 * 60, WorkEnd: 17 * 60, Workdays: []int{1, 2, 3, 4, 5}},
	})
}

// runRelay runs r until the test ends.
func runRelay(t *testing.T, r *Relay) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// published is how many events r has published.
func published(r *Relay) float64 { return pipelinetest.CounterValue(r.metrics.Published) }

// An append whose wake reaches the relay while an older transaction is still
// open is hidden by the feed's fence; the relay must read it again as soon as
// that transaction ends, not at its next poll.
func TestRelayRereadsQuicklyWhenTheFenceHidesAnEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := New(e.pool, e.store, e.bus, pipelinetest.Logger(t), nil)
	r.poll = time.Hour // only the wake and the quick re-reads can publish
	runRelay(t, r)
	e.register("First")
	pipelinetest.Eventually(t, "first event published", func() (bool, error) { return published(r) == 1, nil })

	older, err := e.pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer older.Rollback(context.Background())
	if _, err := older.Exec(context.Background(), `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	e.register("Second")
	time.Sleep(100 * time.Millisecond)
	if got := published(r); got != 1 {
		t.Fatalf("published %v events while an older transaction was open, want 1: the fence did not hide the second", got)
	}
	if err := older.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The fence is the oldest transaction of the whole server: others' may
	// hold it a little longer. Without the re-reads this waits for an hour.
	committed := time.Now()
	for published(r) != 2 {
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
	e := newEnv(t)
	active := New(e.pool, e.store, e.bus, pipelinetest.Logger(t), nil)
	active.poll = time.Hour // only a wake can make it publish
	elsewhere := *e
	elsewhere.store = eventstore.New(e.pool, e.store.Codec())
	standby := New(e.pool, elsewhere.store, e.bus, pipelinetest.Logger(t), nil)
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
	e.register("First")
	pipelinetest.Eventually(t, "first event published", func() (bool, error) { return published(active) == 1, nil })
	go func() { done <- standby.Run(ctx) }()

	elsewhere.register("Second")
	appended := time.Now()
	for published(active) != 2 {
		if time.Since(appended) > 5*time.Second {
			t.Fatalf("event appended elsewhere not published after %s", time.Since(appended).Round(time.Millisecond))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := published(standby); got != 0 {
		t.Errorf("standby relay published %v events, want 0", got)
	}
}

// A relay that stands by keeps one connection to retry the lock on, rather
// than opening a new one every second.
func TestStandbyRelayHoldsOneConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	active := New(e.pool, e.store, e.bus, pipelinetest.Logger(t), nil)
	standby := New(e.pool, e.store, e.bus, pipelinetest.Logger(t), nil)
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
	e.register("First")
	pipelinetest.Eventually(t, "active relay publishes", func() (bool, error) { return published(active) == 1, nil })
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
	if got := published(standby); got != 0 {
		t.Errorf("standby relay published %v events, want 0", got)
	}
}

func TestOneRelayIsActive(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r1 := New(e.pool, e.store, e.bus, pipelinetest.Logger(t), nil)
	r2 := New(e.pool, e.store, e.bus, pipelinetest.Logger(t), nil)
	ctx1, stop1 := context.WithCancel(context.Background())
	ctx2, stop2 := context.WithCancel(context.Background())
	defer stop2()
	done1 := make(chan error, 1)
	go func() { done1 <- r1.Run(ctx1) }()
	e.register("First")
	pipelinetest.Eventually(t, "first relay publishes", func() (bool, error) { return published(r1) == 1, nil })
	go r2.Run(ctx2)
	e.register("Second")
	pipelinetest.Eventually(t, "first relay publishes again", func() (bool, error) { return published(r1) == 2, nil })
	if got := published(r2); got != 0 {
		t.Fatalf("standby relay published %v events, want 0", got)
	}
	stop1()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	e.register("Third")
	// The standby publishes the third event, and the second again if the
	// first relay stopped between its publish and its checkpoint.
	pipelinetest.Eventually(t, "standby takes over", func() (bool, error) {
		events, _, err := e.store.ReadFeed(context.Background(), eventstore.Cursor{}, 10)
		if err != nil || len(events) < 3 {
			return false, err
		}
		saved, err := e.store.LoadCheckpoint(context.Background(), Checkpoint)
		return !cursor.Less(saved, events[2].Cursor()) && published(r2) >= 1, err
	})
}

// A steady flow of publishes saves the checkpoint at most every
// checkpointEvery, and what waits is saved when due.
func TestCheckpointIsSavedAtMostEveryInterval(t *testing.T) {
	var saved []eventstore.Cursor
	c := checkpointer{saveTo: func(_ context.Context, at eventstore.Cursor) error {
		saved = append(saved, at)
		return nil
	}}
	ctx := context.Background()
	if c.due() != nil {
		t.Fatal("a checkpoint is due with nothing published")
	}
	for i := range 50 {
		c.published(eventstore.Cursor{TxID: 1, Position: int64(i + 1)})
		if err := c.save(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	if len(saved) != 1 || saved[0].Position != 1 {
		t.Fatalf("50 publishes at once saved %v, want only the first", saved)
	}
	select {
	case <-c.due():
	case <-time.After(time.Second):
		t.Fatal("the checkpoint waiting was never due")
	}
	if err := c.save(ctx, true); err != nil {
		t.Fatal(err)
	}
	if len(saved) != 2 || saved[1].Position != 50 {
		t.Fatalf("saved %v, want the last cursor saved when due", saved)
	}
	if c.due() != nil {
		t.Error("a checkpoint is due after everything was saved")
	}
}

// The relay looks past the fence after every read of the feed that left it
// caught up: that look must cost a few pages, not a read of the whole store,
// whether Postgres plans it for the cursor or, as it does for a statement
// run often, once for any cursor.
func TestLookingPastTheFenceReadsAFewPagesWhateverTheStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const events = 20_000 // about 800 pages of the events table
	if err := backlog.Attendance(ctx, e.pool, events, 100, calendar.Date{Year: 2024, Month: 1, Day: 1}, "test"); err != nil {
		t.Fatal(err)
	}
	var head eventstore.Cursor
	if err := e.pool.QueryRow(ctx, `SELECT tx_id, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1`).
		Scan(&head.TxID, &head.Position); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT set_config('plan_cache_mode', $1, true)`, mode); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `PREPARE hidden_events AS `+hiddenEventsSQL); err != nil {
				return err
			}
			defer tx.Exec(ctx, `DEALLOCATE hidden_events`)
			var plan []struct {
				Plan struct {
					SharedHit  int `json:"Shared Hit Blocks"`
					SharedRead int `json:"Shared Read Blocks"`
				}
			}
			explain := fmt.Sprintf(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE hidden_events('%d', %d)`, head.TxID, head.Position)
			if err := tx.QueryRow(ctx, explain).Scan(&plan); err != nil {
				return err
			}
			if pages := plan[0].Plan.SharedHit + plan[0].Plan.SharedRead; pages > 10 {
				t.Errorf("%s: looking past the head of %d events read %d pages, want a few", mode, events, pages)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// looksAfterPublish counts the relay's looks past the fence that came
// between a publish and the next read of the feed.
type looksAfterPublish struct {
	published atomic.Bool
	n         atomic.Int64
}

func (l *looksAfterPublish) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	switch {
	case data.SQL == hiddenEventsSQL && l.published.Load():
		l.n.Add(1)
	case strings.Contains(data.SQL, "pg_snapshot_xmin"): // a read of the feed
		l.published.Store(false)
	}
	return ctx
}
func (l *looksAfterPublish) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A wake that came during a read and its publish (appends committed
// meanwhile, as under any steady flow) has the relay read again at once,
// without looking past the fence first.
func TestWakeDuringAPublishReadsAgainWithoutLookingPastTheFence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := e.pool.Config()
	looks := &looksAfterPublish{}
	cfg.ConnConfig.Tracer = looks
	traced, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(traced.Close)
	e.pool, e.store = traced, eventstore.New(traced, e.store.Codec())
	r := New(e.pool, e.store, e.bus, pipelinetest.Logger(t), nil)
	r.poll = time.Hour // only wakes and the quick re-reads read the feed
	r.Hooks.AfterPublish = func() {
		looks.published.Store(true)
		r.Wake()
	}
	runRelay(t, r)
	const events = 10
	for i := range events {
		e.register(fmt.Sprintf("Employee %d", i))
		pipelinetest.Eventually(t, "event published", func() (bool, error) { return published(r) == float64(i+1), nil })
	}
	time.Sleep(100 * time.Millisecond) // the read after the last publish
	if n := looks.n.Load(); n != 0 {
		t.Errorf("the relay looked past the fence %d times between a publish and the read its wake asked for, want 0", n)
	}
}
