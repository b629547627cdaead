package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/leader"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/cursor"
	"github.com/acme/employee-tracking/projections/internal/writebehind"
)

// Checkpoint is the name of the relay's checkpoint in the checkpoints table.
const Checkpoint = "relay"

// notificationRaised is the type of the events fanned out to every process.
const notificationRaised = "notification.raised"

// relayLockID is the session advisory lock held by the one active relay.
const relayLockID int64 = 0x45545f52454c4159 // "ET_RELAY"

// relayWakeChannel is the Postgres notification channel by which a process
// that appended wakes the active relay of another process.
const relayWakeChannel = "et_relay_wake"

const (
	relayBatch = 5000
	relayPoll  = time.Second
	// relayRetryMax bounds the quick re-reads of events the feed's fence
	// still hides (see Relay.relay).
	relayRetryMax    = 100 * time.Millisecond
	watermarkEvery   = time.Second
	relayLeaderRetry = time.Second
	// checkpointEvery is how often at most the relay saves its checkpoint:
	// one lost publishes again what followed it, which the consumers skip,
	// so a steady flow need not cost a write per read of the feed.
	checkpointEvery = 100 * time.Millisecond
	// handOverBatch is how many events at most the relay hands this
	// process's consumers at once: each group's batch costs Postgres about
	// as much in stream locks and version reads whatever its size, so the
	// more events of a stream a batch holds the less each costs (bench
	// catchup, 100,000 events of 2,000 streams: 73,000-75,000 events/s and
	// 17-18 µs of CPU an event at 50,000, 55,000-58,000 and 22-23 µs at
	// 20,000), for about 120 MB more memory at the peak (the process's
	// resident set 265 MB against 148 MB).
	handOverBatch = 50_000
	// backpressureAt is how far (in feed positions) the slowest consumer
	// group may trail what the relay published before the relay stops
	// publishing until the groups handled it all: a page of the feed, five
	// seconds of a steady 1,000 events/s, at which the groups trail by tens.
	backpressureAt = relayBatch
	// backpressureCheck is how often a held relay looks at the groups;
	// aloneCheck how often, when they are alone, it looks whether they
	// drained, which holds the flow until it hands over.
	backpressureCheck = 50 * time.Millisecond
	aloneCheck        = 10 * time.Millisecond
	// checkpointsFresh is how long the groups' saved checkpoints, read to
	// learn what other processes' members handled, serve: they are saved
	// about as often.
	checkpointsFresh = 100 * time.Millisecond
	// backpressureStall ends a wait in which the slowest group handled
	// nothing; the relay then publishes without waiting for
	// backpressureRest: a stuck group must not hold back the others.
	backpressureStall = 5 * time.Second
	backpressureRest  = time.Minute
	// yieldCheck is how often a relay yielding to the API looks whether it
	// still must.
	yieldCheck = 10 * time.Millisecond
	// yieldCalm is how long the API must not be saturated for a yield to
	// end before its time.
	yieldCalm = 100 * time.Millisecond
)

// Relay tails the event store's gap-free feed from its checkpoint and
// publishes every event to the bus. The events table is the outbox: nothing is
// published from the request path. The checkpoint is saved after the publish,
// so a crash in between publishes some events twice, which the consumers
// ignore, and loses none.
//
// Only one relay is active across processes: it holds a Postgres advisory lock
// on a dedicated connection; the others wait and take over when its session
// ends.
type Relay struct {
	pool    *pgxpool.Pool
	store   *eventstore.Store
	bus     *bus.Bus
	logger  *slog.Logger
	readers []Reader
	metrics *Metrics
	wake    chan struct{}
	poll    time.Duration
	// leading is set while this relay holds the relay lock; otherwise
	// appends here wake the active relay through nudge.
	leading atomic.Bool
	nudge   chan struct{}
	// consumers, when set, are this process's consumers, to which the
	// relay hands a backlog directly.
	consumers Consumers
	// busy, when set, tells that the process's API is saturated: the relay
	// then holds its reads of the feed for at most maxYield (YieldTo).
	busy     func() bool
	maxYield time.Duration

	// Hooks, set before Run, stop the relay at the points where a crash
	// must lose nothing.
	Hooks Hooks
}

