package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// MaxUpdateAttempts bounds how often Update decides again after a conflict.
const MaxUpdateAttempts = 5

// Store is the Postgres event store. It is safe for concurrent use.
type Store struct {
	pool  *pgxpool.Pool
	codec *Codec

	mu    sync.RWMutex
	hooks []func(AppendResult)

	batches batcher
}

// New returns a store on pool, whose database is migrated, decoding events
// with codec.
func New(pool *pgxpool.Pool, codec *Codec) *Store {
	return &Store{pool: pool, codec: codec}
}

// Codec returns the codec of s.
func (s *Store) Codec() *Codec { return s.codec }

// OnAppend registers fn to be called after each append that stored events (not
// after an idempotent repeat), for example to wake a feed reader without
// polling. fn runs on the appending goroutine and must not block.
func (s *Store) OnAppend(fn func(AppendResult)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, fn)
}

// appendSQL appends through the function append_events, which handles every
// case: any expected version, repeats, conflicts.
const appendSQL = `SELECT first_version, last_version, duplicate FROM append_events($1, $2, $3, $4, $5, $6, $7)`

// appendAtSQL is the fast path of an append at a known expected version $2: one
// plain statement that takes the stream lock, then inserts versions $2+1...
// It costs about half of append_events (measured with one writer and no
// fsync: ~100 µs against ~170 µs), and answers only the common case. It
// inserts nothing when version $2 does not exist (the stream is behind
// expected), and fails on a unique index when the stream is past $2 or an id is
// stored (a repeat); append_events then tells which.
//
// The lock comes first, so the transaction gets its xid after it, as in
// append_events: the INSERT has no row to write before its lock CTE has run,
// and a transaction gets its xid at its first write. The statement's snapshot
// is older than the lock, so it may not see what the previous holder of the
// lock committed: the unique index on (stream_id, version), whose check sees
// every committed row, is what refuses a second event at the same version.
const appendAtSQL = `WITH l AS (SELECT pg_advisory_xact_lock(1163067393, hashtext($1)) AS locked, clock_timestamp() AS at)
INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
SELECT u.id, $1, $2::bigint + u.ord, u.type, u.schema_version, u.data, u.metadata, l.at
FROM l, unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])
     WITH ORDINALITY AS u(id, type, schema_version, data, metadata, ord)
WHERE $2::bigint = 0 OR EXISTS (SELECT 1 FROM events e WHERE e.stream_id = $1 AND e.version = $2::bigint)`

// Append appends events to stream in one round trip, provided the stream is at
// version expected (AnyVersion skips the check, NoStream requires a new
// stream); otherwise it returns a *ConflictError. If the first event's ID is
// already stored in stream, the append is a repeat: nothing is stored and the
// result has Duplicate set.
func (s *Store) Append(ctx context.Context, stream string, expected int64, events ...EventData) (AppendResult, error) {
	res, err := s.append(ctx, stream, expected, events)
	if err != nil {
		return AppendResult{}, err
	}
	s.announce(res)
	return res, nil
}

// announce calls the OnAppend hooks for each of results that stored events.
func (s *Store) announce(results ...AppendResult) {
	s.mu.RLock()
	hooks := s.hooks
	s.mu.RUnlock()
	for _, res := range results {
		if res.Duplicate {
			continue
		}
		for _, fn := range hooks {
			fn(res)
		}
	}
}

// append runs as a transaction of its own: the stream lock it takes must
// come before the transaction's xid is assigned, so it may not follow another
// write in the same transaction. An append at a known version goes through
// the batches of appendAt; append_events decides the rest.
func (s *Store) append(ctx context.Context, stream string, expected int64, events []EventData) (AppendResult, error) {
	if len(events) == 0 {
		return AppendResult{}, fmt.Errorf("eventstore: append to %q: no events", stream)
	}
	if stream == "" {
		return AppendResult{}, errors.New("eventstore: append: empty stream id")
	}
	if expected < AnyVersion {
		return AppendResult{}, fmt.Errorf("eventstore: append to %q: invalid expected version %d", stream, expected)
	}
	enc, err := s.encode(stream, events)
	if err != nil {
		return AppendResult{}, err
	}

	res := AppendResult{StreamID: stream}
	if expected != AnyVersion {
		stored, err := s.appendAt(ctx, &pendingAppend{stream: stream, expected: expected, events: enc, done: make(chan appendOutcome, 1)})
		if err != nil {
			return AppendResult{}, err
		}
		if stored {
			res.FirstVersion, res.LastVersion = expected+1, expected+int64(len(events))
			return res, nil
		}
		// Behind, past, or a repeat: append_events tells which.
	}
	err = s.pool.QueryRow(ctx, appendSQL, stream, expected, enc.ids, enc.types, enc.versions, enc.data, enc.metadata).
		Scan(&res.FirstVersion, &res.LastVersion, &res.Duplicate)
	if err != nil {
		return AppendResult{}, appendError(stream, expected, err)
	}
	return res, nil
}

