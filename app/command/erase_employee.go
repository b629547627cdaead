package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
)

// EraseEmployee erases an employee's personal data: the key that seals it in
// every event is destroyed, their login ends, and the read models forget
// what they showed of it. Their counts (days, minutes, balances) stay.
type EraseEmployee struct {
	Actor      employee.Employee
	Origin     Origin
	EmployeeID string
	// Reason is kept in the clear with employee.erased, so it may not
	// repeat what is erased.
	Reason string
}

// PersonalKeys hold the key of each person's personal data;
// *keyring.Keyring satisfies it.
type PersonalKeys interface {
	// Erase destroys subject's key; erasing twice is erasing once.
	Erase(ctx context.Context, subject string) error
}

// ErasableReadModels are the read models that show personal data.
type ErasableReadModels interface {
	// ErasePersonal clears what they show of the employee's personal data.
	ErasePersonal(ctx context.Context, employeeID string) error
}

// EraseEmployeeHandler erases employees.
type EraseEmployeeHandler struct {
	store       EventStore
	keys        PersonalKeys
	credentials Credentials
	readModels  ErasableReadModels
	now         Now
}

// NewEraseEmployeeHandler returns the handler.
func NewEraseEmployeeHandler(store EventStore, keys PersonalKeys, credentials Credentials, readModels ErasableReadModels, now Now) EraseEmployeeHandler {
	return EraseEmployeeHandler{store: store, keys: keys, credentials: credentials, readModels: readModels, now: now}
}

// Authorize is nil when actor may erase the employee.
func (h EraseEmployeeHandler) Authorize(ctx context.Context, actor employee.Employee, employeeID string) error {
	_, err := actOn(ctx, h.store, actor, access.EmployeeErase, employeeID)
	return err
}

// Handle records employee.erased, then destroys the key, the login and the
// read models' copies, and returns the employee as erased. Each step repeats
// harmlessly, so a retry after a failure midway finishes the erasure.
func (h EraseEmployeeHandler) Handle(ctx context.Context, cmd EraseEmployee) (employee.Employee, error) {
	e, err := actOn(ctx, h.store, cmd.Actor, access.EmployeeErase, cmd.EmployeeID)
	if err != nil {
		return employee.Employee{}, err
	}
	d, err := update(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, employee.Stream(e.EmployeeID), func(history []any) ([]any, error) {
		return employee.Decide(employee.Replay(history), employee.Erase{Reason: cmd.Reason, By: cmd.Actor.EmployeeID}, h.now())
	})
	if err != nil {
		return employee.Employee{}, err
	}
	if err := h.keys.Erase(ctx, e.EmployeeID); err != nil {
		return employee.Employee{}, err
	}
	if err := h.credentials.Forget(ctx, e.EmployeeID); err != nil {
		return employee.Employee{}, err
	}
	if err := h.readModels.ErasePersonal(ctx, e.EmployeeID); err != nil {
		return employee.Employee{}, err
	}
	return employee.Replay(d.after()), nil
}
