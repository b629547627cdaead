package readmodel

import (
	"context"
	"time"

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
	// inMemory collects the tables opened in memory.
	inMemory *[]MemTable
}

// open returns the rows of t where at says.
func open[K comparable, R any](at tablesAt, t *table[K, R]) rows[K, R] {
	if at.inMemory == nil {
		return t.inTx(at.tx)
	}
	m := t.inMemory()
	*at.inMemory = append(*at.inMemory, m)
	return m
}

// Live folds into the tables as tx sees them.
func (m *Model) Live(tx Querier) Apply { return m.fold(tablesAt{tx: tx}) }

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