// encode encodes the events of an append to stream as the statements take
// them.
func (s *Store) encode(stream string, events []EventData) (encodedEvents, error) {
	enc := encodedEvents{
		ids:      make([][16]byte, len(events)),
		types:    make([]string, len(events)),
		versions: make([]int32, len(events)),
		data:     make([][]byte, len(events)),
		metadata: make([][]byte, len(events)),
	}
	for i, e := range events {
		if e.ID == uuid.Nil {
			return encodedEvents{}, fmt.Errorf("eventstore: append to %q: event %d has no id", stream, i)
		}
		name, version, b, err := s.codec.Encode(e.Payload)
		if err != nil {
			return encodedEvents{}, err
		}
		md, err := json.Marshal(e.Metadata)
		if err != nil {
			return encodedEvents{}, fmt.Errorf("eventstore: encode metadata: %w", err)
		}
		enc.ids[i], enc.types[i], enc.versions[i], enc.data[i], enc.metadata[i] = e.ID, name, int32(version), b, md
	}
	return enc, nil
}

// appendError turns the errors raised by append_events into the package's.
func appendError(stream string, expected int64, err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return fmt.Errorf("eventstore: append to %q: %w", stream, err)
	}
	switch {
	case pgErr.Code == "ES001":
		var actual int64
		if _, serr := fmt.Sscanf(pgErr.Detail, "actual version %d", &actual); serr != nil {
			return fmt.Errorf("eventstore: append to %q: unreadable conflict detail %q: %w", stream, pgErr.Detail, err)
		}
		return &ConflictError{Stream: stream, Expected: expected, Actual: actual}
	case pgErr.Code == "ES002":
		return fmt.Errorf("%w: %s", ErrIDInOtherStream, pgErr.Message)
	case pgErr.Code == "23505" && pgErr.ConstraintName == "events_event_id_key":
		return fmt.Errorf("%w: append to %q: %s", ErrDuplicateID, stream, pgErr.Detail)
	default:
		return fmt.Errorf("eventstore: append to %q: %w", stream, err)
	}
}

// selectEvents reads the metadata fields in Postgres: jsonb field access is
// cheaper there than rendering jsonb as text and parsing it again in Go. Keep
// it in step with Metadata.
const selectEvents = `SELECT position, tx_id, event_id, stream_id, version, type, schema_version, data,
	coalesce(metadata->>'actor', ''), coalesce(metadata->>'request_id', ''), coalesce(metadata->>'idempotency_key', ''),
	coalesce(metadata->>'causation_id', ''), coalesce(metadata->>'correlation_id', ''), recorded_at
	FROM events `

// Load returns the events of stream ordered by version; none if it does not
// exist.
func (s *Store) Load(ctx context.Context, stream string) ([]Event, error) {
	return s.LoadFrom(ctx, stream, 0)
}

// StreamOfLeaveRequest names the stream holding the leave.requested event
// of a request id, or "" when none does: it finds whose leave account holds a
// request the moment the request is filed. The type is written out, not a
// parameter, so that the partial index events_leave_request_idx answers it.
func (s *Store) StreamOfLeaveRequest(ctx context.Context, requestID string) (string, error) {
	return s.streamWhere(ctx, `SELECT stream_id FROM events WHERE type = 'leave.requested' AND data->>'request_id' = $1 LIMIT 1`,
		requestID, "the leave account of request")
}

// StreamOfDelegation names the stream holding the delegation.granted event
// of a delegation id, or "" when none does; written out, like
// StreamOfLeaveRequest's, for events_delegation_idx.
func (s *Store) StreamOfDelegation(ctx context.Context, delegationID string) (string, error) {
	return s.streamWhere(ctx, `SELECT stream_id FROM events WHERE type = 'delegation.granted' AND data->>'delegation_id' = $1 LIMIT 1`,
		delegationID, "the stream of delegation")
}

// streamWhere runs query, which selects the stream of the event of id, and
// answers "" when there is none.
func (s *Store) streamWhere(ctx context.Context, query, id, what string) (string, error) {
	var stream string
	err := s.pool.QueryRow(ctx, query, id).Scan(&stream)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("eventstore: find %s %q: %w", what, id, err)
	}
	return stream, nil
}

