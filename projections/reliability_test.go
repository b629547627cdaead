package projections

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/cursor"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
	"github.com/acme/employee-tracking/projections/relay"
	"github.com/acme/employee-tracking/projections/saga"
)

// monthlyMinutes is the worked minutes of December 2024, which a duplicate
// application of a check-out would double.
func (e *env) monthlyMinutes(emp string) int {
	return e.count(`SELECT coalesce((SELECT worked_minutes FROM monthly_hours WHERE employee_id = $1 AND year = 2024 AND month = 12), 0)`, emp)
}

// wantOnce checks the outcome of company c's workday: applied exactly once,
// and one lateness notification to the manager and the admin.
func (e *env) wantOnce(c company) {
	e.t.Helper()
	if got := e.monthlyMinutes(c.emp); got != 523 {
		e.t.Errorf("worked minutes: got %d, want 523", got)
	}
	if got := e.count(`SELECT worked_minutes FROM attendance_days WHERE employee_id = $1`, c.emp); got != 523 {
		e.t.Errorf("attendance worked minutes: got %d, want 523", got)
	}
	about := func(user string) []notification.Raised {
		var got []notification.Raised
		for _, n := range e.inbox(user) {
			if n.Data["employee_id"] == c.emp {
				got = append(got, n)
			}
		}
		return got
	}
	for _, user := range []string{c.manager, c.admin} {
		pipelinetest.Eventually(e.t, "lateness notification", func() (bool, error) { return len(about(user)) > 0, nil })
		// Ids derive from the cause: a second one could only be a bug.
		if got := about(user); len(got) != 1 {
			e.t.Errorf("notifications of %s about %s: got %+v, want 1", user, c.emp, got)
		}
	}
}

func TestDuplicateDeliveryChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	p := e.pipeline(testSettings(), quietClock)
	var handled sync.Map // consumer + event id -> times handled
	p.afterApply = func(consumer string, ev eventstore.Event) error {
		n, _ := handled.LoadOrStore(consumer+ev.ID.String(), new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		return nil
	}
	e.start(p)
	c := e.company()
	e.workday(c)
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	pipelinetest.Eventually(t, "lateness notifications", func() (bool, error) { return len(e.inbox(c.admin)) == 1, nil })

	history, err := e.store.Load(context.Background(), attendance.Stream(c.emp))
	if err != nil {
		t.Fatal(err)
	}
	// Publish both events of the day twice more, as a relay that crashed
	// before its checkpoint would.
	for range 2 {
		for _, ev := range history {
			msg, err := bus.EventMessage(ev)
			if err != nil {
				t.Fatal(err)
			}
			topic, ok := e.bus.TopicOf(ev.StreamID)
			if !ok {
				t.Fatalf("no topic for %s", ev.StreamID)
			}
			pipelinetest.Publish(t, e.redis, topic, msg)
		}
	}
	for _, consumer := range []string{readmodel.MonthlyHours, readmodel.Attendance, saga.Group(attendance.Category)} {
		pipelinetest.Eventually(t, consumer+" got the duplicates", func() (bool, error) {
			n, ok := handled.Load(consumer + history[len(history)-1].ID.String())
			return ok && n.(*atomic.Int32).Load() == 3, nil
		})
	}
	e.wantOnce(c)
}

func TestRelayKilledBetweenPublishAndCheckpointResumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	p := e.pipeline(testSettings(), quietClock)
	var kills atomic.Int32
	stop := func() {}
	p.relay.Hooks.AfterPublish = func() {
		// Die after publishing the day's events, before the checkpoint.
		if kills.Load() == 0 && e.count(`SELECT count(*) FROM events WHERE stream_id LIKE 'attendance-%'`) == 2 {
			kills.Add(1)
			go stop()
			// The checkpoint must not be saved: wait for the context to end.
			time.Sleep(200 * time.Millisecond)
		}
	}
	stop = e.start(p)
	c := e.company()
	e.workday(c)
	pipelinetest.Eventually(t, "relay killed", func() (bool, error) { return kills.Load() == 1, nil })
	stop()
	relayAt, err := e.store.LoadCheckpoint(context.Background(), relay.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	history, err := e.store.Load(context.Background(), attendance.Stream(c.emp))
	if err != nil {
		t.Fatal(err)
	}
	if !cursor.Less(relayAt, history[1].Cursor()) {
		t.Fatalf("relay checkpoint %s is past the check-out %s: it was not killed before its checkpoint", relayAt, history[1].Cursor())
	}

	e.start(e.pipeline(testSettings(), quietClock))
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	pipelinetest.Eventually(t, "lateness notifications", func() (bool, error) { return len(e.inbox(c.admin)) == 1, nil })
	pipelinetest.Eventually(t, "relay checkpoint at the head", func() (bool, error) { return e.relayPassed("") })
	e.wantOnce(c)
}

