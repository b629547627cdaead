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

// Attendance_days: each employee's check-in and check-out per local date.

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
}

// Attendance statuses.
const (
	StatusOpen    = "open"
	StatusLate    = "late"
	StatusPresent = "present"
)

var attendanceTable = newTable(table[dayKey, attendanceRow]{
	name:    "attendance_days",
	columns: []string{"employee_id", "date", "check_in", "check_out", "worked_minutes", "late_minutes", "workday", "status"},
	keys:    2,
	key:     func(r attendanceRow) dayKey { return dayKey{r.EmployeeID, r.Date} },
	keyArgs: func(k dayKey) []any { return []any{k.EmployeeID, PGDate(k.Date)} },
	values: func(r attendanceRow) []any {
		return []any{r.EmployeeID, PGDate(r.Date), r.CheckIn, r.CheckOut, r.WorkedMinutes, r.LateMinutes, r.Workday, r.Status}
	},
	scan: func(row pgx.Row) (attendanceRow, error) {
		var r attendanceRow
		var d pgtype.Date
		err := row.Scan(&r.EmployeeID, &d, &r.CheckIn, &r.CheckOut, &r.WorkedMinutes, &r.LateMinutes, &r.Workday, &r.Status)
		r.Date = DateOf(d)
		return r, err
	},
})

func attendanceModel() *Model {
	apply := func(days rows[dayKey, attendanceRow]) Apply {
		return func(ctx context.Context, e eventstore.Event) error {
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
				r.CheckOut, r.Status = nil, StatusOpen
				return days.put(ctx, r)
			case attendance.CheckedOut:
				r, ok, err := days.get(ctx, dayKey{ev.EmployeeID, ev.LocalDate})
				if err != nil {
					return err
				}
				if !ok {
					return poison.Mark(fmt.Errorf("%s %s: no check-in on %s", e.Type, e.ID, ev.LocalDate))
				}
				r.CheckOut = optionalTime(ev.At)
				r.WorkedMinutes += ev.WorkedMinutes
				r.Status = StatusPresent
				if r.LateMinutes > 0 {
					r.Status = StatusLate
				}
				return days.put(ctx, r)
			}
			return nil
		}
	}
	return &Model{
		Name:     Attendance,
		Category: attendance.Category,
		Tables:   []Table{attendanceTable},
		fold:     func(at tablesAt) Apply { return apply(open(at, attendanceTable)) },
	}
}

// Queries.

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
			WorkedMinutes: r.WorkedMinutes, LateMinutes: r.LateMinutes, Status: r.Status})
	}
	return out, nil
}
