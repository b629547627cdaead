package readmodel

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/eventstore"
)

// Names of the read-model projections. They are consumer group names and
// keys of the bookkeeping tables: renaming one replays everything.
const (
	Directory     = "directory"
	Attendance    = "attendance"
	Leave         = "leave"
	MonthlyHours  = "monthly_hours"
	Holidays      = "holidays"
	Notifications = "notifications"
	LeaveCalendar = "leave_calendar"
	Approvals     = "approvals"
	Delegations   = "delegations"
)

type Apply func(ctx context.Context, e eventstore.Event) error

// Table is what rebuild and verify need to know of a table.
type Table interface {
	TableName() string
	ColumnNames() []string
	KeyColumns() []string
	// ColumnTypes are the SQL types of the columns, as format_type names
	// them, which the statements of a batch cast their arrays to.
	ColumnTypes() []string
}

// Model is a projection: the fold of the streams of one category into
// tables.
type Model struct {
	// Name is the projection's consumer group and its key in the
	// bookkeeping tables.
	Name string
	// Category is the stream category it folds.
	Category string
	Tables   []Table
	// fold folds into the tables as at opens them.
	fold func(at tablesAt) Apply
}

// tablesAt says where a fold's tables are: in a transaction, or, for a
// rebuild, in memory, new and empty.
type tablesAt struct {
	tx Querier
	// batch collects the tables opened in tx whose writes are held back.
	batch *[]batchRows
	// probe collects the tables a batch is folded into to learn what it
	// reads, holding what the tables of probeFrom read.
	probe     *[]probedRows
	probeFrom []batchRows
	// inMemory collects the tables opened in memory.
	inMemory *[]MemTable
}

// batchRows are a table's rows in a batch's transaction.
type batchRows interface {
	queueReads(b *pgx.Batch, keys []any)
	queueWrites(b *pgx.Batch) error
	foundRows() bool
}

func (r *txRows[K, R]) foundRows() bool { return r.found }

// probedRows tell the keys read of them before they were written.
type probedRows interface{ missedKeys() []any }

func (r *probeRows[K, R]) missedKeys() []any { return r.missed }

// open returns the rows of t where at says.
func open[K comparable, R any](at tablesAt, t *table[K, R]) rows[K, R] {
	switch {
	case at.probe != nil:
		// A fold opens its tables in the same order each time.
		from, _ := at.probeFrom[len(*at.probe)].(*txRows[K, R])
		p := t.probe(from)
		*at.probe = append(*at.probe, p)
		return p
	case at.batch != nil:
		r := t.inBatch(at.tx)
		*at.batch = append(*at.batch, r)
		return r
	case at.inMemory != nil:
		m := t.inMemory()
		*at.inMemory = append(*at.inMemory, m)
		return m
	}
	return t.inTx(at.tx)
}

// Live folds into the tables as tx sees them.
func (m *Model) Live(tx Querier) Apply { return m.fold(tablesAt{tx: tx}) }

// Batch is a fold of a batch of events into the tables as tx sees them, in
// few round trips: QueueReads queues the reads of every row the batch will
// read, Apply folds each event, and QueueWrites queues the last state of
// each row written.
type Batch struct {
	model  *Model
	apply  Apply
	tables []batchRows
}

// Batch returns a batch fold in tx.
func (m *Model) Batch(tx Querier) *Batch {
	b := &Batch{model: m}
	b.apply = m.fold(tablesAt{tx: tx, batch: &b.tables})
	return b
}

// QueueReads folds events once into empty tables to learn which rows they
// read, and queues the reads of those rows on q. The fold's errors are the
// real fold's to report.
func (b *Batch) QueueReads(ctx context.Context, q *pgx.Batch, events []eventstore.Event) {
	b.queueReads(ctx, q, events)
}

// QueueMoreReads queues on q the reads of the rows the batch will read that
// the reads so far left out, and reports whether there are any. When those
// reads found rows that the last fold into the tables took for absent, the
// real fold may go another way with them and read other rows (a request
// found, then the balance of its year): the batch is folded again into the
// rows read to learn them. A row still left out is read when asked for.
func (b *Batch) QueueMoreReads(ctx context.Context, q *pgx.Batch, events []eventstore.Event) bool {
	found := false
	for _, t := range b.tables {
		found = found || t.foundRows()
	}
	return found && b.queueReads(ctx, q, events)
}

func (b *Batch) queueReads(ctx context.Context, q *pgx.Batch, events []eventstore.Event) bool {
	var probes []probedRows
	probe := b.model.fold(tablesAt{probe: &probes, probeFrom: b.tables})
	for _, e := range events {
		_ = probe(ctx, e)
	}
	n := q.Len()
	for i, p := range probes {
		b.tables[i].queueReads(q, p.missedKeys())
	}
	return q.Len() > n
}

// Apply folds e.
func (b *Batch) Apply(ctx context.Context, e eventstore.Event) error { return b.apply(ctx, e) }

// QueueWrites queues on q what the events folded since the last call wrote:
// for each table, at most a delete and an upsert.
func (b *Batch) QueueWrites(q *pgx.Batch) error {
	for _, t := range b.tables {
		if err := t.queueWrites(q); err != nil {
			return err
		}
	}
	return nil
}

// Memory folds into new tables held in memory, which it returns.
func (m *Model) Memory() (Apply, []MemTable) {
	var tables []MemTable
	apply := m.fold(tablesAt{inMemory: &tables})
	return apply, tables
}

// All returns every projection, in the order rebuild runs them.
func All() []*Model {
	return []*Model{directoryModel(), attendanceModel(), leaveModel(), monthlyModel(), holidaysModel(), notificationsModel(),
		leaveCalendarModel(), approvalsModel(), delegationsModel()}
}

// PGDate is d as a Postgres date, NULL for the zero date.
func PGDate(d calendar.Date) pgtype.Date {
	if d.IsZero() {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: d.In(time.UTC), Valid: true}
}

// pgDates are dates as Postgres dates.
func pgDates(dates []calendar.Date) []pgtype.Date {
	out := make([]pgtype.Date, len(dates))
	for i, d := range dates {
		out[i] = PGDate(d)
	}
	return out
}

// datesOf are the civil dates of Postgres dates.
func datesOf(dates []pgtype.Date) []calendar.Date {
	out := make([]calendar.Date, len(dates))
	for i, d := range dates {
		out[i] = DateOf(d)
	}
	return out
}

// DateOf is the civil date of a Postgres date, zero for NULL.
func DateOf(d pgtype.Date) calendar.Date {
	if !d.Valid {
		return calendar.Date{}
	}
	return calendar.DateOf(d.Time, time.UTC)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