// Hooks run at the two points of a publish where a crash must lose nothing:
// BeforePublish before a publish (or hand-over) of events, AfterPublish
// between it and the checkpoint that records it. Nil hooks are skipped.
type Hooks struct {
	BeforePublish, AfterPublish func()
}

// Metrics are the relay's Prometheus metrics.
type Metrics struct {
	// Published counts the events published to the bus.
	Published prometheus.Counter
	// Rewinds counts the times the relay published again after the bus
	// lost its streams.
	Rewinds prometheus.Counter
	// Position is the feed position of the relay's checkpoint.
	Position prometheus.Gauge
	// HandedOver counts the events handed to this process's consumers
	// directly rather than published: a backlog, or every event while
	// they are alone.
	HandedOver prometheus.Counter
	// Waits counts the times the relay held its publishing back until the
	// consumer groups caught up.
	Waits prometheus.Counter
	// Yields counts the times the relay held its reads of the feed while
	// the process's API was saturated.
	Yields prometheus.Counter
}

func newMetrics() *Metrics {
	return &Metrics{
		Published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "et_relay_published_events_total", Help: "Events the relay published to the bus.",
		}),
		Rewinds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "et_relay_rewinds_total", Help: "Times the relay published again after the bus lost its streams.",
		}),
		Position: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "et_relay_checkpoint_position", Help: "Feed position of the relay's checkpoint.",
		}),
		HandedOver: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "et_relay_handed_over_events_total", Help: "Events the relay handed to its process's consumers directly (a backlog, or every event while the process runs the only pipeline), not published to the bus.",
		}),
		Waits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "et_relay_backpressure_waits_total", Help: "Times the relay held its publishing back until the consumer groups caught up.",
		}),
		Yields: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "et_relay_yields_total", Help: "Times the relay held its reads of the feed while the process's API was saturated.",
		}),
	}
}

// Collectors are the metrics, for the registry of the process that runs the
// relay.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Published, m.Rewinds, m.Position, m.HandedOver, m.Waits, m.Yields}
}

// Reader is a consumer group and the stream category whose topics it reads.
type Reader struct {
	Group    string
	Category string
}

// Consumers are the consumer groups of the relay's own process, to which it
// hands a backlog directly, decoded once and every group side by side, rather
// than through the bus, where each group reads and decodes every event.
type Consumers interface {
	// HandledTo is the cursor up to which group has handled partition p in
	// this process.
	HandledTo(group string, p int) eventstore.Cursor
	// Deliver has every group handle events, as the feed stores them, and
	// once all have, marks each group handled up to `to` on every partition.
	// A failure leaves what was handled to the versions: delivered again,
	// nothing is applied twice.
	Deliver(ctx context.Context, events []eventstore.Event, to eventstore.Cursor) error
	// Alone says whether these consumers are the only ones: no other
	// process's members read the bus.
	Alone() bool
}

// HandOverTo makes the relay hand events to consumers directly, once the
// groups handled all it published: a backlog (the relay far behind the
// feed's head, or what piled up while it waited), and everything while the
// consumers are alone; set before Run.
func (r *Relay) HandOverTo(consumers Consumers) { r.consumers = consumers }

// YieldTo makes the relay hold its reads of the feed while busy reports
// that the process's API is saturated, for at most max at a time; set before
// Run. What piles up meanwhile goes to the consumers as one batch.
func (r *Relay) YieldTo(busy func() bool, max time.Duration) { r.busy, r.maxYield = busy, max }

// New returns a relay for the consumer groups readers: it publishes the
// events of the categories they read, sends watermarks to those topics, and
// after the bus lost its streams publishes again from their checkpoints.
// Pipeline makes its own; a relay alone (no readers) publishes every event,
// which serves to measure it.
func New(pool *pgxpool.Pool, store *eventstore.Store, bus *bus.Bus, logger *slog.Logger, readers []Reader) *Relay {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Relay{
		pool: pool, store: store, bus: bus, logger: logger, readers: readers, metrics: newMetrics(),
		wake: make(chan struct{}, 1), poll: relayPoll, nudge: make(chan struct{}, 1),
	}
	store.OnAppend(func(eventstore.AppendResult) {
		if r.leading.Load() {
			r.Wake()
			return
		}
		select {
		case r.nudge <- struct{}{}:
		default:
		}
	})
	return r
}

