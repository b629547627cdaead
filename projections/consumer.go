package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/cursor"
	"github.com/acme/employee-tracking/projections/poison"
)

// consumer is a projection or a saga as the pipeline runs it: a consumer group
// on every partition of the topics of one stream category, tracking the last
// version it handled of each stream.
type consumer interface {
	// name is the consumer group; renaming it replays everything.
	name() string
	// reads is the stream category whose events the consumer handles.
	reads() string
	// linger is how long its members wait after a read that found less
	// than a full batch (bus.Member.Linger).
	linger() time.Duration
	// handleBatch handles events, in their partition's order, all or none:
	// versions already handled are skipped, and a *gapError reports a
	// version that does not follow the last one handled of its stream.
	handleBatch(ctx context.Context, events []eventstore.Event) error
}

// selective is a consumer that looks into events of some types only: it is
// handed the others with their data undecoded (no Payload), and still
// records their versions.
type selective interface {
	decodes(eventType string) bool
}

// reads reports whether c handles the events of stream: those of its
// category; a stream id without one belongs to no consumer.
func reads(c consumer, stream string) bool {
	category, _, ok := streamid.Split(stream)
	return ok && category == c.reads()
}

// gapError reports that a stream's events after Last have not been handled yet.
type gapError struct {
	Stream string
	Last   int64
}

func (e *gapError) Error() string {
	return fmt.Sprintf("stream %s: versions after %d are missing", e.Stream, e.Last)
}

// isPermanent tells a poison message from a passing failure (the database or
// the bus down, a deadlock, a shutdown): the latter is retried, never parked.
func isPermanent(err error) bool {
	if poison.Is(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "22", "23": // data exception, integrity constraint violation
			return true
		}
	}
	return false
}

// runtime holds what every consumer's handlers share.
type runtime struct {
	pool    *pgxpool.Pool
	store   *eventstore.Store
	logger  *slog.Logger
	metrics *metrics
	marks   *checkpointMarks
	decoded *decodedEvents
	// afterApply, when set by tests, runs for each event after its consumer
	// handled it and before its message is acknowledged; an error fails the
	// handling.
	afterApply func(consumer string, e eventstore.Event) error
}

// handler returns the Watermill handler of consumer c on partition p. A
// message is one event, or a batch of them as the group reader delivers
// (messagesOf).
func (rt *runtime) handler(c consumer, p int) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		ctx := msg.Context()
		var events []eventstore.Event
		type undecodable struct {
			msg *message.Message
			err error
		}
		var poison []undecodable
		var handledTo eventstore.Cursor
		for _, m := range bus.MessagesOf(msg) {
			if m.Metadata.Get(bus.MetaWatermark) != "" {
				if cur, err := eventstore.ParseCursor(string(m.Payload)); err == nil {
					handledTo = cursor.Max(handledTo, cur)
				}
				continue
			}
			if stream := m.Metadata.Get(bus.MetaStream); stream != "" && !reads(c, stream) {
				if cur, err := eventstore.ParseCursor(m.Metadata.Get(bus.MetaCursor)); err == nil {
					handledTo = cursor.Max(handledTo, cur)
				}
				continue
			}
			e, err := rt.eventOf(c, m)
			if err != nil {
				poison = append(poison, undecodable{m, err})
				continue
			}
			events = append(events, e)
			handledTo = cursor.Max(handledTo, e.Cursor())
		}
		if err := rt.handleAll(ctx, c, events); err != nil {
			rt.logger.Warn("projections: handler failed, will retry", "consumer", c.name(), "events", len(events), "err", err)
			return err
		}
		for _, u := range poison {
			if err := rt.park(ctx, c.name(), u.msg.UUID, u.msg.Payload, nil, u.err); err != nil {
				return err
			}
		}
		// Only now: a checkpoint never claims an event that is not handled.
		rt.marks.mark(c.name(), p, handledTo)
		return nil
	}
}

