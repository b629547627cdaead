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

	// Hooks, set before Run, stop the relay at the points where a crash
	// must lose nothing.
	Hooks Hooks
}

// Hooks run at the two points of a publish where a crash must lose nothing:
// BeforePublish before a publish of events, AfterPublish between it and the
// checkpoint that records it. Nil hooks are skipped.
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
	}
}

// Collectors are the metrics, for the registry of the process that runs the
// relay.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Published, m.Rewinds, m.Position}
}

// Reader is a consumer group and the stream category whose topics it reads.
type Reader struct {
	Group    string
	Category string
}

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
}

func (r *Relay) relay(ctx context.Context, lost <-chan error) error {
	saved, err := r.store.LoadCheckpoint(ctx, Checkpoint)
	if err != nil {
		return err
	}
	st := &relayState{cursor: saved, lastWatermark: map[string]time.Time{}, watermarkAt: map[string]eventstore.Cursor{}}
	for _, rd := range r.readers {
		for p := range r.bus.Partitions() {
			st.lastWatermark[r.bus.EventTopic(rd.Category, p)] = time.Time{}
		}
	}
	poll := time.NewTicker(r.poll)
	defer poll.Stop()
	var retry backoff
	// With a backlog, the next batch is read while this one is published.
	type read struct {
		from   eventstore.Cursor
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
		var res read
		if ahead != nil {
			res = <-ahead
			ahead = nil
		}
		if res.from != st.cursor || res.events == nil {
			res.events, res.next, res.err = r.store.ReadFeedStored(ctx, st.cursor, relayBatch)
		}
		events, next, err := res.events, res.next, res.err
		if err != nil {
			return err
		}
		if len(events) == relayBatch {
			ahead = make(chan read, 1)
			go func(from eventstore.Cursor) {
				evs, nx, err := r.store.ReadFeedStored(ctx, from, relayBatch)
				ahead <- read{from: from, events: evs, next: nx, err: err}
			}(next)
		}
		if len(events) > 0 {
			if r.Hooks.BeforePublish != nil {
				r.Hooks.BeforePublish()
			}
			err := r.publish(ctx, st, events)
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
		if len(events) == relayBatch {
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
		fanOut := e.Type == notificationRaised && cursor.Less(st.resumeAt, e.Cursor())
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
	last := events[len(events)-1].Cursor()
	if st.floors != nil && !cursor.Less(last, st.resumeAt) {
		st.floors = nil // caught up with where the rewind started
	}
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
// Checkpoints are kept per consumer group and partition: a group reads one
// category, so its checkpoint of partition p is that of its topic there.
func (r *Relay) lowWaterMarks(ctx context.Context) (map[string]eventstore.Cursor, error) {
	type key struct {
		group string
		p     int
	}
	groups := make([]string, len(r.readers))
	for i, rd := range r.readers {
		groups[i] = rd.Group
	}
	saved := map[key]eventstore.Cursor{}
	rows, err := r.pool.Query(ctx, `SELECT projection, partition, tx_id, position FROM projection_checkpoints WHERE projection = ANY($1)`, groups)
	if err != nil {
		return nil, fmt.Errorf("projections: load checkpoints: %w", err)
	}
	for rows.Next() {
		var k key
		var c eventstore.Cursor
		if err := rows.Scan(&k.group, &k.p, &c.TxID, &c.Position); err != nil {
			rows.Close()
			return nil, fmt.Errorf("projections: load checkpoints: %w", err)
		}
		saved[k] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projections: load checkpoints: %w", err)
	}
	floors := map[string]eventstore.Cursor{}
	for _, rd := range r.readers {
		for p := range r.bus.Partitions() {
			topic, c := r.bus.EventTopic(rd.Category, p), saved[key{rd.Group, p}]
			if f, ok := floors[topic]; !ok || cursor.Less(c, f) {
				floors[topic] = c
			}
		}
	}
	return floors, nil
}
