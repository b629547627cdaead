package projections

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/backlog"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
	"github.com/acme/employee-tracking/projections/relay"
)

// backlogEvents is the backlog the tests hand over: more than the relay's
// backpressure threshold, and several pages of the feed.
const backlogEvents = 30_000

// newBacklogEnv is an env on Redis whose store holds a backlog: a pipeline
// ran until company c was projected and every group's checkpoint had reached
// the relay's, then c's late workday and a backlog of attendance were
// appended behind it, as an outage leaves. It returns the number of events
// in the store before the workday.
func newBacklogEnv(t *testing.T) (*env, company, int) {
	t.Helper()
	e := newEnv(t, pipelinetest.RedisURL())
	p := e.pipeline(testSettings(), quietClock)
	stop := e.start(p)
	c := e.company()
	groups := len(p.consumers) * e.bus.Partitions()
	pipelinetest.Eventually(e.t, "every checkpoint at the relay's, at the head", func() (bool, error) {
		head, err := e.relayPassed("")
		if err != nil {
			return false, err
		}
		at := e.count(`SELECT count(*) FROM projection_checkpoints k JOIN checkpoints r ON r.name = $1
			WHERE (k.tx_id, k.position) >= (r.tx_id, r.position)`, relay.Checkpoint)
		return head && at == groups, nil
	})
	stop()
	before := e.count(`SELECT count(*) FROM events`)
	e.workday(c)
	if err := backlog.Attendance(context.Background(), e.pool, backlogEvents, 1_000, date("2024-01-01"), "test"); err != nil {
		e.t.Fatal(err)
	}
	return e, c, before
}

// wantWorkedOff waits for the pipeline to work the backlog behind c off,
// and checks that c's lateness was notified once and that every read model
// equals a rebuild of the store.
func (e *env) wantWorkedOff(c company) {
	e.t.Helper()
	pipelinetest.Eventually(e.t, "caught up", e.caughtUp)
	e.wantOnce(c)
	pipelinetest.Eventually(e.t, "notifications caught up", e.caughtUp)
	e.wantRebuilt()
}

func handedOver(p *Pipeline) int { return int(pipelinetest.CounterValue(p.relay.Metrics().HandedOver)) }

func published(p *Pipeline) int { return int(pipelinetest.CounterValue(p.relay.Metrics().Published)) }

func yields(p *Pipeline) int { return int(pipelinetest.CounterValue(p.relay.Metrics().Yields)) }

func backpressureWaits(p *Pipeline) int {
	return int(pipelinetest.CounterValue(p.relay.Metrics().Waits))
}

// A backlog goes from the feed to the consumers of the relay's process
// without the bus: nothing of it is published, the read models equal a
// rebuild, the sagas notify once, and the notifications still reach the hubs.
func TestRelayHandsABacklogToItsConsumers(t *testing.T) {
	t.Parallel()
	e, c, before := newBacklogEnv(t)
	p := e.pipeline(testSettings(), quietClock)
	e.start(p)
	e.wantWorkedOff(c)

	// The feed's last page, short of a full one, goes to the bus.
	if got := handedOver(p); got < backlogEvents {
		t.Errorf("%d events handed over, want the backlog, %d", got, backlogEvents)
	}
	if got := published(p); got >= 5_000 {
		t.Errorf("%d events published, want less than a page of the feed", got)
	}
	// Each event went one way.
	if got, want := handedOver(p)+published(p), e.count(`SELECT count(*) FROM events`)-before; got != want {
		t.Errorf("%d events handed over and %d published, want %d in all", handedOver(p), published(p), want)
	}
	raised := e.count(`SELECT count(*) FROM events WHERE type = 'notification.raised'`)
	if got, err := e.redis.XLen(context.Background(), e.bus.NotificationTopic()).Result(); err != nil || got != int64(raised) {
		t.Errorf("%d notifications fanned out to the hubs (err %v), want %d", got, err, raised)
	}
}

