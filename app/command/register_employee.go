package command

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
)

// RegisterEmployee registers someone who logs in with Password.
type RegisterEmployee struct {
	Actor    employee.Employee
	Origin   Origin
	Email    string
	Password string
	// WithoutPassword registers, instead, someone who cannot log in until
	// an admin sets their password.
	WithoutPassword bool
	FullName        string
	Role            employee.Role
	// ManagerID is empty for no manager; who may not register people
	// outside their team registers into it.
	ManagerID string
	Position  string
	HireDate  calendar.Date // today when zero
	// Schedule applies to the company's default schedule.
	Schedule *SchedulePatch
	// HolidayCalendar is the code of an existing calendar; empty is the
	// default one.
	HolidayCalendar string
}

// RegisterEmployeeHandler registers employees: claims the email, appends
// the registration and grants the year's leave.
type RegisterEmployeeHandler struct {
	registrar registrar
	defaults  employee.Schedule
}

// NewRegisterEmployeeHandler returns the handler; new employees work on
// defaults unless told otherwise and are granted leave under policy.
func NewRegisterEmployeeHandler(store EventStore, credentials Credentials, cost int, policy leave.Policy, defaults employee.Schedule, now Now) RegisterEmployeeHandler {
	return RegisterEmployeeHandler{registrar: newRegistrar(store, credentials, cost, policy, now), defaults: defaults}
}

// Handle registers the employee and returns them as registered.
func (h RegisterEmployeeHandler) Handle(ctx context.Context, cmd RegisterEmployee) (employee.Employee, error) {
	actor := cmd.Actor
	if cmd.ManagerID == "" && !access.Allowed(actor, access.EmployeeRegister, access.Other) {
		cmd.ManagerID = actor.EmployeeID
	}
	recruit := employee.Employee{ManagerID: cmd.ManagerID, Role: cmd.Role}
	if err := authorize(actor, access.EmployeeRegister, recruit); err != nil {
		return employee.Employee{}, err
	}
	if recruit.Role != employee.RoleEmployee {
		if err := authorize(actor, access.EmployeeAssignRole, recruit); err != nil {
			return employee.Employee{}, err
		}
	}
	if err := checkManager(ctx, h.registrar.store, cmd.ManagerID); err != nil {
		return employee.Employee{}, err
	}
	if err := checkHolidayCalendar(ctx, h.registrar.store, holiday.CalendarCode(cmd.HolidayCalendar), "holiday_calendar"); err != nil {
		return employee.Employee{}, err
	}
	return h.registrar.register(ctx, cmd.Origin, actor.EmployeeID, employee.Register{
		Email: cmd.Email, FullName: cmd.FullName, Role: cmd.Role, ManagerID: cmd.ManagerID,
		Position: cmd.Position, HireDate: cmd.HireDate, Schedule: cmd.Schedule.Apply(h.defaults),
		HolidayCalendar: cmd.HolidayCalendar,
	}, cmd.Password, cmd.WithoutPassword)
}

// EmployeeID is the id of the employee with this email. It is derived from
// the email so a repeated registration names the same streams.
func EmployeeID(email string) string {
	return DerivedID("employee", strings.ToLower(email)).String()
}

// registrar registers employees whoever asks: the use cases that do
// authorize first.
type registrar struct {
	store     EventStore
	passwords passwords
	policy    leave.Policy
	now       Now
}

func newRegistrar(store EventStore, credentials Credentials, cost int, policy leave.Policy, now Now) registrar {
	return registrar{store: store, passwords: passwords{credentials: credentials, cost: cost}, policy: policy, now: now}
}

// register creates an employee who logs in with password (or, without
// one, cannot log in until an admin sets it), as actor's. It fails with a
// validation error, ErrEmailTaken, or the store's error, in which case the
// email is free again.
func (r registrar) register(ctx context.Context, o Origin, actor string, reg employee.Register, password string, withoutPassword bool) (employee.Employee, error) {
	now := r.now()
	d, err := r.decide(reg, now)
	if err != nil {
		return employee.Employee{}, err
	}
	if !withoutPassword {
		if d.hash, err = r.passwords.hash(password, "password"); err != nil {
			return employee.Employee{}, err
		}
	}
	if err := r.passwords.credentials.Claim(ctx, d.id, reg.Email, d.hash); err != nil {
		return employee.Employee{}, err
	}
	return r.record(ctx, o, actor, d, now)
}

// registration is a registration decided, to be claimed and recorded.
type registration struct {
	id, email string
	events    []any
	hash      []byte // of the password; empty: no password matches it
}

// decide decides reg at now, its employee's id derived from the email.
func (r registrar) decide(reg employee.Register, now time.Time) (registration, error) {
	reg.EmployeeID = EmployeeID(reg.Email)
	events, err := employee.Decide(employee.Employee{}, reg, now)
	if err != nil {
		return registration{}, err
	}
	return registration{id: reg.EmployeeID, email: reg.Email, events: events}, nil
}

// record appends a registration whose email is claimed, and grants the
// leave; an append that fails frees the email again.
func (r registrar) record(ctx context.Context, o Origin, actor string, d registration, now time.Time) (employee.Employee, error) {
	stream := employee.Stream(d.id)
	data, err := o.withSeed("register").eventData(actor, stream, d.events)
	if err == nil {
		_, err = r.store.Append(ctx, stream, eventstore.NoStream, data...)
	}
	if err != nil {
		// Without the registration the claim guards nothing: free the email.
		if relErr := r.passwords.credentials.Release(context.WithoutCancel(ctx), d.id); relErr != nil {
			err = errors.Join(err, relErr)
		}
		return employee.Employee{}, storeError(err)
	}
	e := employee.Replay(d.events)
	if err := r.grant(ctx, o, actor, e, now); err != nil {
		return employee.Employee{}, err
	}
	return e, nil
}

// grant gives a new employee the annual leave of their hire year and of the
// current year. The grants are idempotent, so a retried registration is harmless.
func (r registrar) grant(ctx context.Context, o Origin, actor string, e employee.Employee, now time.Time) error {
	loc, err := e.Schedule.Location()
	if err != nil {
		return err
	}
	years := []int{e.HireDate.Year}
	if cur := calendar.DateOf(now, loc).Year; cur > e.HireDate.Year {
		years = append(years, cur)
	}
	_, err = update(ctx, r.store, o.withSeed("grant"), actor, leave.Stream(e.EmployeeID), func(history []any) ([]any, error) {
		acct := leave.Replay(history)
		var out []any
		for _, y := range years {
			events, err := leave.Decide(acct, leave.Grant{EmployeeID: e.EmployeeID, Year: y}, r.policy, now)
			if err != nil {
				return nil, err
			}
			for _, ev := range events {
				acct.Apply(ev)
			}
			out = append(out, events...)
		}
		return out, nil
	})
	return err
}
