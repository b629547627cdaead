package projections

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/backlog"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
	"github.com/acme/employee-tracking/projections/saga"
)

// roundTrips counts what a pool sends to Postgres: each query and each
// batch of queries is one round trip.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// tracedPool is a second pool on the database of e whose round trips count.
func (e *env) tracedPool() (*pgxpool.Pool, *roundTrips) {
	e.t.Helper()
	cfg, err := pgxpool.ParseConfig(e.pool.Config().ConnString())
	if err != nil {
		e.t.Fatal(err)
	}
	trips := &roundTrips{}
	cfg.ConnConfig.Tracer = trips
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(pool.Close)
	return pool, trips
}

// attendanceFeed writes n check-ins and check-outs of employees and reads
// them back from the feed.
func (e *env) attendanceFeed(n, employees int) []eventstore.Event {
	e.t.Helper()
	ctx := context.Background()
	if err := backlog.Attendance(ctx, e.pool, n, employees, calendar.Date{Year: 2024, Month: time.March, Day: 1}, "test"); err != nil {
		e.t.Fatal(err)
	}
	// The feed shows them once no older transaction of the cluster is open.
	var events []eventstore.Event
	pipelinetest.Eventually(e.t, "the backlog in the feed", func() (bool, error) {
		var err error
		events, _, err = e.store.ReadFeed(ctx, eventstore.Cursor{}, n+1)
		return len(events) == n, err
	})
	return events
}

// A read model applies a batch in two round trips, whatever its size and
// however many rows it reads and writes, and ends where a rebuild does.
func TestReadModelAppliesABatchInTwoRoundTrips(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	events := e.attendanceFeed(600, 150)
	pool, trips := e.tracedPool()
	for _, m := range readmodel.All() {
		if m.Category != attendance.Category {
			continue
		}
		live := &liveModel{Model: m, pool: pool}
		for from := 0; from < len(events); from += 300 {
			before := trips.n.Load()
			if err := live.handleBatch(context.Background(), events[from:from+300]); err != nil {
				t.Fatal(err)
			}
			if n := trips.n.Load() - before; n != 2 {
				t.Errorf("%s: a batch of 300 events over 150 employees took %d round trips, want 2", m.Name, n)
			}
		}
	}
	var out strings.Builder
	diffs, err := Verify(context.Background(), e.pool, e.store, []string{readmodel.Attendance, readmodel.MonthlyHours}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if diffs != 0 {
		t.Errorf("%d rows differ from a rebuild:\n%s", diffs, out.String())
	}
}

// A saga group passes by the events none of its sagas reacts to with one
// write of the versions they moved, once it knows their streams.
func TestSagaGroupPassesEventsByWithOneWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	events := e.attendanceFeed(400, 100)
	pool, trips := e.tracedPool()
	p := e.pipeline(testSettings(), quietClock)
	var group *sagaGroup
	for _, g := range sagaGroups(saga.All(p.sagaDeps()), pool) {
		if g.name() == saga.Group(attendance.Category) {
			group = g
		}
	}
	ctx := context.Background()
	if err := group.handleBatch(ctx, events[:200]); err != nil {
		t.Fatal(err)
	}
	if n := trips.n.Load(); n != 2 {
		t.Errorf("the first batch took %d round trips, want 2 (the versions of its streams read, then written)", n)
	}
	before := trips.n.Load()
	if err := group.handleBatch(ctx, events[200:]); err != nil {
		t.Fatal(err)
	}
	if n := trips.n.Load() - before; n != 1 {
		t.Errorf("a batch of known streams took %d round trips, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM projection_versions WHERE projection = $1 AND version = 4`, group.name()); n != 100 {
		t.Errorf("%d streams saved at their last version, want 100", n)
	}
}

// A saga group looks only into the events some saga of it reacts to: a
// check-out's data is never decoded (here it could not be), yet its version
// is recorded and the checkpoint passes it; a check-in's data still is, and
// one that cannot be decoded is parked.
func TestSagaGroupRecordsWithoutDecodingWhatNoSagaReactsTo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	events := e.attendanceFeed(8, 2)
	p := e.pipeline(testSettings(), quietClock)
	var group *sagaGroup
	for _, g := range p.sagas {
		if g.name() == saga.Group(attendance.Category) {
			group = g
		}
	}
	rt := &runtime{pool: e.pool, store: e.store, logger: pipelinetest.Logger(t), metrics: newMetrics(), marks: newCheckpointMarks()}
	handle := rt.handler(group, 0)
	var undecodable eventstore.Event
	for i, ev := range events {
		if ev.Type != "attendance.checked_in" || undecodable.StreamID == "" {
			ev.Data = []byte(`{"at": "not a time"}`)
			if ev.Type == "attendance.checked_in" {
				undecodable = ev
			}
		}
		msg, err := bus.EventMessage(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := handle(msg); err != nil {
			t.Fatalf("event %d (%s): %v", i, ev.Type, err)
		}
	}
	if n := e.count(`SELECT count(*) FROM parked_messages WHERE projection = $1`, group.name()); n != 1 {
		t.Errorf("%d events parked, want 1 (the check-in)", n)
	}
	if n := e.count(`SELECT count(*) FROM parked_messages WHERE projection = $1 AND message_id = $2`, group.name(), undecodable.ID.String()); n != 1 {
		t.Errorf("the undecodable check-in %s v%d is not parked", undecodable.StreamID, undecodable.Version)
	}
	if n := e.count(`SELECT count(*) FROM projection_versions WHERE projection = $1 AND version = 4`, group.name()); n != 2 {
		t.Errorf("%d streams recorded at their last version (a check-out), want 2", n)
	}
	if got, want := rt.marks.marks[markKey{group.name(), 0}], events[len(events)-1].Cursor(); got != want {
		t.Errorf("checkpoint mark = %v, want the last event's %v", got, want)
	}
}
