package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/notification"
)

// MarkNotificationRead marks a notification of the actor's inbox read.
type MarkNotificationRead struct {
	Actor          employee.Employee
	Origin         Origin
	NotificationID string
}

// MarkedRead is the notification as marked, with its seq in the inbox.
type MarkedRead struct {
	Notification notification.Notification
	Seq          int64
	// Erased: the personal data of whom it is about was erased, its
	// message and data with it.
	Erased bool
}

// MarkNotificationReadHandler marks notifications read.
type MarkNotificationReadHandler struct {
	store EventStore
	now   Now
}

// NewMarkNotificationReadHandler returns the handler.
func NewMarkNotificationReadHandler(store EventStore, now Now) MarkNotificationReadHandler {
	return MarkNotificationReadHandler{store: store, now: now}
}

// Handle marks the notification read; one the inbox does not hold is
// notification.ErrNotFound.
func (h MarkNotificationReadHandler) Handle(ctx context.Context, cmd MarkNotificationRead) (MarkedRead, error) {
	user := cmd.Actor.EmployeeID
	if err := authorize(cmd.Actor, access.NotificationMarkRead, cmd.Actor); err != nil {
		return MarkedRead{}, err
	}
	at := h.now()
	d, err := update(ctx, h.store, cmd.Origin, user, notification.Stream(user), func(history []any) ([]any, error) {
		return notification.Decide(notification.Replay(history), notification.MarkRead{NotificationID: cmd.NotificationID}, at)
	})
	if err != nil {
		return MarkedRead{}, err
	}
	n, ok := notification.Replay(d.after()).Notification(cmd.NotificationID)
	if !ok {
		return MarkedRead{}, notification.ErrNotFound
	}
	out := MarkedRead{Notification: n}
	for _, e := range d.stored {
		if r, ok := e.Payload.(notification.Raised); ok && r.NotificationID == cmd.NotificationID {
			out.Seq, out.Erased = e.Version, e.Erased
		}
	}
	return out, nil
}
