package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
)

// NotificationJSON is a notification, in lists and in WebSocket frames.
type NotificationJSON struct {
	ID        string         `json:"id"`
	Seq       int64          `json:"seq" example:"7"`
	Type      string         `json:"type" enums:"lateness,absence,low_leave_balance,leave_requested,leave_decided,open_check_in,missing_checkout,correction_requested,correction_decided"`
	Message   *string        `json:"message" example:"Ayşe Yılmaz checked in 17 minutes late on 2024-12-02."`
	Data      map[string]any `json:"data"`
	CreatedAt time.Time      `json:"created_at"`
	Read      bool           `json:"read"`
	// Erased: the personal data of whom it is about was erased; message
	// and data are null.
	Erased bool `json:"erased,omitempty"`
}

func notificationJSON(n query.NotificationView) NotificationJSON {
	out := NotificationJSON{ID: n.ID, Seq: n.Seq, Type: n.Type, Message: personal(n.Message, n.Erased), Data: n.Data, CreatedAt: n.CreatedAt,
		Read: n.Read, Erased: n.Erased}
	if n.Erased {
		out.Data = nil
	}
	return out
}

// NotificationPage is a page of notifications; next_after is a seq.
type NotificationPage struct {
	Items     []NotificationJSON `json:"items"`
	NextAfter *string            `json:"next_after"`
}

// handleListNotifications godoc
//
//	@Summary	The caller's notifications
//	@Tags		notifications
//	@Produce	json
//	@Security	BearerAuth
//	@Param		unread	query		bool	false	"only unread ones"
//	@Param		after	query		int		false	"only those with a greater seq"
//	@Param		limit	query		int		false	"page size (1-500)"	default(50)
//	@Success	200		{object}	NotificationPage
//	@Failure	400		{object}	ListQueryProblem
//	@Failure	401		{object}	UnauthorizedProblem
//	@Router		/api/notifications/ [get]
func handleListNotifications(q query.ReadModels) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		unread := checkBool(fields, "unread", c.QueryParam("unread"))
		after := checkInt(fields, "after", c.QueryParam("after"), 0, 0, 1<<62)
		limit := checkLimit(fields, c.QueryParam("limit"))
		if err := queryError(fields); err != nil {
			return err
		}
		ctx, user := c.Request().Context(), mustPrincipal(c).EmployeeID
		items, err := q.Notifications(ctx, user, unread, int64(after), limit)
		if err != nil {
			return err
		}
		page := NotificationPage{Items: make([]NotificationJSON, len(items))}
		for i, n := range items {
			page.Items[i] = notificationJSON(n)
		}
		if len(items) == limit {
			// A full page may be the last one: a next page needs one more.
			last := items[len(items)-1].Seq
			following, err := q.Notifications(ctx, user, unread, last, 1)
			if err != nil {
				return err
			}
			if len(following) > 0 {
				page.NextAfter = nextAfter(strconv.FormatInt(last, 10))
			}
		}
		return c.JSON(http.StatusOK, page)
	}
}

// handleMarkRead godoc
//
//	@Summary	Mark a notification read
//	@Tags		notifications
//	@Produce	json
//	@Security	BearerAuth
//	@Param		id	path		string	true	"notification id"
//	@Success	200	{object}	NotificationJSON
//	@Failure	401	{object}	UnauthorizedProblem
//	@Failure	403	{object}	ForbiddenProblem	"an auditor changes nothing"
//	@Failure	404	{object}	NotFoundProblem
//	@Router		/api/notifications/{id}/mark-as-read/ [post]
func handleMarkRead(mark command.MarkNotificationReadHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		r, err := mark.Handle(c.Request().Context(), command.MarkNotificationRead{Actor: mustPrincipal(c).Employee, Origin: originOf(c), NotificationID: id})
		if err != nil {
			return err
		}
		n := r.Notification
		return c.JSON(http.StatusOK, notificationJSON(query.NotificationView{
			ID: n.ID, Seq: r.Seq, Type: string(n.Type), Message: n.Message, Data: n.Data, CreatedAt: n.RaisedAt, Read: n.Read,
			Erased: r.Erased,
		}))
	}
}
