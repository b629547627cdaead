package command

import (
	"cmp"
	"context"
	"time"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// AdjustLeave credits (a positive Amount) or debits a tracked type's
// balance of an employee by hand, for a reason.
type AdjustLeave struct {
	Actor      employee.Employee
	Origin     Origin
	EmployeeID string
	LeaveType  string // empty: annual
	Amount     leave.Amount
	Reason     string
}

// LeaveAdjusted is the adjusted year's balance of the type, as of At.
type LeaveAdjusted struct {
	Type    string
	Year    int
	Balance leave.Balance
	At      time.Time
}

// AdjustLeaveHandler adjusts balances: the employee's manager or an admin.
type AdjustLeaveHandler struct {
	store  EventStore
	policy leave.Policy
	now    Now
}

// NewAdjustLeaveHandler returns the handler.
func NewAdjustLeaveHandler(store EventStore, policy leave.Policy, now Now) AdjustLeaveHandler {
	return AdjustLeaveHandler{store: store, policy: policy, now: now}
}

// Authorize is nil when actor may adjust the employee's balances.
func (h AdjustLeaveHandler) Authorize(ctx context.Context, actor employee.Employee, employeeID string) error {
	_, err := actOn(ctx, h.store, actor, access.LeaveAdjust, employeeID)
	return err
}

// Handle adjusts the balance of the year of today where the employee works.
func (h AdjustLeaveHandler) Handle(ctx context.Context, cmd AdjustLeave) (LeaveAdjusted, error) {
	e, err := actOn(ctx, h.store, cmd.Actor, access.LeaveAdjust, cmd.EmployeeID)
	if err != nil {
		return LeaveAdjusted{}, err
	}
	at := h.now()
	employment := EmploymentOf(e, at)
	code := cmp.Or(cmd.LeaveType, leave.TypeAnnual)
	adjust := leave.Adjust{
		EmployeeID: e.EmployeeID, LeaveType: code, Amount: cmd.Amount, Reason: cmd.Reason, By: cmd.Actor.EmployeeID,
		At: at, Employment: employment,
	}
	acct, err := decideLeave(ctx, h.store, h.policy, cmd.Origin, cmd.Actor.EmployeeID, e.EmployeeID, adjust, at)
	if err != nil {
		return LeaveAdjusted{}, err
	}
	types, err := LoadLeaveTypes(ctx, h.store, h.policy)
	if err != nil {
		return LeaveAdjusted{}, err
	}
	q := leave.BalanceOf{Type: code, Year: employment.Today.Year, Employment: employment}
	return LeaveAdjusted{Type: code, Year: q.Year, Balance: acct.Balance(types, q), At: at}, nil
}
