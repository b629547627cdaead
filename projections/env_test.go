package projections

import (
	"bytes"
	"context"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/cursor"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/relay"
)

// env is one test's database, store and bus.
type env struct {
	t      *testing.T
	pool   *pgxpool.Pool
	store  *eventstore.Store
	bus    *bus.Bus
	prefix string
	redis  *redis.Client // nil on the memory bus
}

// newEnv gives the test a fresh database and, unless busURL is
// bus.MemoryURL, Redis streams of its own (a random prefix, deleted at the
// end).
func newEnv(t *testing.T, busURL string) *env {
	t.Helper()
	pool := pipelinetest.Pool(t)
	e := &env{t: t, pool: pool, store: pipelinetest.Store(t, pool), prefix: pipelinetest.Prefix()}
	if busURL != bus.MemoryURL {
		e.redis = pipelinetest.Redis(t, busURL, e.prefix)
	}
	var err error
	e.bus, err = bus.New(bus.Settings{URL: busURL, Prefix: e.prefix, Partitions: 3, ClaimAfter: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.bus.Close() })
	return e
}

// pipelineSettings are the pipeline's settings in the tests: the default
// policy and a daily sweep at 10:00.
type pipelineSettings struct {
	policy  leave.Policy
	checkAt calendar.Clock
	// attendance are the forgotten check-outs' rules; the default when zero.
	attendance attendance.Rules
	// handOverAlone is Deps.HandOverAlone: off, the pipeline of every other
	// test goes through the bus however long it runs alone.
	handOverAlone bool
}

func testSettings() pipelineSettings {
	return pipelineSettings{policy: leave.Policy{AnnualDays: 15, LowThresholdDays: 3}, checkAt: 10 * 60}
}

// quietClock is a clock at which no daily sweep is due anywhere near
// Istanbul: the tests that do not drive the sweep use it.
func quietClock() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }

// pipeline returns a pipeline on the test's env; start runs it.
func (e *env) pipeline(cfg pipelineSettings, now func() time.Time) *Pipeline {
	e.t.Helper()
	p, err := New(Deps{LeavePolicy: cfg.policy, DailyCheckAt: cfg.checkAt, Attendance: cfg.attendance, Pool: e.pool, Store: e.store, Bus: e.bus, Now: now, Logger: pipelinetest.Logger(e.t),
		HandOverAlone: cfg.handOverAlone})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// start runs p until the returned stop is called (or the test ends).
func (e *env) start(p *Pipeline) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil {
			e.t.Errorf("pipeline: %v", err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// The commands below append through the domain, as the API does.

func (e *env) update(stream string, decide func(history []any) ([]any, error)) {
	e.t.Helper()
	pipelinetest.Update(e.t, e.store, stream, decide)
}

func schedule(tz string) employee.Schedule {
	return employee.Schedule{Timezone: tz, WorkStart: 8 * 60, WorkEnd: 17 * 60, Workdays: []int{1, 2, 3, 4, 5}}
}

func date(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func (e *env) register(name string, role employee.Role, managerID string, s employee.Schedule, hired string) string {
	e.t.Helper()
	return pipelinetest.Register(e.t, e.store, employee.Register{
		FullName: name, Role: role, ManagerID: managerID, Position: "engineer", HireDate: date(hired), Schedule: s,
	})
}

func (e *env) checkIn(emp string, s employee.Schedule, at time.Time) {
	e.t.Helper()
	e.update(attendance.Stream(emp), func(h []any) ([]any, error) {
		return attendance.Decide(attendance.Replay(h), attendance.CheckIn{EmployeeID: emp, Schedule: s, Rules: attendance.DefaultRules()}, at)
	})
}

func (e *env) checkOut(emp string, at time.Time) {
	e.t.Helper()
	e.update(attendance.Stream(emp), func(h []any) ([]any, error) {
		return attendance.Decide(attendance.Replay(h), attendance.CheckOut{EmployeeID: emp, Rules: attendance.DefaultRules()}, at)
	})
}

func (e *env) correct(emp string, cmd attendance.CorrectionCommand, at time.Time) {
	e.t.Helper()
	e.update(attendance.Stream(emp), func(h []any) ([]any, error) {
		return attendance.DecideCorrection(attendance.ReplayRecord(h), cmd, at)
	})
}

func (e *env) leave(emp string, cmd leave.Command) {
	e.t.Helper()
	e.update(leave.Stream(emp), func(h []any) ([]any, error) {
		return leave.Decide(leave.Replay(h), cmd, leave.DefaultPolicy(), time.Date(2024, 11, 1, 9, 0, 0, 0, time.UTC))
	})
}

func (e *env) declareHoliday(d, name string) {
	e.t.Helper()
	e.declareHolidayIn(holiday.Default, d, name)
}

// declareHolidayIn declares a holiday in the calendar code, which the store
// need not know: the application checks that, not the domain.
func (e *env) declareHolidayIn(code, d, name string) {
	e.t.Helper()
	day := date(d)
	e.update(holiday.Stream(code, day.Year), func(h []any) ([]any, error) {
		return holiday.Decide(holiday.Replay(h), holiday.Declare{Calendar: code, Date: day, Name: name}, time.Now())
	})
}

// inbox returns the notifications raised for a user, from the store.
func (e *env) inbox(user string) []notification.Raised {
	e.t.Helper()
	history, err := e.store.Load(context.Background(), notification.Stream(user))
	if err != nil {
		e.t.Fatal(err)
	}
	var out []notification.Raised
	for _, h := range history {
		if r, ok := h.Payload.(notification.Raised); ok {
			out = append(out, r)
		}
	}
	return out
}

// count runs a count query.
func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// caughtUp reports whether every read model has handled every stream up to
// its last version.
func (e *env) caughtUp() (bool, error) {
	var behind int
	err := e.pool.QueryRow(context.Background(), `
		WITH heads AS (SELECT stream_id, max(version) AS version FROM events GROUP BY stream_id),
		wanted AS (
			SELECT m.name, h.stream_id, h.version FROM heads h
			JOIN (VALUES ('directory', 'employee'), ('attendance', 'attendance'), ('monthly_hours', 'attendance'),
			             ('leave', 'leave'), ('holidays', 'holidays'), ('notifications', 'notify'),
			             ('leave_calendar', 'leave'), ('approvals', 'leave'), ('delegations', 'delegations')) AS m(name, category)
			  ON split_part(h.stream_id, '-', 1) = m.category)
		SELECT count(*) FROM wanted w
		LEFT JOIN projection_versions v ON v.projection = w.name AND v.stream_id = w.stream_id
		WHERE coalesce(v.version, 0) < w.version`).Scan(&behind)
	return behind == 0, err
}

// wantRebuilt checks that the read models named (every one when none is)
// equal a rebuild of the store.
func (e *env) wantRebuilt(models ...string) {
	e.t.Helper()
	var out bytes.Buffer
	if diffs, err := Verify(context.Background(), e.pool, e.store, models, &out, io.Discard); err != nil || diffs != 0 {
		e.t.Errorf("read models differ from a rebuild (%d rows, err %v):\n%s", diffs, err, out.String())
	}
}

// relayPassed reports whether the relay's checkpoint is at or past the last
// event in feed order (by transaction, then position) among those whose
// stream id starts with prefix. Positions alone do not tell: an append that
// took its position while a larger transaction was inserting commits after
// it, with a smaller position.
func (e *env) relayPassed(prefix string) (bool, error) {
	ctx := context.Background()
	at, err := e.store.LoadCheckpoint(ctx, relay.Checkpoint)
	if err != nil {
		return false, err
	}
	var last eventstore.Cursor
	err = e.pool.QueryRow(ctx, `SELECT tx_id, position FROM events WHERE starts_with(stream_id, $1)
		ORDER BY tx_id DESC, position DESC LIMIT 1`, prefix).Scan(&last.TxID, &last.Position)
	return !cursor.Less(at, last), err
}

// dueRunner is a runner of a due-time query (saga.AutoCheckout,
// saga.ChaseApprovals).
type dueRunner interface {
	Once(ctx context.Context) (int, error)
}

// onceAll runs each runner once, all at the same time, as instances do.
func (e *env) onceAll(runners ...dueRunner) {
	e.t.Helper()
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Go(func() {
			if _, err := r.Once(context.Background()); err != nil {
				e.t.Error(err)
			}
		})
	}
	wg.Wait()
}

// testClock is a clock the test moves; it starts at quietClock.
type testClock struct{ at atomic.Pointer[time.Time] }

func newTestClock() *testClock {
	c := &testClock{}
	c.set(quietClock())
	return c
}

func (c *testClock) set(t time.Time) { c.at.Store(&t) }

func (c *testClock) now() time.Time { return *c.at.Load() }
