package readmodel

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
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
	return []*Model{directoryModel(), attendanceModel(), leaveModel(), monthlyModel(), holidaysModel(), notificationsModel()}
}

// PGDate is d as a Postgres date, NULL for the zero date.
func PGDate(d calendar.Date) pgtype.Date {
	if d.IsZero() {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: d.In(time.UTC), Valid: true}
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

// Directory of employees.

type employeeRow struct {
	ID, Email, FullName, Role string
	ManagerID                 *string
	Position                  string
	HireDate                  calendar.Date
	Schedule                  employee.Schedule
	Active                    bool
	RegisteredAt              time.Time
}

var employeesTable = newTable(table[string, employeeRow]{
	name:    "employees",
	columns: []string{"id", "email", "full_name", "role", "manager_id", "position", "hire_date", "schedule", "active", "registered_at"},
	keys:    1,
	key:     func(r employeeRow) string { return r.ID },
	keyArgs: func(k string) []any { return []any{k} },
	values: func(r employeeRow) []any {
		return []any{r.ID, r.Email, r.FullName, r.Role, r.ManagerID, r.Position, PGDate(r.HireDate), r.Schedule, r.Active, r.RegisteredAt}
	},
	scan: func(row pgx.Row) (employeeRow, error) {
		var r employeeRow
		var hire pgtype.Date
		err := row.Scan(&r.ID, &r.Email, &r.FullName, &r.Role, &r.ManagerID, &r.Position, &hire, &r.Schedule, &r.Active, &r.RegisteredAt)
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
					Schedule: ev.Schedule, Active: true, RegisteredAt: e.RecordedAt.UTC(),
				})
			}
			id := e.StreamID[len("employee-"):]
			r, ok, err := employees.get(ctx, id)
			if err != nil {
				return err
			}
			if !ok {
				return unappliable(fmt.Errorf("%s %s: employee %s is not registered", e.Type, e.ID, id))
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
			case employee.Deactivated:
				r.Active = false
			case employee.Reactivated:
				r.Active = true
			default:
				return nil
			}
			return employees.put(ctx, r)
		}
	}
	return &Model{
		Name:     Directory,
		Category: "employee",
		Tables:   []Table{employeesTable},
		fold:     func(at tablesAt) Apply { return apply(open(at, employeesTable)) },
	}
}

// Attendance days.

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
					return unappliable(fmt.Errorf("%s %s: no check-in on %s", e.Type, e.ID, ev.LocalDate))
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
		Category: "attendance",
		Tables:   []Table{attendanceTable},
		fold:     func(at tablesAt) Apply { return apply(open(at, attendanceTable)) },
	}
}

// Monthly hours.

type monthKey struct {
	EmployeeID  string
	Year, Month int
}

type monthlyRow struct {
	EmployeeID                                       string
	Year, Month                                      int
	DaysWorked, WorkedMinutes, LateDays, LateMinutes int
	LastDate                                         calendar.Date
}

