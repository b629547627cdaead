package http

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/access"
)

// EventJSON is a stored event as auditors see it. Cursor is its place in
// the feed: after=cursor continues after it, so a client that reached the end
// of the feed (next_after null) follows it from its last event.
type EventJSON struct {
	Position   int64           `json:"position"`
	Cursor     string          `json:"cursor" example:"1234.5678"`
	StreamID   string          `json:"stream_id" example:"leave-0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b"`
	Version    int64           `json:"version"`
	Type       string          `json:"type" example:"leave.approved"`
	Data       json.RawMessage `json:"data" swaggertype:"object"`
	Metadata   MetadataJSON    `json:"metadata"`
	RecordedAt time.Time       `json:"recorded_at"`
	// Erased: the personal fields of the event were erased and read as null
	// in data.
	Erased bool `json:"erased,omitempty"`
}

// MetadataJSON says who caused an event and on behalf of which request. Its
// name in the OpenAPI document is the one it had when the store's type was
// shown as it is.
type MetadataJSON struct {
	Actor          string `json:"actor,omitempty"`
	RequestID      string `json:"request_id,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	CausationID    string `json:"causation_id,omitempty"`
	CorrelationID  string `json:"correlation_id,omitempty"`
} //	@name	eventstore.Metadata

func eventJSON(e query.Event) EventJSON {
	m := e.Metadata
	return EventJSON{
		Position: e.Position, Cursor: e.Cursor().String(), StreamID: e.StreamID, Version: e.Version, Type: e.Type, Data: e.Plain,
		Metadata: MetadataJSON{
			Actor: m.Actor, RequestID: m.RequestID, IdempotencyKey: m.IdempotencyKey, CausationID: m.CausationID, CorrelationID: m.CorrelationID,
		},
		RecordedAt: e.RecordedAt, Erased: e.Erased,
	}
}

// EventPage is a page of the audit feed. next_after is the feed cursor to
// continue from, null when the page reaches the end of the feed.
type EventPage struct {
	Items     []EventJSON `json:"items"`
	NextAfter *string     `json:"next_after" example:"1234.5678"`
}

// handleEvents godoc
//
//	@Summary		Audit feed
//	@Description	Every event in commit order, for auditors and admins. With employee_id a page may hold fewer than limit events; continue from next_after.
//	@Tags			audit
//	@Produce		json
//	@Security		BearerAuth
//	@Param			after		query		string	false	"feed cursor from next_after"
//	@Param			limit		query		int		false	"page size (1-500)"	default(50)
//	@Param			stream		query		string	false	"one stream id"
//	@Param			type		query		string	false	"event type, e.g. leave.approved"
//	@Param			employee_id	query		string	false	"events of one employee's streams"
//	@Success		200			{object}	EventPage
//	@Failure		400			{object}	ListQueryProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		403			{object}	ForbiddenProblem
//	@Router			/api/events/ [get]
func handleEvents(feed query.EventFeedHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		q := query.EventFeed{Limit: checkLimit(fields, c.QueryParam("limit")), StreamID: c.QueryParam("stream"), Type: c.QueryParam("type")}
		var err error
		if q.After, err = query.ParseCursor(c.QueryParam("after")); err != nil {
			fields["after"] = "must be a cursor from next_after"
		}
		q.EmployeeID = checkUUID(fields, "employee_id", c.QueryParam("employee_id"))
		if err := queryError(fields); err != nil {
			return err
		}
		events, err := feed.Handle(c.Request().Context(), q)
		if err != nil {
			return err
		}
		page := EventPage{Items: make([]EventJSON, len(events.Events))}
		for i, e := range events.Events {
			page.Items[i] = eventJSON(e)
		}
		if events.Next != nil {
			page.NextAfter = nextAfter(events.Next.String())
		}
		return c.JSON(http.StatusOK, page)
	}
}

// HistoryJSON is every event about one employee, never paged: next_after is
// always null.
type HistoryJSON struct {
	Items     []EventJSON `json:"items"`
	NextAfter *string     `json:"next_after"`
}

// handleEmployeeHistory godoc
//
//	@Summary		An employee's history
//	@Description	Every event of the employee's streams (registration and changes, attendance, leave, notifications) in commit order. Auditors, admins and the employee's manager.
//	@Tags			audit
//	@Produce		json
//	@Security		BearerAuth
//	@Param			id	path		string	true	"employee id"
//	@Success		200	{object}	HistoryJSON
//	@Failure		400	{object}	UnpagedListQueryProblem
//	@Failure		401	{object}	UnauthorizedProblem
//	@Failure		403	{object}	ForbiddenProblem
//	@Failure		404	{object}	NotFoundProblem
//	@Router			/api/employees/{id}/history/ [get]
func handleEmployeeHistory(employees query.EmployeeHandler, history query.EmployeeHistoryHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, err := visibleEmployee(c, employees, "id")
		if err != nil {
			return err
		}
		if err := permit(c, access.EmployeeHistory, e); err != nil {
			return err
		}
		fields := map[string]string{}
		checkNoCursor(fields, c.QueryParam("after"))
		if err := queryError(fields); err != nil {
			return err
		}
		all, err := history.Handle(c.Request().Context(), e.EmployeeID)
		if err != nil {
			return err
		}
		out := HistoryJSON{Items: make([]EventJSON, len(all))}
		for i, ev := range all {
			out.Items[i] = eventJSON(ev)
		}
		return c.JSON(http.StatusOK, out)
	}
}
