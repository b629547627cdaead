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
	raised := eventstore.StreamAppend{Stream: notification.Stream(cmd.RecipientID), Events: []eventstore.EventData{
		{ID: id, Payload: events[0].(eventstore.Payload), Metadata: cmd.Origin.metadata(cmd.Actor)}}}
	if gathered, ok := ctx.Value(gatheredKey{}).(*GatheredNotifications); ok {
		gathered.appends = append(gathered.appends, raised)
		return nil
	}
	_, err = h.store.Append(ctx, raised.Stream, eventstore.AnyVersion, raised.Events...)
	return err
}

// GatheredNotifications holds the notifications raised with a context of
// GatherNotifications until AppendGathered appends them, together: a saga
// group appends those of a batch in one transaction, where one each cost a
// commit apiece.
type GatheredNotifications struct {
	appends []eventstore.StreamAppend
}

type gatheredKey struct{}

// GatherNotifications returns ctx, with which Handle gathers the
// notifications it raises rather than appending them.
func GatherNotifications(ctx context.Context) (context.Context, *GatheredNotifications) {
	gathered := &GatheredNotifications{}
	return context.WithValue(ctx, gatheredKey{}, gathered), gathered
}

// AppendGathered appends the notifications gathered, in the order they were
// raised, in one transaction; each raised before appends nothing.
func (h RaiseNotificationHandler) AppendGathered(ctx context.Context, gathered *GatheredNotifications) error {
	if len(gathered.appends) == 0 {
		return nil
	}
	_, err := h.store.AppendAll(ctx, gathered.appends)
	return err
}
