package readmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/report"
	"github.com/acme/employee-tracking/eventstore"
)

// ErrNotFound is returned for an id the read models do not hold (including a
// malformed one).
var ErrNotFound = errors.New("projections: not found")

// Paging limits of the list queries.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func clampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}

// Queries answers from the read models.
type Queries struct {
	pool *pgxpool.Pool
}

// NewQueries returns the read side on pool.
func NewQueries(pool *pgxpool.Pool) *Queries { return &Queries{pool: pool} }

// EmployeeView is an employee of the directory.
type EmployeeView struct {
	ID        string            `json:"id"`
	Email     string            `json:"email"`
	FullName  string            `json:"full_name"`
	Role      string            `json:"role"`
	ManagerID *string           `json:"manager_id"`
	Position  string            `json:"position"`
	HireDate  calendar.Date     `json:"hire_date"`
	Schedule  employee.Schedule `json:"schedule"`
	Active    bool              `json:"active"`
}

func viewOf(r employeeRow) EmployeeView {
	return EmployeeView{ID: r.ID, Email: r.Email, FullName: r.FullName, Role: r.Role, ManagerID: r.ManagerID,
		Position: r.Position, HireDate: r.HireDate, Schedule: r.Schedule, Active: r.Active}
}

// Employee returns one employee.
func (q *Queries) Employee(ctx context.Context, id string) (EmployeeView, error) {
	if !isUUID(id) {
		return EmployeeView{}, ErrNotFound
	}
	r, err := employeesTable.scan(q.pool.QueryRow(ctx, employeesTable.selectSQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return EmployeeView{}, ErrNotFound
	}
	if err != nil {
		return EmployeeView{}, fmt.Errorf("projections: employee: %w", err)
	}
	return viewOf(r), nil
}

// EmployeeFilter narrows ListEmployees; empty fields do not filter.
type EmployeeFilter struct {
	ManagerID string // only this manager's reports
	After     string // the next page after this cursor
	Limit     int
}

// ListEmployees returns employees by id, a page at a time; next is the cursor
// of the next page, "" after the last.
func (q *Queries) ListEmployees(ctx context.Context, f EmployeeFilter) ([]EmployeeView, string, error) {
	if (f.ManagerID != "" && !isUUID(f.ManagerID)) || (f.After != "" && !isUUID(f.After)) {
		return []EmployeeView{}, "", nil
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
	out := make([]EmployeeView, 0, len(list))
	for _, r := range list {
		out = append(out, viewOf(r))
	}
	return page(out, limit, func(v EmployeeView) string { return v.ID })
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

// AttendanceDay is an employee's attendance on one local date.
type AttendanceDay struct {
	EmployeeID    string        `json:"employee_id"`
	Date          calendar.Date `json:"date"`
	CheckIn       time.Time     `json:"check_in"`
	CheckOut      *time.Time    `json:"check_out"`
	WorkedMinutes int           `json:"worked_minutes"`
	LateMinutes   int           `json:"late_minutes"`
	Status        string        `json:"status"`
}

// AttendanceDays returns an employee's days from from to to, both included,
// in date order.
func (q *Queries) AttendanceDays(ctx context.Context, employeeID string, from, to calendar.Date) ([]AttendanceDay, error) {
	if !isUUID(employeeID) {
		return []AttendanceDay{}, nil
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
	out := make([]AttendanceDay, 0, len(list))
	for _, r := range list {
		out = append(out, AttendanceDay{EmployeeID: r.EmployeeID, Date: r.Date, CheckIn: r.CheckIn, CheckOut: r.CheckOut,
			WorkedMinutes: r.WorkedMinutes, LateMinutes: r.LateMinutes, Status: r.Status})
	}
	return out, nil
}

// LeaveRequestView is a leave request.
type LeaveRequestView struct {
	ID         string        `json:"id"`
	EmployeeID string        `json:"employee_id"`
	StartDate  calendar.Date `json:"start_date"`
	EndDate    calendar.Date `json:"end_date"`
	Days       int           `json:"days"`
	Reason     string        `json:"reason"`
	Status     string        `json:"status"`
	CreatedAt  time.Time     `json:"created_at"`
	DecidedBy  *string       `json:"decided_by"`
	DecidedAt  *time.Time    `json:"decided_at"`
	Note       string        `json:"note"`
}

func leaveViewOf(r leaveRequestRow) LeaveRequestView {
	return LeaveRequestView{ID: r.ID, EmployeeID: r.EmployeeID, StartDate: r.Start, EndDate: r.End, Days: r.Days,
		Reason: r.Reason, Status: r.Status, CreatedAt: r.CreatedAt, DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, Note: r.Note}
}

// LeaveRequest returns one leave request.
func (q *Queries) LeaveRequest(ctx context.Context, id string) (LeaveRequestView, error) {
	if !isUUID(id) {
		return LeaveRequestView{}, ErrNotFound
	}
	r, err := leaveRequestsTable.scan(q.pool.QueryRow(ctx, leaveRequestsTable.selectSQL, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return LeaveRequestView{}, ErrNotFound
	}
	if err != nil {
		return LeaveRequestView{}, fmt.Errorf("projections: leave request: %w", err)
	}
	return leaveViewOf(r), nil
}

// LeaveFilter narrows ListLeaveRequests; empty fields do not filter.
type LeaveFilter struct {
	Status     string
	EmployeeID string
	ManagerID  string // only requests of this manager's reports
	After      string
	Limit      int
}

// ListLeaveRequests returns leave requests by id, a page at a time.
func (q *Queries) ListLeaveRequests(ctx context.Context, f LeaveFilter) ([]LeaveRequestView, string, error) {
	for _, id := range []string{f.EmployeeID, f.ManagerID, f.After} {
		if id != "" && !isUUID(id) {
			return []LeaveRequestView{}, "", nil
		}
	}
	limit := clampLimit(f.Limit)
	rows, err := q.pool.Query(ctx, `SELECT `+columnList(prefixed("r.", leaveRequestsTable.columns))+` FROM leave_requests r
		WHERE ($1 = '' OR r.status = $1) AND ($2 = '' OR r.employee_id = $2::uuid)
		  AND ($3 = '' OR r.employee_id IN (SELECT id FROM employees WHERE manager_id = $3::uuid))
		  AND ($4 = '' OR r.id > $4::uuid)
		ORDER BY r.id LIMIT $5`, f.Status, f.EmployeeID, f.ManagerID, f.After, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("projections: list leave requests: %w", err)
	}
	list, err := collectRows(rows, leaveRequestsTable.scan)
	if err != nil {
		return nil, "", fmt.Errorf("projections: list leave requests: %w", err)
	}
	out := make([]LeaveRequestView, 0, len(list))
	for _, r := range list {
		out = append(out, leaveViewOf(r))
	}
	return page(out, limit, func(v LeaveRequestView) string { return v.ID })
}

// Holiday is a company holiday.
type Holiday struct {
	Date calendar.Date `json:"date"`
	Name string        `json:"name"`
}

// Holidays returns a year's holidays in date order.
func (q *Queries) Holidays(ctx context.Context, year int) ([]Holiday, error) {
	rows, err := q.pool.Query(ctx, `SELECT date, name FROM holidays WHERE date >= $1 AND date < $2 ORDER BY date`,
		PGDate(calendar.Date{Year: year, Month: time.January, Day: 1}), PGDate(calendar.Date{Year: year + 1, Month: time.January, Day: 1}))
	if err != nil {
		return nil, fmt.Errorf("projections: holidays: %w", err)
	}
	list, err := collectRows(rows, holidaysTable.scan)
	if err != nil {
		return nil, fmt.Errorf("projections: holidays: %w", err)
	}
	out := make([]Holiday, 0, len(list))
	for _, h := range list {
		out = append(out, Holiday(h))
	}
	return out, nil
}

// MonthlyRow is one employee's month.
type MonthlyRow struct {
	EmployeeID      string  `json:"employee_id"`
	FullName        string  `json:"full_name"`
	DaysWorked      int     `json:"days_worked"`
	WorkedMinutes   int     `json:"worked_minutes"`
	WorkedHours     float64 `json:"worked_hours"`
	ExpectedMinutes int     `json:"expected_minutes"`
	LateDays        int     `json:"late_days"`
	LateMinutes     int     `json:"late_minutes"`
	LeaveDays       int     `json:"leave_days"`
	AbsentDays      int     `json:"absent_days"`
	OvertimeMinutes int     `json:"overtime_minutes"`
}

// MonthlyReport is the monthly working hours report.
type MonthlyReport struct {
	Year         int          `json:"year"`
	Month        int          `json:"month"`
	AsOfPosition string       `json:"as_of_position"`
	Employees    []MonthlyRow `json:"employees"`
}

// ReportFilter narrows MonthlyWork; empty fields do not filter.
type ReportFilter struct {
	EmployeeID string
	ManagerID  string
}

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
// The days of the month each employee checked in and was on leave come
// aggregated as bit sets (bit d-1 for day d), one row per employee, read by
// date: the report costs a few round trips and a pass over at most 31 days
// per employee, whatever the length of the history.
func (q *Queries) MonthlyWork(ctx context.Context, year, month int, f ReportFilter, today calendar.Date) (MonthlyReport, error) {
	first := calendar.Date{Year: year, Month: time.Month(month), Day: 1}
	if !first.Valid() {
		return MonthlyReport{}, ErrInvalidMonth
	}
	monthly := MonthlyReport{Year: year, Month: month, Employees: []MonthlyRow{}}
	if (f.EmployeeID != "" && !isUUID(f.EmployeeID)) || (f.ManagerID != "" && !isUUID(f.ManagerID)) {
		return monthly, nil
	}
	next := calendar.Date{Year: year, Month: time.Month(month) + 1, Day: 1}
	if month == 12 {
		next = calendar.Date{Year: year + 1, Month: time.January, Day: 1}
	}
	last := next.AddDays(-1)

	// One snapshot for the rows, the holidays and the position they reflect.
	tx, err := q.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}
	defer tx.Rollback(ctx)

	var (
		holidays report.Days
		txID     *uint64
		pos      *int64
		asOf     eventstore.Cursor
	)
	if err := tx.QueryRow(ctx, `SELECT h.days, c.tx_id, c.position
		FROM (SELECT coalesce(bit_or(1::bigint << (date - $1)), 0) AS days
			FROM holidays WHERE date BETWEEN $1 AND $2) h
		LEFT JOIN LATERAL (SELECT tx_id, position FROM projection_checkpoints WHERE projection = $3
			ORDER BY tx_id, position LIMIT 1) c ON true`,
		PGDate(first), PGDate(last), MonthlyHours).Scan(&holidays, &txID, &pos); err != nil {
		return MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}
	if txID != nil {
		asOf = eventstore.Cursor{TxID: *txID, Position: *pos}
	}
	monthly.AsOfPosition = asOf.String()

	type emp struct {
		row   MonthlyRow
		hire  calendar.Date
		sched employee.Schedule
	}
	rows, err := tx.Query(ctx, `SELECT e.id::text, e.full_name, e.hire_date, e.schedule,
			coalesce(m.days_worked, 0), coalesce(m.worked_minutes, 0), coalesce(m.late_days, 0), coalesce(m.late_minutes, 0)
		FROM employees e LEFT JOIN monthly_hours m ON m.employee_id = e.id AND m.year = $1 AND m.month = $2
		WHERE ((e.active AND e.role = ANY($5)) OR m.employee_id IS NOT NULL)
		  AND ($3 = '' OR e.id = $3::uuid) AND ($4 = '' OR e.manager_id = $4::uuid)
		ORDER BY e.full_name, e.id`, year, month, f.EmployeeID, f.ManagerID, WorkingRoles)
	if err != nil {
		return MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}
	// Most employees share a few schedules: each distinct one is decoded once.
	schedules := map[string]employee.Schedule{}
	emps, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (emp, error) {
		var (
			e     emp
			hire  pgtype.Date
			sched []byte
		)
		err := row.Scan(&e.row.EmployeeID, &e.row.FullName, &hire, &sched,
			&e.row.DaysWorked, &e.row.WorkedMinutes, &e.row.LateDays, &e.row.LateMinutes)
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
		return MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}
	var ids []string // nil, for all, unless the report is narrowed
	if f != (ReportFilter{}) {
		ids = make([]string, len(emps))
		for i, e := range emps {
			ids[i] = e.row.EmployeeID
		}
	}
	attended, err := daySets(ctx, tx, attendanceDaySets, first, last, ids)
	if err != nil {
		return MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}
	onLeave, err := daySets(ctx, tx, leaveDaySets, first, last, ids)
	if err != nil {
		return MonthlyReport{}, fmt.Errorf("projections: monthly work: %w", err)
	}
	monthly.Employees = make([]MonthlyRow, len(emps))
	for i, e := range emps {
		r := e.row
		f := report.Month{
			First: first, Last: last, Today: today, Hired: e.hire, Schedule: e.sched, WorkedMinutes: r.WorkedMinutes,
			Holidays: holidays, Attended: attended[r.EmployeeID], OnLeave: onLeave[r.EmployeeID],
		}.Figures()
		r.ExpectedMinutes, r.LeaveDays, r.AbsentDays, r.OvertimeMinutes, r.WorkedHours =
			f.ExpectedMinutes, f.LeaveDays, f.AbsentDays, f.OvertimeMinutes, f.WorkedHours
		monthly.Employees[i] = r
	}
	return monthly, nil
}

// The days of a month per employee, as day sets, of the employees in $3 (all
// when null). Each reads one table by date: no join for the planner to get
// wrong while the tables grow faster than their statistics.
const (
	attendanceDaySets = `SELECT employee_id::text, bit_or(1::bigint << (date - $1)) FROM attendance_days
		WHERE date BETWEEN $1 AND $2 AND ($3::uuid[] IS NULL OR employee_id = ANY($3)) GROUP BY employee_id`
	leaveDaySets = `SELECT employee_id::text, bit_or(1::bigint << (date - $1)) FROM leave_days
		WHERE date BETWEEN $1 AND $2 AND ($3::uuid[] IS NULL OR employee_id = ANY($3)) GROUP BY employee_id`
)

func daySets(ctx context.Context, tx pgx.Tx, sql string, first, last calendar.Date, ids []string) (map[string]report.Days, error) {
	rows, err := tx.Query(ctx, sql, PGDate(first), PGDate(last), ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]report.Days{}
	for rows.Next() {
		var (
			id   string
			days report.Days
		)
		if err := rows.Scan(&id, &days); err != nil {
			return nil, err
		}
		out[id] = days
	}
	return out, rows.Err()
}

// NotificationView is a notification of a user's inbox.
type NotificationView struct {
	ID        string         `json:"id"`
	Seq       int64          `json:"seq"`
	Type      string         `json:"type"`
	Message   string         `json:"message"`
	Data      map[string]any `json:"data"`
	CreatedAt time.Time      `json:"created_at"`
	Read      bool           `json:"read"`
}

func notificationViewOf(r notificationRow) NotificationView {
	return NotificationView{ID: r.ID, Seq: r.Seq, Type: r.Type, Message: r.Message, Data: r.Data, CreatedAt: r.CreatedAt, Read: r.Read}
}

// Notifications returns a user's notifications with a seq above afterSeq, in
// seq order, at most limit of them.
func (q *Queries) Notifications(ctx context.Context, recipientID string, unreadOnly bool, afterSeq int64, limit int) ([]NotificationView, error) {
	if !isUUID(recipientID) {
		return []NotificationView{}, nil
	}
	rows, err := q.pool.Query(ctx, `SELECT `+columnList(notificationsTable.columns)+` FROM notifications
		WHERE recipient_id = $1 AND seq > $2 AND (NOT $3 OR NOT read) ORDER BY seq LIMIT $4`,
		recipientID, afterSeq, unreadOnly, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("projections: notifications: %w", err)
	}
	list, err := collectRows(rows, notificationsTable.scan)
	if err != nil {
		return nil, fmt.Errorf("projections: notifications: %w", err)
	}
	out := make([]NotificationView, 0, len(list))
	for _, r := range list {
		out = append(out, notificationViewOf(r))
	}
	return out, nil
}

// Notification returns one notification of the recipient's inbox; another
// user's notification is not found.
func (q *Queries) Notification(ctx context.Context, recipientID, id string) (NotificationView, error) {
	if !isUUID(id) || !isUUID(recipientID) {
		return NotificationView{}, ErrNotFound
	}
	r, err := notificationsTable.scan(q.pool.QueryRow(ctx, notificationsTable.selectSQL, id))
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && r.RecipientID != recipientID) {
		return NotificationView{}, ErrNotFound
	}
	if err != nil {
		return NotificationView{}, fmt.Errorf("projections: notification: %w", err)
	}
	return notificationViewOf(r), nil
}

func collectRows[R any](rows pgx.Rows, scan func(pgx.Row) (R, error)) ([]R, error) {
	defer rows.Close()
	var out []R
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// page trims a list fetched with one row more than limit and returns the
// cursor of the next page when there is one.
func page[T any](list []T, limit int, cursor func(T) string) ([]T, string, error) {
	if len(list) <= limit {
		return list, "", nil
	}
	list = list[:limit]
	return list, cursor(list[limit-1]), nil
}

func columnList(cols []string) string { return strings.Join(cols, ", ") }

func prefixed(p string, cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = p + c
	}
	return out
}
