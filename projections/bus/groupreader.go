package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"
)

const (
	// groupReadBatch is the most messages one read takes.
	groupReadBatch = 10_000
	// groupReadBlock is how long a read waits when nothing is ready; a
	// message ends the wait at once.
	groupReadBlock = time.Second
	// nackRetryAfter is how long a message that failed waits before it is
	// handed over again.
	nackRetryAfter = 200 * time.Millisecond
	// retryFirst and retryAtMost bound the wait between reads while Redis
	// fails: it doubles from the first to the last.
	retryFirst  = 250 * time.Millisecond
	retryAtMost = 5 * time.Second
	// takeOverMinIdle is how long an entry of a dead instance must have
	// waited before a member takes it over: one that another member has
	// just taken over is left to it.
	takeOverMinIdle = time.Second
)

// groupReader is one member of a Redis consumer group, reading messages in
// watermill-redisstream's wire format like its subscriber, but in batches: a
// read takes every message ready (up to groupReadBatch) and hands them to the
// handler as one message, and their acknowledgements go out with the next
// read. A member under load thus costs a round trip per batch
// rather than two per message. As with redisstream, a message is acknowledged
// only once handled, and a group that vanished with its stream (Redis lost
// its data) is created again.
//
// A member's name is stable across restarts of its process (instances), so
// it first reads what it left pending before it died, and again after any
// read whose answer may have been lost. The entries of a member of a dead
// instance are taken over as soon as the instance's heartbeat stops; those
// of any other member only after claimAfter.
type groupReader struct {
	client     *redis.Client
	group      string
	consumer   string
	claimAfter time.Duration
	linger     time.Duration
	// peers tells the dead instances apart; nil takes nothing over early.
	peers  *Instances
	health *Health
	logger *slog.Logger

	mu        sync.Mutex
	topics    []string
	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// Member is a member of a consumer group as its pipeline names it.
type Member struct {
	// Name is the member's consumer name: its instance's, and its number
	// within the instance (Instances.ConsumerName).
	Name string
	// Peers tells the dead instances apart; nil (the in-process bus) takes
	// nothing over early.
	Peers *Instances
	// Health reports an outage of Redis once for all the members.
	Health *Health
	// Linger is how long after a read that found less than a full batch
	// the member reads again: what arrives meanwhile makes one batch, so a
	// steady flow is handled a few events at a time rather than one by one,
	// for at most Linger of latency. Zero reads again at once.
	Linger time.Duration
}

// newGroupReader returns member m of consumer group group, with a Redis
// client of its own: blocking reads hold a connection each, and closing the
// member closes its client.
func (b *Bus) newGroupReader(group string, m Member) (*groupReader, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errors.New("projections: bus closed")
	}
	r := &groupReader{client: redis.NewClient(b.redisOpts), group: group, consumer: m.Name, claimAfter: b.claimAfter,
		linger: m.Linger, peers: m.Peers, health: m.Health, logger: b.slog, closing: make(chan struct{})}
	b.closers = append(b.closers, r.Close)
	return r, nil
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
	// ownPending: read this member's own pending entries (from "0") rather
	// than new ones, as a former process of the same name left them.
	ownPending := true
	takenOver := map[deadInstance]bool{}
	nextTakeOver := time.Now()
	retry := retryFirst
	// lingerUntil is when a read after one that found less than a full
	// batch may go.
	var lingerUntil time.Time
	for ctx.Err() == nil {
		var msgs []redis.XMessage
		var err error
		began := time.Now()
		dead, found := r.nextDead(takenOver)
		switch {
		case ownPending:
			var ackErr error
			msgs, ackErr, err = r.read(ctx, topic, "0", acked)
			if ackErr == nil {
				acked = acked[:0]
			}
			if err == nil || errors.Is(err, redis.Nil) {
				ownPending = len(msgs) == groupReadBatch
			}
		case found && time.Now().After(nextTakeOver):
			var done bool
			msgs, done, err = r.takeOver(ctx, topic, dead.name)
			if done {
				takenOver[dead] = true
			} else if len(msgs) == 0 {
				nextTakeOver = time.Now().Add(takeOverMinIdle)
			}
		case time.Now().After(nextClaim):
			msgs, err = r.claim(ctx, topic)
			if len(msgs) < groupReadBatch {
				nextClaim = time.Now().Add(claimEvery)
			}
		default:
			if wait := time.Until(lingerUntil); wait > 0 {
				sleep(ctx, wait)
				began = time.Now()
			}
			var ackErr error
			msgs, ackErr, err = r.read(ctx, topic, ">", acked)
			if n := len(msgs); n > 0 && n < groupReadBatch {
				lingerUntil = began.Add(r.linger)
			}
			if ackErr == nil {
				acked = acked[:0]
			} else if err == nil {
				r.logger.Warn("bus: acknowledge, will send it again with the next read", "group", r.group, "topic", topic, "err", ackErr)
			}
		}
		switch {
		case err == nil, errors.Is(err, redis.Nil):
			r.health.succeeded(began)
			retry = retryFirst
		case ctx.Err() != nil:
			return
		case strings.HasPrefix(err.Error(), "NOGROUP"):
			// Redis lost the stream and its group: start again from what
			// the relay publishes again.
			r.health.succeeded(began)
			r.logger.Warn("bus: consumer group lost, creating it again", "group", r.group, "topic", topic)
			if err := r.createGroup(ctx, topic); err != nil {
				r.logger.Warn("bus: create group", "err", err)
				sleep(ctx, 500*time.Millisecond)
			}
			continue
		default:
			// The read may have reached Redis and its answer been lost: what
			// it handed to this member is pending, and read again from "0".
			ownPending = true
			r.health.Failed(err, "group", r.group, "topic", topic)
			sleep(ctx, retry)
			retry = min(2*retry, retryAtMost)
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

// read acknowledges acked and reads, in one round trip, the entries after
// from: ">" for new ones, "0" for this member's own pending ones. A failed
// acknowledgement (ackErr) does not lose what the read returned: the caller
// sends it again with the next read.
func (r *groupReader) read(ctx context.Context, topic, from string, acked []string) (msgs []redis.XMessage, ackErr, err error) {
	pipe := r.client.Pipeline()
	var ack *redis.IntCmd
	if len(acked) > 0 {
		ack = pipe.XAck(ctx, topic, r.group, acked...)
	}
	read := pipe.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: r.group, Consumer: r.consumer, Streams: []string{topic, from}, Count: groupReadBatch, Block: groupReadBlock,
	})
	_, _ = pipe.Exec(ctx) // each command reports its own error
	if ack != nil {
		ackErr = ack.Err()
	}
	streams, err := read.Result()
	if err != nil || len(streams) == 0 {
		return nil, ackErr, err
	}
	return streams[0].Messages, ackErr, nil
}

// nextDead returns a dead instance whose entries this member has not taken
// over yet.
func (r *groupReader) nextDead(takenOver map[deadInstance]bool) (deadInstance, bool) {
	if r.peers == nil {
		return deadInstance{}, false
	}
	for _, d := range r.peers.deadOnes() {
		if !takenOver[d] {
			return d, true
		}
	}
	return deadInstance{}, false
}

// takeOver claims the entries that the members of the dead instance left
// pending on topic, a batch at a time; done reports that none is left, and
// removes those members from the group.
func (r *groupReader) takeOver(ctx context.Context, topic, instance string) (msgs []redis.XMessage, done bool, err error) {
	consumers, err := r.client.XInfoConsumers(ctx, topic, r.group).Result()
	if err != nil {
		return nil, false, err
	}
	for _, c := range consumers {
		if instanceOf(c.Name) != instance {
			continue
		}
		if c.Pending == 0 {
			if err := r.client.XGroupDelConsumer(ctx, topic, r.group, c.Name).Err(); err != nil {
				return nil, false, err
			}
			continue
		}
		pending, err := r.client.XPendingExt(ctx, &redis.XPendingExtArgs{
			Stream: topic, Group: r.group, Consumer: c.Name, Idle: takeOverMinIdle, Start: "-", End: "+", Count: groupReadBatch,
		}).Result()
		if err != nil || len(pending) == 0 {
			// Entries another member is taking over: look again later.
			return nil, false, err
		}
		ids := make([]string, len(pending))
		for i, p := range pending {
			ids[i] = p.ID
		}
		msgs, err := r.client.XClaim(ctx, &redis.XClaimArgs{
			Stream: topic, Group: r.group, Consumer: r.consumer, MinIdle: takeOverMinIdle, Messages: ids,
		}).Result()
		if len(msgs) > 0 {
			r.logger.Info("bus: took over the entries of a dead instance", "group", r.group, "topic", topic,
				"from", c.Name, "entries", len(msgs))
		}
		return msgs, false, err
	}
	return nil, true, nil
}

// claim takes over the messages that other members left pending too long.
func (r *groupReader) claim(ctx context.Context, topic string) ([]redis.XMessage, error) {
	msgs, _, err := r.client.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: topic, Group: r.group, Consumer: r.consumer, MinIdle: r.claimAfter, Start: "0-0", Count: groupReadBatch,
	}).Result()
	return msgs, err
}

