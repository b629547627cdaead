package query

import (
	"context"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/employee"
)

// EmployeeHandler reads an employee's current state from their stream.
type EmployeeHandler struct{ store command.EventStore }

// NewEmployeeHandler returns the handler.
func NewEmployeeHandler(store command.EventStore) EmployeeHandler {
	return EmployeeHandler{store: store}
}

// Handle returns the employee with id, or employee.ErrNotFound.
func (h EmployeeHandler) Handle(ctx context.Context, id string) (employee.Employee, error) {
	return command.LoadEmployee(ctx, h.store, id)
}

// HandleAt is Handle, and the version of the employee's stream the answer
// was folded to.
func (h EmployeeHandler) HandleAt(ctx context.Context, id string) (employee.Employee, int64, error) {
	return command.LoadEmployeeAt(ctx, h.store, id)
}
