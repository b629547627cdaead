package readmodel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/app/query"
)

// A read model's tables are written through rows, so that one fold serves
// both the live projector (rows of the real tables, inside the transaction
// that also records the applied version) and a rebuild (rows in memory,
// copied into fresh tables at the end).
type rows[K comparable, R any] interface {
	get(ctx context.Context, k K) (R, bool, error)
	put(ctx context.Context, r R) error
	del(ctx context.Context, k K) error
}

// table describes a read-model table: its columns (the key columns first),
// how a row maps to them, and its key.
type table[K comparable, R any] struct {
	name    string
	columns []string
	keys    int
	key     func(R) K
	keyArgs func(K) []any
	values  func(R) []any // in column order
	scan    func(pgx.Row) (R, error)

	selectSQL, upsertSQL, deleteSQL string
}

func newTable[K comparable, R any](t table[K, R]) *table[K, R] {
	where := make([]string, t.keys)
	for i, c := range t.columns[:t.keys] {
		where[i] = c + " = $" + strconv.Itoa(i+1)
	}
	params := make([]string, len(t.columns))
	for i := range params {
		params[i] = "$" + strconv.Itoa(i+1)
	}
	// A table whose columns are all its key has nothing to update.
	conflict := "DO NOTHING"
	var sets []string
	for _, c := range t.columns[t.keys:] {
		sets = append(sets, c+" = excluded."+c)
	}
	if len(sets) > 0 {
		conflict = "DO UPDATE SET " + strings.Join(sets, ", ")
	}
	t.selectSQL = "SELECT " + strings.Join(t.columns, ", ") + " FROM " + t.name + " WHERE " + strings.Join(where, " AND ")
	t.upsertSQL = "INSERT INTO " + t.name + " (" + strings.Join(t.columns, ", ") + ") VALUES (" + strings.Join(params, ", ") +
		") ON CONFLICT (" + strings.Join(t.columns[:t.keys], ", ") + ") " + conflict
	t.deleteSQL = "DELETE FROM " + t.name + " WHERE " + strings.Join(where, " AND ")
	return &t
}

func (t *table[K, R]) TableName() string     { return t.name }
func (t *table[K, R]) ColumnNames() []string { return t.columns }
func (t *table[K, R]) KeyColumns() []string  { return t.columns[:t.keys] }

// inTx returns the rows of the table as seen by tx. Unqualified, the table
// name resolves through the search path, which is how a rebuild catches up
// its fresh tables with the same code.
//
// The rows remember what they read and wrote, so that a batch of events of
// one stream reads each row once. That is only right while nobody else
// writes those rows: tx must hold the locks of the streams it applies, and
// rows live no longer than tx.
func (t *table[K, R]) inTx(tx Querier) rows[K, R] {
	return &txRows[K, R]{t: t, tx: tx, seen: map[K]seenRow[R]{}}
}

// inBatch returns the rows of the table as seen by tx, holding their
// writes back for queueWrites.
func (t *table[K, R]) inBatch(tx Querier) *txRows[K, R] {
	return &txRows[K, R]{t: t, tx: tx, seen: map[K]seenRow[R]{}, hold: true, written: map[K]bool{}}
}

// probe returns empty rows that note what is read of them.
func (t *table[K, R]) probe() *probeRows[K, R] {
	return &probeRows[K, R]{memRows: memRows[K, R]{t: t, m: map[K]R{}}, noted: map[K]bool{}}
}

// inMemory returns empty rows held in memory.
func (t *table[K, R]) inMemory() *memRows[K, R] { return &memRows[K, R]{t: t, m: map[K]R{}} }

// Querier is what rows in a transaction need of it: a pgx.Tx, or a live
// projector's writebehind.Conn.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type txRows[K comparable, R any] struct {
	t    *table[K, R]
	tx   Querier
	seen map[K]seenRow[R]
	// held, when not nil, are the keys written and not sent yet, in the
	// order first written: a batch sends each row's last state once
	// (queueWrites), however many of its events wrote it.
	held []K
	hold bool
	// written marks the keys in held.
	written map[K]bool
}

// seenRow is a row as the transaction last read or wrote it.
type seenRow[R any] struct {
	row    R
	exists bool
}

func (r *txRows[K, R]) get(ctx context.Context, k K) (R, bool, error) {
	if s, ok := r.seen[k]; ok {
		return s.row, s.exists, nil
	}
	row, err := r.t.scan(r.tx.QueryRow(ctx, r.t.selectSQL, r.t.keyArgs(k)...))
	if errors.Is(err, pgx.ErrNoRows) {
		r.seen[k] = seenRow[R]{}
		return row, false, nil
	}
	if err != nil {
		return row, false, fmt.Errorf("%s: get: %w", r.t.name, err)
	}
	r.seen[k] = seenRow[R]{row, true}
	return row, true, nil
}

