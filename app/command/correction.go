package command

import (
	"context"
	"fmt"
	"time"

	"github.com/acme/employee-tracking/domain/access"
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

// metCorrection is a correction with the chain it was filed with, if any,
// as an actor meets it.
type metCorrection struct {
	attendance.Correction
	stepsMet
}

// loadCorrection returns the correction with id and its employee, loaded for
// actor at now: a correction of someone the actor may not see is unknown,
// unless its chain waits on the actor or names them.
func loadCorrection(ctx context.Context, store EventStore, corrections Corrections, actor employee.Employee, id string, now time.Time) (metCorrection, error) {
	ownerID, err := CorrectionOwner(ctx, corrections, id)
	if err != nil {
		return metCorrection{}, err
	}
	owner := actor
	if ownerID != actor.EmployeeID {
		if owner, err = LoadEmployee(ctx, store, ownerID); err != nil {
			return metCorrection{}, err
		}
	}
	history, err := loadPayloads(ctx, store, attendance.Stream(ownerID))
	if err != nil {
		return metCorrection{}, err
	}
	c, ok := attendance.ReplayRecord(history).Correction(id)
	if !ok {
		return metCorrection{}, attendance.ErrCorrectionNotFound
	}
	m := metCorrection{Correction: c, stepsMet: stepsMet{owner: owner}}
	if c.Chained {
		if m.stepsMet, err = meetSteps(ctx, store, actor, owner, c.Approvals, now); err != nil {
			return metCorrection{}, err
		}
	}
	if !m.visibleTo(actor) {
		return metCorrection{}, employee.ErrNotFound
	}
	return m, nil
}

// relation is actor's relationship to the correction for deciding it: along
// its chain, as the chain says; without one, their relationship to its
// employee (their manager or an admin decides it).
func (m metCorrection) relation(actor employee.Employee) access.Relationship {
	if m.Chained {
		return m.relationToStep(actor)
	}
	return access.RelationOf(actor, m.owner)
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
