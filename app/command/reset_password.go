package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
)

// ResetPassword sets someone else's password.
type ResetPassword struct {
	Actor       employee.Employee
	Origin      Origin
	EmployeeID  string
	NewPassword string
}

// ResetPasswordHandler resets passwords; every session of the employee ends.
type ResetPasswordHandler struct {
	store     EventStore
	passwords passwords
	now       Now
}

// NewResetPasswordHandler returns the handler, hashing at bcrypt cost.
func NewResetPasswordHandler(store EventStore, credentials Credentials, cost int, now Now) ResetPasswordHandler {
	return ResetPasswordHandler{store: store, passwords: passwords{credentials: credentials, cost: cost}, now: now}
}

// Authorize is nil when actor may reset the employee's password.
func (h ResetPasswordHandler) Authorize(ctx context.Context, actor employee.Employee, employeeID string) error {
	_, err := actOn(ctx, h.store, actor, access.PasswordReset, employeeID)
	return err
}

// Handle sets the password and records employee.password_changed with reset.
func (h ResetPasswordHandler) Handle(ctx context.Context, cmd ResetPassword) error {
	e, err := actOn(ctx, h.store, cmd.Actor, access.PasswordReset, cmd.EmployeeID)
	if err != nil {
		return err
	}
	return h.passwords.set(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, e.EmployeeID, cmd.NewPassword, true, h.now)
}
