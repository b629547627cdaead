package command

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
)

// RequestCorrection files a correction of a day's first check-in and/or
// last check-out: the actor's own, or, by their manager or an admin, an
// employee's. While the approval policy has a rule for corrections, the
// correction is filed with the chain of steps it gives.
type RequestCorrection struct {
	Actor  employee.Employee
	Origin Origin
	// EmployeeID is whose day it is; empty for the actor.
	EmployeeID        string
	Date              calendar.Date
	CheckIn, CheckOut time.Time // zero when not corrected
	Reason            string
}

// RequestCorrectionHandler files corrections.
type RequestCorrectionHandler struct {
	store EventStore
	rules attendance.Rules
	now   Now
}

// NewRequestCorrectionHandler returns the handler.
func NewRequestCorrectionHandler(store EventStore, rules attendance.Rules, now Now) RequestCorrectionHandler {
	return RequestCorrectionHandler{store: store, rules: rules, now: now}
}

// Handle files the correction and returns it as filed.
func (h RequestCorrectionHandler) Handle(ctx context.Context, cmd RequestCorrection) (attendance.Correction, error) {
	actor, target := cmd.Actor, cmd.Actor
	var err error
	if cmd.EmployeeID != "" && cmd.EmployeeID != actor.EmployeeID {
		target, err = actOn(ctx, h.store, actor, access.AttendanceCorrect, cmd.EmployeeID)
	} else {
		err = authorize(actor, access.AttendanceCorrect, actor)
	}
	if err != nil {
		return attendance.Correction{}, err
	}
	id := uuid.New()
	if seed := cmd.Origin.idSeed(actor.EmployeeID); seed != "" {
		id = DerivedID(seed, "attendance-correction")
	}
	request := attendance.RequestCorrection{
		CorrectionID: id.String(), EmployeeID: target.EmployeeID, Date: cmd.Date, CheckIn: cmd.CheckIn, CheckOut: cmd.CheckOut,
		Reason: cmd.Reason, By: actor.EmployeeID, Schedule: target.Schedule, Rules: h.rules,
	}
	// A rule for corrections in the approval policy gives the correction its
	// chain, whose first step waits on whom it names now.
	policy, err := LoadApprovalPolicy(ctx, h.store)
	if err != nil {
		return attendance.Correction{}, err
	}
	if steps, ok := policy.CorrectionSteps(); ok {
		if request.First, err = assign(ctx, h.store, target, steps[0], h.now()); err != nil {
			return attendance.Correction{}, err
		}
		request.Steps = steps
	}
	return decideCorrection(ctx, h.store, cmd.Origin, actor.EmployeeID, target.EmployeeID, request.CorrectionID, request, h.now)
}
