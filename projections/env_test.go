package projections

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/catalog"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/testdb"
)

// testLogger writes the pipeline's warnings and errors to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// testRedisURL is the Redis of the integration tests (TEST_REDIS_URL).
func testRedisURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// env is one test's database, store and bus.
type env struct {
	t      *testing.T
	pool   *pgxpool.Pool
	store  *eventstore.Store
	bus    *Bus
	prefix string
	redis  *redis.Client // nil on the memory bus
}

// newEnv gives the test a fresh database and, unless busURL is MemoryBus,
// Redis streams of its own (a random prefix, deleted at the end).
func newEnv(t *testing.T, busURL string) *env {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	codec, err := eventstore.NewCodec(catalog.Events()...)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, pool: pool, store: eventstore.New(pool, codec), prefix: "ettest." + uuid.NewString()[:8] + "."}
	if busURL != MemoryBus {
		opts, err := redis.ParseURL(busURL)
		if err != nil {
			t.Fatal(err)
		}
		e.redis = redis.NewClient(opts)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.redis.Ping(ctx).Err(); err != nil {
			t.Fatalf("Redis is unreachable at %s (set TEST_REDIS_URL): %v", busURL, err)
		}
		t.Cleanup(func() {
			e.dropRedisKeys()
			e.redis.Close()
		})
	}
	e.bus, err = NewBus(busURL, nil, WithTopicPrefix(e.prefix), WithPartitions(3), WithClaimAfter(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.bus.Close() })
	return e
}

// dropRedisKeys deletes every stream and key of the test, as a Redis that
// lost its data would.
func (e *env) dropRedisKeys() {
	ctx := context.Background()
	keys, err := e.redis.Keys(ctx, e.prefix+"*").Result()
	if err != nil {
		e.t.Errorf("list redis keys: %v", err)
		return
	}
	if len(keys) > 0 {
		if err := e.redis.Del(ctx, keys...).Err(); err != nil {
			e.t.Errorf("delete redis keys: %v", err)
		}
	}
}

// publish adds messages to a topic of the bus by hand, as a relay that
// crashed or a foreign program would, with Watermill's own publisher.
func (e *env) publish(topic string, msgs ...*message.Message) {
	e.t.Helper()
	var pub message.Publisher = e.bus.memory
	if e.redis != nil {
		rp, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: e.redis}, nil)
		if err != nil {
			e.t.Fatal(err)
		}
		pub = rp
	}
	if err := pub.Publish(topic, msgs...); err != nil {
		e.t.Fatal(err)
	}
}

// pipelineSettings are the pipeline's settings in the tests: the default
// policy and a daily sweep at 10:00.
type pipelineSettings struct {
	policy  leave.Policy
	checkAt calendar.Clock
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
	p, err := New(Deps{LeavePolicy: cfg.policy, DailyCheckAt: cfg.checkAt, Pool: e.pool, Store: e.store, Bus: e.bus, Now: now, Logger: testLogger(e.t)})
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

// eventually polls cond until it holds, failing the test after a while.
func eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The commands below append through the domain, as the API does.

func (e *env) update(stream string, decide func(history []any) ([]any, error)) {
	e.t.Helper()
	_, err := e.store.Update(context.Background(), stream, func(history []eventstore.Event) ([]eventstore.EventData, error) {
		events, err := decide(command.Payloads(history))
		if err != nil {
			return nil, err
		}
		out := make([]eventstore.EventData, len(events))
		for i, ev := range events {
			out[i] = eventstore.EventData{ID: uuid.New(), Payload: ev.(eventstore.Payload), Metadata: eventstore.Metadata{Actor: "test"}}
		}
		return out, nil
	})
	if err != nil {
		e.t.Fatalf("%s: %v", stream, err)
	}
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
	id := uuid.NewString()
	e.update(employee.Stream(id), func(h []any) ([]any, error) {
		return employee.Decide(employee.Replay(h), employee.Register{
			EmployeeID: id, Email: fmt.Sprintf("%s@example.com", id[:8]), FullName: name, Role: role, ManagerID: managerID,
			Position: "engineer", HireDate: date(hired), Schedule: s,
		}, time.Now())
	})
	return id
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

func (e *env) leave(emp string, cmd leave.Command) {
	e.t.Helper()
	e.update(leave.Stream(emp), func(h []any) ([]any, error) {
		return leave.Decide(leave.Replay(h), cmd, leave.DefaultPolicy(), time.Date(2024, 11, 1, 9, 0, 0, 0, time.UTC))
	})
}

func (e *env) declareHoliday(d, name string) {
	e.t.Helper()
	day := date(d)
	e.update(holiday.Stream(day.Year), func(h []any) ([]any, error) {
		return holiday.Decide(holiday.Replay(h), holiday.Declare{Date: day, Name: name}, time.Now())
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
			             ('leave', 'leave'), ('holidays', 'holidays'), ('notifications', 'notify')) AS m(name, category)
			  ON split_part(h.stream_id, '-', 1) = m.category)
		SELECT count(*) FROM wanted w
		LEFT JOIN projection_versions v ON v.projection = w.name AND v.stream_id = w.stream_id
		WHERE coalesce(v.version, 0) < w.version`).Scan(&behind)
	return behind == 0, err
}
