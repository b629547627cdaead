package projections

import (
	"context"
	"fmt"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
)

// SubscribeNotifications delivers every notification raised from now on to
// handler, in this process, whatever other processes subscribe: on Redis it
// reads the notification topic without a consumer group (fan-out), in memory
// it is one more GoChannel subscription. It returns once subscribed; handler
// runs on one goroutine, in the order the relay published, until ctx ends.
//
// The view is built from the event, so it may arrive before the notifications
// read model has its row. A notification can arrive twice (after a relay
// crash); Seq tells a duplicate.
func SubscribeNotifications(ctx context.Context, bus *Bus, codec *eventstore.Codec, handler func(v query.NotificationView, recipientID string)) error {
	sub, err := bus.fanOutSubscriber(ctx, bus.NotificationTopic())
	if err != nil {
		return err
	}
	msgs, err := sub.Subscribe(ctx, bus.NotificationTopic())
	if err != nil {
		return fmt.Errorf("projections: subscribe to notifications: %w", err)
	}
	go func() {
		defer sub.Close()
		for msg := range msgs {
			e, err := decodeEvent(codec, msg.Payload)
			msg.Ack()
			if err != nil {
				bus.slog.Error("projections: undecodable notification", "message", msg.UUID, "err", err)
				continue
			}
			if raised, ok := e.Payload.(notification.Raised); ok {
				handler(raisedView(raised, e.Version), raised.RecipientID)
			}
		}
	}()
	return nil
}

func raisedView(r notification.Raised, seq int64) query.NotificationView {
	data := r.Data
	if data == nil {
		data = map[string]any{}
	}
	return query.NotificationView{ID: r.NotificationID, Seq: seq, Type: string(r.Type), Message: r.Message, Data: data, CreatedAt: r.RaisedAt.UTC()}
}
