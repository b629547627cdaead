package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// StreamAppend is an append of events to a stream, at whatever version the
// stream is (AnyVersion).
type StreamAppend struct {
	Stream string
	Events []EventData
}

// appendAnyManySQL appends at AnyVersion to several streams, run after
// lockStreamsSQL in the same transaction, as appendManySQL is. Each append
// ($2 numbers them; $3 is the first id of each) is a repeat, and inserts
// nothing, when its first id is stored in its stream, as in append_events.
// The others go after the last version of their stream, in the order given.
// A first id stored in another stream, or an id given twice, fails the
// statement on the unique index of event_id.
const appendAnyManySQL = `WITH t AS (SELECT clock_timestamp() AS at),
fresh AS (
	SELECT u.*, row_number() OVER (PARTITION BY u.stream ORDER BY u.n) AS ord
	FROM unnest($1::text[], $2::int[], $3::uuid[], $4::uuid[], $5::text[], $6::int[], $7::jsonb[], $8::jsonb[])
	     WITH ORDINALITY AS u(stream, app, first_id, id, type, schema_version, data, metadata, n)
	WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = u.first_id AND e.stream_id = u.stream))
INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
SELECT f.id, f.stream, coalesce((SELECT max(e.version) FROM events e WHERE e.stream_id = f.stream), 0) + f.ord,
       f.type, f.schema_version, f.data, f.metadata, t.at
FROM t, fresh f
RETURNING event_id, version`

// AppendAll appends each of appends to its stream at AnyVersion, in one
// transaction and one round trip, with one commit for all: what an Append
// of each would store, one after another. An append whose first event's ID
// is stored in its stream is a repeat, as for Append: its result has
// Duplicate set (and no versions). When the statement is refused (an id
// stored in another stream, or given twice), each append is made alone, as
// Append makes it, so that each meets its own outcome. The results are in
// the order of appends.
func (s *Store) AppendAll(ctx context.Context, appends []StreamAppend) ([]AppendResult, error) {
	var (
		streams []string
		app     []int32
		firstID [][16]byte
		all     encodedEvents
	)
	for i, a := range appends {
		if a.Stream == "" {
			return nil, errors.New("eventstore: append: empty stream id")
		}
		if len(a.Events) == 0 {
			return nil, fmt.Errorf("eventstore: append to %q: no events", a.Stream)
		}
		enc, err := s.encode(a.Stream, a.Events)
		if err != nil {
			return nil, err
		}
		for range enc.ids {
			streams = append(streams, a.Stream)
			app = append(app, int32(i))
			firstID = append(firstID, enc.ids[0])
		}
		all.add(enc)
	}
	if len(appends) == 0 {
		return nil, nil
	}

	// One implicit transaction: every lock before the first write, so that
	// each stream's events get xids in the order of their versions, as the
	// feed requires.
	inserted := map[uuid.UUID]int64{}
	b := &pgx.Batch{}
	b.Queue(lockStreamsSQL, streams)
	b.Queue(appendAnyManySQL, streams, app, firstID, all.ids, all.types, all.versions, all.data, all.metadata).
		Query(func(rows pgx.Rows) error {
			var (
				id      uuid.UUID
				version int64
			)
			_, err := pgx.ForEachRow(rows, []any{&id, &version}, func() error {
				inserted[id] = version
				return nil
			})
			return err
		})
	err := s.pool.SendBatch(ctx, b).Close()
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		return s.appendEach(ctx, appends)
	case err != nil:
		return nil, fmt.Errorf("eventstore: append to %d streams: %w", len(appends), err)
	}

	results := make([]AppendResult, len(appends))
	for i, a := range appends {
		res := AppendResult{StreamID: a.Stream, Duplicate: true}
		if first, stored := inserted[a.Events[0].ID]; stored {
			res.FirstVersion, res.LastVersion, res.Duplicate = first, first+int64(len(a.Events))-1, false
		}
		results[i] = res
	}
	s.announce(results...)
	return results, nil
}

// appendEach makes each of appends alone, at AnyVersion.
func (s *Store) appendEach(ctx context.Context, appends []StreamAppend) ([]AppendResult, error) {
	results := make([]AppendResult, len(appends))
	for i, a := range appends {
		res, err := s.Append(ctx, a.Stream, AnyVersion, a.Events...)
		if err != nil {
			return nil, err
		}
		results[i] = res
	}
	return results, nil
}