// While the bus holds events a group has not handled, the relay publishes:
// a stream's later versions handed over would otherwise wait for the earlier
// ones. Once the group trails it by more than the threshold the relay stops
// publishing, and hands what piled up over once the groups drained.
func TestRelayHandsOverOnlyOnceTheBusIsDrained(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	p, hold, _, _ := e.startHeld()
	if err := backlog.Attendance(context.Background(), e.pool, backlogEvents, 1_000, date("2024-01-01"), "test"); err != nil {
		t.Fatal(err)
	}
	pipelinetest.Eventually(t, "the relay waits for the held group", func() (bool, error) { return backpressureWaits(p) == 1, nil })
	time.Sleep(100 * time.Millisecond)
	if got := handedOver(p); got != 0 {
		t.Errorf("%d events handed over while the bus held unhandled ones, want 0", got)
	}
	if got := published(p); got < 5_000 || got > backlogEvents {
		t.Errorf("%d events published before the relay waited, want the threshold's 5,000 and at most the backlog", got)
	}
	hold.let()
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	if got := handedOver(p); got < backlogEvents/2 {
		t.Errorf("%d events handed over once the groups drained, want what piled up, %d or more", got, backlogEvents/2)
	}
	e.wantRebuilt()
}

// A group that handles nothing while the relay waits for it does not hold the
// others back: after the stall the relay publishes the rest without waiting.
func TestRelayStopsWaitingForAStuckGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	p, hold, _, _ := e.startHeld()
	defer hold.let()
	before := published(p)
	if err := backlog.Attendance(context.Background(), e.pool, backlogEvents, 1_000, date("2024-01-01"), "test"); err != nil {
		t.Fatal(err)
	}
	pipelinetest.Eventually(t, "the backlog published past the held group", func() (bool, error) { return e.relayPassed("") })
	if waits, got := backpressureWaits(p), handedOver(p); waits != 1 || got != 0 || published(p)-before < backlogEvents {
		t.Errorf("the relay waited %d times, handed %d events over and published %d, want one wait, nothing handed over and the backlog published",
			waits, got, published(p)-before)
	}
	hold.let()
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
}

// A group failing on a handed-over batch fails the hand-over, which the relay
// does again: what the other groups applied is not applied twice, and nobody
// is notified twice.
func TestFailedHandOverLosesNothing(t *testing.T) {
	t.Parallel()
	e, c, _ := newBacklogEnv(t)
	p := e.pipeline(testSettings(), quietClock)
	var failed atomic.Int32
	p.afterApply = func(consumer string, _ eventstore.Event) error {
		if consumer == readmodel.MonthlyHours && handedOver(p) == 0 && failed.CompareAndSwap(0, 1) {
			return errors.New("monthly hours failed")
		}
		return nil
	}
	e.start(p)
	e.wantWorkedOff(c)
	if failed.Load() != 1 {
		t.Error("the hand-over never failed")
	}
	if got := handedOver(p); got < backlogEvents {
		t.Errorf("%d events handed over, want the backlog, %d", got, backlogEvents)
	}
}

// A relay stopped after a hand-over and before its checkpoint hands the
// batch over again at the next start: applied once.
func TestRelayStoppedMidHandOverResumes(t *testing.T) {
	t.Parallel()
	e, c, _ := newBacklogEnv(t)
	p := e.pipeline(testSettings(), quietClock)
	var stopped atomic.Bool
	stop := func() {}
	p.relay.Hooks.AfterPublish = func() {
		if handedOver(p) > 0 && stopped.CompareAndSwap(false, true) {
			go stop()
			time.Sleep(200 * time.Millisecond) // the checkpoint must not be saved
		}
	}
	stop = e.start(p)
	pipelinetest.Eventually(t, "stopped mid-backlog", func() (bool, error) { return stopped.Load(), nil })
	stop()
	if ok, err := e.caughtUp(); err != nil || ok {
		t.Fatalf("caught up %v (err %v) after the first hand-over: no backlog was left", ok, err)
	}
	e.start(e.pipeline(testSettings(), quietClock))
	e.wantWorkedOff(c)
}

// At a steady rate the groups keep up: the relay neither waits for them nor
// hands anything over, and every event goes through the bus.
func TestSteadyRateNeverHoldsTheRelayBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	p := e.pipeline(testSettings(), quietClock)
	e.start(p)
	var emps []string
	sched := schedule("UTC")
	for range 10 {
		emps = append(emps, e.register("Worker", "employee", "", sched, "2024-01-01"))
	}
	for day := range 20 {
		for _, emp := range emps {
			e.checkIn(emp, sched, time.Date(2024, 12, 2+day, 6, 0, 0, 0, time.UTC))
			e.checkOut(emp, time.Date(2024, 12, 2+day, 14, 0, 0, 0, time.UTC))
		}
	}
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	if waits, got := backpressureWaits(p), handedOver(p); waits != 0 || got != 0 {
		t.Errorf("the relay waited %d times and handed %d events over at a steady rate, want neither", waits, got)
	}
}

