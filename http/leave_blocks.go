package http

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/leave"
)

// BlockedPeriodJSON is a blocked period, as a refused request names it.
type BlockedPeriodJSON struct {
	ID        string `json:"id"`
	StartDate string `json:"start_date" example:"2024-12-23"`
	EndDate   string `json:"end_date" example:"2024-12-31"`
	Reason    string `json:"reason" example:"year-end closing"`
	// LeaveTypes are the types it refuses; null means every tracked type.
	LeaveTypes []string `json:"leave_types" example:"annual"`
}

func blockedPeriodJSON(b leave.Block) BlockedPeriodJSON {
	return BlockedPeriodJSON{ID: b.ID, StartDate: b.Start.String(), EndDate: b.End.String(), Reason: b.Reason, LeaveTypes: b.LeaveTypes}
}

// LeaveBlockJSON is a blocked period with who made it and when.
type LeaveBlockJSON struct {
	BlockedPeriodJSON
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func leaveBlockJSON(b leave.BlockState) LeaveBlockJSON {
	return LeaveBlockJSON{BlockedPeriodJSON: blockedPeriodJSON(b.Block), CreatedBy: b.AddedBy, CreatedAt: b.AddedAt.UTC()}
}

// LeaveBlockPage is a page of the blocked periods in force, by id.
type LeaveBlockPage struct {
	Items     []LeaveBlockJSON `json:"items"`
	NextAfter *string          `json:"next_after"`
}

type leaveBlockRequest struct {
	StartDate string `json:"start_date" example:"2024-12-23"`
	EndDate   string `json:"end_date" example:"2024-12-31"`
	Reason    string `json:"reason" example:"year-end closing"`
	// LeaveTypes left out (or null) blocks every tracked type.
	LeaveTypes []string `json:"leave_types" example:"annual"`

	start, end calendar.Date
}

func (r *leaveBlockRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	r.start, r.end = checkPeriod(fields, r.StartDate, r.EndDate)
	return fields
}

// handleAddLeaveBlock godoc
//
//	@Summary		Block a period for leave
//	@Description	From the moment this answers, a new leave request of a listed type (every tracked type when leave_types is left out) that takes leave on a day from start_date to end_date is refused (422, naming the block). Requests filed before stand.
//	@Tags			leave-blocks
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			Idempotency-Key	header		string				false	"makes a retry safe"
//	@Param			body			body		leaveBlockRequest	true	"the period"
//	@Success		201				{object}	LeaveBlockJSON
//	@Failure		400				{object}	LeaveBlockInputProblem
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem
//	@Router			/api/leave-blocks/ [post]
func handleAddLeaveBlock(add command.AddLeaveBlockHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[leaveBlockRequest](c)
		if err != nil {
			return err
		}
		b, err := add.Handle(c.Request().Context(), command.AddLeaveBlock{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), Start: req.start, End: req.end, Reason: req.Reason,
			LeaveTypes: req.LeaveTypes,
		})
		if err != nil {
			return err
		}
		return created(c, leaveBlockJSON(b))
	}
}

// handleListLeaveBlocks godoc
//
//	@Summary		List the blocked periods
//	@Description	The blocks in force, by id, read from the store: what a new request is checked against. Everyone may read them.
//	@Tags			leave-blocks
//	@Produce		json
//	@Security		BearerAuth
//	@Param			limit	query		int		false	"page size (1-500)"	default(50)
//	@Param			after	query		string	false	"cursor from next_after"
//	@Success		200		{object}	LeaveBlockPage
//	@Failure		400		{object}	ListQueryProblem
//	@Failure		401		{object}	UnauthorizedProblem
//	@Router			/api/leave-blocks/ [get]
func handleListLeaveBlocks(blocks query.LeaveBlocksHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		limit := checkLimit(fields, c.QueryParam("limit"))
		after := checkIDCursor(fields, c.QueryParam("after"))
		if err := queryError(fields); err != nil {
			return err
		}
		list, next, err := blocks.Handle(c.Request().Context(), after, limit)
		if err != nil {
			return err
		}
		page := LeaveBlockPage{Items: make([]LeaveBlockJSON, len(list)), NextAfter: nextAfter(next)}
		for i, b := range list {
			page.Items[i] = leaveBlockJSON(b)
		}
		return c.JSON(http.StatusOK, page)
	}
}

// handleRemoveLeaveBlock godoc
//
//	@Summary		Lift a blocked period
//	@Description	New requests on its days are no longer refused by it; requests it refused stay refused.
//	@Tags			leave-blocks
//	@Security		BearerAuth
//	@Param			id	path	string	true	"block id"
//	@Success		204
//	@Failure		401	{object}	UnauthorizedProblem
//	@Failure		403	{object}	ForbiddenProblem
//	@Failure		404	{object}	NotFoundProblem
//	@Router			/api/leave-blocks/{id}/ [delete]
func handleRemoveLeaveBlock(remove command.RemoveLeaveBlockHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		err = remove.Handle(c.Request().Context(), command.RemoveLeaveBlock{Actor: mustPrincipal(c).Employee, Origin: originOf(c), ID: id})
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
