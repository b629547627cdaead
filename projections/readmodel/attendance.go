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

// Attendance_days: each employee's check-in and check-out per local date,
// as corrected; and the corrections (corrections.go).

type dayKey struct {
	EmployeeID string
	Date       calendar.Date
}

type attendanceRow struct {
	EmployeeID                 string
	Date                       calendar.Date
	CheckIn                    time.Time
	CheckOut                   *time.Time
	WorkedMinutes, LateMinutes int
	Workday                    bool
	Status                     string
	// NeedsReview marks a day whose check-in the system closed.
	NeedsReview bool
	// Corrected marks a day an approved correction changed.
	Corrected bool
	// CloseAt is, while the day is open, when its open check-in would be
	// closed: the auto check-out's due-time query reads it.
	CloseAt *time.Time
}

// Attendance statuses.
const (
	StatusOpen    = "open"
	StatusLate    = "late"
	StatusPresent = "present"
)

var attendanceTable = newTable(table[dayKey, attendanceRow]{
	name:    "attendance_days",
	columns: []string{"employee_id", "date", "check_in", "check_out", "worked_minutes", "late_minutes", "workday", "status", "needs_review", "close_at", "corrected"},
	types:   []string{"uuid", "date", timestamptz, timestamptz, "integer", "integer", "boolean", "text", "boolean", timestamptz, "boolean"},
	keys:    2,
	key:     func(r attendanceRow) dayKey { return dayKey{r.EmployeeID, r.Date} },
	keyArgs: func(k dayKey) []any { return []any{k.EmployeeID, PGDate(k.Date)} },
	values: func(r attendanceRow) []any {
		return []any{r.EmployeeID, PGDate(r.Date), r.CheckIn, r.CheckOut, r.WorkedMinutes, r.LateMinutes, r.Workday, r.Status, r.NeedsReview, r.CloseAt, r.Corrected}
	},
	scan: func(row pgx.Row) (attendanceRow, error) {
		var r attendanceRow
		var d pgtype.Date
		err := row.Scan(&r.EmployeeID, &d, &r.CheckIn, &r.CheckOut, &r.WorkedMinutes, &r.LateMinutes, &r.Workday, &r.Status, &r.NeedsReview, &r.CloseAt, &r.Corrected)
		r.Date = DateOf(d)
		return r, err
	},
})

func attendanceModel() *Model {
	apply := func(days rows[dayKey, attendanceRow], corrections rows[string, correctionRow], chains Apply) Apply {
		return func(ctx context.Context, e eventstore.Event) error {
			if err := applyCorrection(ctx, corrections, e); err != nil {
				return err
			}
			if err := chains(ctx, e); err != nil {
				return err
			}
			switch ev := e.Payload.(type) {
			case attendance.CheckedIn:
				r, ok, err := days.get(ctx, dayKey{ev.EmployeeID, ev.LocalDate})
				if err != nil {
					return err
				}
				if !ok {
					// Only the day's first check-in can be late.
					r = attendanceRow{EmployeeID: ev.EmployeeID, Date: ev.LocalDate, CheckIn: ev.At.UTC(), Workday: ev.Workday}
					if ev.Late {
						r.LateMinutes = ev.LateMinutes
					}
				}
				r.CheckOut, r.Status, r.CloseAt = nil, StatusOpen, nil
				if at, ok := ev.CloseAt(); ok {
					r.CloseAt = &at
				}
				return days.put(ctx, r)
			case attendance.CheckedOut:
				return checkOut(ctx, days, e, ev.EmployeeID, ev.LocalDate, ev.At, ev.WorkedMinutes, false)
			case attendance.AutoCheckedOut:
				return checkOut(ctx, days, e, ev.EmployeeID, ev.LocalDate, ev.At, ev.WorkedMinutes, true)
			case attendance.CorrectionApproved:
				return correctDay(ctx, days, ev)
			}
			return nil
		}
	}
	return &Model{
		Name:     Attendance,
		Category: attendance.Category,
		Tables:   []Table{attendanceTable, correctionsTable, correctionApprovalsTable},
		fold: func(at tablesAt) Apply {
			return apply(open(at, attendanceTable), open(at, correctionsTable), foldCorrectionChains(open(at, correctionApprovalsTable)))
		},
	}
}

// checkOut closes the day's open check-in at at; closed by the system, the
// day needs review.
func checkOut(ctx context.Context, days rows[dayKey, attendanceRow], e eventstore.Event, employeeID string, date calendar.Date,
	at time.Time, worked int, bySystem bool) error {
	r, ok, err := days.get(ctx, dayKey{employeeID, date})
	if err != nil {
		return err
	}
	if !ok {
		return poison.Mark(fmt.Errorf("%s %s: no check-in on %s", e.Type, e.ID, date))
	}
	r.CheckOut, r.CloseAt = optionalTime(at), nil
	r.WorkedMinutes += worked
	r.NeedsReview = r.NeedsReview || bySystem
	r.Status = StatusPresent
	if r.LateMinutes > 0 {
		r.Status = StatusLate
	}
	return days.put(ctx, r)
}

// Queries.

// OpenCheckIn is an open day of the attendance read model by when its
// check-in closes: a due-time query's row and its cursor.
type OpenCheckIn struct {
	CloseAt    time.Time
	EmployeeID string
}

// OpenCheckInsClosingBy returns, in (CloseAt, EmployeeID) order after after
// and at most limit, the open check-ins that close at or before t: with t
// now less AUTO_CHECKOUT_AFTER, the forgotten check-outs due.
func (q *Queries) OpenCheckInsClosingBy(ctx context.Context, t time.Time, after OpenCheckIn, limit int) ([]OpenCheckIn, error) {
	rows, err := q.pool.Query(ctx, `SELECT close_at, employee_id::text FROM attendance_days
		WHERE status = 'open' AND close_at <= $1 AND (close_at, employee_id::text) > ($2, $3)
		ORDER BY close_at, employee_id::text LIMIT $4`, t, after.CloseAt, after.EmployeeID, limit)
	if err != nil {
		return nil, fmt.Errorf("projections: open check-ins: %w", err)
	}
	open, err := pgx.CollectRows(rows, pgx.RowToStructByPos[OpenCheckIn])
	if err != nil {
		return nil, fmt.Errorf("projections: open check-ins: %w", err)
	}
	return open, nil
}

// AttendanceDays returns an employee's days from from to to, both included,
// in date order.
func (q *Queries) AttendanceDays(ctx context.Context, employeeID string, from, to calendar.Date) ([]query.AttendanceDay, error) {
	if !isUUID(employeeID) {
		return []query.AttendanceDay{}, nil
	}
	rows, err := q.pool.Query(ctx, `SELECT `+columnList(attendanceTable.columns)+` FROM attendance_days
		WHERE employee_id = $1 AND date BETWEEN $2 AND $3 ORDER BY date`, employeeID, PGDate(from), PGDate(to))
	if err != nil {
		return nil, fmt.Errorf("projections: attendance days: %w", err)
	}
	list, err := collectRows(rows, attendanceTable.scan)
	if err != nil {
		return nil, fmt.Errorf("projections: attendance days: %w", err)
	}
	out := make([]query.AttendanceDay, 0, len(list))
	for _, r := range list {
		out = append(out, query.AttendanceDay{EmployeeID: r.EmployeeID, Date: r.Date, CheckIn: r.CheckIn, CheckOut: r.CheckOut,
			WorkedMinutes: r.WorkedMinutes, LateMinutes: r.LateMinutes, Status: r.Status, NeedsReview: r.NeedsReview, Corrected: r.Corrected})
	}
	return out, nil
}
