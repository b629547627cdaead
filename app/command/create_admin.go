package command

import (
	"context"
	"errors"

	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// CreateAdmin registers an admin with the company's default schedule. No
// one asks for it but the operator (etctl create-admin, ADMIN_EMAIL at
// start), so it is recorded as the system's.
type CreateAdmin struct {
	Email    string
	Password string
	FullName string
}

// CreateAdminHandler creates admins.
type CreateAdminHandler struct {
	registrar registrar
	defaults  employee.Schedule
}

// NewCreateAdminHandler returns the handler.
func NewCreateAdminHandler(store EventStore, credentials Credentials, cost int, policy leave.Policy, defaults employee.Schedule, now Now) CreateAdminHandler {
	return CreateAdminHandler{registrar: newRegistrar(store, credentials, cost, policy, now), defaults: defaults}
}

// createAdminOrigin marks the events of an admin created by the operator.
var createAdminOrigin = Origin{CausationID: "create-admin", CorrelationID: "create-admin"}

// Handle registers the admin.
func (h CreateAdminHandler) Handle(ctx context.Context, cmd CreateAdmin) (employee.Employee, error) {
	return h.registrar.register(ctx, createAdminOrigin, SystemActor, employee.Register{
		Email: cmd.Email, FullName: cmd.FullName, Role: employee.RoleAdmin, Schedule: h.defaults,
	}, cmd.Password, false)
}

// Ensure creates the admin unless the email is taken or an admin already
// exists, and reports whether it created one.
func (h CreateAdminHandler) Ensure(ctx context.Context, cmd CreateAdmin) (bool, error) {
	exists, err := h.registrar.passwords.credentials.AdminExists(ctx, cmd.Email)
	if err != nil || exists {
		return false, err
	}
	if _, err := h.Handle(ctx, cmd); err != nil {
		if errors.Is(err, ErrEmailTaken) { // another instance won the race
			return false, nil
		}
		return false, err
	}
	return true, nil
}
