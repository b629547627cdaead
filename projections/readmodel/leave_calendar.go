package readmodel

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/poison"
)

// Leave_calendar and leave_calendar_requests: the team calendar, one row per
// employee, day and request that is pending or approved, and those requests
// with the days they place. Names come from the directory when it is read.

type calendarRequestRow struct {
	ID, EmployeeID     string
	Dates              []calendar.Date
	LeaveType, HalfDay string
	Status             string
}

var calendarRequestsTable = newTable(table[string, calendarRequestRow]{
	name:    "leave_calendar_requests",
	columns: []string{"id", "employee_id", "dates", "leave_type", "half_day", "status"},
	types:   []string{"uuid", "uuid", "date[]", "text", "text", "text"},
	keys:    1,
	key:     func(r calendarRequestRow) string { return r.ID },
	keyArgs: func(k string) []any { return []any{k} },
	values: func(r calendarRequestRow) []any {
		return []any{r.ID, r.EmployeeID, pgDates(r.Dates), r.LeaveType, r.HalfDay, r.Status}
	},
	scan: func(row pgx.Row) (calendarRequestRow, error) {
		var r calendarRequestRow
		var dates []pgtype.Date
		err := row.Scan(&r.ID, &r.EmployeeID, &dates, &r.LeaveType, &r.HalfDay, &r.Status)
		r.Dates = datesOf(dates)
		return r, err
	},
})

// requestDayKey is a row of a request's day: leave_calendar's, leave_days'.
type requestDayKey struct {
	EmployeeID string
	Date       calendar.Date
	RequestID  string
}

type calendarDayRow struct {
	EmployeeID         string
	Date               calendar.Date
	RequestID          string
	LeaveType, HalfDay string
	Status             string
}

var calendarDaysTable = newTable(table[requestDayKey, calendarDayRow]{
	name:    "leave_calendar",
	columns: []string{"employee_id", "date", "request_id", "leave_type", "half_day", "status"},
	types:   []string{"uuid", "date", "uuid", "text", "text", "text"},
	keys:    3,
	key:     func(r calendarDayRow) requestDayKey { return requestDayKey{r.EmployeeID, r.Date, r.RequestID} },
	keyArgs: func(k requestDayKey) []any { return []any{k.EmployeeID, PGDate(k.Date), k.RequestID} },
	values: func(r calendarDayRow) []any {
		return []any{r.EmployeeID, PGDate(r.Date), r.RequestID, r.LeaveType, r.HalfDay, r.Status}
	},
	scan: func(row pgx.Row) (calendarDayRow, error) {
		var r calendarDayRow
		var d pgtype.Date
		err := row.Scan(&r.EmployeeID, &d, &r.RequestID, &r.LeaveType, &r.HalfDay, &r.Status)
		r.Date = DateOf(d)
		return r, err
	},
})

type calendarFold struct {
	requests rows[string, calendarRequestRow]
	days     rows[requestDayKey, calendarDayRow]
}

// place writes r's days as they stand, and takes off the calendar those of
// was that r no longer has.
func (f calendarFold) place(ctx context.Context, r calendarRequestRow, was []calendar.Date) error {
	for _, d := range was {
		if !slices.Contains(r.Dates, d) {
			if err := f.days.del(ctx, requestDayKey{r.EmployeeID, d, r.ID}); err != nil {
				return err
			}
		}
	}
	for _, d := range r.Dates {
		day := calendarDayRow{EmployeeID: r.EmployeeID, Date: d, RequestID: r.ID, LeaveType: r.LeaveType, HalfDay: r.HalfDay, Status: r.Status}
		if err := f.days.put(ctx, day); err != nil {
			return err
		}
	}
	return f.requests.put(ctx, r)
}

// remove takes a request that is no longer pending or approved off the
// calendar.
func (f calendarFold) remove(ctx context.Context, r calendarRequestRow) error {
	for _, d := range r.Dates {
		if err := f.days.del(ctx, requestDayKey{r.EmployeeID, d, r.ID}); err != nil {
			return err
		}
	}
	return f.requests.del(ctx, r.ID)
}

