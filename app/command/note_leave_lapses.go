package command

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
)

// NoteLeaveLapses reports the low balances that lapses of carried-over days
// caused: for each leave type whose carried days lapsed by the employee's
// Today, the leave account decides whether the lapse took the remaining
// balance, as it stood when the lapse's day began, below the threshold
// (leave.NoteLapse). The daily sweep runs it for
// each employee's day; any instance may run it at any time, for each event's
// id derives from the employee, the type, the year and the lapse, so a
// lapse is reported once however many instances run it, however often.
type NoteLeaveLapses struct {
	// Origin's causation and correlation ids go into the metadata.
	Origin     Origin
	Actor      string
	EmployeeID string
	Today      calendar.Date
}

// NoteLeaveLapsesHandler runs NoteLeaveLapses.
type NoteLeaveLapsesHandler struct {
	store  EventStore
	policy leave.Policy
	now    Now
}

// NewNoteLeaveLapsesHandler returns the handler of NoteLeaveLapses.
func NewNoteLeaveLapsesHandler(store EventStore, policy leave.Policy, now Now) NoteLeaveLapsesHandler {
	return NoteLeaveLapsesHandler{store: store, policy: policy, now: now}
}

// LapseCause names the lapse of an employee's carried-over days of a type
// on a date, what its low-balance report is caused by.
func LapseCause(employeeID, leaveType string, lapse calendar.Date) string {
	return "lapse/" + employeeID + "/" + leaveType + "/" + strconv.Itoa(lapse.Year) + "/" + lapse.String()
}

// Handle reports what lapses are owed, and how many it appended.
func (h NoteLeaveLapsesHandler) Handle(ctx context.Context, cmd NoteLeaveLapses) (int, error) {
	types, err := LoadLeaveTypes(ctx, h.store, h.policy)
	if err != nil {
		return 0, err
	}
	var due []string
	for _, typ := range types.Current() {
		if lapse, ok := types.Lapse(typ.Code, cmd.Today.Year); ok && !cmd.Today.Before(lapse) {
			due = append(due, typ.Code)
		}
	}
	if len(due) == 0 {
		return 0, nil
	}
	policy := h.policy
	policy.Types = types
	employment, loc := leave.Employment{Today: cmd.Today}, time.UTC
	switch e, err := LoadEmployee(ctx, h.store, cmd.EmployeeID); {
	case err == nil:
		employment.HireDate = e.HireDate
		if l, err := e.Schedule.Location(); err == nil {
			loc = l
		}
	case !errors.Is(err, employee.ErrNotFound):
		return 0, err
	}
	now := h.now()
	noted := 0
	for _, code := range due {
		lapse, _ := types.Lapse(code, cmd.Today.Year)
		// The lapse counts from the start of its day where the employee
		// works: what was recorded before is what it followed.
		at := time.Date(lapse.Year, lapse.Month, lapse.Day, 0, 0, 0, 0, loc)
		origin := Reaction("leave", LapseCause(cmd.EmployeeID, code, lapse), cmd.Origin.CausationID, cmd.Origin.CorrelationID)
		d, err := updateStored(ctx, h.store, origin, cmd.Actor, leave.Stream(cmd.EmployeeID), func(stored []eventstore.Event) ([]any, error) {
			var then []any
			for _, e := range stored {
				if e.RecordedAt.Before(at) {
					then = append(then, e.Payload)
				}
			}
			return leave.Decide(leave.Replay(Payloads(stored)), leave.NoteLapse{
				EmployeeID: cmd.EmployeeID, LeaveType: code, Employment: employment, Then: leave.Replay(then),
			}, policy, now)
		})
		if err != nil {
			return noted, err
		}
		noted += len(d.events)
	}
	return noted, nil
}
