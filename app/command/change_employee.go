package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
)

// ChangeEmployee changes an employee's schedule, manager, role, position or
// holiday calendar, deactivates or reactivates them. A nil field is left as it is.
type ChangeEmployee struct {
	Actor      employee.Employee
	Origin     Origin
	EmployeeID string
	Schedule   *SchedulePatch
	// ManagerID names the new manager; the empty id removes the manager.
	ManagerID *string
	Role      *employee.Role
	Position  *string
	Active    *bool
	Reason    string // of a deactivation
	// HolidayCalendar is the code of an existing calendar.
	HolidayCalendar *string
}

// ChangeEmployeeHandler changes employees.
type ChangeEmployeeHandler struct {
	store EventStore
	now   Now
}

// NewChangeEmployeeHandler returns the handler.
func NewChangeEmployeeHandler(store EventStore, now Now) ChangeEmployeeHandler {
	return ChangeEmployeeHandler{store: store, now: now}
}

// Authorize is nil when actor may change the employee at all.
func (h ChangeEmployeeHandler) Authorize(ctx context.Context, actor employee.Employee, employeeID string) error {
	_, err := actOn(ctx, h.store, actor, access.EmployeeChange, employeeID)
	return err
}

// Handle applies the change and returns the employee as changed. Giving
// another role and deactivating need rights of their own.
func (h ChangeEmployeeHandler) Handle(ctx context.Context, cmd ChangeEmployee) (employee.Employee, error) {
	e, err := actOn(ctx, h.store, cmd.Actor, access.EmployeeChange, cmd.EmployeeID)
	if err != nil {
		return employee.Employee{}, err
	}
	if cmd.Role != nil && *cmd.Role != e.Role {
		if err := authorize(cmd.Actor, access.EmployeeAssignRole, e); err != nil {
			return employee.Employee{}, err
		}
	}
	deactivate := cmd.Active != nil && !*cmd.Active
	if deactivate {
		if err := authorize(cmd.Actor, access.EmployeeDeactivate, e); err != nil {
			return employee.Employee{}, err
		}
	}
	if cmd.ManagerID != nil {
		if err := checkManager(ctx, h.store, *cmd.ManagerID); err != nil {
			return employee.Employee{}, err
		}
	}
	if cmd.HolidayCalendar != nil {
		if err := checkHolidayCalendar(ctx, h.store, *cmd.HolidayCalendar, "holiday_calendar"); err != nil {
			return employee.Employee{}, err
		}
	}
	d, err := update(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, employee.Stream(e.EmployeeID), func(history []any) ([]any, error) {
		state := employee.Replay(history)
		var cmds []employee.Command
		if cmd.Active != nil && *cmd.Active {
			cmds = append(cmds, employee.Reactivate{})
		}
		change := employee.Change{Position: cmd.Position, ManagerID: cmd.ManagerID, Role: cmd.Role, HolidayCalendar: cmd.HolidayCalendar}
		if cmd.Schedule != nil {
			s := cmd.Schedule.Apply(state.Schedule)
			change.Schedule = &s
		}
		if change != (employee.Change{}) {
			cmds = append(cmds, change)
		}
		if deactivate {
			cmds = append(cmds, employee.Deactivate{Reason: cmd.Reason})
		}
		return decideAll(&state, cmds, h.now())
	})
	if err != nil {
		return employee.Employee{}, err
	}
	state := employee.Replay(d.after())
	if !state.Exists {
		return employee.Employee{}, employee.ErrNotFound
	}
	return state, nil
}
