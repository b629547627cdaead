package command

import (
	"context"
	"errors"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// DeductLateness takes a late check-in's minutes off the employee's leave,
// once per date (the leave account refuses a second deduction for a date).
// The saga of that name runs it, with a Reaction origin.
type DeductLateness struct {
	Origin      Origin
	Actor       string
	EmployeeID  string
	Date        calendar.Date
	LateMinutes int
	// At is the check-in's time.
	At time.Time
}

// DeductLatenessHandler runs DeductLateness.
type DeductLatenessHandler struct {
	store  EventStore
	policy leave.Policy
}

// NewDeductLatenessHandler returns the handler of DeductLateness.
func NewDeductLatenessHandler(store EventStore, policy leave.Policy) DeductLatenessHandler {
	return DeductLatenessHandler{store: store, policy: policy}
}

// Handle deducts, or returns the leave account's refusal.
func (h DeductLatenessHandler) Handle(ctx context.Context, cmd DeductLateness) error {
	if !h.policy.LatenessDeductsLeave {
		return nil
	}
	// The check-in's date is the employee's today; the hire date, when the
	// employee is known, dates their first credits.
	employment := leave.Employment{Today: cmd.Date}
	e, err := LoadEmployee(ctx, h.store, cmd.EmployeeID)
	switch {
	case err == nil:
		employment.HireDate = e.HireDate
	case !errors.Is(err, employee.ErrNotFound):
		return err
	}
	_, err = decideLeave(ctx, h.store, h.policy, cmd.Origin, cmd.Actor, cmd.EmployeeID, leave.DeductLateness{
		EmployeeID: cmd.EmployeeID, Date: cmd.Date, LateMinutes: cmd.LateMinutes, Employment: employment,
	}, cmd.At)
	return err
}

// GrantLeaveYear grants an employee the leave of a year, unless it is
// granted already. The daily sweep runs it on an employee's first sweep of
// the year, with a Reaction origin.
type GrantLeaveYear struct {
	Origin     Origin
	Actor      string
	EmployeeID string
	Year       int
}

// GrantLeaveYearHandler runs GrantLeaveYear.
type GrantLeaveYearHandler struct {
	store  EventStore
	policy leave.Policy
	now    Now
}

// NewGrantLeaveYearHandler returns the handler of GrantLeaveYear.
func NewGrantLeaveYearHandler(store EventStore, policy leave.Policy, now Now) GrantLeaveYearHandler {
	return GrantLeaveYearHandler{store: store, policy: policy, now: now}
}

// Handle grants, or returns the leave account's refusal.
func (h GrantLeaveYearHandler) Handle(ctx context.Context, cmd GrantLeaveYear) error {
	_, err := decideLeave(ctx, h.store, h.policy, cmd.Origin, cmd.Actor, cmd.EmployeeID,
		leave.Grant{EmployeeID: cmd.EmployeeID, Year: cmd.Year}, h.now())
	return err
}