// StreamOfCorrection names the stream holding the
// attendance.correction_requested event of a correction id, or "" when none
// does; the partial index events_attendance_correction_idx answers it.
func (s *Store) StreamOfCorrection(ctx context.Context, correctionID string) (string, error) {
	var stream string
	err := s.pool.QueryRow(ctx, `SELECT stream_id FROM events WHERE type = 'attendance.correction_requested' AND data->>'correction_id' = $1 LIMIT 1`,
		correctionID).Scan(&stream)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("eventstore: find the attendance stream of correction %q: %w", correctionID, err)
	}
	return stream, nil
}

// LoadFrom returns the events of stream after version afterVersion, ordered
// by version.
func (s *Store) LoadFrom(ctx context.Context, stream string, afterVersion int64) ([]Event, error) {
	rows, err := s.pool.Query(ctx, selectEvents+`WHERE stream_id = $1 AND version > $2 ORDER BY version`, stream, afterVersion)
	if err != nil {
		return nil, fmt.Errorf("eventstore: load %q: %w", stream, err)
	}
	return s.collect(rows)
}

// LoadUntil returns the events of stream recorded at or before until, ordered
// by version: the stream as it was then. recorded_at never decreases along a
// stream, so the result is a prefix of the stream.
func (s *Store) LoadUntil(ctx context.Context, stream string, until time.Time) ([]Event, error) {
	rows, err := s.pool.Query(ctx, selectEvents+`WHERE stream_id = $1 AND recorded_at <= $2 ORDER BY version`, stream, until)
	if err != nil {
		return nil, fmt.Errorf("eventstore: load %q until %v: %w", stream, until, err)
	}
	return s.collect(rows)
}

// collect scans and decodes the rows of a selectEvents query.
func (s *Store) collect(rows pgx.Rows) ([]Event, error) {
	events, err := scanEvents(rows, 0)
	if err != nil {
		return nil, err
	}
	if err := s.decode(events); err != nil {
		return nil, err
	}
	return events, nil
}

// scanEvents reads the events of rows as stored, their payloads not decoded,
// into a slice made with room for room events.
func scanEvents(rows pgx.Rows, room int) ([]Event, error) {
	defer rows.Close()
	events := make([]Event, 0, room)
	for rows.Next() {
		var e Event
		m := &e.Metadata
		// Scanning into the underlying types takes pgx's binary fast paths
		// (uuid.UUID would go through sql.Scanner and text, json.RawMessage
		// through json.Unmarshal); jsonb from Postgres is valid JSON.
		if err := rows.Scan(&e.Position, &e.TxID, (*[16]byte)(&e.ID), &e.StreamID, &e.Version, &e.Type,
			&e.SchemaVersion, (*[]byte)(&e.Data), &m.Actor, &m.RequestID, &m.IdempotencyKey,
			&m.CausationID, &m.CorrelationID, &e.RecordedAt); err != nil {
			return nil, fmt.Errorf("eventstore: scan event: %w", err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("eventstore: read events: %w", err)
	}
	return events, nil
}

// decodeChunk is the number of events below which decoding in parallel does
// not pay.
const decodeChunk = 256

// decode sets the Payload of each event. JSON decoding is most of the cost of
// reading, and Postgres is idle once a query has returned, so large reads are
// decoded on several cores.
func (s *Store) decode(events []Event) error {
	workers := min(runtime.GOMAXPROCS(0), len(events)/decodeChunk)
	if workers <= 1 {
		return s.decodeRange(events)
	}
	part := (len(events) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { errs[w] = s.decodeRange(events[w*part : min((w+1)*part, len(events))]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // the first failing event's
		}
	}
	return nil
}

func (s *Store) decodeRange(events []Event) error {
	for i := range events {
		e := &events[i]
		if err := s.codec.DecodeEvent(e); err != nil {
			return fmt.Errorf("eventstore: event %d (%s v%d): %w", e.Position, e.StreamID, e.Version, err)
		}
	}
	return nil
}

// Update loads stream, lets decide choose the events to append given its
// history, and appends them at the loaded version. On a conflict it loads and
// decides again, up to MaxUpdateAttempts times, then returns the conflict.
// When decide returns no events, nothing is appended and the result is zero.
// Errors from decide are returned as they are.
func (s *Store) Update(ctx context.Context, stream string, decide func(history []Event) ([]EventData, error)) (AppendResult, error) {
	var conflict error
	for range MaxUpdateAttempts {
		history, err := s.Load(ctx, stream)
		if err != nil {
			return AppendResult{}, err
		}
		events, err := decide(history)
		if err != nil {
			return AppendResult{}, err
		}
		if len(events) == 0 {
			return AppendResult{}, nil
		}
		expected := NoStream
		if n := len(history); n > 0 {
			expected = history[n-1].Version
		}
		res, err := s.Append(ctx, stream, expected, events...)
		if !errors.Is(err, ErrConflict) {
			return res, err
		}
		conflict = err
	}
	return AppendResult{}, conflict
}
