package command

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
)

// DelegateApprovals lets a delegate decide a manager's approval steps, and
// be told of them, for a period.
type DelegateApprovals struct {
	Actor  employee.Employee
	Origin Origin
	// ManagerID is whose steps are delegated: the actor's own when empty.
	ManagerID  string
	DelegateID string
	Start, End calendar.Date
}

// DelegateApprovalsHandler records delegations.
type DelegateApprovalsHandler struct {
	store EventStore
	now   Now
}

// NewDelegateApprovalsHandler returns the handler.
func NewDelegateApprovalsHandler(store EventStore, now Now) DelegateApprovalsHandler {
	return DelegateApprovalsHandler{store: store, now: now}
}

// errNoDelegate refuses a delegate who cannot decide anything: unknown,
// inactive, or an auditor.
var errNoDelegate error = errkind.InvalidField("invalid input", "delegate_id", "must name an active employee who is not an auditor")

// Handle records the delegation and returns it. A manager delegates their
// own steps; an admin anyone's.
func (h DelegateApprovalsHandler) Handle(ctx context.Context, cmd DelegateApprovals) (approval.Delegation, error) {
	managerID := cmd.ManagerID
	if managerID == "" {
		managerID = cmd.Actor.EmployeeID
	}
	if managerID != cmd.Actor.EmployeeID && access.Scope(cmd.Actor, access.DelegationGrant)&^access.Self == 0 {
		return approval.Delegation{}, ErrForbidden // a manager delegates only their own steps
	}
	manager, err := actOn(ctx, h.store, cmd.Actor, access.DelegationGrant, managerID)
	if errors.Is(err, employee.ErrNotFound) && cmd.ManagerID != "" {
		return approval.Delegation{}, errkind.InvalidField("invalid input", "manager_id", "must name an employee")
	}
	if err != nil {
		return approval.Delegation{}, err
	}
	delegate, err := LoadEmployee(ctx, h.store, cmd.DelegateID)
	if errors.Is(err, employee.ErrNotFound) || (err == nil && (!delegate.Active || delegate.Role == employee.RoleAuditor)) {
		return approval.Delegation{}, errNoDelegate
	}
	if err != nil {
		return approval.Delegation{}, err
	}
	id := uuid.New()
	if seed := cmd.Origin.idSeed(cmd.Actor.EmployeeID); seed != "" {
		id = DerivedID(seed, "delegation")
	}
	c := approval.Delegate{DelegationID: id.String(), ManagerID: manager.EmployeeID, DelegateID: delegate.EmployeeID,
		Start: cmd.Start, End: cmd.End, By: cmd.Actor.EmployeeID}
	at := h.now()
	d, err := update(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, approval.DelegationStream(manager.EmployeeID), func(history []any) ([]any, error) {
		return approval.ReplayDelegations(history).Decide(c, at)
	})
	if err != nil {
		return approval.Delegation{}, err
	}
	out, _ := approval.ReplayDelegations(d.after()).Find(c.DelegationID)
	return out, nil
}
