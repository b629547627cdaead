package readmodel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
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

// table describes a read-model table: its columns (the key columns first)
// and their SQL types, as format_type names them, how a row maps to them,
// and its key.
type table[K comparable, R any] struct {
	name    string
	columns []string
	types   []string
	keys    int
	key     func(R) K
	keyArgs func(K) []any
	values  func(R) []any // in column order
	scan    func(pgx.Row) (R, error)

	selectSQL, upsertSQL, deleteSQL string
	// The same for many rows at once, each column's values in one array
	// parameter: the reads and writes of a batch cost a statement per table
	// rather than one per row.
	selectKeysSQL, upsertRowsSQL, deleteKeysSQL string
	// arrayOIDs has, for each column that is itself an array, the OID of its
	// type (0 for the others): unnest of an array of arrays would flatten
	// them, so their values go as text and are cast back.
	arrayOIDs []uint32
}

// timestamptz is how format_type names timestamp with time zone.
const timestamptz = "timestamp with time zone"

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

	if len(t.types) != len(t.columns) {
		panic("readmodel: " + t.name + ": a type for each column")
	}
	types := pgtype.NewMap()
	t.arrayOIDs = make([]uint32, len(t.columns))
	arrays := make([]string, len(t.columns)) // unnest's arguments
	aliases := make([]string, len(t.columns))
	selected := make([]string, len(t.columns))
	for i, typ := range t.types {
		aliases[i] = "c" + strconv.Itoa(i+1)
		arrays[i] = "$" + strconv.Itoa(i+1) + "::" + typ + "[]"
		selected[i] = aliases[i]
		if elem, ok := strings.CutSuffix(typ, "[]"); ok {
			dt, ok := types.TypeForName("_" + elem)
			if !ok {
				panic("readmodel: " + t.name + ": unknown type " + typ)
			}
			t.arrayOIDs[i] = dt.OID
			arrays[i] = "$" + strconv.Itoa(i+1) + "::text[]"
			selected[i] = aliases[i] + "::" + typ
		}
	}
	keys := "unnest(" + strings.Join(arrays[:t.keys], ", ") + ")"
	on := make([]string, t.keys)
	for i, c := range t.columns[:t.keys] {
		on[i] = "r." + c + " = k." + aliases[i]
	}
	// WITH ORDINALITY tells which key each row answers, whatever the
	// spelling the key was asked with (an upper-case uuid, say). Each key is
	// looked up by itself, through the primary key: a join let the planner
	// scan the whole table, which it did for a few hundred keys, or for a
	// few dozen while the table had no statistics yet, and a batch took the
	// longer the more the table held. The LIMIT keeps the lookup a subquery
	// of its own, run for each key.
	t.selectKeysSQL = "SELECT k.ord, " + strings.Join(prefixed("r.", t.columns), ", ") + " FROM " + keys +
		" WITH ORDINALITY AS k(" + strings.Join(aliases[:t.keys], ", ") + ", ord) CROSS JOIN LATERAL (SELECT " +
		strings.Join(t.columns, ", ") + " FROM " + t.name + " AS r WHERE " + strings.Join(on, " AND ") + " LIMIT 1) AS r"
	t.upsertRowsSQL = "INSERT INTO " + t.name + " (" + strings.Join(t.columns, ", ") + ") SELECT " + strings.Join(selected, ", ") +
		" FROM unnest(" + strings.Join(arrays, ", ") + ") AS v(" + strings.Join(aliases, ", ") + ")" +
		" ON CONFLICT (" + strings.Join(t.columns[:t.keys], ", ") + ") " + conflict
	t.deleteKeysSQL = "DELETE FROM " + t.name + " AS r USING " + keys + " AS k(" + strings.Join(aliases[:t.keys], ", ") + ") WHERE " +
		strings.Join(on, " AND ")
	return &t
}

// keyColumns are the arguments of selectKeysSQL and deleteKeysSQL for keys:
// the values of each key column.
func (t *table[K, R]) keyColumns(keys []K) []any {
	cols := make([][]any, t.keys)
	for i := range cols {
		cols[i] = make([]any, len(keys))
	}
	for j, k := range keys {
		for i, v := range t.keyArgs(k) {
			cols[i][j] = v
		}
	}
	return t.columnArgs(cols)
}

// valueColumns are the arguments of upsertRowsSQL for rows.
func (t *table[K, R]) valueColumns(rows []R) ([]any, error) {
	cols := make([][]any, len(t.columns))
	for i := range cols {
		cols[i] = make([]any, len(rows))
	}
	var types *pgtype.Map
	for j, r := range rows {
		for i, v := range t.values(r) {
			if oid := t.arrayOIDs[i]; oid != 0 {
				if types == nil {
					types = pgtype.NewMap()
				}
				text, err := types.Encode(oid, pgtype.TextFormatCode, v, nil)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %w", t.name, t.columns[i], err)
				}
				v = nil
				if text != nil {
					v = string(text)
				}
			}
			cols[i][j] = v
		}
	}
	return t.columnArgs(cols), nil
}

// columnArgs makes each column's values one argument, typed where pgx has a
// direct path for the type (columnArray).
func (t *table[K, R]) columnArgs(cols [][]any) []any {
	args := make([]any, len(cols))
	for i, c := range cols {
		args[i] = columnArray(t.types[i], c)
	}
	return args
}

