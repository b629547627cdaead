package bus

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
)

// The bus keeps what some consumer group still needs (its pending entries and
// what it has not read) and drops the rest; the fan-out topic keeps an hour.
func TestTrimKeepsWhatAGroupStillNeeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	ctx := context.Background()
	topic := e.bus.EventTopic("attendance", 0)
	var msgs []*message.Message
	for i := range 10 {
		msgs = append(msgs, message.NewMessage(strconv.Itoa(i), nil))
	}
	pipelinetest.Publish(e.t, e.redis, topic, msgs...)
	// Before any group exists, nothing is trimmed.
	if err := e.bus.Trim(ctx, []string{topic}); err != nil {
		t.Fatal(err)
	}
	if n := e.redis.XLen(ctx, topic).Val(); n != 10 {
		t.Fatalf("entries without a group: got %d, want 10", n)
	}

	read := func(group string, n int64) []redis.XMessage {
		t.Helper()
		if err := e.redis.XGroupCreate(ctx, topic, group, "0").Err(); err != nil {
			t.Fatal(err)
		}
		streams, err := e.redis.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: "c", Streams: []string{topic, ">"}, Count: n}).Result()
		if err != nil {
			t.Fatal(err)
		}
		return streams[0].Messages
	}
	all := read("done", 10)
	ack := func(group string, ms []redis.XMessage) {
		for _, m := range ms {
			if err := e.redis.XAck(ctx, topic, group, m.ID).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	ack("done", all)
	// "slow" has read 8 and acknowledged 5: it may still need the 6th on.
	slow := read("slow", 8)
	ack("slow", slow[:5])

	notifications := e.bus.NotificationTopic()
	old := strconv.FormatInt(time.Now().Add(-2*time.Hour).UnixMilli(), 10) + "-0"
	for _, id := range []string{old, "*"} {
		if err := e.redis.XAdd(ctx, &redis.XAddArgs{Stream: notifications, ID: id, Values: map[string]any{"k": "v"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}

	if err := e.bus.Trim(ctx, []string{topic}); err != nil {
		t.Fatal(err)
	}
	left, err := e.redis.XRange(ctx, topic, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 5 || left[0].ID != all[5].ID {
		t.Errorf("entries left: got %d from %v, want 5 from %s", len(left), left[0].ID, all[5].ID)
	}
	if n := e.redis.XLen(ctx, notifications).Val(); n != 1 {
		t.Errorf("notifications left: got %d, want the recent one", n)
	}
}

// DestroyGroups deletes the groups named, and only those, and passes over a
// topic that does not exist.
func TestDestroyGroupsDeletesOnlyThoseNamed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	ctx := context.Background()
	topic := e.bus.EventTopic("attendance", 0)
	for _, g := range []string{"retired", "kept"} {
		if err := e.redis.XGroupCreateMkStream(ctx, topic, g, "0").Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.bus.DestroyGroups(ctx, []string{topic, e.bus.EventTopic("leave", 0)}, []string{"retired"}); err != nil {
		t.Fatal(err)
	}
	groups, err := e.redis.XInfoGroups(ctx, topic).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].Name != "kept" {
		t.Errorf("groups left: %+v, want only kept", groups)
	}
}
