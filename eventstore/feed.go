package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// feedFence is the condition that keeps the feed gap-free: only events of
// transactions older than every transaction still running are read. Once a
// reader passes a cursor, no event below it can still commit. Without it, a
// transaction that commits after a younger one is skipped by a reader that has
// already moved past it (TestReadFeedWaitsForOlderTransactions and
// TestReadFeedOutOfOrderCommits fail).
const feedFence = `tx_id < pg_snapshot_xmin(pg_current_snapshot())`

// FeedFilter narrows ReadFeedFiltered; empty fields do not filter.
type FeedFilter struct {
	StreamID     string // exactly this stream
	StreamPrefix string // streams whose id starts with this, e.g. "leave-"
	Type         string // events with this wire name
}

// ReadFeed returns up to limit events after cursor after in commit order (by
// transaction id, then position), and the cursor of the last one (after itself
// when there are none). See the package documentation for the guarantees.
func (s *Store) ReadFeed(ctx context.Context, after Cursor, limit int) ([]Event, Cursor, error) {
	return s.ReadFeedFiltered(ctx, after, limit, FeedFilter{})
}

// ReadFeedFiltered is ReadFeed restricted to the events that match f.
func (s *Store) ReadFeedFiltered(ctx context.Context, after Cursor, limit int, f FeedFilter) ([]Event, Cursor, error) {
	events, next, err := s.readFeed(ctx, after, limit, f, min(limit, 1024))
	if err != nil {
		return nil, after, err
	}
	if err := s.decode(events); err != nil {
		return nil, after, err
	}
	return events, next, nil
}

// ReadFeedStored is ReadFeed without decoding the events' payloads: what
// passes the events on as stored (the relay) has no use for them, and
// decoding is most of the cost of a read.
//
// The result starts with room for 64 events and grows as rows come: the
// relay asks for thousands and, following a steady flow, gets a few dozen.
// Made for 1,024 at once, each of its reads allocated and cleared a quarter
// of a megabyte for the collector to scan (4 % of the pipeline's CPU in bench
// lag). A reader of pages, which are mostly full, gets its page's room at
// once: grown from 64, a page of 1,000 cost the feed a fifth of its rate.
func (s *Store) ReadFeedStored(ctx context.Context, after Cursor, limit int) ([]Event, Cursor, error) {
	return s.readFeed(ctx, after, limit, FeedFilter{}, min(limit, 64))
}

// readFeed reads the feed into a slice made with room for room events.
func (s *Store) readFeed(ctx context.Context, after Cursor, limit int, f FeedFilter, room int) ([]Event, Cursor, error) {
	if limit <= 0 {
		return nil, after, fmt.Errorf("eventstore: read feed: limit %d, want > 0", limit)
	}
	query, args := feedQuery(after, limit, f)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, after, fmt.Errorf("eventstore: read feed: %w", err)
	}
	events, err := scanEvents(rows, room)
	if err != nil {
		return nil, after, err
	}
	if len(events) == 0 {
		return nil, after, nil
	}
	return events, events[len(events)-1].Cursor(), nil
}

// feedQuery builds the feed query with only the conditions f needs, so that
// each combination gets a plan fit for it.
func feedQuery(after Cursor, limit int, f FeedFilter) (string, []any) {
	var b strings.Builder
	b.WriteString(selectEvents)
	b.WriteString(`WHERE (tx_id, position) > ($1, $2) AND `)
	b.WriteString(feedFence)
	args := []any{after.TxID, after.Position, limit}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.StreamID != "" {
		b.WriteString(` AND stream_id = ` + arg(f.StreamID))
	}
	if f.StreamPrefix != "" {
		// The range lets the (stream_id, version) index serve the prefix
		// (stream_id sorts bytewise; U+10FFFF is the greatest character).
		p := arg(f.StreamPrefix)
		b.WriteString(` AND stream_id >= ` + p + ` AND stream_id < ` + p + ` || chr(1114111) AND starts_with(stream_id, ` + p + `)`)
	}
	if f.Type != "" {
		b.WriteString(` AND type = ` + arg(f.Type))
	}
	b.WriteString(` ORDER BY tx_id, position LIMIT $3`)
	return b.String(), args
}

// Execer is what SaveCheckpoint needs: a pgx.Tx, a *pgx.Conn or a *pgxpool.Pool.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// SaveCheckpoint records that the feed consumer name has handled everything up
// to c. Pass the transaction that applied the events, so that both commit or
// neither does.
func (s *Store) SaveCheckpoint(ctx context.Context, q Execer, name string, c Cursor) error {
	_, err := q.Exec(ctx, `INSERT INTO checkpoints (name, tx_id, position, updated_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (name) DO UPDATE SET tx_id = excluded.tx_id, position = excluded.position, updated_at = excluded.updated_at`,
		name, c.TxID, c.Position)
	if err != nil {
		return fmt.Errorf("eventstore: save checkpoint %q: %w", name, err)
	}
	return nil
}

// LoadCheckpoint returns the cursor saved for name, or the start of the feed.
func (s *Store) LoadCheckpoint(ctx context.Context, name string) (Cursor, error) {
	var c Cursor
	err := s.pool.QueryRow(ctx, `SELECT tx_id, position FROM checkpoints WHERE name = $1`, name).Scan(&c.TxID, &c.Position)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Cursor{}, fmt.Errorf("eventstore: load checkpoint %q: %w", name, err)
	}
	return c, nil
}
