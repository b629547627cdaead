package command

import (
	"context"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
)

// RaiseNotification raises a notification to a recipient in reaction to a
// cause (an event id, or a key such as "absence/<employee>/<date>"). Its id
// derives from the cause, the recipient and the type, so raising it again
// appends nothing. The sagas and the daily sweep run it.
type RaiseNotification struct {
	// Origin gives the metadata: the cause's event and correlation.
	Origin      Origin
	Actor       string
	Cause       string
	RecipientID string
	Type        notification.Type
	Message     string
	Data        map[string]any
	// Decider is who decided what a decision's notification tells.
	Decider notification.Decider
}

// NotificationID is the id (and event id) of the notification of typ to
// recipient caused by cause.
func NotificationID(cause, recipient string, typ notification.Type) uuid.UUID {
	return ReactionIDs.ID("notification", cause, recipient, string(typ))
}

// RaiseNotificationHandler runs RaiseNotification.
type RaiseNotificationHandler struct {
	store EventStore
	now   Now
}

// NewRaiseNotificationHandler returns the handler of RaiseNotification.
func NewRaiseNotificationHandler(store EventStore, now Now) RaiseNotificationHandler {
	return RaiseNotificationHandler{store: store, now: now}
}

// Handle appends the notification to the recipient's inbox, unless it is
// there already.
func (h RaiseNotificationHandler) Handle(ctx context.Context, cmd RaiseNotification) error {
	id := NotificationID(cmd.Cause, cmd.RecipientID, cmd.Type)
	events, err := notification.Decide(notification.Inbox{}, notification.Raise{
		NotificationID: id.String(), RecipientID: cmd.RecipientID, Type: cmd.Type, Message: cmd.Message, Data: cmd.Data, Decider: cmd.Decider,
		CauseEventID: cmd.Cause,
	}, h.now())
	if err != nil {
		return err
	}
	// The id makes the append idempotent; the stream's order is the seq.
	_, err = h.store.Append(ctx, notification.Stream(cmd.RecipientID), eventstore.AnyVersion,
		eventstore.EventData{ID: id, Payload: events[0].(eventstore.Payload), Metadata: cmd.Origin.metadata(cmd.Actor)})
	return err
}