// A pipeline alone on the bus is handed every event, at a steady rate too:
// nothing more goes through the event topics, the notifications still reach
// the hubs, the read models equal a rebuild and the sagas notify once, after
// Redis lost its data too. Once another instance runs a pipeline on the bus,
// the relay publishes again.
func TestRelayAloneHandsEveryEventOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	cfg := testSettings()
	cfg.handOverAlone = true
	p := e.pipeline(cfg, quietClock)
	e.start(p)
	c := e.company()
	sched := schedule("UTC")
	day := 0
	steadyDay := func(emps []string) {
		for _, emp := range emps {
			e.checkIn(emp, sched, time.Date(2024, 12, 2+day, 6, 0, 0, 0, time.UTC))
			e.checkOut(emp, time.Date(2024, 12, 2+day, 14, 0, 0, 0, time.UTC))
			time.Sleep(5 * time.Millisecond) // a steady flow, not a backlog
		}
		day++
	}
	var emps []string
	for range 10 {
		emps = append(emps, e.register("Worker", "employee", "", sched, "2024-01-01"))
	}
	// Two heartbeats a second apart make the instance alone.
	pipelinetest.Eventually(t, "the relay hands events over alone", func() (bool, error) {
		steadyDay(emps)
		return handedOver(p) > 0, nil
	})
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	publishedBefore, handedBefore := published(p), handedOver(p)
	topicBefore, err := e.redis.XLen(t.Context(), e.bus.EventTopic("attendance", 0)).Result()
	if err != nil {
		t.Fatal(err)
	}
	events := e.count(`SELECT count(*) FROM events`)
	e.workday(c)
	for range 10 {
		steadyDay(emps)
	}
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	events = e.count(`SELECT count(*) FROM events`) - events
	if got := published(p) - publishedBefore; got != 0 {
		t.Errorf("%d events published to the bus while alone, want none", got)
	}
	if got := handedOver(p) - handedBefore; got != events {
		t.Errorf("%d events handed over while alone, want every one appended, %d", got, events)
	}
	if got, err := e.redis.XLen(t.Context(), e.bus.EventTopic("attendance", 0)).Result(); err != nil || got > topicBefore {
		t.Errorf("the attendance topic grew from %d entries to %d (err %v) while alone", topicBefore, got, err)
	}
	e.wantOnce(c)
	raised := e.count(`SELECT count(*) FROM events WHERE type = 'notification.raised'`)
	if got, err := e.redis.XLen(t.Context(), e.bus.NotificationTopic()).Result(); err != nil || got != int64(raised) {
		t.Errorf("%d notifications fanned out to the hubs (err %v), want %d", got, err, raised)
	}
	e.wantRebuilt()

	// Redis loses its data: the relay learns it at the next notification
	// it fans out and rewinds, and the consumers skip what they applied.
	pipelinetest.DropKeys(t, e.redis, e.prefix)
	late := e.register("Late", "employee", c.manager, c.sched, "2024-01-01")
	e.checkIn(late, c.sched, time.Date(2024, 12, 3, 5, 17, 0, 0, time.UTC))
	steadyDay(emps)
	pipelinetest.Eventually(t, "caught up after Redis lost its data", e.caughtUp)
	pipelinetest.Eventually(t, "the late check-in's notification fanned out again", func() (bool, error) {
		n, err := e.redis.XLen(t.Context(), e.bus.NotificationTopic()).Result()
		return n > 0, err
	})
	// Its manager and the admin are told, each once.
	for _, to := range []string{c.manager, c.admin} {
		if got := e.count(`SELECT count(*) FROM events WHERE type = 'notification.raised' AND data->>'subject_id' = $1
			AND data->>'recipient_id' = $2`, late, to); got != 1 {
			t.Errorf("%s was told of the late check-in %d times, want once", to, got)
		}
	}
	// It rewinds only to a group's saved checkpoint behind its own, which
	// the groups save every so often: not at all when they had saved all.
	if got := pipelinetest.CounterValue(p.relay.Metrics().Rewinds); got > 1 {
		t.Errorf("the relay rewound %v times after Redis lost its data, want once at most", got)
	}
	e.wantRebuilt()

	other := e.pipeline(cfg, quietClock)
	e.start(other)
	publishedBefore = published(p)
	pipelinetest.Eventually(t, "the relay publishes again beside another instance", func() (bool, error) {
		steadyDay(emps)
		return published(p) > publishedBefore, nil
	})
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	e.wantRebuilt()
}

