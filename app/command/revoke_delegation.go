package command

import (
	"context"
	"fmt"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/streamid"
)

// Delegations finds whose delegation stream holds a delegation;
// *eventstore.Store satisfies it.
type Delegations interface {
	// StreamOfDelegation names the stream that holds the delegation, or ""
	// when none does.
	StreamOfDelegation(ctx context.Context, delegationID string) (string, error)
}

// RevokeDelegation ends a delegation.
type RevokeDelegation struct {
	Actor        employee.Employee
	Origin       Origin
	DelegationID string
}

// RevokeDelegationHandler ends delegations: a manager their own, an admin
// anyone's.
type RevokeDelegationHandler struct {
	store       EventStore
	delegations Delegations
	now         Now
}

// NewRevokeDelegationHandler returns the handler.
func NewRevokeDelegationHandler(store EventStore, delegations Delegations, now Now) RevokeDelegationHandler {
	return RevokeDelegationHandler{store: store, delegations: delegations, now: now}
}

// Handle revokes the delegation. One the actor may not revoke is as unknown
// as one that does not exist, and so is one revoked already.
func (h RevokeDelegationHandler) Handle(ctx context.Context, cmd RevokeDelegation) error {
	stream, err := h.delegations.StreamOfDelegation(ctx, cmd.DelegationID)
	if err != nil {
		return err
	}
	if stream == "" {
		return approval.ErrDelegationNotFound
	}
	category, managerID, ok := streamid.Split(stream)
	if !ok || category != approval.DelegationCategory {
		return fmt.Errorf("command: delegation %q is held by stream %q, which holds no delegations", cmd.DelegationID, stream)
	}
	manager := cmd.Actor
	if managerID != cmd.Actor.EmployeeID {
		if manager, err = LoadEmployee(ctx, h.store, managerID); err != nil {
			return err
		}
	}
	if !access.Allowed(cmd.Actor, access.DelegationRevoke, access.RelationOf(cmd.Actor, manager)) {
		return approval.ErrDelegationNotFound
	}
	at := h.now()
	_, err = update(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, stream, func(history []any) ([]any, error) {
		return approval.ReplayDelegations(history).Revoke(cmd.DelegationID, cmd.Actor.EmployeeID, at)
	})
	return err
}
