package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
)

// A subscriber stopped by its context is no error in the program's log; any
// other failure still is.
func TestWatermillLoggerQuietOnShutdown(t *testing.T) {
	var buf bytes.Buffer
	logger := watermillLogger(slog.New(slog.NewTextHandler(&buf, nil))).With(watermill.LogFields{"topic": "t"})
	logger.Error("read fail", fmt.Errorf("xread: %w", context.Canceled), nil)
	if buf.Len() != 0 {
		t.Fatalf("a read cut short by shutdown was logged at info or above: %s", buf.String())
	}
	logger.Error("read fail", errors.New("connection refused"), nil)
	if got := buf.String(); !strings.Contains(got, "level=ERROR") || !strings.Contains(got, "connection refused") || !strings.Contains(got, "topic=t") {
		t.Fatalf("a real failure was not logged as an error: %q", got)
	}
}

// A fan-out subscriber gets every message published after it was made, even
// one published before its first read, and none from before.
func TestFanOutSubscriberMissesNothingPublishedAfterIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	topic := e.bus.NotificationTopic()
	pipelinetest.Publish(e.t, e.redis, topic, message.NewMessage("before", nil))
	sub, err := e.bus.FanOutSubscriber(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	pipelinetest.Publish(e.t, e.redis, topic, message.NewMessage("after", nil))
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-msgs:
		msg.Ack()
		if msg.UUID != "after" {
			t.Fatalf("got message %q, want the one published after the subscriber was made", msg.UUID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the message published before the first read never arrived")
	}
}

// New takes its settings' defaults for zero fields and refuses what it
// cannot run with, rather than clamping it.
func TestBusSettings(t *testing.T) {
	t.Parallel()
	b, err := New(Settings{URL: MemoryURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Partitions() != DefaultPartitions || b.prefix != DefaultTopicPrefix || b.members != DefaultGroupMembers || b.claimAfter != DefaultClaimAfter {
		t.Errorf("defaults: %d partitions, prefix %q, %d members, claim after %s; want %d, %q, %d, %s",
			b.Partitions(), b.prefix, b.members, b.claimAfter, DefaultPartitions, DefaultTopicPrefix, DefaultGroupMembers, DefaultClaimAfter)
	}
	for _, bad := range []Settings{
		{},
		{URL: "not a url"},
		{URL: MemoryURL, Partitions: -1},
		{URL: MemoryURL, Partitions: MaxPartitions + 1},
		{URL: MemoryURL, GroupMembers: -2},
		{URL: MemoryURL, ClaimAfter: -time.Second},
	} {
		if b, err := New(bad, nil); err == nil {
			b.Close()
			t.Errorf("New(%+v) succeeded, want an error", bad)
		}
	}
}

// A bus of another number of partitions finds the relay's key gone, so that
// its relay publishes again what was not read, and deletes the topics of the
// partitions it no longer uses.
func TestFewerPartitionsRepublishAndDropTheUnusedTopics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	ctx := context.Background()
	if err := e.bus.MarkAlive(ctx); err != nil {
		t.Fatal(err)
	}
	for p := range e.bus.Partitions() {
		pipelinetest.Publish(t, e.redis, e.bus.EventTopic("attendance", p), message.NewMessage(fmt.Sprint(p), nil))
	}
	fewer, err := New(Settings{URL: pipelinetest.RedisURL(), Prefix: e.prefix, Partitions: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fewer.Close()
	if alive, err := fewer.Alive(ctx); err != nil || alive {
		t.Errorf("a bus of 1 partition after one of 3: alive = %v (%v), want false", alive, err)
	}
	if alive, err := e.bus.Alive(ctx); err != nil || !alive {
		t.Errorf("the bus of 3 partitions: alive = %v (%v), want true", alive, err)
	}
	if err := fewer.DropUnusedPartitions(ctx, []string{"attendance"}); err != nil {
		t.Fatal(err)
	}
	for p := range e.bus.Partitions() {
		n, err := e.redis.Exists(ctx, e.bus.EventTopic("attendance", p)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(map[bool]int{true: 1}[p == 0]); n != want {
			t.Errorf("topic of partition %d: exists = %d, want %d", p, n, want)
		}
	}
}

// A publish adds nothing once the relay's key is gone: gone before the
// publish, or lost between the publish's check of it and its EXEC. A key
// written again meanwhile (MarkAlive) only makes it try again.
func TestPublishWhileAliveAddsNothingOnceTheKeyIsGone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	ctx := context.Background()
	topic := e.bus.EventTopic("attendance", 0)
	batch := map[string][]*message.Message{topic: {message.NewMessage("1", []byte("a")), message.NewMessage("2", []byte("b"))}}
	publish := func(during func()) (bool, int64) {
		t.Helper()
		var once sync.Once
		e.bus.beforeExec = func() { once.Do(during) }
		published, err := e.bus.PublishWhileAlive(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.redis.XLen(ctx, topic).Result()
		if err != nil {
			t.Fatal(err)
		}
		return published, n
	}
	nothing := func() {}
	if published, n := publish(nothing); published || n != 0 {
		t.Errorf("without the key: published = %v, %d entries, want false and 0", published, n)
	}
	if err := e.bus.MarkAlive(ctx); err != nil {
		t.Fatal(err)
	}
	if published, n := publish(nothing); !published || n != 2 {
		t.Errorf("with the key: published = %v, %d entries, want true and 2", published, n)
	}
	if published, n := publish(func() {
		if err := e.bus.MarkAlive(ctx); err != nil {
			t.Error(err)
		}
	}); !published || n != 4 {
		t.Errorf("with the key written again before EXEC: published = %v, %d entries, want true and 4", published, n)
	}
	if published, n := publish(func() { e.redis.Del(ctx, e.bus.aliveKey()) }); published || n != 4 {
		t.Errorf("with the key lost before EXEC: published = %v, %d entries, want false and still 4", published, n)
	}
}

// memoryGroupTopic is an in-process bus with one consumer group's
// subscription to an event topic: its messages, and publish, which publishes
// msgs to the topic under ctx and reports the error when the publish returns
// (once every subscriber acknowledged).
type memoryGroupTopic struct {
	msgs    <-chan *message.Message
	publish func(ctx context.Context, msgs ...*message.Message) <-chan error
}

func newMemoryGroupTopic(t *testing.T) memoryGroupTopic {
	t.Helper()
	b, err := New(Settings{URL: MemoryURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	sub, err := b.GroupSubscriber("consumer", Member{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	topic := b.EventTopic("attendance", 0)
	msgs, err := sub.Subscribe(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	return memoryGroupTopic{msgs: msgs, publish: func(ctx context.Context, msgs ...*message.Message) <-chan error {
		published := make(chan error, 1)
		go func() {
			_, err := b.PublishWhileAlive(ctx, map[string][]*message.Message{topic: msgs})
			published <- err
		}()
		return published
	}}
}

// receive returns the next message, a batch of want.
func (g memoryGroupTopic) receive(t *testing.T, want int) *message.Message {
	t.Helper()
	select {
	case msg := <-g.msgs:
		if got := len(MessagesOf(msg)); got != want {
			t.Fatalf("the batch holds %d messages, want %d", got, want)
		}
		return msg
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
		return nil
	}
}

// returned waits for a publish to return.
func returned(t *testing.T, published <-chan error) {
	t.Helper()
	select {
	case err := <-published:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the publish did not return after its batch was acknowledged")
	}
}

// A batch published on the in-process bus is handed to its consumers under a
// context that lives on when the relay's ends: a consumer handling it under
// an ended one failed it, and GoChannel handed it again at once, forever,
// while the relay's publish waited for the ack (a pipeline's stop hung so).
func TestInMemoryBatchOutlivesThePublisher(t *testing.T) {
	t.Parallel()
	g := newMemoryGroupTopic(t)
	relayCtx, stopRelay := context.WithCancel(context.Background())
	stopRelay() // the relay stopped while it published
	published := g.publish(relayCtx, message.NewMessage("a", []byte("1")), message.NewMessage("b", []byte("2")))
	msg := g.receive(t, 2)
	if err := msg.Context().Err(); err != nil {
		t.Errorf("the batch's context: %v, want it alive", err)
	}
	msg.Ack()
	returned(t, published)
}

// A consumer's failed message is handed over again after nackRetryAfter on
// the in-process bus, as on Redis, not at once: a failure that lasted made a
// loop that turned as fast as the handler failed.
func TestInMemoryNackWaitsBeforeTheRetry(t *testing.T) {
	t.Parallel()
	g := newMemoryGroupTopic(t)
	published := g.publish(context.Background(), message.NewMessage("a", []byte("1")))
	g.receive(t, 1).Nack()
	nacked := time.Now()
	g.receive(t, 1).Ack()
	if waited := time.Since(nacked); waited < nackRetryAfter {
		t.Errorf("handed over again %s after the nack, want at least %s", waited, nackRetryAfter)
	}
	returned(t, published)
	select {
	case msg := <-g.msgs:
		t.Errorf("message %s handed over after it was acknowledged", msg.UUID)
	case <-time.After(100 * time.Millisecond):
	}
}
