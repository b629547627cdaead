package projections

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/backlog"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
	"github.com/acme/employee-tracking/projections/saga"
)

// roundTrips counts what a pool sends to Postgres: each query and each
// batch of queries is one round trip (n), each query one statement (stmts).
type roundTrips struct{ n, stmts atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	r.stmts.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	r.stmts.Add(1)
}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

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
	e.applyInBatches(e.attendanceFeed(600, 150), 300)
}

// A batch that writes 10,000 rows of a table sends the same few statements.
func TestBatchOfTenThousandRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	e.applyInBatches(e.attendanceFeed(20_000, 10_000), 20_000)
	if n := e.count(`SELECT count(*) FROM attendance_days`); n != 10_000 {
		t.Errorf("%d days, want 10,000", n)
	}
}

// applyInBatches applies the attendance events, batches of size at a time,
// to the attendance read models; each batch must take two round trips and a
// few statements per table whatever the rows it reads and writes, and the
// read models must end where a rebuild does.
func (e *env) applyInBatches(events []eventstore.Event, size int) {
	e.t.Helper()
	pool, trips := e.tracedPool()
	for _, m := range readmodel.All() {
		if m.Category != attendance.Category {
			continue
		}
		live := &liveModel{Model: m, pool: pool}
		// BEGIN, synchronous_commit, the two locks and the versions; a
		// read, a delete and an upsert per table; the versions and COMMIT.
		most := int64(5 + 3*len(m.Tables) + 2)
		for from := 0; from < len(events); from += size {
			batch := events[from:min(from+size, len(events))]
			before, stmts := trips.n.Load(), trips.stmts.Load()
			if err := live.handleBatch(context.Background(), batch); err != nil {
				e.t.Fatal(err)
			}
			if n := trips.n.Load() - before; n != 2 {
				e.t.Errorf("%s: a batch of %d events took %d round trips, want 2", m.Name, len(batch), n)
			}
			if n := trips.stmts.Load() - stmts; n > most {
				e.t.Errorf("%s: a batch of %d events sent %d statements, want at most %d", m.Name, len(batch), n, most)
			}
		}
	}
	e.wantRebuilt(readmodel.Attendance, readmodel.MonthlyHours)
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
	deps := p.sagaDeps()
	for _, g := range sagaGroups(saga.All(deps), pool, deps.RaiseNotification) {
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

// A saga group appends the notifications of a batch together, in one
// transaction, in the order of the events that caused them; handled again
// (its versions lost), the batch notifies nobody twice.
func TestSagaGroupAppendsABatchsNotificationsTogether(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	p := e.pipeline(testSettings(), quietClock)
	stop := e.start(p)
	c := e.company()
	stop()
	other := e.register("Can Kaya", employee.RoleEmployee, c.manager, c.sched, "2024-01-01")
	for day := 2; day <= 4; day++ {
		for _, emp := range []string{c.emp, other} {
			e.checkIn(emp, c.sched, time.Date(2024, 12, day, 5, 17, 0, 0, time.UTC)) // 17 minutes late
			e.checkOut(emp, time.Date(2024, 12, day, 14, 0, 0, 0, time.UTC))
		}
	}
	ctx := context.Background()
	var batch []eventstore.Event
	var lateCheckIns []string
	pipelinetest.Eventually(t, "the check-ins in the feed", func() (bool, error) {
		events, _, err := e.store.ReadFeed(ctx, eventstore.Cursor{}, 1000)
		batch, lateCheckIns = nil, nil
		for _, ev := range events {
			if strings.HasPrefix(ev.StreamID, attendance.Category+"-") {
				batch = append(batch, ev)
				if in, ok := ev.Payload.(attendance.CheckedIn); ok && in.Late {
					lateCheckIns = append(lateCheckIns, ev.ID.String())
				}
			}
		}
		return len(lateCheckIns) == 6, err
	})
	deps := p.sagaDeps()
	attendanceSagas := func() *sagaGroup {
		for _, g := range sagaGroups(saga.All(deps), e.pool, deps.RaiseNotification) {
			if g.name() == saga.Group(attendance.Category) {
				return g
			}
		}
		t.Fatal("no saga group of attendance")
		return nil
	}
	if err := attendanceSagas().handleBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	causes := func(user string) []string {
		var out []string
		for _, r := range e.inbox(user) {
			out = append(out, r.CauseEventID)
		}
		return out
	}
	for _, user := range []string{c.manager, c.admin} {
		if got := causes(user); !slices.Equal(got, lateCheckIns) {
			t.Errorf("%s was notified of %v, want the late check-ins %v in their order", user, got, lateCheckIns)
		}
	}
	if n := e.count(`SELECT count(DISTINCT tx_id) FROM events WHERE stream_id LIKE 'notify-%'`); n != 1 {
		t.Errorf("the batch's notifications went out in %d transactions, want 1", n)
	}

	if _, err := e.pool.Exec(ctx, `DELETE FROM projection_versions WHERE projection = $1`, saga.Group(attendance.Category)); err != nil {
		t.Fatal(err)
	}
	if err := attendanceSagas().handleBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{c.manager, c.admin} {
		if got := causes(user); len(got) != len(lateCheckIns) {
			t.Errorf("handled again, the batch left %s %d notifications, want the %d it had", user, len(got), len(lateCheckIns))
		}
	}
}

// Every table declares the types its columns have in the database.
func TestTablesDeclareTheirColumnTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	for _, m := range readmodel.All() {
		for _, table := range m.Tables {
			for i, c := range table.ColumnNames() {
				var got string
				if err := e.pool.QueryRow(context.Background(), `SELECT format_type(atttypid, atttypmod) FROM pg_attribute
					WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped`, table.TableName(), c).Scan(&got); err != nil {
					t.Fatalf("%s.%s: %v", table.TableName(), c, err)
				}
				if want := table.ColumnTypes()[i]; got != want {
					t.Errorf("%s.%s is %s, declared %s", table.TableName(), c, got, want)
				}
			}
		}
	}
}

// Batches of up to 1,000 events, applied to emptied tables, end where a
// rebuild does on a varied history: rows read and written in one batch,
// deleted in the batch that put them or in a later one, deleted and put back
// (a holiday withdrawn and declared again), NULLs, dates, timestamps, arrays
// of dates and JSON.
func TestBatchesEqualARebuild(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	stop := e.start(e.pipeline(testSettings(), quietClock))
	c := e.company()
	emps := []string{c.emp}
	for range 3 {
		emps = append(emps, e.register("Worker", employee.RoleEmployee, c.manager, c.sched, "2024-01-01"))
	}
	e.randomWorkload(rand.New(rand.NewPCG(1, 2)), c, emps)
	e.declareHoliday("2024-12-26", "Holiday again")
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	stop()

	ctx := context.Background()
	var events []eventstore.Event
	pipelinetest.Eventually(t, "every event in the feed", func() (bool, error) {
		var err error
		events, _, err = e.store.ReadFeed(ctx, eventstore.Cursor{}, 100_000)
		return len(events) == e.count(`SELECT count(*) FROM events`), err
	})
	for _, m := range readmodel.All() {
		for _, table := range m.Tables {
			if _, err := e.pool.Exec(ctx, `TRUNCATE `+table.TableName()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.pool.Exec(ctx, `DELETE FROM projection_versions WHERE projection = $1`, m.Name); err != nil {
			t.Fatal(err)
		}
		live := &liveModel{Model: m, pool: e.pool}
		var mine []eventstore.Event
		for _, ev := range events {
			if reads(live, ev.StreamID) {
				mine = append(mine, ev)
			}
		}
		// Two batches, so that the second changes and deletes rows the
		// first wrote.
		half := len(mine) / 2
		for _, batch := range [][]eventstore.Event{mine[:half], mine[half:]} {
			for from := 0; from < len(batch); from += 1000 {
				if err := live.handleBatch(ctx, batch[from:min(from+1000, len(batch))]); err != nil {
					t.Fatalf("%s: %v", m.Name, err)
				}
			}
		}
	}
	for _, sql := range []string{
		`SELECT count(*) FROM holidays WHERE name = 'Holiday again'`,
		`SELECT count(*) FROM attendance_corrections WHERE decided_by IS NULL`,
		`SELECT count(*) FROM leave_calendar_requests WHERE cardinality(dates) > 1`,
		`SELECT count(*) FROM notifications WHERE read`,
	} {
		if e.count(sql) == 0 {
			t.Errorf("%s: got 0, want the history to hold some", sql)
		}
	}
	e.wantRebuilt()
}

// Rows a fold finds by what another row holds are read in one more round
// trip for the whole batch: approving requests filed in an earlier batch
// reads each request, and then, by its type, the balance of its year.
func TestBatchReadsRowsFoundThroughOthersTogether(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	sched, manager := schedule("Europe/Istanbul"), uuid.NewString()
	const n = 20
	emps := make([]string, n)
	ids := make([]string, n)
	for i := range emps {
		emps[i], ids[i] = uuid.NewString(), uuid.NewString()
		e.leave(emps[i], leave.Grant{EmployeeID: emps[i], Year: 2024})
		e.leave(emps[i], leave.Request{RequestID: ids[i], EmployeeID: emps[i], Start: date("2024-12-02"), End: date("2024-12-03"),
			Reason: "rest", Workdays: sched.Workdays, Employment: leave.Employment{HireDate: date("2024-01-01")}})
	}
	filed := 2 * n
	for i := range emps {
		e.leave(emps[i], leave.Approve{RequestID: ids[i], By: manager})
	}
	ctx := context.Background()
	var events []eventstore.Event
	pipelinetest.Eventually(t, "every event in the feed", func() (bool, error) {
		var err error
		events, _, err = e.store.ReadFeed(ctx, eventstore.Cursor{}, 1000)
		return len(events) == e.count(`SELECT count(*) FROM events`), err
	})
	var mine []eventstore.Event
	for _, ev := range events {
		if strings.HasPrefix(ev.StreamID, leave.Category+"-") {
			mine = append(mine, ev)
		}
	}
	pool, trips := e.tracedPool()
	for _, m := range readmodel.All() {
		if m.Name != readmodel.Leave {
			continue
		}
		live := &liveModel{Model: m, pool: pool}
		if err := live.handleBatch(ctx, mine[:filed]); err != nil {
			t.Fatal(err)
		}
		before := trips.n.Load()
		if err := live.handleBatch(ctx, mine[filed:]); err != nil {
			t.Fatal(err)
		}
		if got := trips.n.Load() - before; got != 3 {
			t.Errorf("approving %d requests took %d round trips, want 3", n, got)
		}
	}
	if got := e.count(`SELECT count(*) FROM leave_balances WHERE used > 0 AND pending = 0`); got != n {
		t.Errorf("%d balances charged, want %d", got, n)
	}
	e.wantRebuilt(readmodel.Leave)
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
	rt := &runtime{pool: e.pool, store: e.store, logger: pipelinetest.Logger(t), metrics: newMetrics(), marks: newCheckpointMarks(),
		decoded: newDecodedEvents(e.store.Codec())}
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
