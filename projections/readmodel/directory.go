package readmodel

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/poison"
)

// Employees: the directory of employees.

type employeeRow struct {
	ID, Email, FullName, Role string
	ManagerID                 *string
	Position                  string
	HireDate                  calendar.Date
	Schedule                  employee.Schedule
	Active                    bool
	RegisteredAt              time.Time
	// Erased: the personal fields were erased and are empty.
	Erased          bool
	HolidayCalendar string
}

var employeesTable = newTable(table[string, employeeRow]{
	name:    "employees",
	columns: []string{"id", "email", "full_name", "role", "manager_id", "position", "hire_date", "schedule", "active", "registered_at", "erased", "holiday_calendar"},
	types:   []string{"uuid", "text", "text", "text", "uuid", "text", "date", "jsonb", "boolean", timestamptz, "boolean", "text"},
	keys:    1,
	key:     func(r employeeRow) string { return r.ID },
	keyArgs: func(k string) []any { return []any{k} },
	values: func(r employeeRow) []any {
		return []any{r.ID, r.Email, r.FullName, r.Role, r.ManagerID, r.Position, PGDate(r.HireDate), r.Schedule, r.Active, r.RegisteredAt, r.Erased, r.HolidayCalendar}
	},
	scan: func(row pgx.Row) (employeeRow, error) {
		var r employeeRow
		var hire pgtype.Date
		err := row.Scan(&r.ID, &r.Email, &r.FullName, &r.Role, &r.ManagerID, &r.Position, &hire, &r.Schedule, &r.Active, &r.RegisteredAt, &r.Erased, &r.HolidayCalendar)
		r.HireDate = DateOf(hire)
		return r, err
	},
})

func directoryModel() *Model {
	apply := func(employees rows[string, employeeRow]) Apply {
		return func(ctx context.Context, e eventstore.Event) error {
			if ev, ok := e.Payload.(employee.Registered); ok {
				return employees.put(ctx, employeeRow{
					ID: ev.EmployeeID, Email: ev.Email, FullName: ev.FullName, Role: string(ev.Role),
					ManagerID: optional(ev.ManagerID), Position: ev.Position, HireDate: ev.HireDate,
					Schedule: ev.Schedule, Active: true, RegisteredAt: e.RecordedAt.UTC(), Erased: e.Erased,
					HolidayCalendar: holiday.CalendarCode(ev.HolidayCalendar),
				})
			}
			category, id, ok := streamid.Split(e.StreamID)
			if !ok || category != employee.Category {
				return poison.Mark(fmt.Errorf("%s %s: %q is not an employee's stream", e.Type, e.ID, e.StreamID))
			}
			r, ok, err := employees.get(ctx, id)
			if err != nil {
				return err
			}
			if !ok {
				return poison.Mark(fmt.Errorf("%s %s: employee %s is not registered", e.Type, e.ID, id))
			}
			switch ev := e.Payload.(type) {
			case employee.ScheduleChanged:
				r.Schedule = ev.Schedule
			case employee.ManagerChanged:
				r.ManagerID = optional(ev.ManagerID)
			case employee.RoleChanged:
				r.Role = string(ev.Role)
			case employee.PositionChanged:
				r.Position = ev.Position
			case employee.HolidayCalendarChanged:
				r.HolidayCalendar = ev.HolidayCalendar
			case employee.Deactivated:
				r.Active = false
			case employee.Reactivated:
				r.Active = true
			case employee.Erased:
				r = erasedEmployee(r)
			default:
				return nil
			}
			return employees.put(ctx, r)
		}
	}
	return &Model{
		Name:     Directory,
		Category: employee.Category,
		Tables:   []Table{employeesTable},
		fold:     func(at tablesAt) Apply { return apply(open(at, employeesTable)) },
	}
}

// erasedEmployee is r with its personal fields erased; ErasePersonal writes
// the same.
func erasedEmployee(r employeeRow) employeeRow {
	r.Email, r.FullName, r.Position, r.Active, r.Erased = "", "", "", false, true
	return r
}

// Queries.

func viewOf(r employeeRow) query.EmployeeView {
	return query.EmployeeView{ID: r.ID, Email: r.Email, FullName: r.FullName, Role: r.Role, ManagerID: r.ManagerID,
		Position: r.Position, HireDate: r.HireDate, Schedule: r.Schedule, HolidayCalendar: r.HolidayCalendar, Active: r.Active,
		Erased: r.Erased}
}

// Employee returns one employee.
func (q *Queries) Employee(ctx context.Context, id string) (query.EmployeeView, error) {
	r, err := byID(ctx, q.pool, employeesTable, id, "employee")
	if err != nil {
		return query.EmployeeView{}, err
	}
	return viewOf(r), nil
}

// ListEmployees returns employees by id, a page at a time; next is the cursor
// of the next page, "" after the last.
func (q *Queries) ListEmployees(ctx context.Context, f query.EmployeeFilter) ([]query.EmployeeView, string, error) {
	if (f.ManagerID != "" && !isUUID(f.ManagerID)) || (f.After != "" && !isUUID(f.After)) {
		return []query.EmployeeView{}, "", nil
	}
	limit := clampLimit(f.Limit)
	rows, err := q.pool.Query(ctx, `SELECT `+columnList(employeesTable.columns)+` FROM employees
		WHERE ($1 = '' OR manager_id = $1::uuid) AND ($2 = '' OR id > $2::uuid)
		ORDER BY id LIMIT $3`, f.ManagerID, f.After, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("projections: list employees: %w", err)
	}
	list, err := collectRows(rows, employeesTable.scan)
	if err != nil {
		return nil, "", fmt.Errorf("projections: list employees: %w", err)
	}
	out := make([]query.EmployeeView, 0, len(list))
	for _, r := range list {
		out = append(out, viewOf(r))
	}
	return page(out, limit, func(v query.EmployeeView) string { return v.ID })
}

// Admins returns the ids of the active admins.
func (q *Queries) Admins(ctx context.Context) ([]string, error) {
	rows, err := q.pool.Query(ctx, `SELECT id::text FROM employees WHERE active AND role = $1 ORDER BY id`, string(employee.RoleAdmin))
	if err != nil {
		return nil, fmt.Errorf("projections: admins: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("projections: admins: %w", err)
	}
	return ids, nil
}
