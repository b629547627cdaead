package projections

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/go-cmp/cmp"
)

// A member reads a backlog in batches, hands each over as one message in
// order, gives a nacked batch again, and leaves nothing pending once all are
// handled.
func TestGroupReaderHandsOverInOrderAndAcknowledges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testRedisURL())
	topic := e.bus.EventTopic("attendance", 0)
	const n = 3*groupReadBatch + 7
	var msgs []*message.Message
	var want []string
	for i := range n {
		msgs = append(msgs, message.NewMessage(strconv.Itoa(i), []byte(strconv.Itoa(i))))
		want = append(want, strconv.Itoa(i))
	}
	e.publish(topic, msgs...)
	sub, err := e.bus.groupSubscriber("test-group")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	in, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	nacked, largest := false, 0
	for len(got) < n {
		select {
		case m := <-in:
			batch := messagesOf(m)
			largest = max(largest, len(batch))
			if batch[0].UUID == "0" && !nacked {
				nacked = true
				m.Nack()
				continue
			}
			for _, bm := range batch {
				got = append(got, string(bm.Payload))
			}
			m.Ack()
		case <-ctx.Done():
			t.Fatalf("handed over %d of %d messages", len(got), n)
		}
	}
	if largest <= 1 || largest > groupReadBatch {
		t.Errorf("largest batch: %d messages, want 2 to %d", largest, groupReadBatch)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("messages handed over (-want +got):\n%s", diff)
	}
	eventually(t, "nothing pending", func() (bool, error) {
		p, err := e.redis.XPending(ctx, topic, "test-group").Result()
		return err == nil && p.Count == 0, err
	})
}
