package command

import (
	"context"
	"errors"
	"time"

	"github.com/acme/employee-tracking/domain/attendance"
)

// CloseForgottenCheckOut closes an employee's check-in left open
// AUTO_CHECKOUT_AFTER past the later of its shift's end and itself, at that
// later moment. Any instance may run it for anyone at any time: it closes
// only what is due, and the event's id derives from the check-in it closes,
// so however many instances run it at once, however often, it is closed once.
type CloseForgottenCheckOut struct {
	EmployeeID string
}

// CloseForgottenCheckOutHandler runs CloseForgottenCheckOut through its own
// cache of attendance state, as RecordAttendanceHandler does.
type CloseForgottenCheckOutHandler struct {
	store  EventStore
	states *attendanceStates
	rules  attendance.Rules
	now    Now
}

// NewCloseForgottenCheckOutHandler returns the handler.
func NewCloseForgottenCheckOutHandler(store EventStore, rules attendance.Rules, now Now) *CloseForgottenCheckOutHandler {
	return &CloseForgottenCheckOutHandler{store: store, states: newAttendanceStates(), rules: rules, now: now}
}

// errNothingDue is CloseForgotten deciding nothing: a refusal to the cache,
// which then loads the rest of the stream before it believes it.
var errNothingDue = errors.New("no forgotten check-out due")

// AutoCheckoutActor is the actor recorded for a forgotten check-out closed
// by the system.
const AutoCheckoutActor = "auto-checkout"

// ForgottenCheckOutCause names the check-in a forgotten check-out closes:
// an employee checks in at most once at an instant.
func ForgottenCheckOutCause(employeeID string, checkedInAt time.Time) string {
	return "auto_checkout/" + employeeID + "/" + checkedInAt.UTC().Format(time.RFC3339Nano)
}

// Handle closes the employee's forgotten check-out if it is due, and
// reports whether it appended one.
func (h *CloseForgottenCheckOutHandler) Handle(ctx context.Context, cmd CloseForgottenCheckOut) (closed bool, err error) {
	at := h.now()
	origin := func(events []any) Origin {
		ev := events[0].(attendance.AutoCheckedOut) // the only event CloseForgotten decides
		return Reaction("attendance", ForgottenCheckOutCause(ev.EmployeeID, ev.CheckedInAt), "", "")
	}
	_, err = h.states.decide(ctx, h.store, origin, AutoCheckoutActor, attendance.Stream(cmd.EmployeeID),
		func(s attendance.State) ([]any, error) {
			events, err := attendance.Decide(s, attendance.CloseForgotten{EmployeeID: cmd.EmployeeID, Rules: h.rules}, at)
			if err == nil && len(events) == 0 {
				err = errNothingDue
			}
			return events, err
		})
	if errors.Is(err, errNothingDue) {
		return false, nil
	}
	return err == nil, err
}