// columnArray is the values of a column of SQL type typ as a slice of their
// own Go type when they all have one that pgx encodes without reflection,
// and uuids as 16 bytes each, which pgx sends in binary. Anything else (a
// NULL among them, a type pgx reflects on, a uuid spelled as Postgres
// accepts and uuid.Parse does not) stays []any. As []any, every element
// went through reflection; and strings for a uuid array failed the binary
// format first, which cost pgx formatting the whole array into an error
// before it sent it as text: several per cent of the pipeline's CPU.
func columnArray(typ string, vals []any) any {
	if typ == "uuid" {
		ids := make([][16]byte, len(vals))
		for i, v := range vals {
			id, ok := uuidBytes(v)
			if !ok {
				return vals
			}
			ids[i] = id
		}
		return ids
	}
	if len(vals) == 0 {
		return vals
	}
	switch vals[0].(type) {
	case string:
		return sameType[string](vals)
	case int64:
		return sameType[int64](vals)
	case int32:
		return sameType[int32](vals)
	case int:
		return sameType[int](vals)
	case bool:
		return sameType[bool](vals)
	case time.Time:
		return sameType[time.Time](vals)
	}
	return vals
}

// sameType is vals as a []T when every one is a T, else vals.
func sameType[T any](vals []any) any {
	out := make([]T, len(vals))
	for i, v := range vals {
		x, ok := v.(T)
		if !ok {
			return vals
		}
		out[i] = x
	}
	return out
}

func (t *table[K, R]) TableName() string     { return t.name }
func (t *table[K, R]) ColumnNames() []string { return t.columns }
func (t *table[K, R]) KeyColumns() []string  { return t.columns[:t.keys] }
func (t *table[K, R]) ColumnTypes() []string { return t.types }

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

// probe returns rows in memory that note what is read of them: empty, or
// when from is not nil, holding what from read, whose keys are not noted
// again.
func (t *table[K, R]) probe(from *txRows[K, R]) *probeRows[K, R] {
	p := &probeRows[K, R]{memRows: memRows[K, R]{t: t, m: map[K]R{}}, noted: map[K]bool{}}
	if from != nil {
		for k, s := range from.seen {
			p.noted[k] = true
			if s.exists {
				p.m[k] = s.row
			}
		}
	}
	return p
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
	// found tells that the reads queued last found a row.
	found bool
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

// queueReads queues on b the read of the rows of keys not read yet, in one
// statement, whose answers go where get looks first.
func (r *txRows[K, R]) queueReads(b *pgx.Batch, keys []any) {
	var want []K
	for _, key := range keys {
		k := key.(K)
		if _, ok := r.seen[k]; ok {
			continue
		}
		r.seen[k] = seenRow[R]{} // read once, however often keys name it
		want = append(want, k)
	}
	r.found = false
	if len(want) == 0 {
		return
	}
	b.Queue(r.t.selectKeysSQL, r.t.keyColumns(want)...).Query(func(rows pgx.Rows) error {
		var ord int64
		row := numberedRow{rows: rows, ord: &ord}
		for rows.Next() {
			got, err := r.t.scan(row)
			if err != nil {
				return fmt.Errorf("%s: get: %w", r.t.name, err)
			}
			r.seen[want[ord-1]] = seenRow[R]{got, true}
			r.found = true
		}
		return rows.Err()
	})
}

// numberedRow is a row of selectKeysSQL scanned as a row of its table: its
// first column, the key's number, goes to ord.
type numberedRow struct {
	rows pgx.Rows
	ord  *int64
}

func (n numberedRow) Scan(dest ...any) error {
	return n.rows.Scan(append([]any{n.ord}, dest...)...)
}

// queueWrites queues on b the last state of each row written since the last
// call: one delete of the rows that no longer exist, then one upsert of the
// others. A key is in held once, so no statement touches a row twice.
func (r *txRows[K, R]) queueWrites(b *pgx.Batch) error {
	var gone []K
	var rows []R
	for _, k := range r.held {
		if s := r.seen[k]; s.exists {
			rows = append(rows, s.row)
		} else {
			gone = append(gone, k)
		}
	}
	r.held = r.held[:0]
	clear(r.written)
	if len(gone) > 0 {
		b.Queue(r.t.deleteKeysSQL, r.t.keyColumns(gone)...)
	}
	if len(rows) > 0 {
		args, err := r.t.valueColumns(rows)
		if err != nil {
			return err
		}
		b.Queue(r.t.upsertRowsSQL, args...)
	}
	return nil
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
	var uuids []int
	for i, typ := range r.t.types {
		if typ == "uuid" {
			uuids = append(uuids, i)
		}
	}
	src := make([][]any, 0, len(r.m))
	for _, row := range r.m {
		values := r.t.values(row)
		for _, i := range uuids {
			values[i] = copyUUID(values[i])
		}
		src = append(src, values)
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{schema, r.t.name}, r.t.columns, pgx.CopyFromRows(src))
	if err != nil {
		return n, fmt.Errorf("copy %s: %w", r.t.name, err)
	}
	return n, nil
}

// copyUUID is a uuid column's value as COPY, whose format is binary, takes it
// at once: 16 bytes for a string, as columnArray does for a batch's arrays.
// pgx cannot encode a string so, and for each value built an error, then
// parsed the text (bench overhead's rebuild: 8.5-8.9 µs of this process's
// CPU an event before, 7.6 after). A value uuid.Parse refuses is left to pgx.
func copyUUID(v any) any {
	if p, ok := v.(*string); ok {
		if p == nil {
			return nil
		}
		v = *p
	}
	if id, ok := uuidBytes(v); ok {
		return id
	}
	return v
}

// uuidBytes is v as a uuid's 16 bytes, when it is a string uuid.Parse reads.
func uuidBytes(v any) ([16]byte, bool) {
	s, ok := v.(string)
	if !ok {
		return [16]byte{}, false
	}
	id, err := uuid.Parse(s)
	return id, err == nil
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