// eventOf is the event of a message's payload, its data decoded unless c
// passes events of its type by.
func (rt *runtime) eventOf(c consumer, m *message.Message) (eventstore.Event, error) {
	s, isSelective := c.(selective)
	decodes := func(eventType string) bool { return !isSelective || s.decodes(eventType) }
	// The message's id is the event's: one another group decoded is found
	// without reading the envelope either.
	if decodes(m.Metadata.Get(bus.MetaType)) {
		if id, err := uuid.Parse(m.UUID); err == nil {
			if decoded, ok := rt.decoded.get(id); ok {
				return decoded, nil
			}
		}
	}
	e, err := bus.StoredEvent(m.Payload)
	if err != nil || !decodes(e.Type) {
		return e, err
	}
	if err := rt.store.Codec().DecodeEvent(&e); err != nil {
		return eventstore.Event{}, fmt.Errorf("decode %s: %w", e.Type, err)
	}
	rt.decoded.keep(e)
	return e, nil
}

// handleAll handles events in one batch, the fast way. When the batch fails
// (a gap, an event to park, a passing failure), nothing of it took effect:
// each half is handled the same way, in order, and a batch of a few events
// one event at a time. A batch of thousands with one event to park or one gap
// thus costs a few dozen transactions, not one per event.
func (rt *runtime) handleAll(ctx context.Context, c consumer, events []eventstore.Event) error {
	if len(events) == 0 {
		return nil
	}
	start := time.Now()
	err := c.handleBatch(ctx, events)
	if err == nil {
		rt.metrics.handled.WithLabelValues(c.name()).Add(float64(len(events)))
		rt.metrics.handleSeconds.WithLabelValues(c.name()).Observe(time.Since(start).Seconds())
		return rt.applied(c, events...)
	}
	if len(events) > oneByOneBelow {
		rt.logger.Debug("projections: batch failed, handling each half", "consumer", c.name(), "events", len(events), "err", err)
		half := len(events) / 2
		if err := rt.handleAll(ctx, c, events[:half]); err != nil {
			return err
		}
		return rt.handleAll(ctx, c, events[half:])
	}
	if len(events) > 1 {
		rt.logger.Debug("projections: batch failed, handling its events one by one", "consumer", c.name(), "err", err)
	}
	for _, e := range events {
		if err := rt.handle(ctx, c, e); err != nil {
			return err
		}
		if err := rt.applied(c, e); err != nil {
			return err
		}
	}
	return nil
}

// oneByOneBelow is the size below which a failed batch is handled one event
// at a time rather than halved.
const oneByOneBelow = 8

// applied runs the test hook for each event handled.
func (rt *runtime) applied(c consumer, events ...eventstore.Event) error {
	if rt.afterApply == nil {
		return nil
	}
	for _, e := range events {
		if err := rt.afterApply(c.name(), e); err != nil {
			return err
		}
	}
	return nil
}

// handle handles e after any missing earlier version of its stream, which it
// fetches from the store: a lost or reordered message never leaves a hole.
func (rt *runtime) handle(ctx context.Context, c consumer, e eventstore.Event) error {
	for range 3 {
		err := rt.handleOrPark(ctx, c, e)
		var gap *gapError
		if !errors.As(err, &gap) {
			return err
		}
		missing, err := rt.store.LoadFrom(ctx, e.StreamID, gap.Last)
		if err != nil {
			return err
		}
		for _, m := range missing {
			if m.Version >= e.Version {
				break
			}
			if err := rt.handleOrPark(ctx, c, m); err != nil && !errors.As(err, &gap) {
				return err
			}
		}
	}
	return fmt.Errorf("projections: %s: stream %s keeps missing versions before %d", c.name(), e.StreamID, e.Version)
}

func (rt *runtime) handleOrPark(ctx context.Context, c consumer, e eventstore.Event) error {
	start := time.Now()
	err := c.handleBatch(ctx, []eventstore.Event{e})
	if err == nil {
		rt.metrics.handled.WithLabelValues(c.name()).Inc()
		rt.metrics.handleSeconds.WithLabelValues(c.name()).Observe(time.Since(start).Seconds())
		return nil
	}
	if !isPermanent(err) {
		return err
	}
	payload, _ := bus.EventPayload(e)
	return rt.park(ctx, c.name(), e.ID.String(), payload, &e, err)
}