// Metrics returns the relay's metrics, which it registers nowhere itself.
func (r *Relay) Metrics() *Metrics { return r.metrics }

// Wake makes the relay read the feed now rather than at its next poll.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends. While another process holds the relay lock, it
// stands by, and wakes that relay after appends made here.
func (r *Relay) Run(ctx context.Context) error {
	go r.nudgeOthers(ctx)
	leader.Run(ctx, r.pool, relayLockID, relayLeaderRetry, r.logger, "relay", r.lead)
	return nil
}

// lead relays while conn holds the relay lock.
func (r *Relay) lead(ctx context.Context, conn *pgx.Conn) error {
	// The lock lives as long as its session: the session's listener reports
	// its end, and wakes the relay on other processes' appends meanwhile.
	if _, err := conn.Exec(ctx, "LISTEN "+relayWakeChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	lctx, stop := context.WithCancel(ctx)
	lost := make(chan error, 1)
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		for {
			if _, err := conn.WaitForNotification(lctx); err != nil {
				lost <- err
				return
			}
			r.Wake()
		}
	}()
	defer func() {
		stop()
		<-listening
	}()
	r.leading.Store(true)
	defer r.leading.Store(false)
	r.logger.Info("relay: active")
	return r.relay(ctx, lost)
}

// nudgeOthers wakes the active relay of another process after appends made
// here, by a notification sent after their commit: inside the append
// transaction, NOTIFY would serialize every commit on the notification queue.
// One notification covers the appends made while it is sent.
func (r *Relay) nudgeOthers(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.nudge:
		}
		if _, err := r.pool.Exec(ctx, "SELECT pg_notify($1, '')", relayWakeChannel); err != nil && ctx.Err() == nil {
			r.logger.Warn("relay: wake the active relay", "err", err)
		}
	}
}

// relayState is the relay's position and, after the bus lost its streams,
// what must not be published again.
type relayState struct {
	cursor eventstore.Cursor
	// floors[topic] is the cursor up to which every consumer of topic has
	// handled it; set by a rewind.
	floors map[string]eventstore.Cursor
	// resumeAt is where the relay was when it rewound: events up to there
	// were already fanned out to the notification hubs.
	resumeAt eventstore.Cursor
	// lastWatermark and watermarkAt are, per topic that consumers read, when
	// it last got a message and the cursor of its last watermark.
	lastWatermark map[string]time.Time
	watermarkAt   map[string]eventstore.Cursor
	// published is, per topic that consumers read, the cursor of the last
	// event published there; at start the relay's checkpoint, since what a
	// former relay published may still wait in the bus.
	published map[string]eventstore.Cursor
	// handingOver is set while the relay hands what it reads to its
	// process's consumers rather than publishing it, handingOverAlone when
	// it began because they were alone; switchLevel is the level at which
	// it logged the switch.
	handingOver      bool
	handingOverAlone bool
	switchLevel      slog.Level
	// waitAgainAt is when backpressure may hold the publishing back again
	// after a wait that the slowest group did not end.
	waitAgainAt time.Time
	// saved are the groups' saved checkpoints as last read, at savedAt.
	saved   map[groupPartition]eventstore.Cursor
	savedAt time.Time
}

// passed notes that the relay delivered everything up to last.
func (st *relayState) passed(last eventstore.Cursor) {
	if st.floors != nil && !cursor.Less(last, st.resumeAt) {
		st.floors = nil // caught up with where the rewind started
	}
}

// fansOut reports whether e goes to the notification hubs: a notification
// they have not been sent yet.
func (st *relayState) fansOut(e eventstore.Event) bool {
	return e.Type == notificationRaised && cursor.Less(st.resumeAt, e.Cursor())
}