// A hand-over decodes its events on every core, and each keeps its place:
// one that cannot be decoded is reported at its own index and the others are
// decoded as one by one.
func TestHandOverDecodesEachEventInItsPlace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	ctx := context.Background()
	const n = 1001 // not a multiple of the cores
	if err := backlog.Attendance(ctx, e.pool, n, n, calendar.Date{Year: 2024, Month: time.December, Day: 2}, "test"); err != nil {
		t.Fatal(err)
	}
	rows, err := e.pool.Query(ctx, `SELECT event_id, stream_id, version, type, schema_version, data FROM events ORDER BY position`)
	if err != nil {
		t.Fatal(err)
	}
	var stored []eventstore.Event
	for rows.Next() {
		var ev eventstore.Event
		if err := rows.Scan(&ev.ID, &ev.StreamID, &ev.Version, &ev.Type, &ev.SchemaVersion, &ev.Data); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, ev)
	}
	if err := rows.Err(); err != nil || len(stored) != n {
		t.Fatalf("stored: %d events, %v", len(stored), err)
	}
	const bad = 700
	stored[bad].Type = "attendance.teleported"
	h := &handOver{rt: &runtime{store: e.store}}
	decoded, errs := h.decode(stored)
	for i := range stored {
		if (errs[i] != nil) != (i == bad) {
			t.Fatalf("event %d: error %v", i, errs[i])
		}
		if i == bad {
			continue
		}
		want := stored[i]
		if err := e.store.Codec().DecodeEvent(&want); err != nil {
			t.Fatal(err)
		}
		if decoded[i].ID != stored[i].ID || !reflect.DeepEqual(decoded[i].Payload, want.Payload) {
			t.Fatalf("event %d: decoded %+v, want %+v", i, decoded[i].Payload, want.Payload)
		}
	}
	if stored[0].Payload != nil {
		t.Error("the stored events were decoded in place: the relay's own copy changed")
	}
}

// While the process's API is saturated the relay reads nothing of the feed,
// and once the API is calm again what piled up goes to the consumers as a
// hand-over: every event one way, the read models equal to a rebuild, the
// lateness notified once.
func TestRelayYieldsToASaturatedAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	p := e.pipeline(testSettings(), quietClock)
	var saturated atomic.Bool
	p.relay.YieldTo(saturated.Load, time.Minute)
	e.start(p)
	c := e.company()
	before := e.count(`SELECT count(*) FROM events`)
	saturated.Store(true)
	p.relay.Wake()
	pipelinetest.Eventually(t, "the relay yields", func() (bool, error) { return yields(p) == 1, nil })
	moved := handedOver(p) + published(p)
	e.workday(c)
	if err := backlog.Attendance(context.Background(), e.pool, backlogEvents, 1_000, date("2024-01-01"), "test"); err != nil {
		t.Fatal(err)
	}
	p.relay.Wake()
	time.Sleep(300 * time.Millisecond)
	if got := handedOver(p) + published(p); got != moved {
		t.Fatalf("%d events moved while the API was saturated, want none", got-moved)
	}

	saturated.Store(false)
	e.wantWorkedOff(c)
	if got := handedOver(p); got < backlogEvents {
		t.Errorf("%d events handed over, want the backlog, %d", got, backlogEvents)
	}
	if got, want := handedOver(p)+published(p), e.count(`SELECT count(*) FROM events`)-before; got < want {
		t.Errorf("%d events handed over or published since the company was projected, want %d", got, want)
	}
	if got := yields(p); got != 1 {
		t.Errorf("the relay yielded %d times, want once", got)
	}
}

// A saturated API holds the read models back for at most the yield's bound
// at a time: under a load that never ends they still catch up.
func TestRelayYieldsForAtMostItsBound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	p := e.pipeline(testSettings(), quietClock)
	p.relay.YieldTo(func() bool { return true }, 200*time.Millisecond)
	e.start(p)
	c := e.company()
	e.workday(c)
	if err := backlog.Attendance(context.Background(), e.pool, backlogEvents, 1_000, date("2024-01-01"), "test"); err != nil {
		t.Fatal(err)
	}
	p.relay.Wake()
	e.wantWorkedOff(c)
	if got := yields(p); got < 2 {
		t.Errorf("the relay yielded %d times, want again after each bound", got)
	}
}
