package query

import (
	"cmp"
	"context"
	"time"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
)

// LeaveBalance names a balance of an employee: of a leave type (empty:
// annual) and a leave year, on a calendar date (zero: the whole year, with
// what is due by today), from the events recorded up to AsOf (zero: now).
type LeaveBalance struct {
	Employee employee.Employee
	Type     string
	Year     int
	On       calendar.Date
	AsOf     time.Time
}

// TypedBalance is the balance of one leave type.
type TypedBalance struct {
	Type    string
	Balance leave.Balance
}

// ErrUnknownLeaveType answers a balance of a type the company does not have.
var ErrUnknownLeaveType error = errkind.InvalidField("unknown leave type", "leave_type", "unknown leave type")

// LeaveBalanceHandler folds an employee's balances from their leave stream
// and the company's leave types, so a balance is exact the moment a command
// is answered, and due credits and lapses count whether or not any process
// ran on their day.
type LeaveBalanceHandler struct {
	store  EventStore
	policy leave.Policy
	now    func() time.Time
}

// NewLeaveBalanceHandler returns the handler; policy gives the built-in
// types.
func NewLeaveBalanceHandler(store EventStore, policy leave.Policy, now func() time.Time) LeaveBalanceHandler {
	return LeaveBalanceHandler{store: store, policy: policy, now: now}
}

// Handle returns the balance q names.
func (h LeaveBalanceHandler) Handle(ctx context.Context, q LeaveBalance) (leave.Balance, error) {
	_, b, err := h.Ledger(ctx, q)
	return b, err
}

// Ledger returns the lines that explain the balance q names, and the
// balance.
func (h LeaveBalanceHandler) Ledger(ctx context.Context, q LeaveBalance) ([]leave.Line, leave.Balance, error) {
	acct, types, of, err := h.load(ctx, q)
	if err != nil {
		return nil, leave.Balance{}, err
	}
	if _, ok := types.On(of.Type, calendar.Date{Year: q.Year, Month: time.January, Day: 1}); !ok {
		return nil, leave.Balance{}, ErrUnknownLeaveType
	}
	lines, b := acct.Ledger(types, of)
	return lines, b, nil
}

// All returns the balance of every active type in the year q names (its
// Type aside).
func (h LeaveBalanceHandler) All(ctx context.Context, q LeaveBalance) ([]TypedBalance, error) {
	acct, types, of, err := h.load(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []TypedBalance
	for _, typ := range types.Current() {
		if !typ.Active {
			continue
		}
		of.Type = typ.Code
		out = append(out, TypedBalance{Type: typ.Code, Balance: acct.Balance(types, of)})
	}
	return out, nil
}

// load reads the account and the leave types as recorded by q's AsOf.
func (h LeaveBalanceHandler) load(ctx context.Context, q LeaveBalance) (leave.Account, leave.Types, leave.BalanceOf, error) {
	// Without an as_of, everything recorded, whatever the clocks say.
	load, asOf := h.store.Load, h.now()
	if !q.AsOf.IsZero() {
		asOf = q.AsOf
		load = func(ctx context.Context, stream string) ([]eventstore.Event, error) {
			return h.store.LoadUntil(ctx, stream, asOf)
		}
	}
	events, err := load(ctx, leave.Stream(q.Employee.EmployeeID))
	if err != nil {
		return leave.Account{}, leave.Types{}, leave.BalanceOf{}, err
	}
	policy, err := load(ctx, leave.TypesStream())
	if err != nil {
		return leave.Account{}, leave.Types{}, leave.BalanceOf{}, err
	}
	history := make([]leave.Positioned, len(events))
	for i, e := range events {
		history[i] = leave.Positioned{Position: e.Position, Event: e.Payload}
	}
	of := leave.BalanceOf{
		Type: cmp.Or(q.Type, leave.TypeAnnual), Year: q.Year, On: q.On, Employment: command.EmploymentOf(q.Employee, asOf),
	}
	return leave.ReplayPositioned(history), leave.ReplayTypes(h.policy, command.Payloads(policy)), of, nil
}
