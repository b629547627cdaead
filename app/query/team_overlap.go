package query

import (
	"context"

	"github.com/acme/employee-tracking/domain/leave"
)

// TeamOverlapHandler counts who else of a requester's team is off on the
// days of a request.
type TeamOverlapHandler struct {
	employees EmployeeHandler
	models    ReadModels
}

// NewTeamOverlapHandler returns the handler.
func NewTeamOverlapHandler(employees EmployeeHandler, models ReadModels) TeamOverlapHandler {
	return TeamOverlapHandler{employees: employees, models: models}
}

// Handle returns how many others with the same manager as r's employee have
// pending or approved leave on any of r's days, as the calendar shows it
// (which may lag the store by a moment). An employee without a manager has
// no team: 0.
func (h TeamOverlapHandler) Handle(ctx context.Context, r leave.RequestState) (int, error) {
	e, err := h.employees.Handle(ctx, r.EmployeeID)
	if err != nil || e.ManagerID == "" || len(r.Dates) == 0 {
		return 0, err
	}
	return h.models.TeamOverlap(ctx, e.ManagerID, r.EmployeeID, r.Dates)
}
