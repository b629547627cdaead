package seal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/audit"
)

// Store reads and checks the seals.
type Store struct{ pool *pgxpool.Pool }

// New returns the store of the seals in pool's database.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// querier is a pool or the sealer's own connection.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// selectRecords reads events in their canonical form: data and metadata as
// the text of the stored jsonb. The fence is the feed's
// (eventstore.ReadFeed): nothing below a cursor read can commit later.
const selectRecords = `SELECT position, tx_id, stream_id, version, type, data::text, metadata::text, recorded_at FROM events `

const feedFence = `tx_id < pg_snapshot_xmin(pg_current_snapshot())`

// records reads up to limit events after cursor after, through through when
// it is given, in feed order.
func records(ctx context.Context, q querier, after audit.Cursor, through *audit.Cursor, limit int) ([]audit.Record, error) {
	return readRecords(ctx, q, after, through, limit, func(rows pgx.Rows) (audit.Record, error) { return scanRecord(rows) })
}

// hashed is records as the sealer needs them: each event's place and hash,
// hashed from the bytes Postgres sent (audit.HashStored).
func hashed(ctx context.Context, q querier, after audit.Cursor, limit int) ([]audit.Hashed, error) {
	// One set of destinations for every row: each row's own escaped to the
	// heap, four allocations an event. nil skips the texts, which are hashed
	// from the raw values.
	var (
		cur     audit.Cursor
		version int64
		at      time.Time
	)
	dest := []any{&cur.Position, &cur.TxID, nil, &version, nil, nil, nil, &at}
	return readRecords(ctx, q, after, nil, limit, func(rows pgx.Rows) (audit.Hashed, error) {
		if err := rows.Scan(dest...); err != nil {
			return audit.Hashed{}, fmt.Errorf("seal: read event: %w", err)
		}
		v := rows.RawValues()
		return audit.Hashed{Cursor: cur, Hash: audit.HashStored(cur.Position, v[2], version, v[4], v[5], v[6], at)}, nil
	})
}

// readRecords runs the query of records and makes each row a T with scan.
// The texts are read as Postgres sends them, text or binary alike: a text's
// binary form is its text.
func readRecords[T any](ctx context.Context, q querier, after audit.Cursor, through *audit.Cursor, limit int,
	scan func(pgx.Rows) (T, error)) ([]T, error) {
	sql, args := selectRecords+`WHERE (tx_id, position) > ($1, $2) AND `+feedFence, []any{after.TxID, after.Position}
	if through != nil {
		sql, args = sql+` AND (tx_id, position) <= ($3, $4)`, append(args, through.TxID, through.Position)
	}
	sql += fmt.Sprintf(` ORDER BY tx_id, position LIMIT %d`, limit)
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("seal: read events: %w", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("seal: read events: %w", err)
	}
	return out, nil
}

func scanRecord(row pgx.Row) (audit.Record, error) {
	var r audit.Record
	var at time.Time
	if err := row.Scan(&r.Position, &r.TxID, &r.StreamID, &r.Version, &r.Type, &r.Data, &r.Metadata, &at); err != nil {
		return audit.Record{}, fmt.Errorf("seal: read event: %w", err)
	}
	r.RecordedAt = audit.FormatRecordedAt(at)
	return r, nil
}

// sealColumns are the columns of a seal; withEvents adds its positions and
// leaves.
const (
	sealColumns = `seq, after_tx_id, after_position, through_tx_id, through_position, from_position, to_position,
		count, root, prev_hash, hash, sealed_at`
	withEvents = sealColumns + `, positions, leaves`
)

func scanSeal(row pgx.Row, events bool) (audit.Seal, error) {
	var s audit.Seal
	var root, prev, hash, leaves []byte
	dest := []any{&s.Seq, &s.After.TxID, &s.After.Position, &s.Through.TxID, &s.Through.Position, &s.FromPosition, &s.ToPosition,
		&s.Count, &root, &prev, &hash, &s.SealedAt}
	if events {
		dest = append(dest, &s.Positions, &leaves)
	}
	if err := row.Scan(dest...); err != nil {
		return audit.Seal{}, err
	}
	copy(s.Root[:], root)
	copy(s.PrevHash[:], prev)
	copy(s.Hash[:], hash)
	s.SealedAt = s.SealedAt.UTC()
	if events {
		// A stored list whose length is no multiple of a hash is cut short:
		// the check then finds that it does not match the root.
		s.Leaves = make([]audit.Hash, len(leaves)/len(audit.Hash{}))
		for i := range s.Leaves {
			copy(s.Leaves[i][:], leaves[i*len(audit.Hash{}):])
		}
	}
	return s, nil
}