var monthlyTable = newTable(table[monthKey, monthlyRow]{
	name:    "monthly_hours",
	columns: []string{"employee_id", "year", "month", "days_worked", "worked_minutes", "late_days", "late_minutes", "last_date"},
	keys:    3,
	key:     func(r monthlyRow) monthKey { return monthKey{r.EmployeeID, r.Year, r.Month} },
	keyArgs: func(k monthKey) []any { return []any{k.EmployeeID, k.Year, k.Month} },
	values: func(r monthlyRow) []any {
		return []any{r.EmployeeID, r.Year, r.Month, r.DaysWorked, r.WorkedMinutes, r.LateDays, r.LateMinutes, PGDate(r.LastDate)}
	},
	scan: func(row pgx.Row) (monthlyRow, error) {
		var r monthlyRow
		var d pgtype.Date
		err := row.Scan(&r.EmployeeID, &r.Year, &r.Month, &r.DaysWorked, &r.WorkedMinutes, &r.LateDays, &r.LateMinutes, &d)
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
		return func(ctx context.Context, e eventstore.Event) error {
			switch ev := e.Payload.(type) {
			case attendance.CheckedIn:
				r, err := month(ctx, ev.EmployeeID, ev.LocalDate)
				if err != nil {
					return err
				}
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
				r, err := month(ctx, ev.EmployeeID, ev.LocalDate)
				if err != nil {
					return err
				}
				r.WorkedMinutes += ev.WorkedMinutes
				return months.put(ctx, r)
			}
			return nil
		}
	}
	return &Model{
		Name:     MonthlyHours,
		Category: "attendance",
		Tables:   []Table{monthlyTable},
		fold:     func(at tablesAt) Apply { return apply(open(at, monthlyTable)) },
	}
}

// Leave requests, leave days and balances.

type leaveRequestRow struct {
	ID, EmployeeID string
	Start, End     calendar.Date
	Days           int
	Dates          []calendar.Date
	Amount         int64
	Year           int
	Reason, Status string
	CreatedAt      time.Time
	DecidedBy      *string
	DecidedAt      *time.Time
	Note           string
}

var leaveRequestsTable = newTable(table[string, leaveRequestRow]{
	name: "leave_requests",
	columns: []string{"id", "employee_id", "start_date", "end_date", "days", "dates", "amount", "year", "reason", "status",
		"created_at", "decided_by", "decided_at", "note"},
	keys:    1,
	key:     func(r leaveRequestRow) string { return r.ID },
	keyArgs: func(k string) []any { return []any{k} },
	values: func(r leaveRequestRow) []any {
		dates := make([]pgtype.Date, len(r.Dates))
		for i, d := range r.Dates {
			dates[i] = PGDate(d)
		}
		return []any{r.ID, r.EmployeeID, PGDate(r.Start), PGDate(r.End), r.Days, dates, r.Amount, r.Year, r.Reason, r.Status,
			r.CreatedAt, r.DecidedBy, r.DecidedAt, r.Note}
	},
	scan: func(row pgx.Row) (leaveRequestRow, error) {
		var r leaveRequestRow
		var start, end pgtype.Date
		var dates []pgtype.Date
		err := row.Scan(&r.ID, &r.EmployeeID, &start, &end, &r.Days, &dates, &r.Amount, &r.Year, &r.Reason, &r.Status,
			&r.CreatedAt, &r.DecidedBy, &r.DecidedAt, &r.Note)
		r.Start, r.End = DateOf(start), DateOf(end)
		r.Dates = make([]calendar.Date, len(dates))
		for i, d := range dates {
			r.Dates[i] = DateOf(d)
		}
		return r, err
	},
})

type leaveDayRow struct {
	EmployeeID string
	Date       calendar.Date
	RequestID  string
}

var leaveDaysTable = newTable(table[dayKey, leaveDayRow]{
	name:    "leave_days",
	columns: []string{"employee_id", "date", "request_id"},
	keys:    2,
	key:     func(r leaveDayRow) dayKey { return dayKey{r.EmployeeID, r.Date} },
	keyArgs: func(k dayKey) []any { return []any{k.EmployeeID, PGDate(k.Date)} },
	values:  func(r leaveDayRow) []any { return []any{r.EmployeeID, PGDate(r.Date), r.RequestID} },
	scan: func(row pgx.Row) (leaveDayRow, error) {
		var r leaveDayRow
		var d pgtype.Date
		err := row.Scan(&r.EmployeeID, &d, &r.RequestID)
		r.Date = DateOf(d)
		return r, err
	},
})

type yearKey struct {
	EmployeeID string
	Year       int
}

type leaveBalanceRow struct {
	EmployeeID         string
	Year               int
	Entitlement        int64
	EntitlementDefined bool
	Used, Pending      int64
}

var leaveBalancesTable = newTable(table[yearKey, leaveBalanceRow]{
	name:    "leave_balances",
	columns: []string{"employee_id", "year", "entitlement", "entitlement_defined", "used", "pending"},
	keys:    2,
	key:     func(r leaveBalanceRow) yearKey { return yearKey{r.EmployeeID, r.Year} },
	keyArgs: func(k yearKey) []any { return []any{k.EmployeeID, k.Year} },
	values: func(r leaveBalanceRow) []any {
		return []any{r.EmployeeID, r.Year, r.Entitlement, r.EntitlementDefined, r.Used, r.Pending}
	},
	scan: func(row pgx.Row) (leaveBalanceRow, error) {
		var r leaveBalanceRow
		err := row.Scan(&r.EmployeeID, &r.Year, &r.Entitlement, &r.EntitlementDefined, &r.Used, &r.Pending)
		return r, err
	},
})

// leaveFold mirrors leave.Account's arithmetic so that the balances need no
// replay of the stream.
type leaveFold struct {
	requests rows[string, leaveRequestRow]
	days     rows[dayKey, leaveDayRow]
	balances rows[yearKey, leaveBalanceRow]
}

func (f leaveFold) balance(ctx context.Context, emp string, year int, change func(*leaveBalanceRow)) error {
	b, ok, err := f.balances.get(ctx, yearKey{emp, year})
	if err != nil {
		return err
	}
	if !ok {
		b = leaveBalanceRow{EmployeeID: emp, Year: year}
	}
	change(&b)
	return f.balances.put(ctx, b)
}

func (f leaveFold) request(ctx context.Context, e eventstore.Event, id string, change func(*leaveRequestRow) error) error {
	r, ok, err := f.requests.get(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return unappliable(fmt.Errorf("%s %s: unknown leave request %s", e.Type, e.ID, id))
	}
	if err := change(&r); err != nil {
		return err
	}
	return f.requests.put(ctx, r)
}

func (f leaveFold) apply(ctx context.Context, e eventstore.Event) error {
	switch ev := e.Payload.(type) {
	case leave.Granted:
		return f.balance(ctx, ev.EmployeeID, ev.Year, func(b *leaveBalanceRow) {
			if !b.EntitlementDefined {
				b.Entitlement, b.EntitlementDefined = int64(ev.Amount), true
			}
		})
	case leave.EntitlementSet:
		return f.balance(ctx, ev.EmployeeID, ev.Year, func(b *leaveBalanceRow) {
			b.Entitlement, b.EntitlementDefined = int64(ev.Amount), true
		})
	case leave.Requested:
		err := f.requests.put(ctx, leaveRequestRow{
			ID: ev.RequestID, EmployeeID: ev.EmployeeID, Start: ev.StartDate, End: ev.EndDate, Days: ev.Days,
			Dates: ev.Dates, Amount: int64(ev.Amount), Year: ev.Year, Reason: ev.Reason, Status: string(leave.StatusPending),
			CreatedAt: ev.RequestedAt.UTC(),
		})
		if err != nil {
			return err
		}
		return f.balance(ctx, ev.EmployeeID, ev.Year, func(b *leaveBalanceRow) { b.Pending += int64(ev.Amount) })
	case leave.Approved:
		var requested int64
		err := f.request(ctx, e, ev.RequestID, func(r *leaveRequestRow) error {
			r.Status, r.DecidedBy, r.DecidedAt, r.Note = string(leave.StatusApproved), optional(ev.DecidedBy), optionalTime(ev.DecidedAt), ev.Note
			requested = r.Amount
			r.Days, r.Dates = ev.Charged(r.Days, r.Dates)
			r.Amount = int64(ev.Amount)
			for _, d := range r.Dates {
				if err := f.days.put(ctx, leaveDayRow{EmployeeID: r.EmployeeID, Date: d, RequestID: r.ID}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return f.balance(ctx, ev.EmployeeID, ev.Year, func(b *leaveBalanceRow) {
			b.Pending -= requested
			b.Used += int64(ev.Amount)
		})
	case leave.Rejected:
		err := f.request(ctx, e, ev.RequestID, func(r *leaveRequestRow) error {
			r.Status, r.DecidedBy, r.DecidedAt, r.Note = string(leave.StatusRejected), optional(ev.DecidedBy), optionalTime(ev.DecidedAt), ev.Note
			return nil
		})
		if err != nil {
			return err
		}
		return f.balance(ctx, ev.EmployeeID, ev.Year, func(b *leaveBalanceRow) { b.Pending -= int64(ev.Amount) })
	case leave.Cancelled:
		err := f.request(ctx, e, ev.RequestID, func(r *leaveRequestRow) error {
			r.Status = string(leave.StatusCancelled)
			if ev.PreviousStatus != leave.StatusApproved {
				return nil
			}
			for _, d := range r.Dates {
				if err := f.days.del(ctx, dayKey{r.EmployeeID, d}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return f.balance(ctx, ev.EmployeeID, ev.Year, func(b *leaveBalanceRow) {
			switch ev.PreviousStatus {
			case leave.StatusPending:
				b.Pending -= int64(ev.Amount)
			case leave.StatusApproved:
				b.Used -= int64(ev.Amount)
			}
		})
	case leave.LatenessDeducted:
		return f.balance(ctx, ev.EmployeeID, ev.Year, func(b *leaveBalanceRow) { b.Used += int64(ev.Amount) })
	}
	return nil
}

func leaveModel() *Model {
	return &Model{
		Name:     Leave,
		Category: "leave",
		Tables:   []Table{leaveRequestsTable, leaveDaysTable, leaveBalancesTable},
		fold: func(at tablesAt) Apply {
			return leaveFold{open(at, leaveRequestsTable), open(at, leaveDaysTable), open(at, leaveBalancesTable)}.apply
		},
	}
}

// Holidays.

type holidayRow struct {
	Date calendar.Date
	Name string
}

var holidaysTable = newTable(table[calendar.Date, holidayRow]{
	name:    "holidays",
	columns: []string{"date", "name"},
	keys:    1,
	key:     func(r holidayRow) calendar.Date { return r.Date },
	keyArgs: func(k calendar.Date) []any { return []any{PGDate(k)} },
	values:  func(r holidayRow) []any { return []any{PGDate(r.Date), r.Name} },
	scan: func(row pgx.Row) (holidayRow, error) {
		var r holidayRow
		var d pgtype.Date
		err := row.Scan(&d, &r.Name)
		r.Date = DateOf(d)
		return r, err
	},
})

func holidaysModel() *Model {
	apply := func(days rows[calendar.Date, holidayRow]) Apply {
		return func(ctx context.Context, e eventstore.Event) error {
			switch ev := e.Payload.(type) {
			case holiday.Declared:
				return days.put(ctx, holidayRow{Date: ev.Date, Name: ev.Name})
			case holiday.Withdrawn:
				return days.del(ctx, ev.Date)
			}
			return nil
		}
	}
	return &Model{
		Name:     Holidays,
		Category: "holidays",
		Tables:   []Table{holidaysTable},
		fold:     func(at tablesAt) Apply { return apply(open(at, holidaysTable)) },
	}
}

// Notification inboxes.

type notificationRow struct {
	ID, RecipientID string
	Seq             int64
	Type, Message   string
	Data            map[string]any
	CreatedAt       time.Time
	Read            bool
	ReadAt          *time.Time
}

var notificationsTable = newTable(table[string, notificationRow]{
	name:    "notifications",
	columns: []string{"id", "recipient_id", "seq", "type", "message", "data", "created_at", "read", "read_at"},
	keys:    1,
	key:     func(r notificationRow) string { return r.ID },
	keyArgs: func(k string) []any { return []any{k} },
	values: func(r notificationRow) []any {
		return []any{r.ID, r.RecipientID, r.Seq, r.Type, r.Message, r.Data, r.CreatedAt, r.Read, r.ReadAt}
	},
	scan: func(row pgx.Row) (notificationRow, error) {
		var r notificationRow
		err := row.Scan(&r.ID, &r.RecipientID, &r.Seq, &r.Type, &r.Message, &r.Data, &r.CreatedAt, &r.Read, &r.ReadAt)
		return r, err
	},
})

func notificationsModel() *Model {
	apply := func(inbox rows[string, notificationRow]) Apply {
		return func(ctx context.Context, e eventstore.Event) error {
			switch ev := e.Payload.(type) {
			case notification.Raised:
				data := ev.Data
				if data == nil {
					data = map[string]any{}
				}
				return inbox.put(ctx, notificationRow{
					ID: ev.NotificationID, RecipientID: ev.RecipientID, Seq: e.Version, Type: string(ev.Type),
					Message: ev.Message, Data: data, CreatedAt: ev.RaisedAt.UTC(),
				})
			case notification.Read:
				r, ok, err := inbox.get(ctx, ev.NotificationID)
				if err != nil {
					return err
				}
				if !ok {
					return unappliable(fmt.Errorf("%s %s: unknown notification %s", e.Type, e.ID, ev.NotificationID))
				}
				r.Read, r.ReadAt = true, optionalTime(ev.ReadAt)
				return inbox.put(ctx, r)
			}
			return nil
		}
	}
	return &Model{
		Name:     Notifications,
		Category: "notify",
		Tables:   []Table{notificationsTable},
		fold:     func(at tablesAt) Apply { return apply(open(at, notificationsTable)) },
	}
}
