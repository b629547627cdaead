package eventstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Appends at a known version that arrive while others are being written go
// out together: one statement and one commit for all of them. A commit costs
// Postgres far more than a row, so under concurrency this multiplies what the
// store sustains; an append that finds no other waiting goes out at once,
// alone, as before.
const (
	// maxFlushes is how many batches are written at once. Fewer in flight
	// make the waiting batches larger, and batches grow with the load.
	// Measured with 16 writers (go run ./cmd/bench append): 2 gave the most
	// appends a second (15,400-17,600 against 16,000 with 1, 13,000 with 4
	// and 10,600 with 8), and 1 gave 10-event appends a p99 of 113 ms.
	maxFlushes = 2
	// maxBatch bounds the appends of one statement.
	maxBatch = 64
	// batchTimeout bounds a batch's statement, which serves callers whose
	// own contexts may have no deadline.
	batchTimeout = 30 * time.Second
)

// lockStreamsSQL takes the locks of the streams $1 in the order of their
// keys (so two batches never wait for each other in a circle, and
// append_events waits as it would for one append).
const lockStreamsSQL = `SELECT count(pg_advisory_xact_lock(1163067393, k))
FROM (SELECT DISTINCT hashtext(s) AS k FROM unnest($1::text[]) AS s ORDER BY k) AS keys`

// appendManySQL is appendAtSQL for the appends of several streams, run after
// lockStreamsSQL in the same transaction. The locks come first, before the
// transaction's first write gives it its xid: for each stream, its events'
// xids grow with their versions, as the feed requires. And this statement's
// snapshot is taken after them, so it sees every append that held a lock
// before: an append inserts its rows when its stream is exactly at its
// expected version, and none otherwise (its check is a condition on every one
// of its rows), without failing the others. It returns the stream of each
// row inserted.
//
// The check is a scalar subquery, which the planner keeps per row (a
// backward scan of the stream's index): an EXISTS would become a join
// against the whole events table. Every event of the batch is recorded at
// one time, read after the locks.
const appendManySQL = `WITH t AS (SELECT clock_timestamp() AS at)
INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
SELECT u.id, u.stream, u.expected + u.ord, u.type, u.schema_version, u.data, u.metadata, t.at
FROM t, unnest($1::text[], $2::bigint[], $3::int[], $4::uuid[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[])
     AS u(stream, expected, ord, id, type, schema_version, data, metadata)
WHERE (SELECT max(e.version) FROM events e WHERE e.stream_id = u.stream) IS NOT DISTINCT FROM nullif(u.expected, 0)
RETURNING stream_id`

// encodedEvents are the columns of an append's events, as the statements
// take them.
type encodedEvents struct {
	// [16]byte takes pgx's binary uuid path; uuid.UUID would go through its
	// driver.Valuer, as text.
	ids      [][16]byte
	types    []string
	versions []int32
	data     [][]byte
	metadata [][]byte
}

// add appends the events of o to e.
func (e *encodedEvents) add(o encodedEvents) {
	e.ids = append(e.ids, o.ids...)
	e.types = append(e.types, o.types...)
	e.versions = append(e.versions, o.versions...)
	e.data = append(e.data, o.data...)
	e.metadata = append(e.metadata, o.metadata...)
}

// pendingAppend is an append at a known version waiting for its batch.
type pendingAppend struct {
	stream   string
	expected int64
	events   encodedEvents
	// done receives the outcome: stored, or not stored by the fast path
	// (the stream is not at expected, or the batch met a repeat), or an
	// error of unknown outcome.
	done chan appendOutcome
}

type appendOutcome struct {
	stored bool
	err    error
}

// batcher queues appends at a known version and writes them in batches.
type batcher struct {
	mu       sync.Mutex
	queue    []*pendingAppend
	flushing int
	// writing holds the streams of the batches being written: an append to
	// one of them waits for the next batch, rather than for the lock of a
	// batch in flight, which would hold up every append of its own batch.
	writing map[string]bool
}

// appendAt appends p through the fast path, in a batch with the appends that
// wait meanwhile. It reports whether p was stored; when not, and without an
// error, append_events must decide.
func (s *Store) appendAt(ctx context.Context, p *pendingAppend) (bool, error) {
	b := &s.batches
	b.mu.Lock()
	b.queue = append(b.queue, p)
	batch := b.start()
	b.mu.Unlock()
	if batch != nil {
		s.flushFrom(ctx, batch)
	}
	select {
	case out := <-p.done:
		return out.stored, out.err
	case <-ctx.Done():
		select {
		case out := <-p.done: // written meanwhile: the outcome is known
			return out.stored, out.err
		default:
		}
		b.mu.Lock()
		i := slices.Index(b.queue, p)
		if i >= 0 {
			b.queue = slices.Delete(b.queue, i, i+1)
		}
		b.mu.Unlock()
		if i >= 0 { // never sent: nothing stored
			return false, fmt.Errorf("eventstore: append to %q: %w", p.stream, ctx.Err())
		}
		return false, fmt.Errorf("eventstore: append to %q: outcome unknown: %w", p.stream, ctx.Err())
	}
}

