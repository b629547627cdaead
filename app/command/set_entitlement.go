package command

import (
	"context"
	"time"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// SetEntitlement defines an employee's leave of a year.
type SetEntitlement struct {
	Actor      employee.Employee
	Origin     Origin
	EmployeeID string
	Year       int
	Amount     leave.Amount
	Reason     string
}

// EntitlementSet is the year's balance after the change, as of At.
type EntitlementSet struct {
	Balance leave.Balance
	At      time.Time
}

// SetEntitlementHandler defines annual leave.
type SetEntitlementHandler struct {
	store  EventStore
	policy leave.Policy
	now    Now
}

// NewSetEntitlementHandler returns the handler.
func NewSetEntitlementHandler(store EventStore, policy leave.Policy, now Now) SetEntitlementHandler {
	return SetEntitlementHandler{store: store, policy: policy, now: now}
}

// Authorize is nil when actor may define the employee's leave.
func (h SetEntitlementHandler) Authorize(ctx context.Context, actor employee.Employee, employeeID string) error {
	_, err := actOn(ctx, h.store, actor, access.LeaveSetEntitlement, employeeID)
	return err
}

// Handle sets the entitlement.
func (h SetEntitlementHandler) Handle(ctx context.Context, cmd SetEntitlement) (EntitlementSet, error) {
	e, err := actOn(ctx, h.store, cmd.Actor, access.LeaveSetEntitlement, cmd.EmployeeID)
	if err != nil {
		return EntitlementSet{}, err
	}
	at := h.now()
	set := leave.SetEntitlement{EmployeeID: e.EmployeeID, Year: cmd.Year, Amount: cmd.Amount, Reason: cmd.Reason, By: cmd.Actor.EmployeeID,
		Employment: EmploymentOf(e, at)}
	acct, err := decideLeave(ctx, h.store, h.policy, cmd.Origin, cmd.Actor.EmployeeID, e.EmployeeID, set, at)
	if err != nil {
		return EntitlementSet{}, err
	}
	types, err := LoadLeaveTypes(ctx, h.store, h.policy)
	if err != nil {
		return EntitlementSet{}, err
	}
	return EntitlementSet{Balance: acct.Balance(types, leave.BalanceOf{Year: cmd.Year, Employment: EmploymentOf(e, at)}), At: at}, nil
}