// park records a message c cannot handle and, for an event, marks its version
// handled so that the stream moves on. An operator fixes the cause and
// rebuilds the read model.
func (rt *runtime) park(ctx context.Context, name, msgID string, payload []byte, e *eventstore.Event, cause error) error {
	rt.logger.Error("projections: parked a message it cannot handle", "consumer", name, "message", msgID, "err", cause)
	rt.metrics.parked.WithLabelValues(name).Inc()
	return pgx.BeginFunc(ctx, rt.pool, func(tx pgx.Tx) error {
		return parkIn(ctx, tx, name, msgID, payload, e, cause)
	})
}

// parkIn records in tx a message that name cannot handle and, for an event,
// its version as handled.
func parkIn(ctx context.Context, tx eventstore.Execer, name, msgID string, payload []byte, e *eventstore.Event, cause error) error {
	var stream, typ *string
	var version *int64
	if e != nil {
		stream, typ, version = &e.StreamID, &e.Type, &e.Version
	}
	if _, err := tx.Exec(ctx, `INSERT INTO parked_messages (projection, message_id, stream_id, version, type, payload, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, name, msgID, stream, version, typ, payload, cause.Error()); err != nil {
		return fmt.Errorf("projections: park: %w", err)
	}
	if e == nil {
		return nil
	}
	return saveVersion(ctx, tx, name, e.StreamID, e.Version)
}

// saveVersionSQL records that $1 has handled stream $2 up to version $3.
const saveVersionSQL = `INSERT INTO projection_versions (projection, stream_id, version) VALUES ($1, $2, $3)
	ON CONFLICT (projection, stream_id) DO UPDATE SET version = greatest(projection_versions.version, excluded.version)`

// saveVersion records that name has handled stream up to version.
func saveVersion(ctx context.Context, q eventstore.Execer, name, stream string, version int64) error {
	_, err := q.Exec(ctx, saveVersionSQL, name, stream, version)
	if err != nil {
		return fmt.Errorf("projections: save version of %s: %w", stream, err)
	}
	return nil
}

// saveVersionsSQL is saveVersionSQL for the streams $2 and versions $3.
const saveVersionsSQL = `INSERT INTO projection_versions (projection, stream_id, version)
	SELECT $1, s, v FROM unnest($2::text[], $3::bigint[]) AS u(s, v)
	ON CONFLICT (projection, stream_id) DO UPDATE SET version = greatest(projection_versions.version, excluded.version)`

// queueSaveVersions queues the record that name has handled each stream of
// versions up to its version.
func queueSaveVersions(b *pgx.Batch, name string, versions map[string]int64) {
	streams := make([]string, 0, len(versions))
	vs := make([]int64, 0, len(versions))
	for s, v := range versions {
		streams = append(streams, s)
		vs = append(vs, v)
	}
	b.Queue(saveVersionsSQL, name, streams, vs)
}

// selectVersionsSQL reads the last versions that $1 handled of the streams
// $2, each stream looked up by itself through the primary key. Asked as
// `stream_id = ANY($2)`, the plan Postgres keeps for a statement run often
// found the projection's rows through the key and filtered the streams: every
// batch read every version record of its projection, 2 ms a batch at a few
// thousand streams, the largest of the pipeline's statements under load.
const selectVersionsSQL = `SELECT v.stream_id, v.version FROM unnest($2::text[]) AS s(id)
	CROSS JOIN LATERAL (SELECT stream_id, version FROM projection_versions WHERE projection = $1 AND stream_id = s.id LIMIT 1) AS v`

// scanVersions adds the rows of selectVersionsSQL to last.
func scanVersions(rows pgx.Rows, last map[string]int64) error {
	var stream string
	var version int64
	_, err := pgx.ForEachRow(rows, []any{&stream, &version}, func() error {
		last[stream] = version
		return nil
	})
	return err
}

// lockStreamsSQL takes the locks of consumer $1 on the streams $2, in the
// order of their keys, so that two batches never wait for each other in a
// circle.
const lockStreamsSQL = `SELECT pg_advisory_xact_lock(hashtext($1), k)
	FROM (SELECT DISTINCT hashtext(s) AS k FROM unnest($2::text[]) AS s ORDER BY k) AS keys`

// streamsOf lists the distinct streams of events, in the order they first
// occur. A batch of 1,000 events holds hundreds of streams: a set keeps this
// linear, where searching the list for each event cost a tenth of the
// pipeline's CPU in a catch-up.
func streamsOf(events []eventstore.Event) []string {
	var streams []string
	seen := make(map[string]struct{}, len(events))
	for _, e := range events {
		if _, ok := seen[e.StreamID]; !ok {
			seen[e.StreamID] = struct{}{}
			streams = append(streams, e.StreamID)
		}
	}
	return streams
}

// nextVersions calls handle for each event that is the next version of its
// stream after last, and skips those already handled. It returns the streams
// it moved on and their new last versions, or a *gapError at the first event
// that does not follow its stream's last version.
func nextVersions(events []eventstore.Event, last map[string]int64, handle func(eventstore.Event) error) (map[string]int64, error) {
	moved := map[string]int64{}
	for _, e := range events {
		l := last[e.StreamID]
		switch {
		case e.Version <= l:
			continue
		case e.Version > l+1:
			return nil, &gapError{Stream: e.StreamID, Last: l}
		}
		if err := handle(e); err != nil {
			return nil, err
		}
		last[e.StreamID] = e.Version
		moved[e.StreamID] = e.Version
	}
	return moved, nil
}

// checkpointMarks keeps, per consumer and partition, the feed cursor of the
// last message handled, and writes them to projection_checkpoints now and
// then. A mark is only ever set after its message was handled, so a saved
// checkpoint never claims more than was done.
type checkpointMarks struct {
	mu    sync.Mutex
	marks map[markKey]eventstore.Cursor
	dirty map[markKey]bool
}

type markKey struct {
	name      string
	partition int
}

func newCheckpointMarks() *checkpointMarks {
	return &checkpointMarks{marks: map[markKey]eventstore.Cursor{}, dirty: map[markKey]bool{}}
}

func (m *checkpointMarks) mark(name string, p int, c eventstore.Cursor) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := markKey{name, p}
	if cursor.Less(m.marks[k], c) {
		m.marks[k] = c
		m.dirty[k] = true
	}
}

// get is the mark of consumer name on partition p.
func (m *checkpointMarks) get(name string, p int) eventstore.Cursor {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.marks[markKey{name, p}]
}

// saveCheckpointSQL moves the checkpoint of consumer $1 on partition $2
// forward to the cursor ($3, $4), never back.
const saveCheckpointSQL = `INSERT INTO projection_checkpoints (projection, partition, tx_id, position, updated_at)
	VALUES ($1, $2, $3, $4, now())
	ON CONFLICT (projection, partition) DO UPDATE SET tx_id = excluded.tx_id, position = excluded.position, updated_at = now()
	WHERE (projection_checkpoints.tx_id, projection_checkpoints.position) < (excluded.tx_id, excluded.position)`

// flush saves the marks set since the last flush.
func (m *checkpointMarks) flush(ctx context.Context, pool *pgxpool.Pool) error {
	m.mu.Lock()
	batch := &pgx.Batch{}
	for k := range m.dirty {
		c := m.marks[k]
		batch.Queue(saveCheckpointSQL, k.name, k.partition, c.TxID, c.Position)
	}
	dirty := m.dirty
	m.dirty = map[markKey]bool{}
	m.mu.Unlock()
	if batch.Len() == 0 {
		return nil
	}
	if err := pool.SendBatch(ctx, batch).Close(); err != nil {
		m.mu.Lock()
		for k := range dirty {
			m.dirty[k] = true
		}
		m.mu.Unlock()
		return fmt.Errorf("projections: save checkpoints: %w", err)
	}
	return nil
}
