package command

import (
	"context"
	"errors"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
)

// SchedulePatch is a schedule to apply: a field left nil keeps the value it
// is applied to.
type SchedulePatch struct {
	Timezone     *string
	WorkStart    *calendar.Clock
	WorkEnd      *calendar.Clock
	GraceMinutes *int
	Workdays     []int
}

// Apply returns base with the patch's fields set; the domain validates the
// result.
func (s *SchedulePatch) Apply(base employee.Schedule) employee.Schedule {
	if s == nil {
		return base
	}
	out := base
	if s.Timezone != nil {
		out.Timezone = *s.Timezone
	}
	if s.WorkStart != nil {
		out.WorkStart = *s.WorkStart
	}
	if s.WorkEnd != nil {
		out.WorkEnd = *s.WorkEnd
	}
	if s.GraceMinutes != nil {
		out.GraceMinutes = *s.GraceMinutes
	}
	if s.Workdays != nil {
		out.Workdays = s.Workdays
	}
	return out
}

// errNoManager refuses a manager_id that names no active manager or admin.
var errNoManager error = errkind.InvalidField("invalid input", "manager_id", "must name an active manager or admin")

// checkManager refuses an id that names no active manager or admin; the
// empty id names no one and passes.
func checkManager(ctx context.Context, store EventStore, id string) error {
	if id == "" {
		return nil
	}
	m, err := LoadEmployee(ctx, store, id)
	if errors.Is(err, employee.ErrNotFound) || (err == nil && (!m.Active || !(m.Role == employee.RoleManager || m.Role == employee.RoleAdmin))) {
		return errNoManager
	}
	return err
}

// decideAll decides the commands in order, each on the state the previous
// ones left.
func decideAll(state *employee.Employee, cmds []employee.Command, now time.Time) ([]any, error) {
	var out []any
	for _, cmd := range cmds {
		events, err := employee.Decide(*state, cmd, now)
		if err != nil {
			return nil, err
		}
		for _, ev := range events {
			state.Apply(ev)
		}
		out = append(out, events...)
	}
	return out, nil
}
