package command

import (
	"context"
	"fmt"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/streamid"
)

// Corrections finds whose attendance stream holds a correction;
// *eventstore.Store satisfies it.
type Corrections interface {
	// StreamOfCorrection names the attendance stream that holds the
	// correction, or "" when none does.
	StreamOfCorrection(ctx context.Context, correctionID string) (string, error)
}

// CorrectionOwner is the id of the employee whose attendance stream holds
// the correction, or attendance.ErrCorrectionNotFound.
func CorrectionOwner(ctx context.Context, corrections Corrections, correctionID string) (string, error) {
	stream, err := corrections.StreamOfCorrection(ctx, correctionID)
	if err != nil {
		return "", err
	}
	if stream == "" {
		return "", attendance.ErrCorrectionNotFound
	}
	category, employeeID, ok := streamid.Split(stream)
	if !ok || category != attendance.Category {
		return "", fmt.Errorf("command: correction %q is held by stream %q, which is no attendance stream", correctionID, stream)
	}
	return employeeID, nil
}

// visibleCorrection returns the correction with id and its employee, loaded
// for actor: a correction of someone the actor may not see is unknown.
func visibleCorrection(ctx context.Context, store EventStore, corrections Corrections, actor employee.Employee, id string) (attendance.Correction, employee.Employee, error) {
	ownerID, err := CorrectionOwner(ctx, corrections, id)
	if err != nil {
		return attendance.Correction{}, employee.Employee{}, err
	}
	owner, err := visible(ctx, store, actor, ownerID)
	if err != nil {
		return attendance.Correction{}, employee.Employee{}, err
	}
	history, err := loadPayloads(ctx, store, attendance.Stream(ownerID))
	if err != nil {
		return attendance.Correction{}, employee.Employee{}, err
	}
	c, ok := attendance.ReplayRecord(history).Correction(id)
	if !ok {
		return attendance.Correction{}, employee.Employee{}, attendance.ErrCorrectionNotFound
	}
	return c, owner, nil
}

// decideCorrection decides cmd on the employee's attendance stream as
// actor's and returns the correction with id as the decision left it.
func decideCorrection(ctx context.Context, store EventStore, o Origin, actor, employeeID, id string, cmd attendance.CorrectionCommand, now Now) (attendance.Correction, error) {
	d, err := update(ctx, store, o, actor, attendance.Stream(employeeID), func(history []any) ([]any, error) {
		return attendance.DecideCorrection(attendance.ReplayRecord(history), cmd, now())
	})
	if err != nil {
		return attendance.Correction{}, err
	}
	c, _ := attendance.ReplayRecord(d.after()).Correction(id)
	return c, nil
}