// take removes the next batch from the queue: up to maxBatch appends, at most
// one per stream, and none to a stream of a batch being written (such an
// append waits for the next batch). b.mu is held.
func (b *batcher) take() []*pendingAppend {
	if b.writing == nil {
		b.writing = map[string]bool{}
	}
	var batch, rest []*pendingAppend
	for _, p := range b.queue {
		if len(batch) < maxBatch && !b.writing[p.stream] {
			b.writing[p.stream] = true
			batch = append(batch, p)
		} else {
			rest = append(rest, p)
		}
	}
	b.queue = rest
	return batch
}

// start takes the next batch to write, if fewer than maxFlushes are being
// written and the queue holds an append that may go. b.mu is held.
func (b *batcher) start() []*pendingAppend {
	if b.flushing >= maxFlushes {
		return nil
	}
	batch := b.take()
	if len(batch) == 0 {
		return nil
	}
	b.flushing++
	return batch
}

// finish ends the writing of batch, and starts the next. b.mu is held.
func (b *batcher) finish(batch []*pendingAppend) []*pendingAppend {
	for _, p := range batch {
		delete(b.writing, p.stream)
	}
	b.flushing--
	return b.start()
}

// flushFrom writes batch, then hands the appends queued meanwhile to a
// goroutine of their own, so that its caller returns with its own outcome.
func (s *Store) flushFrom(ctx context.Context, batch []*pendingAppend) {
	// A caller that gives up must not fail the others' appends.
	ctx = context.WithoutCancel(ctx)
	s.flush(ctx, batch)
	b := &s.batches
	b.mu.Lock()
	next := b.finish(batch)
	b.mu.Unlock()
	if next == nil {
		return
	}
	go func() {
		for batch := next; batch != nil; {
			s.flush(ctx, batch)
			b.mu.Lock()
			batch = b.finish(batch)
			b.mu.Unlock()
		}
	}()
}

// flush writes batch in one statement and tells each append its outcome.
func (s *Store) flush(ctx context.Context, batch []*pendingAppend) {
	ctx, cancel := context.WithTimeout(ctx, batchTimeout)
	defer cancel()
	if len(batch) == 1 {
		p := batch[0]
		ev := p.events
		tag, err := s.pool.Exec(ctx, appendAtSQL, p.stream, p.expected, ev.ids, ev.types, ev.versions, ev.data, ev.metadata)
		var pgErr *pgconn.PgError
		switch {
		case err == nil:
			p.done <- appendOutcome{stored: tag.RowsAffected() == int64(len(ev.ids))}
		case errors.As(err, &pgErr) && pgErr.Code == "23505":
			p.done <- appendOutcome{} // past expected, or a repeat
		default:
			p.done <- appendOutcome{err: appendError(p.stream, p.expected, err)}
		}
		return
	}
	var (
		streams  []string
		expected []int64
		ord      []int32
		all      encodedEvents
	)
	for _, p := range batch {
		for i := range p.events.ids {
			streams = append(streams, p.stream)
			expected = append(expected, p.expected)
			ord = append(ord, int32(i+1))
		}
		all.add(p.events)
	}
	// One implicit transaction: the statements of a batch go out together
	// and commit at its end, or not at all.
	b := &pgx.Batch{}
	b.Queue(lockStreamsSQL, streams)
	inserted := map[string]int{}
	b.Queue(appendManySQL, streams, expected, ord, all.ids, all.types, all.versions, all.data, all.metadata).
		Query(func(rows pgx.Rows) error {
			var stream string
			_, err := pgx.ForEachRow(rows, []any{&stream}, func() error {
				inserted[stream]++
				return nil
			})
			return err
		})
	err := s.pool.SendBatch(ctx, b).Close()
	var pgErr *pgconn.PgError
	for _, p := range batch {
		switch {
		case err == nil:
			p.done <- appendOutcome{stored: inserted[p.stream] == len(p.events.ids)}
		case errors.As(err, &pgErr):
			// Refused whole (an id stored in another stream, say):
			// nothing is stored, and append_events decides each append.
			p.done <- appendOutcome{}
		default:
			p.done <- appendOutcome{err: appendError(p.stream, p.expected, err)}
		}
	}
}