func (r *Relay) relay(ctx context.Context, lost <-chan error) error {
	saved, err := r.store.LoadCheckpoint(ctx, Checkpoint)
	if err != nil {
		return err
	}
	st := &relayState{cursor: saved, lastWatermark: map[string]time.Time{}, watermarkAt: map[string]eventstore.Cursor{},
		published: map[string]eventstore.Cursor{}}
	for _, rd := range r.readers {
		for p := range r.bus.Partitions() {
			topic := r.bus.EventTopic(rd.Category, p)
			st.lastWatermark[topic], st.published[topic] = time.Time{}, saved
		}
	}
	poll := time.NewTicker(r.poll)
	defer poll.Stop()
	var retry backoff
	// With a backlog, the next batch is read while this one is published.
	type read struct {
		from   eventstore.Cursor
		limit  int
		events []eventstore.Event
		next   eventstore.Cursor
		err    error
	}
	var ahead chan read
	// Publishes do nothing once Redis has lost its data (publishWhileAlive),
	// and say so: the relay then looks at the bus, and rewinds.
	checkBus := true
	// What a stop leaves unsaved is published again by the next relay.
	ckpt := checkpointer{saveTo: r.saveCheckpoint}
	for {
		if checkBus {
			if err := r.checkBus(ctx, st); err != nil {
				return err
			}
			checkBus = false
		}
		// Backpressure: what piles up in the feed meanwhile is handed over.
		var waited bool
		if r.consumers != nil {
			var err error
			if waited, err = r.waitForConsumers(ctx, st); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		if !waited && r.busy != nil {
			if waited, err = r.yield(ctx, lost); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		limit := relayBatch
		if st.handingOver || waited {
			limit = handOverBatch
		}
		var res read
		if ahead != nil {
			res = <-ahead
			ahead = nil
		}
		if res.from != st.cursor || res.events == nil {
			res.limit = limit
			res.events, res.next, res.err = r.store.ReadFeedStored(ctx, st.cursor, limit)
		}
		events, next, err := res.events, res.next, res.err
		if err != nil {
			return err
		}
		full := len(events) == res.limit
		if full {
			ahead = make(chan read, 1)
			go func(from eventstore.Cursor) {
				evs, nx, err := r.store.ReadFeedStored(ctx, from, limit)
				ahead <- read{from: from, limit: limit, events: evs, next: nx, err: err}
			}(next)
		}
		if len(events) > 0 {
			var handOver bool
			if r.consumers != nil {
				if handOver, err = r.handOver(ctx, st, len(events) >= relayBatch, waited); err != nil {
					return err
				}
			}
			if r.Hooks.BeforePublish != nil {
				r.Hooks.BeforePublish()
			}
			if handOver {
				err = r.deliver(ctx, st, events, next)
			} else {
				err = r.publish(ctx, st, events)
			}
			if errors.Is(err, errBusLost) {
				checkBus = true // and rewind
				continue
			}
			if err != nil {
				return err
			}
			if r.Hooks.AfterPublish != nil {
				r.Hooks.AfterPublish()
			}
			st.cursor = next
			ckpt.published(next)
			if err := ckpt.save(ctx, false); err != nil {
				return err
			}
			r.metrics.Position.Set(float64(next.Position))
		}
		if err := r.publishWatermarks(ctx, st); errors.Is(err, errBusLost) {
			checkBus = true
			continue
		} else if err != nil {
			return err
		}
		if full {
			continue
		}
		// A wake often comes while the feed's fence still hides the event
		// that caused it (an older transaction is still open, here or in
		// another process). Events committed past the cursor mean the fence
		// will lift soon: read again shortly rather than at the next poll.
		// A wake already waiting reads again at once: under a steady flow,
		// appends that committed during the read and publish always left
		// one, and the look would be a query for nothing.
		var again <-chan time.Time
		if len(r.wake) == 0 {
			hidden, err := r.hiddenEvents(ctx, st.cursor)
			if err != nil {
				return err
			}
			if hidden {
				again = time.After(retry.next())
			} else {
				retry.reset()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-again:
		case <-ckpt.due():
			if err := ckpt.save(ctx, true); err != nil {
				return err
			}
		case <-r.wake:
		case <-poll.C:
		case err := <-lost:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("relay lock session: %w", err)
		}
	}
}

// handOver decides whether the events read go to this process's consumers
// directly: with a backlog (a full page read, or what piled up while the
// relay waited), or whatever was read while they are the only consumers
// (Consumers.Alone), and only once every group has handled all the relay
// published, so that no stream's later version is applied while an earlier
// one waits in the bus. A switch is logged, at debug level when it comes of
// a wait, which may happen every second under load.
func (r *Relay) handOver(ctx context.Context, st *relayState, full, waited bool) (bool, error) {
	alone := r.consumers.Alone()
	if st.handingOver && (full || alone) {
		return true, nil // nothing was published since the groups drained
	}
	if st.handingOver {
		st.handingOver = false
		msg := "relay: near the feed's head, publishing to the bus again"
		if st.handingOverAlone {
			msg = "relay: another process's consumers read the bus: publishing to it again"
		}
		r.logger.Log(ctx, st.switchLevel, msg, "at", st.cursor.String())
	}
	if !full && !waited && !alone {
		return false, nil
	}
	trailing, err := r.trailing(ctx, st, 0)
	if err != nil || trailing > 0 {
		return false, err
	}
	st.handingOver, st.handingOverAlone, st.switchLevel = true, alone, slog.LevelDebug
	msg := "relay: behind the feed's head, handing the backlog to this process's consumers directly"
	switch {
	case alone:
		st.switchLevel, msg = slog.LevelInfo, "relay: this process's consumers are the only ones: handing them the events directly"
	case full:
		st.switchLevel = slog.LevelInfo
	}
	r.logger.Log(ctx, st.switchLevel, msg, "at", st.cursor.String())
	return true, nil
}

// waitForConsumers holds the publishing back while the slowest group trails
// what the relay published by more than backpressureAt, until every group
// has handled it all: the feed piles up meanwhile, and goes to the
// consumers directly. At a steady rate the groups never trail that far.
// Consumers alone are waited for however little they trail: under a steady
// flow they always have something in hand, and the relay would otherwise
// publish on for seconds before it found them drained.
func (r *Relay) waitForConsumers(ctx context.Context, st *relayState) (waited bool, err error) {
	if st.handingOver || time.Now().Before(st.waitAgainAt) {
		return false, nil
	}
	tolerate := int64(backpressureAt)
	if r.consumers.Alone() {
		tolerate = 0
	}
	trailing, err := r.trailing(ctx, st, tolerate)
	if err != nil || trailing <= tolerate {
		return false, err
	}
	if tolerate > 0 {
		r.metrics.Waits.Inc()
	}
	r.logger.Debug("relay: the consumer groups trail what it published; waiting for them", "positions", trailing)
	every := backpressureCheck
	if tolerate == 0 {
		every = aloneCheck
	}
	check := time.NewTicker(every)
	defer check.Stop()
	movedAt := time.Now()
	for trailing > 0 {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-check.C:
		}
		now, err := r.trailing(ctx, st, 0)
		if err != nil {
			return true, err
		}
		if now < trailing {
			movedAt = time.Now()
		} else if time.Since(movedAt) > backpressureStall {
			r.logger.Warn("relay: a consumer group handled nothing while the relay waited; publishing without waiting",
				"positions", now, "for", backpressureRest)
			st.waitAgainAt = time.Now().Add(backpressureRest)
			return true, nil
		}
		trailing = now
	}
	return true, nil
}

// yield holds the relay while the process's API is saturated, until it has
// not been for yieldCalm or maxYield passed, and reports whether it did. A
// saturated API's requests come and go: the count of those served dips
// below saturation between them, which must not end the yield.
func (r *Relay) yield(ctx context.Context, lost <-chan error) (bool, error) {
	if r.maxYield <= 0 || !r.busy() {
		return false, nil
	}
	r.metrics.Yields.Inc()
	until := time.NewTimer(r.maxYield)
	defer until.Stop()
	check := time.NewTicker(yieldCheck)
	defer check.Stop()
	busyAt := time.Now()
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case err := <-lost:
			return true, fmt.Errorf("relay lock session: %w", err)
		case <-until.C:
			return true, nil
		case now := <-check.C:
			if r.busy() {
				busyAt = now
			} else if now.Sub(busyAt) >= yieldCalm {
				return true, nil
			}
		}
	}
}

