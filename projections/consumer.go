package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore"
)

// consumer is a projection or a saga as the pipeline runs it: a consumer group
// on every partition, tracking the last version it handled of each stream it
// wants.
type consumer interface {
	// name is the consumer group; renaming it replays everything.
	name() string
	// wants reports whether the consumer handles the events of stream.
	wants(stream string) bool
	// handleOne handles e if it is the next version of its stream, returns nil
	// for a version already handled, and a *gapError when versions are missing.
	handleOne(ctx context.Context, e eventstore.Event) error
}

// gapError reports that a stream's events after Last have not been handled yet.
type gapError struct{ Last int64 }

func (e *gapError) Error() string { return fmt.Sprintf("versions after %d are missing", e.Last) }

// permanentError marks a failure that retrying cannot fix: the message is
// parked instead.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

// isPermanent tells a poison message from a passing failure (the database or
// the bus down, a deadlock, a shutdown): the latter is retried, never parked.
func isPermanent(err error) bool {
	var pe *permanentError
	if errors.As(err, &pe) {
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
}

// handler returns the Watermill handler of consumer c on partition p.
func (rt *runtime) handler(c consumer, p int) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		ctx := msg.Context()
		if wm := msg.Metadata.Get(metaWatermark); wm != "" {
			cur, err := eventstore.ParseCursor(string(msg.Payload))
			if err == nil {
				rt.marks.mark(c.name(), p, cur)
			}
			return nil
		}
		if stream := msg.Metadata.Get(metaStream); stream != "" && !c.wants(stream) {
			if cur, err := eventstore.ParseCursor(msg.Metadata.Get(metaCursor)); err == nil {
				rt.marks.mark(c.name(), p, cur)
			}
			return nil
		}
		e, err := decodeEvent(rt.store.Codec(), msg.Payload)
		if err != nil {
			return rt.park(ctx, c.name(), msg.UUID, msg.Payload, nil, err)
		}
		if err := rt.handle(ctx, c, e); err != nil {
			rt.logger.Warn("projections: handler failed, will retry", "consumer", c.name(), "stream", e.StreamID, "version", e.Version, "err", err)
			return err
		}
		rt.marks.mark(c.name(), p, e.Cursor())
		return nil
	}
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
	err := c.handleOne(ctx, e)
	if err == nil {
		rt.metrics.handled.WithLabelValues(c.name()).Inc()
		rt.metrics.handleSeconds.WithLabelValues(c.name()).Observe(time.Since(start).Seconds())
		return nil
	}
	if !isPermanent(err) {
		return err
	}
	payload, _ := eventMessagePayload(e)
	return rt.park(ctx, c.name(), e.ID.String(), payload, &e, err)
}

// park records a message c cannot handle and, for an event, marks its version
// handled so that the stream moves on. An operator fixes the cause and
// rebuilds the read model.
func (rt *runtime) park(ctx context.Context, name, msgID string, payload []byte, e *eventstore.Event, cause error) error {
	rt.logger.Error("projections: parked a message it cannot handle", "consumer", name, "message", msgID, "err", cause)
	rt.metrics.parked.WithLabelValues(name).Inc()
	return pgx.BeginFunc(ctx, rt.pool, func(tx pgx.Tx) error {
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
	})
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
	if cursorLess(m.marks[k], c) {
		m.marks[k] = c
		m.dirty[k] = true
	}
}

// flush saves the marks set since the last flush.
func (m *checkpointMarks) flush(ctx context.Context, pool *pgxpool.Pool) error {
	m.mu.Lock()
	batch := &pgx.Batch{}
	for k := range m.dirty {
		c := m.marks[k]
		batch.Queue(`INSERT INTO projection_checkpoints (projection, partition, tx_id, position, updated_at)
			VALUES ($1, $2, $3, $4, now())
			ON CONFLICT (projection, partition) DO UPDATE SET tx_id = excluded.tx_id, position = excluded.position, updated_at = now()
			WHERE (projection_checkpoints.tx_id, projection_checkpoints.position) < (excluded.tx_id, excluded.position)`,
			k.name, k.partition, c.TxID, c.Position)
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

// streamCategory is the part of a stream id before the first dash:
// "attendance" for "attendance-<id>".
func streamCategory(stream string) string {
	c, _, _ := strings.Cut(stream, "-")
	return c
}
