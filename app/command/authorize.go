package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
)

// ErrForbidden refuses an actor the access policy does not allow.
var ErrForbidden error = errkind.New(errkind.Forbidden, "not allowed")

// authorize refuses actor unless the policy lets them perform action on
// target.
func authorize(actor employee.Employee, action access.Action, target employee.Employee) error {
	if !access.Allowed(actor, action, access.RelationOf(actor, target)) {
		return ErrForbidden
	}
	return nil
}

// visible loads the employee with id for actor: one the actor may not read
// is as unknown as one that does not exist, so that a refusal (403) never
// tells an outsider who exists (404).
func visible(ctx context.Context, store EventStore, actor employee.Employee, id string) (employee.Employee, error) {
	target := actor
	if id != actor.EmployeeID {
		var err error
		if target, err = LoadEmployee(ctx, store, id); err != nil {
			return employee.Employee{}, err
		}
	}
	if !access.Allowed(actor, access.EmployeeRead, access.RelationOf(actor, target)) {
		return employee.Employee{}, employee.ErrNotFound
	}
	return target, nil
}

// actOn loads the employee with id for actor to perform action on: unknown
// when the actor may not see them, refused when they may see but not act.
func actOn(ctx context.Context, store EventStore, actor employee.Employee, action access.Action, id string) (employee.Employee, error) {
	target, err := visible(ctx, store, actor, id)
	if err != nil {
		return employee.Employee{}, err
	}
	return target, authorize(actor, action, target)
}