// deliver hands the messages of xms to the handler as one batch message
// (MessagesOf) until it is acknowledged; it reports false when the reader
// stops first.
func (r *groupReader) deliver(ctx context.Context, xms []redis.XMessage, out chan<- *message.Message) bool {
	batch := make([]*message.Message, 0, len(xms))
	for _, xm := range xms {
		msg, err := unmarshalEntry(xm.Values)
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
	return handOverUntilAcked(ctx, out, func(msgCtx context.Context) *message.Message { return batchMessage(msgCtx, batch) })
}

// handOverUntilAcked hands out a message that try makes, under a context that
// ends once it is answered, until one is acknowledged, waiting nackRetryAfter
// after each that is not; it reports false when ctx ended first.
func handOverUntilAcked(ctx context.Context, out chan<- *message.Message, try func(context.Context) *message.Message) bool {
	for {
		msgCtx, cancel := context.WithCancel(ctx)
		msg := try(msgCtx)
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

// MessagesOf returns the messages that msg stands for: a batch message's
// own, or msg itself.
func MessagesOf(msg *message.Message) []*message.Message {
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

// Health is whether Redis answers the members of a pipeline. The first
// failure after a success is logged, and the first success after failures:
// an outage is two lines, not one per member and retry.
type Health struct {
	logger *slog.Logger
	down   atomic.Bool

	mu        sync.Mutex
	downSince time.Time
	failures  int
}

func NewHealth(logger *slog.Logger) *Health { return &Health{logger: logger} }

// Failed records a failed call; attrs say whose.
func (h *Health) Failed(err error, attrs ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures++
	if h.down.Load() {
		return
	}
	h.down.Store(true)
	h.downSince = time.Now()
	h.logger.Warn("bus: Redis fails, consumers retry with backoff until it answers", append(attrs, "err", err)...)
}

// succeeded records a call begun at began that Redis answered. A call begun
// before the failure that was recorded last says nothing about Redis now.
func (h *Health) succeeded(began time.Time) {
	if !h.down.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down.Load() || began.Before(h.downSince) {
		return
	}
	h.down.Store(false)
	h.logger.Info("bus: Redis answers again", "down_for", time.Since(h.downSince).Round(time.Millisecond).String(), "failed_calls", h.failures)
	h.failures = 0
}
