package projections

import (
	"context"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/bus"
)

// SubscribeNotifications hands handler the view of every notification raised
// from now on in this process (bus.Bus.SubscribeNotifications), with its
// recipient.
//
// The view is built from the event, so it may arrive before the notifications
// read model has its row.
func SubscribeNotifications(ctx context.Context, b *bus.Bus, codec *eventstore.Codec, handler func(v query.NotificationView, recipientID string)) error {
	return b.SubscribeNotifications(ctx, codec, func(r notification.Raised, seq int64) {
		handler(raisedView(r, seq), r.RecipientID)
	})
}

func raisedView(r notification.Raised, seq int64) query.NotificationView {
	msg, data := r.View()
	if data == nil {
		data = map[string]any{}
	}
	// A notification is never read without a message (notification.Decide):
	// an empty one was erased.
	return query.NotificationView{ID: r.NotificationID, Seq: seq, Type: string(r.Type), Message: msg, Data: data, CreatedAt: r.RaisedAt.UTC(),
		Erased: msg == ""}
}