// trailing returns how far the slowest group trails what the relay
// published to its topics, in feed positions (at least 1 when it trails at
// all): 0 once every group handled everything published. It looks at the
// checkpoints saved, which other processes' members move, only when this
// process's marks put it past tolerate.
func (r *Relay) trailing(ctx context.Context, st *relayState, tolerate int64) (int64, error) {
	var saved map[groupPartition]eventstore.Cursor
	for {
		var worst int64
		for _, rd := range r.readers {
			for p := range r.bus.Partitions() {
				published := st.published[r.bus.EventTopic(rd.Category, p)]
				handled := cursor.Max(r.consumers.HandledTo(rd.Group, p), saved[groupPartition{rd.Group, p}])
				if cursor.Less(handled, published) {
					worst = max(worst, published.Position-handled.Position, 1)
				}
			}
		}
		if worst <= tolerate || saved != nil {
			return worst, nil
		}
		if time.Since(st.savedAt) >= checkpointsFresh {
			var err error
			if st.saved, err = r.checkpoints(ctx); err != nil {
				return 0, err
			}
			st.savedAt = time.Now()
		}
		saved = st.saved
	}
}

// deliver hands events to this process's consumers, and their notifications
// to the hubs, first: a hub pushes a notification as it reads it from the
// bus, whatever the notifications model did with it yet, and the consumers'
// batch would hold it back by as long as their slowest group takes.
func (r *Relay) deliver(ctx context.Context, st *relayState, events []eventstore.Event, to eventstore.Cursor) error {
	var fanOut []*message.Message
	for _, e := range events {
		if _, ok := r.bus.TopicOf(e.StreamID); !ok {
			r.logger.Warn("relay: an event of a stream without a category goes to no consumer", "stream", e.StreamID, "event", e.ID)
		}
		if !st.fansOut(e) {
			continue
		}
		msg, err := bus.EventMessage(e)
		if err != nil {
			return err
		}
		msg.SetContext(ctx)
		fanOut = append(fanOut, msg)
	}
	if len(fanOut) > 0 {
		published, err := r.bus.PublishWhileAlive(ctx, map[string][]*message.Message{r.bus.NotificationTopic(): fanOut})
		if err != nil {
			return fmt.Errorf("relay: %w", err)
		}
		if !published {
			return errBusLost
		}
	}
	if err := r.consumers.Deliver(ctx, events, to); err != nil {
		return fmt.Errorf("relay: hand over: %w", err)
	}
	// The groups' checkpoints are marked up to here: no watermark is due.
	now := time.Now()
	for topic := range st.lastWatermark {
		st.lastWatermark[topic], st.watermarkAt[topic] = now, to
	}
	st.passed(events[len(events)-1].Cursor())
	r.metrics.HandedOver.Add(float64(len(events)))
	return nil
}

