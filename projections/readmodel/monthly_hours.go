package readmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/report"
	"github.com/acme/employee-tracking/eventstore"
)

// Monthly_hours: the days worked, minutes worked and lateness of each
// employee's month, and its days as sets (report.Days) for the monthly report:
// the days with a check-in, of those the days whose forgotten check-out the
// system closed (until a correction), and the days a correction changed, as
// the attendance projection marks them.

type monthKey struct {
	EmployeeID  string
	Year, Month int
}

type monthlyRow struct {
	EmployeeID                                       string
	Year, Month                                      int
	DaysWorked, WorkedMinutes, LateDays, LateMinutes int
	LastDate                                         calendar.Date
	Attended, Review, Corrected                      report.Days
}

var monthlyTable = newTable(table[monthKey, monthlyRow]{
	name:    "monthly_hours",
	columns: []string{"employee_id", "year", "month", "days_worked", "worked_minutes", "late_days", "late_minutes", "last_date", "attended", "review", "corrected"},
	types:   []string{"uuid", "integer", "integer", "integer", "integer", "integer", "integer", "date", "bigint", "bigint", "bigint"},
	keys:    3,
	key:     func(r monthlyRow) monthKey { return monthKey{r.EmployeeID, r.Year, r.Month} },
	keyArgs: func(k monthKey) []any { return []any{k.EmployeeID, k.Year, k.Month} },
	values: func(r monthlyRow) []any {
		return []any{r.EmployeeID, r.Year, r.Month, r.DaysWorked, r.WorkedMinutes, r.LateDays, r.LateMinutes, PGDate(r.LastDate), r.Attended, r.Review, r.Corrected}
	},
	scan: func(row pgx.Row) (monthlyRow, error) {
		var r monthlyRow
		var d pgtype.Date
		err := row.Scan(&r.EmployeeID, &r.Year, &r.Month, &r.DaysWorked, &r.WorkedMinutes, &r.LateDays, &r.LateMinutes, &d, &r.Attended, &r.Review, &r.Corrected)
		r.LastDate = DateOf(d)
		return r, err
	},
})

func monthlyModel() *Model {
	apply := func(months rows[monthKey, monthlyRow]) Apply {
		month := func(ctx context.Context, emp string, d calendar.Date) (monthlyRow, error) {
			k := monthKey{emp, d.Year, int(d.Month)}
			r, ok, err := months.get(ctx, k)
			if !ok {
				r = monthlyRow{EmployeeID: emp, Year: k.Year, Month: k.Month}
			}
			return r, err
		}
		addWorked := func(ctx context.Context, emp string, d calendar.Date, minutes int, bySystem bool) error {
			r, err := month(ctx, emp, d)
			if err != nil {
				return err
			}
			r.WorkedMinutes += minutes
			if bySystem {
				r.Review = r.Review.With(d)
			}
			return months.put(ctx, r)
		}
		return func(ctx context.Context, e eventstore.Event) error {
			switch ev := e.Payload.(type) {
			case attendance.CheckedIn:
				r, err := month(ctx, ev.EmployeeID, ev.LocalDate)
				if err != nil {
					return err
				}
				r.Attended = r.Attended.With(ev.LocalDate)
				// Events of a stream arrive in order, so dates only grow.
				if r.LastDate.Before(ev.LocalDate) {
					r.DaysWorked++
					r.LastDate = ev.LocalDate
				}
				if ev.Late {
					r.LateDays++
					r.LateMinutes += ev.LateMinutes
				}
				return months.put(ctx, r)
			case attendance.CheckedOut:
				return addWorked(ctx, ev.EmployeeID, ev.LocalDate, ev.WorkedMinutes, false)
			case attendance.AutoCheckedOut:
				return addWorked(ctx, ev.EmployeeID, ev.LocalDate, ev.WorkedMinutes, true)
			case attendance.CorrectionApproved:
				r, err := month(ctx, ev.EmployeeID, ev.Date)
				if err != nil {
					return err
				}
				if ev.NewDay {
					r.DaysWorked++
					if r.LastDate.Before(ev.Date) {
						r.LastDate = ev.Date
					}
				}
				// As the attendance projection: the day is attended,
				// corrected, and no longer to review.
				r.Attended, r.Corrected, r.Review = r.Attended.With(ev.Date), r.Corrected.With(ev.Date), r.Review.Without(ev.Date)
				r.WorkedMinutes += ev.WorkedMinutes - ev.PreviousWorkedMinutes
				r.LateMinutes += ev.LateMinutes - ev.PreviousLateMinutes
				// A day is late when its first check-in is (late minutes above none).
				switch {
				case ev.PreviousLateMinutes == 0 && ev.LateMinutes > 0:
					r.LateDays++
				case ev.PreviousLateMinutes > 0 && ev.LateMinutes == 0:
					r.LateDays--
				}
				return months.put(ctx, r)
			}
			return nil
		}
	}
	return &Model{
		Name:     MonthlyHours,
		Category: attendance.Category,
		Tables:   []Table{monthlyTable},
		fold:     func(at tablesAt) Apply { return apply(open(at, monthlyTable)) },
	}
}

