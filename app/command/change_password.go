package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
)

// ChangePassword sets the actor's own password. Whoever calls it has
// checked the current one.
type ChangePassword struct {
	Actor       employee.Employee
	Origin      Origin
	NewPassword string
}

// ChangePasswordHandler changes passwords; every session of the user ends.
type ChangePasswordHandler struct {
	store     EventStore
	passwords passwords
	now       Now
}

// NewChangePasswordHandler returns the handler, hashing at bcrypt cost.
func NewChangePasswordHandler(store EventStore, credentials Credentials, cost int, now Now) ChangePasswordHandler {
	return ChangePasswordHandler{store: store, passwords: passwords{credentials: credentials, cost: cost}, now: now}
}

// Handle sets the password and records employee.password_changed.
func (h ChangePasswordHandler) Handle(ctx context.Context, cmd ChangePassword) error {
	if err := authorize(cmd.Actor, access.PasswordChange, cmd.Actor); err != nil {
		return err
	}
	id := cmd.Actor.EmployeeID
	return h.passwords.set(ctx, h.store, cmd.Origin, id, id, cmd.NewPassword, false, h.now)
}
