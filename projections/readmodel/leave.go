package readmodel

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/poison"
)

// Leave_requests, leave_days and leave_balances: the requests, the days of approved leave and the balance of each leave year.

type leaveRequestRow struct {
	ID, EmployeeID string
	LeaveType      string
	HalfDay        string
	Hours          float64
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
	// Erased: the employee's personal data was erased; Reason and Note are empty.
	Erased bool
}

var leaveRequestsTable = newTable(table[string, leaveRequestRow]{
	name: "leave_requests",
	columns: []string{"id", "employee_id", "start_date", "end_date", "days", "dates", "amount", "year", "reason", "status",
		"created_at", "decided_by", "decided_at", "note", "leave_type", "half_day", "hours", "erased"},
	types:   []string{"uuid", "uuid", "date", "date", "integer", "date[]", "bigint", "integer", "text", "text", timestamptz, "uuid", timestamptz, "text", "text", "text", "double precision", "boolean"},
	keys:    1,
	key:     func(r leaveRequestRow) string { return r.ID },
	keyArgs: func(k string) []any { return []any{k} },
	values: func(r leaveRequestRow) []any {
		return []any{r.ID, r.EmployeeID, PGDate(r.Start), PGDate(r.End), r.Days, pgDates(r.Dates), r.Amount, r.Year, r.Reason, r.Status,
			r.CreatedAt, r.DecidedBy, r.DecidedAt, r.Note, r.LeaveType, r.HalfDay, r.Hours, r.Erased}
	},
	scan: func(row pgx.Row) (leaveRequestRow, error) {
		var r leaveRequestRow
		var start, end pgtype.Date
		var dates []pgtype.Date
		err := row.Scan(&r.ID, &r.EmployeeID, &start, &end, &r.Days, &dates, &r.Amount, &r.Year, &r.Reason, &r.Status,
			&r.CreatedAt, &r.DecidedBy, &r.DecidedAt, &r.Note, &r.LeaveType, &r.HalfDay, &r.Hours, &r.Erased)
		r.Start, r.End, r.Dates = DateOf(start), DateOf(end), datesOf(dates)
		return r, err
	},
})

type leaveDayRow struct {
	EmployeeID string
	Date       calendar.Date
	RequestID  string
}