// saveCheckpoint records that the relay published everything up to c,
// without waiting for the disk: a checkpoint a crash loses only makes the
// relay publish some events again, which the consumers skip.
// One round trip: both statements go out as one batch, which runs as one
// implicit transaction.
func (r *Relay) saveCheckpoint(ctx context.Context, c eventstore.Cursor) error {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("relay: save checkpoint: %w", err)
	}
	defer conn.Release()
	w := writebehind.New(conn.Conn())
	w.Batch.Queue(writebehind.AsyncCommit)
	if err := r.store.SaveCheckpoint(ctx, w, Checkpoint, c); err != nil {
		return err
	}
	return w.Flush(ctx)
}

// checkpointer saves the relay's checkpoint at most every checkpointEvery.
type checkpointer struct {
	saveTo  func(context.Context, eventstore.Cursor) error
	unsaved eventstore.Cursor
	pending bool
	savedAt time.Time
}

// published notes that everything up to c is published.
func (c *checkpointer) published(to eventstore.Cursor) {
	c.unsaved, c.pending = to, true
}

// save saves what was published when the last save is checkpointEvery old,
// or at once with now.
func (c *checkpointer) save(ctx context.Context, now bool) error {
	if !c.pending || !now && time.Since(c.savedAt) < checkpointEvery {
		return nil
	}
	if err := c.saveTo(ctx, c.unsaved); err != nil {
		return err
	}
	c.pending, c.savedAt = false, time.Now()
	return nil
}