func TestProjectorKilledBetweenApplyAndAckResumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	p := e.pipeline(testSettings(), quietClock)
	var killed atomic.Bool
	var stop func()
	p.afterApply = func(consumer string, ev eventstore.Event) error {
		if _, ok := ev.Payload.(attendance.CheckedOut); ok && consumer == readmodel.MonthlyHours && killed.CompareAndSwap(false, true) {
			go stop()
			return context.Canceled // never acknowledged
		}
		return nil
	}
	stop = e.start(p)
	c := e.company()
	e.workday(c)
	pipelinetest.Eventually(t, "projector killed", func() (bool, error) { return killed.Load(), nil })
	stop()
	if got := e.monthlyMinutes(c.emp); got != 523 {
		t.Fatalf("worked minutes before the restart: got %d, want 523 (applied, not acknowledged)", got)
	}

	// The unacknowledged message is claimed by the new consumer and skipped.
	p2 := e.pipeline(testSettings(), quietClock)
	var redelivered atomic.Bool
	p2.afterApply = func(consumer string, ev eventstore.Event) error {
		if _, ok := ev.Payload.(attendance.CheckedOut); ok && consumer == readmodel.MonthlyHours {
			redelivered.Store(true)
		}
		return nil
	}
	e.start(p2)
	pipelinetest.Eventually(t, "check-out redelivered", func() (bool, error) { return redelivered.Load(), nil })
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	pipelinetest.Eventually(t, "lateness notifications", func() (bool, error) { return len(e.inbox(c.admin)) == 1, nil })
	e.wantOnce(c)
}

// monthlyHold stops the monthly projector, while held, after the batch it is
// applying, so that the messages after it wait in Redis.
type monthlyHold struct {
	held    atomic.Bool
	release chan struct{}
}

func holdMonthly(p *Pipeline) *monthlyHold {
	h := &monthlyHold{release: make(chan struct{})}
	p.afterApply = func(consumer string, _ eventstore.Event) error {
		if h.held.Load() && consumer == readmodel.MonthlyHours {
			<-h.release
		}
		return nil
	}
	return h
}

func (h *monthlyHold) let() {
	if h.held.CompareAndSwap(true, false) {
		close(h.release)
	}
}

// startHeld starts a pipeline with company c, and has six employees of c
// check in while its monthly projector is held (checkInsWaiting).
func (e *env) startHeld() (*Pipeline, *monthlyHold, company, []string) {
	e.t.Helper()
	p := e.pipeline(testSettings(), quietClock)
	hold := holdMonthly(p)
	e.start(p)
	c := e.company()
	return p, hold, c, e.checkInsWaiting(c, hold)
}

// checkInsWaiting has six employees of c check in while the monthly
// projector is held, and returns them once the relay has published their
// check-ins.
func (e *env) checkInsWaiting(c company, h *monthlyHold) []string {
	e.t.Helper()
	h.held.Store(true)
	var emps []string
	for i := range 6 {
		emp := e.register("Worker", "employee", c.manager, c.sched, "2024-01-01")
		emps = append(emps, emp)
		e.checkIn(emp, c.sched, time.Date(2024, 12, 2, 5, i, 0, 0, time.UTC))
	}
	pipelinetest.Eventually(e.t, "relay published the check-ins", func() (bool, error) { return e.relayPassed("attendance-") })
	return emps
}

// wantConvergedAfterLoss waits for the relay's rewind and the read models,
// and checks that the check-ins that waited in Redis were all applied.
func (e *env) wantConvergedAfterLoss(p *Pipeline, emps []string) {
	e.t.Helper()
	pipelinetest.Eventually(e.t, "relay rewound", func() (bool, error) { return pipelinetest.CounterValue(p.relay.Metrics().Rewinds) >= 1, nil })
	pipelinetest.Eventually(e.t, "caught up after the loss", e.caughtUp)
	if got := e.count(`SELECT count(*) FROM monthly_hours WHERE employee_id = ANY($1) AND days_worked = 1`, emps); got != len(emps) {
		e.t.Errorf("monthly rows: got %d, want %d", got, len(emps))
	}
}

func TestRedisLosingItsStreamsLosesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	// Redis loses everything while check-ins wait there for the monthly
	// projector; the relay notices at its next read (a poll at the latest).
	p, hold, c, emps := e.startHeld()
	pipelinetest.DropKeys(e.t, e.redis, e.prefix)
	hold.let()
	e.wantConvergedAfterLoss(p, emps)

	// New events still flow through the recreated streams and groups.
	e.workday(c)
	pipelinetest.Eventually(t, "caught up after new events", e.caughtUp)
	e.wantOnce(c)
}

// Redis loses its data just before the relay publishes, while a consumer has
// messages it has not read. Published, the events and watermarks would reach
// streams Redis recreated, the consumer would move its checkpoint past what it
// never got, and the rewind would skip it; the publish must not happen.
func TestRedisLostJustBeforeAPublishLosesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	p := e.pipeline(testSettings(), quietClock)
	hold := holdMonthly(p)
	var lost atomic.Bool
	p.relay.Hooks.BeforePublish = func() {
		if lost.Load() && hold.held.Load() {
			pipelinetest.DropKeys(e.t, e.redis, e.prefix)
			hold.let()
		}
	}
	p.relay.Hooks.AfterPublish = func() {
		if lost.Load() {
			// Time for the consumers to read what was published and save
			// their checkpoints, before the relay looks at Redis again.
			time.Sleep(2 * checkpointFlushEvery)
		}
	}
	e.start(p)
	c := e.company()

	emps := e.checkInsWaiting(c, hold)
	// The next publish meets a Redis that lost everything.
	lost.Store(true)
	e.workday(c)
	e.wantConvergedAfterLoss(p, emps)
	e.wantOnce(c)
}

func TestPoisonMessageIsParkedAndThePartitionMovesOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	e.start(e.pipeline(testSettings(), quietClock))
	// A message no codec can read, on every partition.
	for part := range e.bus.Partitions() {
		msg := message.NewMessage("poison", []byte(`{"stream":"attendance-x","version":1,"type":"attendance.exploded","data":{}}`))
		msg.Metadata.Set(bus.MetaStream, "attendance-x")
		pipelinetest.Publish(t, e.redis, e.bus.EventTopic("attendance", part), msg)
	}
	c := e.company()
	e.workday(c)
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	if got, want := e.count(`SELECT count(*) FROM parked_messages WHERE projection = $1`, readmodel.Attendance), e.bus.Partitions(); got != want {
		t.Errorf("parked by %s: got %d, want %d", readmodel.Attendance, got, want)
	}
	st, err := NewMonitor(e.pool).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range st.Consumers {
		if cs.Name == readmodel.Attendance && cs.Parked != int64(e.bus.Partitions()) {
			t.Errorf("status of %s: got %d parked, want %d", readmodel.Attendance, cs.Parked, e.bus.Partitions())
		}
	}
	if got := e.monthlyMinutes(c.emp); got != 523 {
		t.Errorf("worked minutes after the poison: got %d, want 523", got)
	}
}

func TestSagasNotifyOnceUnderRedelivery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	p := e.pipeline(testSettings(), quietClock)
	e.start(p)
	c := e.company()
	e.workday(c)
	pipelinetest.Eventually(t, "lateness notifications", func() (bool, error) { return len(e.inbox(c.admin)) == 1, nil })

	// Forget what the sagas handled, saved and in memory, and hand them the
	// check-in again, twice and at once, as a redelivery after lost
	// bookkeeping (a crash before the versions were saved) would.
	var sagas *sagaGroup
	for _, g := range p.sagas {
		if g.name() == saga.Group(attendance.Category) {
			sagas = g
		}
	}
	pipelinetest.Eventually(t, "the versions saved", func() (bool, error) {
		var n int
		err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM projection_versions WHERE projection = $1`, sagas.name()).Scan(&n)
		return n > 0, err
	})
	if _, err := e.pool.Exec(context.Background(), `DELETE FROM projection_versions WHERE projection = $1`, sagas.name()); err != nil {
		t.Fatal(err)
	}
	sagas.mu.Lock()
	clear(sagas.handled)
	sagas.mu.Unlock()
	history, err := e.store.Load(context.Background(), attendance.Stream(c.emp))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() { errs <- sagas.handleBatch(context.Background(), history[:1]) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, eventstore.ErrConflict) {
			t.Fatal(err)
		}
	}
	for _, user := range []string{c.manager, c.admin} {
		inbox := e.inbox(user)
		if len(inbox) != 1 || inbox[0].Type != notification.TypeLateness {
			t.Errorf("inbox of %s: got %+v, want one lateness notification", user, inbox)
		}
	}
	if got := len(e.inbox(c.emp)); got != 0 {
		t.Errorf("inbox of the late employee: got %d notifications, want 0", got)
	}
}