// leaveDaysTable holds a row per approved request of each day: a morning and
// an afternoon of one date are two.
var leaveDaysTable = newTable(table[requestDayKey, leaveDayRow]{
	name:    "leave_days",
	columns: []string{"employee_id", "date", "request_id"},
	types:   []string{"uuid", "date", "uuid"},
	keys:    3,
	key:     func(r leaveDayRow) requestDayKey { return requestDayKey(r) },
	keyArgs: func(k requestDayKey) []any { return []any{k.EmployeeID, PGDate(k.Date), k.RequestID} },
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
	types:   []string{"uuid", "integer", "bigint", "boolean", "bigint", "bigint"},
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

// leaveFold keeps the requests, the days of approved leave, and the annual
// leave of each year in version 1's figures (entitlement, used, pending);
// the balances of the API are folded from the stream with the policy
// (app/query), for accruals and lapses are due by the calendar.
type leaveFold struct {
	requests rows[string, leaveRequestRow]
	days     rows[requestDayKey, leaveDayRow]
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
		return poison.Mark(fmt.Errorf("%s %s: unknown leave request %s", e.Type, e.ID, id))
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
			ID: ev.RequestID, EmployeeID: ev.EmployeeID, LeaveType: ev.Type(), HalfDay: ev.HalfDay, Hours: ev.Hours, Start: ev.StartDate, End: ev.EndDate, Days: ev.Days,
			Dates: ev.Dates, Amount: int64(ev.Amount), Year: ev.Year, Reason: ev.Reason, Status: string(leave.StatusPending),
			CreatedAt: ev.RequestedAt.UTC(), Erased: e.Erased,
		})
		if err != nil || ev.Type() != leave.TypeAnnual {
			return err
		}
		return f.balance(ctx, ev.EmployeeID, ev.Year, func(b *leaveBalanceRow) { b.Pending += int64(ev.Amount) })
	case leave.Approved:
		var requested int64
		var annual bool
		err := f.request(ctx, e, ev.RequestID, func(r *leaveRequestRow) error {
			annual = r.LeaveType == leave.TypeAnnual
			r.Status, r.DecidedBy, r.DecidedAt, r.Note = string(leave.StatusApproved), optional(ev.DecidedBy), optionalTime(ev.DecidedAt), ev.Note
			r.Erased = r.Erased || e.Erased
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
		if err != nil || !annual {
			return err
		}
		return f.balance(ctx, ev.EmployeeID, ev.Year, func(b *leaveBalanceRow) {
			b.Pending -= requested
			b.Used += int64(ev.Amount)
		})
	case leave.Rejected:
		var annual bool
		err := f.request(ctx, e, ev.RequestID, func(r *leaveRequestRow) error {
			annual = r.LeaveType == leave.TypeAnnual
			r.Status, r.DecidedBy, r.DecidedAt, r.Note = string(leave.StatusRejected), optional(ev.DecidedBy), optionalTime(ev.DecidedAt), ev.Note
			r.Erased = r.Erased || e.Erased
			return nil
		})
		if err != nil || !annual {
			return err
		}
		return f.balance(ctx, ev.EmployeeID, ev.Year, func(b *leaveBalanceRow) { b.Pending -= int64(ev.Amount) })
	case leave.Cancelled:
		var annual bool
		err := f.request(ctx, e, ev.RequestID, func(r *leaveRequestRow) error {
			annual = r.LeaveType == leave.TypeAnnual
			r.Status = string(leave.StatusCancelled)
			if ev.PreviousStatus != leave.StatusApproved {
				return nil
			}
			for _, d := range r.Dates {
				if err := f.days.del(ctx, requestDayKey{r.EmployeeID, d, r.ID}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || !annual {
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
		Category: leave.Category,
		Tables:   []Table{leaveRequestsTable, leaveDaysTable, leaveBalancesTable},
		fold: func(at tablesAt) Apply {
			return leaveFold{open(at, leaveRequestsTable), open(at, leaveDaysTable), open(at, leaveBalancesTable)}.apply
		},
	}
}

// Queries.

func leaveViewOf(r leaveRequestRow) query.LeaveRequestView {
	return query.LeaveRequestView{ID: r.ID, EmployeeID: r.EmployeeID, LeaveType: r.LeaveType, HalfDay: r.HalfDay, Hours: r.Hours,
		StartDate: r.Start, EndDate: r.End, Days: leave.Amount(r.Amount).Days(),
		Reason: r.Reason, Status: r.Status, CreatedAt: r.CreatedAt, DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, Note: r.Note,
		Erased: r.Erased}
}

// LeaveRequest returns one leave request.
func (q *Queries) LeaveRequest(ctx context.Context, id string) (query.LeaveRequestView, error) {
	r, err := byID(ctx, q.pool, leaveRequestsTable, id, "leave request")
	if err != nil {
		return query.LeaveRequestView{}, err
	}
	views, err := q.withLeaveChains(ctx, []query.LeaveRequestView{leaveViewOf(r)})
	if err != nil {
		return query.LeaveRequestView{}, err
	}
	return views[0], nil
}

// ListLeaveRequests returns leave requests by id, a page at a time.
func (q *Queries) ListLeaveRequests(ctx context.Context, f query.RequestFilter) ([]query.LeaveRequestView, string, error) {
	if !validRequestFilter(f) {
		return []query.LeaveRequestView{}, "", nil
	}
	limit := clampLimit(f.Limit)
	rows, err := q.pool.Query(ctx, `SELECT `+columnList(prefixed("r.", leaveRequestsTable.columns))+` FROM leave_requests r
		WHERE `+requestsWhere(approvalsTable)+` ORDER BY r.id LIMIT $5`, requestArgs(f, limit)...)
	if err != nil {
		return nil, "", fmt.Errorf("projections: list leave requests: %w", err)
	}
	list, err := collectRows(rows, leaveRequestsTable.scan)
	if err != nil {
		return nil, "", fmt.Errorf("projections: list leave requests: %w", err)
	}
	out := make([]query.LeaveRequestView, 0, len(list))
	for _, r := range list {
		out = append(out, leaveViewOf(r))
	}
	if out, err = q.withLeaveChains(ctx, out); err != nil {
		return nil, "", err
	}
	return page(out, limit, func(v query.LeaveRequestView) string { return v.ID })
}