func (r *txRows[K, R]) put(ctx context.Context, row R) error {
	k := r.t.key(row)
	r.seen[k] = seenRow[R]{row, true}
	if r.hold {
		r.holdBack(k)
		return nil
	}
	if _, err := r.tx.Exec(ctx, r.t.upsertSQL, r.t.values(row)...); err != nil {
		return fmt.Errorf("%s: put: %w", r.t.name, err)
	}
	return nil
}

func (r *txRows[K, R]) del(ctx context.Context, k K) error {
	r.seen[k] = seenRow[R]{}
	if r.hold {
		r.holdBack(k)
		return nil
	}
	if _, err := r.tx.Exec(ctx, r.t.deleteSQL, r.t.keyArgs(k)...); err != nil {
		return fmt.Errorf("%s: delete: %w", r.t.name, err)
	}
	return nil
}

func (r *txRows[K, R]) holdBack(k K) {
	if !r.written[k] {
		r.written[k] = true
		r.held = append(r.held, k)
	}
}

// queueReads queues on b the reads of the rows of keys not read yet, whose
// answers go where get looks first.
func (r *txRows[K, R]) queueReads(b *pgx.Batch, keys []any) {
	for _, key := range keys {
		k := key.(K)
		if _, ok := r.seen[k]; ok {
			continue
		}
		r.seen[k] = seenRow[R]{} // read once, however often keys name it
		b.Queue(r.t.selectSQL, r.t.keyArgs(k)...).QueryRow(func(row pgx.Row) error {
			got, err := r.t.scan(row)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return nil
			case err != nil:
				return fmt.Errorf("%s: get: %w", r.t.name, err)
			}
			r.seen[k] = seenRow[R]{got, true}
			return nil
		})
	}
}

// queueWrites queues on b the last state of each row written since the last
// call: an upsert, or a delete of a row that no longer exists.
func (r *txRows[K, R]) queueWrites(b *pgx.Batch) {
	for _, k := range r.held {
		if s := r.seen[k]; s.exists {
			b.Queue(r.t.upsertSQL, r.t.values(s.row)...)
		} else {
			b.Queue(r.t.deleteSQL, r.t.keyArgs(k)...)
		}
	}
	r.held = r.held[:0]
	clear(r.written)
}

// probeRows are empty rows in memory that note each key read before it was
// written: what a batch's fold will ask the tables for, found by folding it
// once without them.
type probeRows[K comparable, R any] struct {
	memRows[K, R]
	noted  map[K]bool
	missed []any
}

func (r *probeRows[K, R]) get(ctx context.Context, k K) (R, bool, error) {
	row, ok, err := r.memRows.get(ctx, k)
	if !ok && !r.noted[k] {
		r.noted[k] = true
		r.missed = append(r.missed, k)
	}
	return row, ok, err
}

type memRows[K comparable, R any] struct {
	t *table[K, R]
	m map[K]R
}

func (r *memRows[K, R]) get(_ context.Context, k K) (R, bool, error) {
	row, ok := r.m[k]
	return row, ok, nil
}

func (r *memRows[K, R]) put(_ context.Context, row R) error {
	r.m[r.t.key(row)] = row
	return nil
}

func (r *memRows[K, R]) del(_ context.Context, k K) error {
	delete(r.m, k)
	return nil
}

// MemTable is a table folded in memory by a rebuild.
type MemTable interface {
	TableName() string
	ColumnNames() []string
	// copyTo writes every row into the table of the same name in schema.
	CopyTo(ctx context.Context, tx pgx.Tx, schema string) (int64, error)
}

func (r *memRows[K, R]) TableName() string     { return r.t.name }
func (r *memRows[K, R]) ColumnNames() []string { return r.t.columns }

func (r *memRows[K, R]) CopyTo(ctx context.Context, tx pgx.Tx, schema string) (int64, error) {
	src := make([][]any, 0, len(r.m))
	for _, row := range r.m {
		src = append(src, r.t.values(row))
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{schema, r.t.name}, r.t.columns, pgx.CopyFromRows(src))
	if err != nil {
		return n, fmt.Errorf("copy %s: %w", r.t.name, err)
	}
	return n, nil
}

// byID reads the row of t whose one-column key is the uuid id: query.ErrNotFound
// when there is none, and for an id that is no uuid, which no row has.
func byID[R any](ctx context.Context, pool *pgxpool.Pool, t *table[string, R], id, what string) (R, error) {
	var none R
	if !isUUID(id) {
		return none, query.ErrNotFound
	}
	r, err := t.scan(pool.QueryRow(ctx, t.selectSQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return none, query.ErrNotFound
	}
	if err != nil {
		return none, fmt.Errorf("projections: %s: %w", what, err)
	}
	return r, nil
}