// due fires when a checkpoint waiting to be saved is due; never when none is.
func (c *checkpointer) due() <-chan time.Time {
	if !c.pending {
		return nil
	}
	return time.After(max(0, checkpointEvery-time.Since(c.savedAt)))
}

// hiddenEventsSQL finds the first event past the cursor ($1, $2) in feed
// order: an index scan of events_feed_idx from the cursor, a page or two
// whatever the size of the store. Written as EXISTS, it was planned as a
// sequential scan stopping at the first match, which read the whole table
// when the relay was caught up: after every read of the feed, longer as the
// store grew (75 ms at 300,000 events).
const hiddenEventsSQL = `SELECT true FROM events WHERE (tx_id, position) > ($1, $2) ORDER BY tx_id, position LIMIT 1`

// hiddenEvents reports whether events past after have committed that the
// feed does not return yet.
func (r *Relay) hiddenEvents(ctx context.Context, after eventstore.Cursor) (bool, error) {
	var hidden bool
	err := r.pool.QueryRow(ctx, hiddenEventsSQL, after.TxID, after.Position).Scan(&hidden)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("relay: look past the fence: %w", err)
	}
	return hidden, nil
}

// backoff yields the growing delays of the relay's quick re-reads.
type backoff struct{ n int }

var backoffSteps = []time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond, relayRetryMax}

func (b *backoff) next() time.Duration {
	d := backoffSteps[min(b.n, len(backoffSteps)-1)]
	b.n++
	return d
}

func (b *backoff) reset() { b.n = 0 }

// checkBus detects a Redis that lost its streams (FLUSHALL, a restart without
// persistence) by the absence of the key the relay keeps there, and rewinds
// to the lowest checkpoint of the consumers so that nothing is lost.
func (r *Relay) checkBus(ctx context.Context, st *relayState) error {
	alive, err := r.bus.Alive(ctx)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	if alive {
		return nil
	}
	if len(r.readers) == 0 { // nobody to publish again for
		return r.bus.MarkAlive(ctx)
	}
	floors, err := r.lowWaterMarks(ctx)
	if err != nil {
		return err
	}
	from := st.cursor
	for _, f := range floors {
		if cursor.Less(f, from) {
			from = f
		}
	}
	if cursor.Less(from, st.cursor) {
		r.logger.Warn("relay: the bus lost its streams; publishing again from the consumers' checkpoints",
			"from", from.String(), "was_at", st.cursor.String())
		r.metrics.Rewinds.Inc()
		st.resumeAt, st.floors, st.cursor = st.cursor, floors, from
	}
	return r.bus.MarkAlive(ctx)
}

// errBusLost reports a publish refused because Redis lost its data: the relay
// rewinds before it publishes again.
var errBusLost = errors.New("relay: the bus lost its streams")