// Queries.

// WorkingRoles are the roles expected at work: the monthly report lists them
// and the daily sweep reports their absences. Admins and auditors run and
// read the system; they keep no hours.
var WorkingRoles = []string{string(employee.RoleEmployee), string(employee.RoleManager)}

// ErrInvalidMonth is returned by MonthlyWork for a month outside 1..12 or a
// year outside 1..9999.
var ErrInvalidMonth = errors.New("projections: invalid year or month")

// MonthlyWork reports the month of every active employee of a working role
// (and of anyone else with recorded work that month), with the figures
// report.Month computes from the days read here.
//
// The days of the month each employee checked in come as bit sets (bit d-1
// for day d) in the employee's monthly_hours row, the days on leave
// aggregated the same way from leave_days by date: the report costs three
// round trips (the transaction's start, one batch of statements, its end),
// one row per employee and a pass over at most 31 days each, whatever the
// length of the history.
func (q *Queries) MonthlyWork(ctx context.Context, year, month int, f query.ReportFilter, today calendar.Date) (query.MonthlyReport, error) {
	first := calendar.Date{Year: year, Month: time.Month(month), Day: 1}
	if !first.Valid() {
		return query.MonthlyReport{}, ErrInvalidMonth
	}
	monthly := query.MonthlyReport{Year: year, Month: month, Employees: []query.MonthlyRow{}}
	if (f.EmployeeID != "" && !isUUID(f.EmployeeID)) || (f.ManagerID != "" && !isUUID(f.ManagerID)) {
		return monthly, nil
	}
	next := calendar.Date{Year: year, Month: time.Month(month) + 1, Day: 1}
	if month == 12 {
		next = calendar.Date{Year: year + 1, Month: time.January, Day: 1}
	}
	last := next.AddDays(-1)

	// One snapshot for the rows, the holidays and the position they reflect,
	// read with one round trip: the statements go in one batch.
	tx, err := q.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return query.MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}
	defer tx.Rollback(ctx)
	batch := &pgx.Batch{}
	batch.Queue(`SELECT tx_id, position FROM projection_checkpoints WHERE projection = $1
		ORDER BY tx_id, position LIMIT 1`, MonthlyHours)
	batch.Queue(`SELECT calendar, bit_or(1::bigint << (date - $1)) FROM holidays
		WHERE date BETWEEN $1 AND $2 GROUP BY calendar`, PGDate(first), PGDate(last))
	batch.Queue(`SELECT e.id::text, e.full_name, e.erased, e.hire_date, e.schedule, e.holiday_calendar,
			coalesce(m.days_worked, 0), coalesce(m.worked_minutes, 0), coalesce(m.late_days, 0), coalesce(m.late_minutes, 0),
			coalesce(m.attended, 0), coalesce(m.review, 0), coalesce(m.corrected, 0)
		FROM employees e LEFT JOIN monthly_hours m ON m.employee_id = e.id AND m.year = $1 AND m.month = $2
		WHERE ((e.active AND e.role = ANY($5)) OR m.employee_id IS NOT NULL)
		  AND ($3 = '' OR e.id = $3::uuid) AND ($4 = '' OR e.manager_id = $4::uuid)
		ORDER BY e.full_name, e.id`, year, month, f.EmployeeID, f.ManagerID, WorkingRoles)
	// The days of approved leave, read by date: no join for the planner to
	// get wrong while the table grows faster than its statistics. A report
	// narrowed to an employee or to a manager's reports reads only theirs.
	batch.Queue(`SELECT employee_id::text, bit_or(1::bigint << (date - $1)) FROM leave_days
		WHERE date BETWEEN $1 AND $2 AND ($3 = '' OR employee_id = $3::uuid)
		  AND ($4 = '' OR employee_id IN (SELECT id FROM employees WHERE manager_id = $4::uuid))
		GROUP BY employee_id`, PGDate(first), PGDate(last), f.EmployeeID, f.ManagerID)
	results := tx.SendBatch(ctx, batch)
	defer results.Close()

	var (
		txID *uint64
		pos  *int64
		asOf eventstore.Cursor
	)
	if err := results.QueryRow().Scan(&txID, &pos); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return query.MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}
	if txID != nil {
		asOf = eventstore.Cursor{TxID: *txID, Position: *pos}
	}
	monthly.AsOfPosition = asOf.String()
	holidays, err := daySetsByKey(results) // of each calendar
	if err != nil {
		return query.MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}

	type emp struct {
		row                         query.MonthlyRow
		hire                        calendar.Date
		sched                       employee.Schedule
		calendar                    string // of holidays
		attended, review, corrected report.Days
	}
	rows, err := results.Query()
	if err != nil {
		return query.MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}
	// Most employees share a few schedules: each distinct one is decoded once.
	schedules := map[string]employee.Schedule{}
	emps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (emp, error) {
		var (
			e     emp
			hire  pgtype.Date
			sched []byte
		)
		err := row.Scan(&e.row.EmployeeID, &e.row.FullName, &e.row.Erased, &hire, &sched, &e.calendar,
			&e.row.DaysWorked, &e.row.WorkedMinutes, &e.row.LateDays, &e.row.LateMinutes, &e.attended, &e.review, &e.corrected)
		if err != nil {
			return e, err
		}
		e.hire = DateOf(hire)
		var known bool
		if e.sched, known = schedules[string(sched)]; !known {
			if err := json.Unmarshal(sched, &e.sched); err != nil {
				return e, fmt.Errorf("schedule of %s: %w", e.row.EmployeeID, err)
			}
			schedules[string(sched)] = e.sched
		}
		return e, nil
	})
	if err != nil {
		return query.MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}
	onLeave, err := daySetsByKey(results) // of each employee
	if err != nil {
		return query.MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}
	if err := results.Close(); err != nil {
		return query.MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}
	monthly.Employees = make([]query.MonthlyRow, len(emps))
	for i, e := range emps {
		r := e.row
		f := report.Month{
			First: first, Last: last, Today: today, Hired: e.hire, Schedule: e.sched, WorkedMinutes: r.WorkedMinutes,
			Holidays: holidays[e.calendar], Attended: e.attended, OnLeave: onLeave[r.EmployeeID], Review: e.review, Corrected: e.corrected,
		}.Figures()
		r.ExpectedMinutes, r.LeaveDays, r.AbsentDays, r.OvertimeMinutes, r.WorkedHours, r.ReviewDays, r.CorrectedDays =
			f.ExpectedMinutes, f.LeaveDays, f.AbsentDays, f.OvertimeMinutes, f.WorkedHours, f.ReviewDays, f.CorrectedDays
		monthly.Employees[i] = r
	}
	return monthly, nil
}

// daySetsByKey reads the next result of a batch whose rows are a key and a
// day set.
func daySetsByKey(results pgx.BatchResults) (map[string]report.Days, error) {
	rows, err := results.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]report.Days{}
	for rows.Next() {
		var (
			key  string
			days report.Days
		)
		if err := rows.Scan(&key, &days); err != nil {
			return nil, err
		}
		out[key] = days
	}
	return out, rows.Err()
}
