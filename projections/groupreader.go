package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"
)

const (
	// groupReadBatch is the most messages one read takes.
	groupReadBatch = 100
	// groupReadBlock is how long a read waits when nothing is ready; a
	// message ends the wait at once.
	groupReadBlock = time.Second
	// nackRetryAfter is how long a message that failed waits before it is
	// handed over again.
	nackRetryAfter = 200 * time.Millisecond
)

// groupReader is one member of a Redis consumer group, reading messages in
// watermill-redisstream's wire format like its subscriber, but in batches: a
// read takes every message ready (up to groupReadBatch) and hands them to the
// handler as one message, and their acknowledgements go out with the next
// read. A member under load thus costs a round trip per batch
// rather than two per message. As with redisstream, a message is acknowledged
// only once handled, messages left pending by a member that died are claimed
// after claimAfter, and a group that vanished with its stream (Redis lost its
// data) is created again.
type groupReader struct {
	client     *redis.Client
	group      string
	consumer   string
	claimAfter time.Duration
	logger     *slog.Logger
	codec      redisstream.DefaultMarshallerUnmarshaller

	mu        sync.Mutex
	topics    []string
	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

func (r *groupReader) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if err := r.createGroup(ctx, topic); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.topics = append(r.topics, topic)
	r.mu.Unlock()
	out := make(chan *message.Message)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(out)
		r.run(ctx, topic, out)
	}()
	return out, nil
}

func (r *groupReader) createGroup(ctx context.Context, topic string) error {
	err := r.client.XGroupCreateMkStream(ctx, topic, r.group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("bus: create group %s on %s: %w", r.group, topic, err)
	}
	return nil
}

func (r *groupReader) run(ctx context.Context, topic string, out chan<- *message.Message) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-r.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	var acked []string
	defer func() {
		// Best effort: what is not acknowledged is handled again.
		if len(acked) > 0 {
			r.client.XAck(context.WithoutCancel(ctx), topic, r.group, acked...)
		}
	}()
	claimEvery := min(5*time.Second, r.claimAfter)
	nextClaim := time.Now()
	for ctx.Err() == nil {
		var msgs []redis.XMessage
		var err error
		if time.Now().After(nextClaim) {
			msgs, err = r.claim(ctx, topic)
			if len(msgs) < groupReadBatch {
				nextClaim = time.Now().Add(claimEvery)
			}
		} else {
			msgs, err = r.read(ctx, topic, acked)
			if err == nil || errors.Is(err, redis.Nil) {
				acked = acked[:0]
			}
		}
		switch {
		case err == nil, errors.Is(err, redis.Nil):
		case ctx.Err() != nil:
			return
		case strings.HasPrefix(err.Error(), "NOGROUP"):
			// Redis lost the stream and its group: start again from what
			// the relay publishes again.
			r.logger.Warn("bus: consumer group lost, creating it again", "group", r.group, "topic", topic)
			if err := r.createGroup(ctx, topic); err != nil {
				r.logger.Warn("bus: create group", "err", err)
				sleep(ctx, 500*time.Millisecond)
			}
			continue
		default:
			r.logger.Warn("bus: read", "group", r.group, "topic", topic, "err", err)
			sleep(ctx, 500*time.Millisecond)
			continue
		}
		if !r.deliver(ctx, msgs, out) {
			return
		}
		for _, xm := range msgs {
			acked = append(acked, xm.ID)
		}
	}
}

// read acknowledges acked and reads what is ready, in one round trip.
func (r *groupReader) read(ctx context.Context, topic string, acked []string) ([]redis.XMessage, error) {
	pipe := r.client.Pipeline()
	var ack *redis.IntCmd
	if len(acked) > 0 {
		ack = pipe.XAck(ctx, topic, r.group, acked...)
	}
	read := pipe.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: r.group, Consumer: r.consumer, Streams: []string{topic, ">"}, Count: groupReadBatch, Block: groupReadBlock,
	})
	pipe.Exec(ctx)
	if ack != nil && ack.Err() != nil {
		return nil, ack.Err()
	}
	streams, err := read.Result()
	if err != nil || len(streams) == 0 {
		return nil, err
	}
	return streams[0].Messages, nil
}

// claim takes over the messages that other members left pending too long.
func (r *groupReader) claim(ctx context.Context, topic string) ([]redis.XMessage, error) {
	msgs, _, err := r.client.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: topic, Group: r.group, Consumer: r.consumer, MinIdle: r.claimAfter, Start: "0-0", Count: groupReadBatch,
	}).Result()
	return msgs, err
}

// deliver hands the messages of xms to the handler as one batch message
// (messagesOf) until it is acknowledged; it reports false when the reader
// stops first.
func (r *groupReader) deliver(ctx context.Context, xms []redis.XMessage, out chan<- *message.Message) bool {
	batch := make([]*message.Message, 0, len(xms))
	for _, xm := range xms {
		msg, err := r.codec.Unmarshal(xm.Values)
		if err != nil {
			// Not a message of ours: nothing could ever handle it.
			r.logger.Error("bus: undecodable message, dropped", "group", r.group, "id", xm.ID, "err", err)
			continue
		}
		batch = append(batch, msg)
	}
	if len(batch) == 0 {
		return true
	}
	for {
		msgCtx, cancel := context.WithCancel(ctx)
		msg := batchMessage(msgCtx, batch)
		select {
		case out <- msg:
		case <-ctx.Done():
			cancel()
			return false
		}
		select {
		case <-msg.Acked():
			cancel()
			return true
		case <-msg.Nacked():
			cancel()
			if !sleep(ctx, nackRetryAfter) {
				return false
			}
		case <-ctx.Done():
			cancel()
			return false
		}
	}
}

// batchKey carries, in a batch message's context, the messages it stands for.
type batchKey struct{}

// batchMessage is one message that stands for msgs, all acknowledged or none:
// a handler applies them in one transaction.
func batchMessage(ctx context.Context, msgs []*message.Message) *message.Message {
	m := message.NewMessage(msgs[0].UUID, nil)
	m.Metadata.Set("batch", strconv.Itoa(len(msgs)))
	m.SetContext(context.WithValue(ctx, batchKey{}, msgs))
	return m
}

// messagesOf returns the messages that msg stands for: a batch message's
// own, or msg itself.
func messagesOf(msg *message.Message) []*message.Message {
	if msgs, ok := msg.Context().Value(batchKey{}).([]*message.Message); ok {
		return msgs
	}
	return []*message.Message{msg}
}

// sleep waits for d, or less when ctx ends first; it reports whether it
// waited all of d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Close stops reading, acknowledges what was handled, leaves the group when
// nothing of this member is pending, and closes the client.
func (r *groupReader) Close() error {
	r.closeOnce.Do(func() {
		close(r.closing)
		r.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		r.mu.Lock()
		topics := r.topics
		r.mu.Unlock()
		for _, topic := range topics {
			pending, err := r.client.XPendingExt(ctx, &redis.XPendingExtArgs{
				Stream: topic, Group: r.group, Consumer: r.consumer, Start: "-", End: "+", Count: 1,
			}).Result()
			if err == nil && len(pending) == 0 {
				r.client.XGroupDelConsumer(ctx, topic, r.group, r.consumer)
			}
		}
		r.closeErr = r.client.Close()
	})
	return r.closeErr
}
