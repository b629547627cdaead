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
// they may not see it, refused when they may see it but not decide it.
func (h DecideCorrectionHandler) Authorize(ctx context.Context, actor employee.Employee, correctionID string) error {
	_, _, err := h.authorized(ctx, actor, correctionID)
	return err
}

func (h DecideCorrectionHandler) authorized(ctx context.Context, actor employee.Employee, id string) (attendance.Correction, employee.Employee, error) {
	c, owner, err := visibleCorrection(ctx, h.store, h.corrections, actor, id)
	if err != nil {
		return attendance.Correction{}, employee.Employee{}, err
	}
	return c, owner, authorize(actor, access.AttendanceDecideCorrection, owner)
}

// Handle decides the correction and returns it as decided. An approval
// prices a day that had no check-in by the employee's schedule and the
// holidays of its year.
func (h DecideCorrectionHandler) Handle(ctx context.Context, cmd DecideCorrection) (attendance.Correction, error) {
	c, owner, err := h.authorized(ctx, cmd.Actor, cmd.CorrectionID)
	if err != nil {
		return attendance.Correction{}, err
	}
	by := cmd.Actor.EmployeeID
	var decision attendance.CorrectionCommand = attendance.RejectCorrection{CorrectionID: c.ID, By: by, Note: cmd.Note}
	if cmd.Approve {
		holidays, err := LoadHolidays(ctx, h.store, owner.HolidayCalendar, c.Date.Year)
		if err != nil {
			return attendance.Correction{}, err
		}
		decision = attendance.ApproveCorrection{CorrectionID: c.ID, By: by, Note: cmd.Note, Schedule: owner.Schedule, Holidays: holidays}
	}
	return decideCorrection(ctx, h.store, cmd.Origin, by, owner.EmployeeID, c.ID, decision, h.now)
}
