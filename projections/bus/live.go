package bus

import (
	"context"
	"fmt"

	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
)

// SubscribeNotifications delivers every notification raised from now on to
// handler, with its seq (the version of its event), in this process, whatever
// other processes subscribe: on Redis it reads the notification topic without
// a consumer group (fan-out), in memory it is one more GoChannel
// subscription. It returns once subscribed; handler runs on one goroutine, in
// the order the relay published, until ctx ends.
//
// A notification can arrive twice (after a relay crash); seq tells a
// duplicate.
func (b *Bus) SubscribeNotifications(ctx context.Context, codec *eventstore.Codec, handler func(r notification.Raised, seq int64)) error {
	sub, err := b.FanOutSubscriber(ctx, b.NotificationTopic())
	if err != nil {
		return err
	}
	msgs, err := sub.Subscribe(ctx, b.NotificationTopic())
	if err != nil {
		return fmt.Errorf("projections: subscribe to notifications: %w", err)
	}
	go func() {
		defer sub.Close()
		for msg := range msgs {
			e, err := DecodeEvent(codec, msg.Payload)
			msg.Ack()
			if err != nil {
				b.slog.Error("projections: undecodable notification", "message", msg.UUID, "err", err)
				continue
			}
			if raised, ok := e.Payload.(notification.Raised); ok {
				handler(raised, e.Version)
			}
		}
	}()
	return nil
}
