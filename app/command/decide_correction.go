package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
)

// DecideCorrection approves or rejects a pending attendance correction.
type DecideCorrection struct {
	Actor        employee.Employee
	Origin       Origin
	CorrectionID string
	Approve      bool // rejects otherwise
	Note         string
}

// DecideCorrectionHandler decides corrections.
type DecideCorrectionHandler struct {
	store       EventStore
	corrections Corrections
	now         Now
}

// NewDecideCorrectionHandler returns the handler.
func NewDecideCorrectionHandler(store EventStore, corrections Corrections, now Now) DecideCorrectionHandler {
	return DecideCorrectionHandler{store: store, corrections: corrections, now: now}
}

// Authorize is nil when actor may decide the correction: it is unknown when
// they may not see it, refused when they may see it but not decide it (or,
// along a chain, not the step it waits on).
func (h DecideCorrectionHandler) Authorize(ctx context.Context, actor employee.Employee, correctionID string) error {
	_, err := h.authorized(ctx, actor, correctionID)
	return err
}

func (h DecideCorrectionHandler) authorized(ctx context.Context, actor employee.Employee, id string) (metCorrection, error) {
	m, err := loadCorrection(ctx, h.store, h.corrections, actor, id, h.now())
	if err != nil {
		return metCorrection{}, err
	}
	if !access.Allowed(actor, access.AttendanceDecideCorrection, m.relation(actor)) {
		return metCorrection{}, ErrForbidden
	}
	return m, nil
}

// Handle decides the correction and returns it as decided. An approval
// prices a day that had no check-in by the employee's schedule and the
// holidays of its year. A correction filed with a chain is decided at the
// step it waits on: applied when its last step approves, rejected at any,
// pending in between with the next step opened.
func (h DecideCorrectionHandler) Handle(ctx context.Context, cmd DecideCorrection) (attendance.Correction, error) {
	c, err := h.authorized(ctx, cmd.Actor, cmd.CorrectionID)
	if err != nil {
		return attendance.Correction{}, err
	}
	if c.Chained && !c.awaiting {
		return attendance.Correction{}, attendance.ErrCorrectionNotPending
	}
	by := cmd.Actor.EmployeeID
	var decision attendance.CorrectionCommand = attendance.RejectCorrection{CorrectionID: c.ID, By: by, Note: cmd.Note, Step: c.awaited.Step}
	if cmd.Approve {
		holidays, err := LoadHolidays(ctx, h.store, c.owner.HolidayCalendar, c.Date.Year)
		if err != nil {
			return attendance.Correction{}, err
		}
		approve := attendance.ApproveCorrection{CorrectionID: c.ID, By: by, Note: cmd.Note, Schedule: c.owner.Schedule, Holidays: holidays,
			Step: c.awaited.Step}
		if next, ok := c.Approvals.Next(c.awaited.Step); ok && c.Chained {
			if approve.Next, err = assign(ctx, h.store, c.owner, next.Role, h.now()); err != nil {
				return attendance.Correction{}, err
			}
		}
		decision = approve
	}
	return decideCorrection(ctx, h.store, cmd.Origin, by, c.owner.EmployeeID, c.ID, decision, h.now)
}