// List returns up to limit seals after seq after, without their lists of
// events.
func (s *Store) List(ctx context.Context, after int64, limit int) ([]audit.Seal, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sealColumns+` FROM seals WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("seal: list: %w", err)
	}
	out := []audit.Seal{}
	for rows.Next() {
		seal, err := scanSeal(rows, false)
		if err != nil {
			return nil, fmt.Errorf("seal: list: %w", err)
		}
		out = append(out, seal)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("seal: list: %w", err)
	}
	return out, nil
}

// from returns the first seal from seq on with its events' list, or nil if
// there is none: a seal missing from the chain is for the check to name.
func from(ctx context.Context, q querier, seq int64) (*audit.Seal, error) {
	seal, err := scanSeal(q.QueryRow(ctx, `SELECT `+withEvents+` FROM seals WHERE seq >= $1 ORDER BY seq LIMIT 1`, seq), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("seal: read seal %d: %w", seq, err)
	}
	return &seal, nil
}

// last returns the latest seal without its events' list, which the next seal
// does not need (audit.Next), or nil before the first. The list is MaxEvents
// hashes and positions, 400 KB: read at each lead, it was a sealer's largest
// read after the events.
func last(ctx context.Context, q querier) (*audit.Seal, error) {
	seal, err := scanSeal(q.QueryRow(ctx, `SELECT `+sealColumns+` FROM seals ORDER BY seq DESC LIMIT 1`), false)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("seal: read the last seal: %w", err)
	}
	return &seal, nil
}

// sealed reads the events now stored in seal's range, in feed order.
func sealed(ctx context.Context, q querier, seal audit.Seal) ([]audit.Record, error) {
	// An inserted event makes the range hold more than count: one more is
	// enough to name it.
	return records(ctx, q, seal.After, &seal.Through, seal.Count+1)
}

// Verify checks the seals fromSeq through toSeq (0: the last) against the
// events stored now, and the link of the first to the seal before it. It
// reads one seal at a time.
func (s *Store) Verify(ctx context.Context, fromSeq, toSeq int64) (audit.Result, error) {
	var r audit.Result
	var prev *audit.Seal
	first := fromSeq
	if fromSeq > 1 {
		var err error
		if prev, err = from(ctx, s.pool, fromSeq-1); err != nil {
			return audit.Result{}, err
		}
		if prev != nil && prev.Seq != fromSeq-1 {
			// Missing: the first seal checked names it.
			prev, first = nil, fromSeq-1
		}
	}
	for seq := fromSeq; ; {
		seal, err := from(ctx, s.pool, seq)
		if err != nil {
			return audit.Result{}, err
		}
		if seal == nil || (toSeq != 0 && seal.Seq > toSeq) {
			break
		}
		events, err := sealed(ctx, s.pool, *seal)
		if err != nil {
			return audit.Result{}, err
		}
		if f := audit.CheckFrom(first, prev, *seal, events); f != nil {
			r.Failure = f
			return r, nil
		}
		r.Seals++
		r.Events += len(events)
		prev, seq = seal, seal.Seq+1
	}
	r.OK = true
	return r, nil
}

// Proof proves the event at position: its seal and the Merkle path from
// the event's hash to the seal's root.
func (s *Store) Proof(ctx context.Context, position int64) (audit.Proof, error) {
	event, err := scanRecord(s.pool.QueryRow(ctx, selectRecords+`WHERE position = $1`, position))
	if errors.Is(err, pgx.ErrNoRows) {
		return audit.Proof{}, audit.ErrNoEvent
	}
	if err != nil {
		return audit.Proof{}, err
	}
	seal, err := scanSeal(s.pool.QueryRow(ctx, `SELECT `+withEvents+` FROM seals
		WHERE (through_tx_id, through_position) >= ($1, $2) ORDER BY through_tx_id, through_position LIMIT 1`,
		event.TxID, event.Position), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return audit.Proof{}, audit.ErrNotSealed
	}
	if err != nil {
		return audit.Proof{}, fmt.Errorf("seal: find the seal of position %d: %w", position, err)
	}
	i := slices.Index(seal.Positions, position)
	if i < 0 || i >= len(seal.Leaves) || event.Cursor().Compare(seal.After) <= 0 {
		// The event lies in a seal's range that does not hold it: it was
		// inserted behind the store's back, or the seal's list was changed.
		return audit.Proof{}, audit.ErrNotSealed
	}
	return audit.Prove(event, seal, i), nil
}

// Export writes the pack of seals fromSeq through toSeq (0: the last) and
// their events to w, one seal at a time. It reports the seals and events
// written.
func (s *Store) Export(ctx context.Context, fromSeq, toSeq int64, w io.Writer) (seals, events int, err error) {
	format, _ := json.Marshal(audit.PackFormat)
	if _, err := fmt.Fprintf(w, "{\"format\":%s,\n\"seals\":[", format); err != nil {
		return 0, 0, err
	}
	var through []audit.Seal // without their lists, to find their events again
	for seq := fromSeq; ; {
		seal, err := from(ctx, s.pool, seq)
		if err != nil {
			return 0, 0, err
		}
		if seal == nil || (toSeq != 0 && seal.Seq > toSeq) {
			break
		}
		seq = seal.Seq + 1
		if err := writeItem(w, len(through), seal); err != nil {
			return 0, 0, err
		}
		through = append(through, audit.Seal{After: seal.After, Through: seal.Through, Count: seal.Count})
	}
	if len(through) == 0 {
		return 0, 0, fmt.Errorf("seal: export: no seal from %d", fromSeq)
	}
	if _, err := io.WriteString(w, "],\n\"events\":["); err != nil {
		return 0, 0, err
	}
	for _, seal := range through {
		records, err := sealed(ctx, s.pool, seal)
		if err != nil {
			return 0, 0, err
		}
		for _, r := range records {
			if err := writeItem(w, events, r); err != nil {
				return 0, 0, err
			}
			events++
		}
	}
	if _, err := io.WriteString(w, "]}\n"); err != nil {
		return 0, 0, err
	}
	return len(through), events, nil
}

// writeItem writes v as item i of a JSON array, one to a line.
func writeItem(w io.Writer, i int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if i > 0 {
		if _, err := io.WriteString(w, ",\n"); err != nil {
			return err
		}
	} else if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
