package http

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
)

// EventJSON is a stored event as auditors see it. Cursor is its place in
// the feed: after=cursor continues after it, so a client that reached the end
// of the feed (next_after null) follows it from its last event.
type EventJSON struct {
	Position   int64               `json:"position"`
	Cursor     string              `json:"cursor" example:"1234.5678"`
	StreamID   string              `json:"stream_id" example:"leave-0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b"`
	Version    int64               `json:"version"`
	Type       string              `json:"type" example:"leave.approved"`
	Data       json.RawMessage     `json:"data" swaggertype:"object"`
	Metadata   eventstore.Metadata `json:"metadata"`
	RecordedAt time.Time           `json:"recorded_at"`
}

func eventJSON(e eventstore.Event) EventJSON {
	return EventJSON{Position: e.Position, Cursor: e.Cursor().String(), StreamID: e.StreamID, Version: e.Version, Type: e.Type, Data: e.Data, Metadata: e.Metadata, RecordedAt: e.RecordedAt}
}

// EventPage is a page of the audit feed. next_after is the feed cursor to
// continue from, null when the page reaches the end of the feed.
type EventPage struct {
	Items     []EventJSON `json:"items"`
	NextAfter *string     `json:"next_after" example:"1234.5678"`
}

// maxFeedScan bounds the events one request reads when filtering by
// employee, which the store cannot do by index; the cursor moves past them
// all, so paging on finds the rest.
const maxFeedScan = 10_000

// employeeStreams are the streams about one employee.
func employeeStreams(id string) []string {
	return []string{employee.Stream(id), attendance.Stream(id), leave.Stream(id), notification.Stream(id)}
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
func handleEvents(store EventStore) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		limit := checkLimit(fields, c.QueryParam("limit"))
		after, err := eventstore.ParseCursor(c.QueryParam("after"))
		if err != nil {
			fields["after"] = "must be a cursor from next_after"
		}
		employeeID := checkUUID(fields, "employee_id", c.QueryParam("employee_id"))
		f := eventstore.FeedFilter{StreamID: c.QueryParam("stream"), Type: c.QueryParam("type")}
		if err := queryError(fields); err != nil {
			return err
		}
		ctx := c.Request().Context()
		page := EventPage{Items: []EventJSON{}}
		if employeeID == "" {
			// One event more than the page tells whether a next page exists.
			events, _, err := store.ReadFeedFiltered(ctx, after, limit+1, f)
			if err != nil {
				return err
			}
			for _, e := range events[:min(limit, len(events))] {
				page.Items = append(page.Items, eventJSON(e))
			}
			if len(events) > limit {
				page.NextAfter = nextAfter(events[limit-1].Cursor().String())
			}
			return c.JSON(http.StatusOK, page)
		}
		streams := employeeStreams(employeeID)
		cursor, more := after, false
	scan:
		for scanned := 0; ; scanned += maxLimit {
			if scanned >= maxFeedScan {
				more = true // the scan's bound, not the feed's end: the client continues from here
				break
			}
			events, _, err := store.ReadFeedFiltered(ctx, cursor, maxLimit, f)
			if err != nil {
				return err
			}
			for _, e := range events {
				if slices.Contains(streams, e.StreamID) {
					if len(page.Items) == limit {
						more = true
						break scan
					}
					page.Items = append(page.Items, eventJSON(e))
				}
				cursor = e.Cursor()
			}
			if len(events) < maxLimit {
				break // the end of the feed
			}
		}
		if more {
			page.NextAfter = nextAfter(cursor.String())
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
func handleEmployeeHistory(store EventStore) echo.HandlerFunc {
	return func(c echo.Context) error {
		e, err := visibleEmployee(c, store, "id")
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
		var all []eventstore.Event
		for _, s := range employeeStreams(e.EmployeeID) {
			events, err := store.Load(c.Request().Context(), s)
			if err != nil {
				return err
			}
			all = append(all, events...)
		}
		slices.SortFunc(all, func(a, b eventstore.Event) int {
			return cmp.Or(cmp.Compare(a.TxID, b.TxID), cmp.Compare(a.Position, b.Position))
		})
		out := HistoryJSON{Items: make([]EventJSON, len(all))}
		for i, ev := range all {
			out.Items[i] = eventJSON(ev)
		}
		return c.JSON(http.StatusOK, out)
	}
}
