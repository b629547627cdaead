package readmodel

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/poison"
)

// Attendance_corrections: the corrections of attendance days, filed and
// decided, which the attendance projection keeps beside the days they change.

type correctionRow struct {
	ID, EmployeeID    string
	Date              calendar.Date
	CheckIn, CheckOut *time.Time
	Reason, Status    string
	RequestedBy       string
	CreatedAt         time.Time
	DecidedBy         *string
	DecidedAt         *time.Time
	Note              string
	// Erased: the employee's personal data was erased; Reason and Note are empty.
	Erased bool
}

var correctionsTable = newTable(table[string, correctionRow]{
	name: "attendance_corrections",
	columns: []string{"id", "employee_id", "date", "check_in", "check_out", "reason", "status", "requested_by", "created_at",
		"decided_by", "decided_at", "note", "erased"},
	types:   []string{"uuid", "uuid", "date", timestamptz, timestamptz, "text", "text", "uuid", timestamptz, "uuid", timestamptz, "text", "boolean"},
	keys:    1,
	key:     func(r correctionRow) string { return r.ID },
	keyArgs: func(k string) []any { return []any{k} },
	values: func(r correctionRow) []any {
		return []any{r.ID, r.EmployeeID, PGDate(r.Date), r.CheckIn, r.CheckOut, r.Reason, r.Status, r.RequestedBy, r.CreatedAt,
			r.DecidedBy, r.DecidedAt, r.Note, r.Erased}
	},
	scan: func(row pgx.Row) (correctionRow, error) {
		var r correctionRow
		var d pgtype.Date
		err := row.Scan(&r.ID, &r.EmployeeID, &d, &r.CheckIn, &r.CheckOut, &r.Reason, &r.Status, &r.RequestedBy, &r.CreatedAt,
			&r.DecidedBy, &r.DecidedAt, &r.Note, &r.Erased)
		r.Date = DateOf(d)
		return r, err
	},
})

// applyCorrection folds the correction events into corrections; the day an
// approval changes is the attendance fold's.
func applyCorrection(ctx context.Context, corrections rows[string, correctionRow], e eventstore.Event) error {
	decide := func(id string, s attendance.CorrectionStatus, by string, at time.Time, note string) error {
		r, ok, err := corrections.get(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			return poison.Mark(fmt.Errorf("%s %s: unknown correction %s", e.Type, e.ID, id))
		}
		r.Status, r.DecidedBy, r.DecidedAt, r.Note = string(s), optional(by), optionalTime(at), note
		r.Erased = r.Erased || e.Erased
		return corrections.put(ctx, r)
	}
	switch ev := e.Payload.(type) {
	case attendance.CorrectionRequested:
		return corrections.put(ctx, correctionRow{
			ID: ev.CorrectionID, EmployeeID: ev.EmployeeID, Date: ev.Date, CheckIn: optionalTime(ev.CheckIn), CheckOut: optionalTime(ev.CheckOut),
			Reason: ev.Reason, Status: string(attendance.Pending), RequestedBy: ev.RequestedBy, CreatedAt: ev.RequestedAt.UTC(),
			Erased: e.Erased,
		})
	case attendance.CorrectionApproved:
		return decide(ev.CorrectionID, attendance.Approved, ev.DecidedBy, ev.DecidedAt, ev.Note)
	case attendance.CorrectionRejected:
		return decide(ev.CorrectionID, attendance.Rejected, ev.DecidedBy, ev.DecidedAt, ev.Note)
	}
	return nil
}

// correctDay sets the day an approved correction changed, making it when it
// had no check-in; the approval carries the figures.
func correctDay(ctx context.Context, days rows[dayKey, attendanceRow], ev attendance.CorrectionApproved) error {
	r, ok, err := days.get(ctx, dayKey{ev.EmployeeID, ev.Date})
	if err != nil {
		return err
	}
	if !ok {
		r = attendanceRow{EmployeeID: ev.EmployeeID, Date: ev.Date}
	}
	if !ev.CheckIn.IsZero() {
		r.CheckIn = ev.CheckIn.UTC()
	}
	if !ev.CheckOut.IsZero() {
		// It closes the day's open check-in, if there was one.
		r.CheckOut, r.CloseAt = optionalTime(ev.CheckOut), nil
	}
	r.Workday, r.WorkedMinutes, r.LateMinutes = ev.Workday, ev.WorkedMinutes, ev.LateMinutes
	r.NeedsReview, r.Corrected = false, true
	if r.CheckOut != nil {
		r.Status = StatusPresent
		if r.LateMinutes > 0 {
			r.Status = StatusLate
		}
	}
	return days.put(ctx, r)
}

// Queries.

func correctionViewOf(r correctionRow) query.CorrectionView {
	return query.CorrectionView{ID: r.ID, EmployeeID: r.EmployeeID, Date: r.Date, CheckIn: r.CheckIn, CheckOut: r.CheckOut,
		Reason: r.Reason, Status: r.Status, RequestedBy: r.RequestedBy, CreatedAt: r.CreatedAt, DecidedBy: r.DecidedBy,
		DecidedAt: r.DecidedAt, Note: r.Note, Erased: r.Erased}
}

// ListCorrections returns attendance corrections by id, a page at a time.
func (q *Queries) ListCorrections(ctx context.Context, f query.RequestFilter) ([]query.CorrectionView, string, error) {
	if !validRequestFilter(f) {
		return []query.CorrectionView{}, "", nil
	}
	limit := clampLimit(f.Limit)
	rows, err := q.pool.Query(ctx, `SELECT `+columnList(prefixed("r.", correctionsTable.columns))+` FROM attendance_corrections r
		WHERE `+requestsWhere(correctionApprovalsTable)+` ORDER BY r.id LIMIT $5`, requestArgs(f, limit)...)
	if err != nil {
		return nil, "", fmt.Errorf("projections: list corrections: %w", err)
	}
	list, err := collectRows(rows, correctionsTable.scan)
	if err != nil {
		return nil, "", fmt.Errorf("projections: list corrections: %w", err)
	}
	out := make([]query.CorrectionView, 0, len(list))
	for _, r := range list {
		out = append(out, correctionViewOf(r))
	}
	if out, err = q.withCorrectionChains(ctx, out); err != nil {
		return nil, "", err
	}
	return page(out, limit, func(v query.CorrectionView) string { return v.ID })
}