// publish sends events to their topics, each topic in order, and
// notifications to the hubs.
func (r *Relay) publish(ctx context.Context, st *relayState, events []eventstore.Event) error {
	batches := map[string][]*message.Message{}
	// lastOf is the cursor of the last event going to each topic.
	lastOf := map[string]eventstore.Cursor{}
	for _, e := range events {
		topic, ok := r.bus.TopicOf(e.StreamID)
		if !ok {
			r.logger.Warn("relay: an event of a stream without a category goes to no topic", "stream", e.StreamID, "event", e.ID)
			continue
		}
		_, read := st.lastWatermark[topic]
		read = read || len(r.readers) == 0
		if floor, ok := st.floors[topic]; ok && !cursor.Less(floor, e.Cursor()) {
			read = false // every consumer already has it
		}
		fanOut := st.fansOut(e)
		if !read && !fanOut {
			continue
		}
		msg, err := bus.EventMessage(e)
		if err != nil {
			return err
		}
		msg.SetContext(ctx)
		if read {
			batches[topic] = append(batches[topic], msg)
			lastOf[topic] = e.Cursor()
		}
		if fanOut {
			batches[r.bus.NotificationTopic()] = append(batches[r.bus.NotificationTopic()], msg.Copy())
		}
	}
	now := time.Now()
	for topic := range batches {
		if _, ok := st.lastWatermark[topic]; ok {
			st.lastWatermark[topic] = now
		}
	}
	published, err := r.bus.PublishWhileAlive(ctx, batches)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	if !published {
		return errBusLost
	}
	for topic, c := range lastOf {
		st.published[topic] = c
	}
	st.passed(events[len(events)-1].Cursor())
	r.metrics.Published.Add(float64(len(events)))
	return nil
}

// publishWatermarks tells the consumers of each quiet partition how far the
// relay has come, so that their checkpoints, and the lag computed from them,
// advance even when no event of theirs passes.
func (r *Relay) publishWatermarks(ctx context.Context, st *relayState) error {
	now := time.Now()
	batches := map[string][]*message.Message{}
	var quiet []string
	for topic, last := range st.lastWatermark {
		if st.watermarkAt[topic] == st.cursor || now.Sub(last) < watermarkEvery {
			continue
		}
		batches[topic] = []*message.Message{bus.WatermarkMessage(st.cursor)}
		quiet = append(quiet, topic)
	}
	if len(quiet) == 0 {
		return nil
	}
	published, err := r.bus.PublishWhileAlive(ctx, batches)
	if err != nil {
		return fmt.Errorf("relay: watermarks: %w", err)
	}
	if !published {
		return errBusLost
	}
	for _, topic := range quiet {
		st.lastWatermark[topic], st.watermarkAt[topic] = now, st.cursor
	}
	return nil
}

// lowWaterMarks returns, for each topic that readers read, the lowest
// checkpoint among them (the start of the feed for one that has none).
func (r *Relay) lowWaterMarks(ctx context.Context) (map[string]eventstore.Cursor, error) {
	saved, err := r.checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	floors := map[string]eventstore.Cursor{}
	for _, rd := range r.readers {
		for p := range r.bus.Partitions() {
			topic, c := r.bus.EventTopic(rd.Category, p), saved[groupPartition{rd.Group, p}]
			if f, ok := floors[topic]; !ok || cursor.Less(c, f) {
				floors[topic] = c
			}
		}
	}
	return floors, nil
}

// groupPartition is a consumer group's partition: a group reads one
// category, so its checkpoint of partition p is that of its topic there.
type groupPartition struct {
	group     string
	partition int
}

// checkpoints returns the saved checkpoints of the readers' groups.
func (r *Relay) checkpoints(ctx context.Context) (map[groupPartition]eventstore.Cursor, error) {
	groups := make([]string, len(r.readers))
	for i, rd := range r.readers {
		groups[i] = rd.Group
	}
	saved := map[groupPartition]eventstore.Cursor{}
	rows, err := r.pool.Query(ctx, `SELECT projection, partition, tx_id, position FROM projection_checkpoints WHERE projection = ANY($1)`, groups)
	if err != nil {
		return nil, fmt.Errorf("projections: load checkpoints: %w", err)
	}
	for rows.Next() {
		var k groupPartition
		var c eventstore.Cursor
		if err := rows.Scan(&k.group, &k.partition, &c.TxID, &c.Position); err != nil {
			rows.Close()
			return nil, fmt.Errorf("projections: load checkpoints: %w", err)
		}
		saved[k] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projections: load checkpoints: %w", err)
	}
	return saved, nil
}