func (f calendarFold) apply(ctx context.Context, e eventstore.Event) error {
	var id string
	switch ev := e.Payload.(type) {
	case leave.Requested:
		r := calendarRequestRow{ID: ev.RequestID, EmployeeID: ev.EmployeeID, Dates: ev.Dates, LeaveType: ev.Type(),
			HalfDay: ev.HalfDay, Status: string(leave.StatusPending)}
		return f.place(ctx, r, nil)
	case leave.Approved:
		id = ev.RequestID
	case leave.Rejected:
		id = ev.RequestID
	case leave.Cancelled:
		id = ev.RequestID
	default:
		return nil
	}
	r, ok, err := f.requests.get(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return poison.Mark(fmt.Errorf("%s %s: unknown leave request %s", e.Type, e.ID, id))
	}
	if ev, ok := e.Payload.(leave.Approved); ok {
		was := r.Dates
		_, r.Dates = ev.Charged(len(r.Dates), r.Dates)
		r.Status = string(leave.StatusApproved)
		return f.place(ctx, r, was)
	}
	return f.remove(ctx, r)
}

func leaveCalendarModel() *Model {
	return &Model{
		Name:     LeaveCalendar,
		Category: leave.Category,
		Tables:   []Table{calendarRequestsTable, calendarDaysTable},
		fold: func(at tablesAt) Apply {
			return calendarFold{open(at, calendarRequestsTable), open(at, calendarDaysTable)}.apply
		},
	}
}

// Queries.

// LeaveCalendar returns a page of the days of leave f selects, by date,
// employee and request, with the employees' names from the directory.
func (q *Queries) LeaveCalendar(ctx context.Context, f query.LeaveCalendarFilter) ([]query.LeaveDay, query.CalendarCursor, error) {
	for _, id := range []string{f.ManagerID, f.EmployeeID} {
		if id != "" && !isUUID(id) {
			return []query.LeaveDay{}, query.CalendarCursor{}, nil
		}
	}
	limit := clampLimit(f.Limit)
	after := f.After
	if after.IsZero() {
		after = query.CalendarCursor{Date: f.From, EmployeeID: zeroUUID, RequestID: zeroUUID}
	}
	// A team is read through the primary key, employee by employee, and
	// sorted: a few thousand rows at most. Everyone's days come in date order
	// from the date index, a page at a time.
	rows, err := q.pool.Query(ctx, `SELECT c.employee_id, e.full_name, c.date, c.leave_type, c.half_day, c.status, c.request_id
		FROM leave_calendar c LEFT JOIN employees e ON e.id = c.employee_id
		WHERE c.date BETWEEN $1 AND $2 AND (c.date, c.employee_id, c.request_id) > ($3, $4::uuid, $5::uuid)
		  AND ($6 = '' OR c.employee_id IN (SELECT id FROM employees WHERE manager_id = $6::uuid))
		  AND ($7 = '' OR c.employee_id = $7::uuid)
		  AND (NOT $8 OR c.status = 'approved')
		ORDER BY c.date, c.employee_id, c.request_id LIMIT $9`,
		PGDate(f.From), PGDate(f.To), PGDate(after.Date), after.EmployeeID, after.RequestID, f.ManagerID, f.EmployeeID, f.ApprovedOnly, limit+1)
	if err != nil {
		return nil, query.CalendarCursor{}, fmt.Errorf("projections: leave calendar: %w", err)
	}
	list, err := collectRows(rows, func(row pgx.Row) (query.LeaveDay, error) {
		var d query.LeaveDay
		var date pgtype.Date
		var name *string // an employee the directory has not caught up with yet
		err := row.Scan(&d.EmployeeID, &name, &date, &d.LeaveType, &d.HalfDay, &d.Status, &d.RequestID)
		d.Date = DateOf(date)
		if name != nil {
			d.FullName = *name
		}
		return d, err
	})
	if err != nil {
		return nil, query.CalendarCursor{}, fmt.Errorf("projections: leave calendar: %w", err)
	}
	if list == nil {
		list = []query.LeaveDay{}
	}
	if len(list) <= limit {
		return list, query.CalendarCursor{}, nil
	}
	list = list[:limit]
	return list, query.CalendarCursorOf(list[limit-1]), nil
}

// zeroUUID sorts before every id, so a cursor of it starts a day.
const zeroUUID = "00000000-0000-0000-0000-000000000000"

// TeamOverlap counts the reports of managerID other than employeeID with
// pending or approved leave on any of dates.
func (q *Queries) TeamOverlap(ctx context.Context, managerID, employeeID string, dates []calendar.Date) (int, error) {
	if !isUUID(managerID) || !isUUID(employeeID) {
		return 0, nil
	}
	var n int
	err := q.pool.QueryRow(ctx, `SELECT count(DISTINCT c.employee_id) FROM employees e
		JOIN leave_calendar c ON c.employee_id = e.id AND c.date = ANY($3)
		WHERE e.manager_id = $1::uuid AND e.id <> $2::uuid`, managerID, employeeID, pgDates(dates)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("projections: team overlap: %w", err)
	}
	return n, nil
}
