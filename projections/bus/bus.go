package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/redis/go-redis/v9"

	"github.com/acme/employee-tracking/domain/streamid"
)

// MemoryURL is the bus URL that selects Watermill's in-process GoChannel.
const MemoryURL = "memory"

// Defaults of Settings. Changing DefaultPartitions moves streams to other
// partitions: stop every process first.
const (
	DefaultTopicPrefix = "et."
	// DefaultPartitions is one partition per category: a group's member then
	// sees every event of its category and applies them in larger batches
	// (on two cores, HTTP check-ins ran 1.5x faster with the pipeline in the
	// process, and its p99 at 1,000 requests/s halved, against 4 partitions,
	// which work a backlog off 17 % faster; docs/benchmarks.md). Members of
	// a group, in one process or several, still share a partition.
	DefaultPartitions = 1
	// MaxPartitions bounds Settings.Partitions.
	MaxPartitions = 64
	// DefaultGroupMembers is how many members each consumer group has in a
	// process, per partition, on Redis. One: a member applies what it reads
	// in one transaction, and more members only split the batches (on two
	// cores, 4 members gave a 30-100 % higher projection lag than 1 and the
	// same catch-up rate; go run ./cmd/bench lag -members N).
	DefaultGroupMembers = 1
)

// Bus carries the events published by the relay to the projectors, the sagas
// and the live notification hubs: Redis Streams, or Watermill's GoChannel in a
// single process.
//
// Topics: "<prefix>events.<category>.<n>" for each stream category (the part
// of a stream id before its first dash) and partition n (a stream always goes
// to the same partition, so its events stay in order), so that a consumer
// group reads only the category it handles; and "<prefix>notifications",
// which carries only notification.raised events for the hubs that read it in
// fan-out mode.
type Bus struct {
	prefix     string
	partitions int
	members    int
	claimAfter time.Duration
	logger     watermill.LoggerAdapter
	slog       *slog.Logger

	redisOpts *redis.Options // nil in memory mode
	client    *redis.Client  // the relay's, for publishing and the key it keeps
	memory    *gochannel.GoChannel

	mu        sync.Mutex
	closers   []func() error
	closed    bool
	closeOnce sync.Once

	// beforeExec, when set by tests, runs between a publish's check of the
	// relay's key and its EXEC.
	beforeExec func()
}

// Settings configure NewBus. A zero field takes its default.
type Settings struct {
	// URL is the Redis to connect to (redis://host:port/db), or MemoryURL for
	// Watermill's in-process GoChannel. Required.
	URL string
	// Prefix names every topic and key of the bus, so that several systems
	// (or tests) share one Redis. Default DefaultTopicPrefix.
	Prefix string
	// Partitions is the number of event partitions, at most MaxPartitions.
	// Changing it moves streams to other partitions: stop every process
	// first; the relay then publishes again what the consumers had not read
	// (the layout is in its key), and the topics of partitions no longer
	// used are deleted (DropUnusedPartitions). Default DefaultPartitions.
	Partitions int
	// GroupMembers is how many members each consumer group has in this
	// process on every partition. A member handles one batch at a time,
	// waiting on Postgres and Redis: several let a group handle a
	// partition's events side by side, which pays when Postgres is far away,
	// while the per-stream lock and the gap filling keep each stream in
	// order. The in-process bus has one member, since each of its
	// subscriptions gets every message. Default DefaultGroupMembers.
	GroupMembers int
	// ClaimAfter is how long a message stays with a consumer that does not
	// acknowledge it (one that died, say) before another member of its
	// group takes it over. Default DefaultClaimAfter.
	ClaimAfter time.Duration
}

// DefaultClaimAfter is the default of Settings.ClaimAfter: longer than a
// live member's slowest batch.
const DefaultClaimAfter = 30 * time.Second

func (s *Settings) setDefaults() {
	if s.Prefix == "" {
		s.Prefix = DefaultTopicPrefix
	}
	if s.Partitions == 0 {
		s.Partitions = DefaultPartitions
	}
	if s.GroupMembers == 0 {
		s.GroupMembers = DefaultGroupMembers
	}
	if s.ClaimAfter == 0 {
		s.ClaimAfter = DefaultClaimAfter
	}
}

// Validate reports what is wrong with s once its defaults are set.
func (s Settings) Validate() error {
	var errs []error
	if s.URL == "" {
		errs = append(errs, errors.New("no URL"))
	}
	if s.Partitions < 1 {
		errs = append(errs, fmt.Errorf("%d partitions, want at least 1", s.Partitions))
	}
	if s.Partitions > MaxPartitions {
		errs = append(errs, fmt.Errorf("%d partitions, want at most %d", s.Partitions, MaxPartitions))
	}
	if s.GroupMembers < 1 {
		errs = append(errs, fmt.Errorf("%d group members, want at least 1", s.GroupMembers))
	}
	if s.ClaimAfter <= 0 {
		errs = append(errs, fmt.Errorf("claim after %s, want more than 0", s.ClaimAfter))
	}
	return errors.Join(errs...)
}

// NewBus connects to the Redis of s.URL, or makes an in-process bus when
// s.URL is MemoryURL.
func New(s Settings, logger *slog.Logger) (*Bus, error) {
	s.setDefaults()
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("projections: bus: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &Bus{
		prefix:     s.Prefix,
		partitions: s.Partitions,
		members:    s.GroupMembers,
		claimAfter: s.ClaimAfter,
		slog:       logger,
		logger:     watermillLogger(logger),
	}
	if s.URL == MemoryURL {
		// Publish waits for every subscriber's ack, so each subscriber sees a
		// topic's messages one at a time and in order, as with Redis. The
		// context carries a batch's messages (batchMessage).
		b.memory = gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true, PreserveContext: true}, b.logger)
		return b, nil
	}
	ro, err := redis.ParseURL(s.URL)
	if err != nil {
		return nil, fmt.Errorf("projections: bus: %w", err)
	}
	b.redisOpts = ro
	b.client = redis.NewClient(ro)
	return b, nil
}

// PublishWhileAlive publishes each topic's messages in order, in one step
// that publishes nothing once Redis has lost the relay's key (and with it
// everything else). It reports whether it published: a consumer must never
// read, from streams Redis recreated, a watermark that would move its
// checkpoint past messages lost with the old ones, before the relay rewinds.
//
// It watches the key and checks it, then adds the messages in one MULTI/EXEC:
// EXEC adds nothing when the key was deleted or the data flushed since the
// WATCH (Redis touches the watched keys then), and a Redis restarted
// meanwhile has closed the connection. A Lua script that checked the key and
// called XADD for each message cost Redis twice the CPU per message.
func (b *Bus) PublishWhileAlive(ctx context.Context, batches map[string][]*message.Message) (bool, error) {
	if b.client == nil {
		return true, b.publishInMemory(ctx, batches)
	}
	var adds []*redis.XAddArgs
	for topic, msgs := range batches {
		for _, msg := range msgs {
			values, err := appendEntry(make([]any, 0, 2*entryFields), msg)
			if err != nil {
				return false, fmt.Errorf("bus: marshal %s: %w", msg.UUID, err)
			}
			adds = append(adds, &redis.XAddArgs{Stream: topic, Values: values})
		}
	}
	if len(adds) == 0 {
		return true, nil
	}
	// Only a lost key, or the relay's own MarkAlive, touches it: the next
	// attempt tells which.
	for range 3 {
		published, err := b.publishWatched(ctx, adds)
		if !errors.Is(err, redis.TxFailedErr) {
			return published, err
		}
	}
	return false, errors.New("bus: publish: the relay's key changed during every attempt")
}

// publishWatched adds the entries in one transaction if the relay's key
// exists and is not touched before EXEC, which then fails with
// redis.TxFailedErr: two round trips.
func (b *Bus) publishWatched(ctx context.Context, adds []*redis.XAddArgs) (bool, error) {
	conn := b.client.Conn()
	defer conn.Close()
	var exists *redis.IntCmd
	if _, err := conn.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Do(ctx, "WATCH", b.aliveKey())
		exists = pipe.Exists(ctx, b.aliveKey())
		return nil
	}); err != nil {
		return false, fmt.Errorf("bus: publish: %w", err)
	}
	if exists.Val() == 0 {
		// The connection goes back to the pool: leave nothing watched.
		return false, conn.Do(ctx, "UNWATCH").Err()
	}
	if b.beforeExec != nil {
		b.beforeExec()
	}
	_, err := conn.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		for _, a := range adds {
			pipe.XAdd(ctx, a)
		}
		return nil
	})
	if errors.Is(err, redis.TxFailedErr) {
		return false, err
	}
	if err != nil {
		return false, fmt.Errorf("bus: publish: %w", err)
	}
	return true, nil
}

// publishInMemory hands each topic's messages to its subscribers in batches
// of up to groupReadBatch, as a Redis group member reads them, and the topics
// side by side. A GoChannel publish returns once every subscriber has handled
// the message: one message per event would cost every consumer a transaction
// per event while the relay waits, about 1,000 events/s in all.
//
// A batch's context, which its consumers handle it under, does not end with
// the relay's: a consumer handed a batch under a context that had ended would
// fail it, and GoChannel would hand it again at once, for as long as that
// consumer's subscription lasts, while the relay waited for its ack.
func (b *Bus) publishInMemory(ctx context.Context, batches map[string][]*message.Message) error {
	ctx = context.WithoutCancel(ctx)
	var wg sync.WaitGroup
	errs := make(chan error, len(batches))
	for topic, msgs := range batches {
		wg.Go(func() {
			if topic == b.NotificationTopic() {
				// The hubs take each notification on its own (SubscribeNotifications).
				if err := b.memory.Publish(topic, msgs...); err != nil {
					errs <- err
				}
				return
			}
			for chunk := range slices.Chunk(msgs, groupReadBatch) {
				if err := b.memory.Publish(topic, batchMessage(ctx, chunk)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// Memory reports whether b is the in-process bus.
func (b *Bus) Memory() bool { return b.memory != nil }

// GroupMembers is how many members each consumer group has in this process.
func (b *Bus) GroupMembers() int {
	if b.memory != nil {
		return 1
	}
	return b.members
}

// Partitions is the number of event partitions.
func (b *Bus) Partitions() int { return b.partitions }

// EventTopic is the topic of the events of category on partition p.
func (b *Bus) EventTopic(category string, p int) string {
	return b.prefix + "events." + category + "." + strconv.Itoa(p)
}

// TopicOf is the topic of stream's events. A stream id without a category
// (streamid.Split refuses it) has none: the domain never writes one, and no
// consumer reads it.
func (b *Bus) TopicOf(stream string) (string, bool) {
	category, _, ok := streamid.Split(stream)
	if !ok {
		return "", false
	}
	return b.EventTopic(category, partitionOf(stream, b.partitions)), true
}

// NotificationTopic is the fan-out topic of notification.raised events.
func (b *Bus) NotificationTopic() string { return b.prefix + "notifications" }

// busLayout names the topics' layout in the relay's key, with the number of
// partitions: a process of another layout finds no key of its own, and
// publishes again, as after a loss of Redis's data, what the consumers had
// not yet read from the old topics.
const busLayout = "by-category"

// aliveKey is written by the relay; its absence means Redis lost its data
// (or the topics' layout changed).
func (b *Bus) aliveKey() string {
	return b.prefix + "relay.alive." + busLayout + "." + strconv.Itoa(b.partitions)
}

// DropUnusedPartitions deletes the topics of categories' partitions beyond
// those in use, which a bus of more partitions left: nothing reads them any
// more, and their entries were published again to the partitions in use.
func (b *Bus) DropUnusedPartitions(ctx context.Context, categories []string) error {
	if b.client == nil {
		return nil
	}
	var unused []string
	for _, c := range categories {
		for p := b.partitions; p < MaxPartitions; p++ {
			unused = append(unused, b.EventTopic(c, p))
		}
	}
	if err := b.client.Del(ctx, unused...).Err(); err != nil {
		return fmt.Errorf("bus: drop unused partitions: %w", err)
	}
	return nil
}

// Alive reports whether Redis still holds the relay's key: when it does not,
// Redis lost its data (or the topics' layout changed) and PublishWhileAlive
// publishes nothing. The in-process bus is always alive.
func (b *Bus) Alive(ctx context.Context) (bool, error) {
	if b.client == nil {
		return true, nil
	}
	n, err := b.client.Exists(ctx, b.aliveKey()).Result()
	if err != nil {
		return false, fmt.Errorf("bus: %w", err)
	}
	return n == 1, nil
}

// MarkAlive writes the relay's key, once it has rewound to what the
// consumers had handled.
func (b *Bus) MarkAlive(ctx context.Context) error {
	if b.client == nil {
		return nil
	}
	return b.client.Set(ctx, b.aliveKey(), "1", 0).Err()
}

// WatermillLogger is the bus's logger for the Watermill router that reads it.
func (b *Bus) WatermillLogger() watermill.LoggerAdapter { return b.logger }

// Ping checks that the bus is reachable, for readiness probes.
func (b *Bus) Ping(ctx context.Context) error {
	if b.client == nil {
		return nil
	}
	return b.client.Ping(ctx).Err()
}

// GroupSubscriber returns member m of consumer group group: each message of a
// topic goes to one member of the group. Closing it leaves the bus open.
func (b *Bus) GroupSubscriber(group string, m Member) (message.Subscriber, error) {
	if b.memory != nil {
		// Every GoChannel subscription receives every message: one
		// subscription per group is a consumer group of one.
		return memoryGroup{noClose{b.memory}}, nil
	}
	return b.newGroupReader(group, m)
}

// memoryGroup is a consumer group's subscription to the in-process bus. A
// message its handler failed is handed over again after nackRetryAfter, as a
// Redis group member's is: GoChannel hands it again at once, and a failure
// that lasts (Postgres down) made a loop that logged a warning each turn.
type memoryGroup struct{ noClose }

func (g memoryGroup) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	in, err := g.noClose.Subscribe(ctx, topic)
	if err != nil {
		return nil, err
	}
	out := make(chan *message.Message)
	go func() {
		defer close(out)
		for msg := range in {
			// Each try a copy under the batch's own context (publishInMemory).
			if !handOverUntilAcked(ctx, out, func(context.Context) *message.Message {
				m := msg.Copy()
				m.SetContext(msg.Context())
				return m
			}) {
				return
			}
			msg.Ack()
		}
	}()
	return out, nil
}

// FanOutSubscriber returns a subscriber to topic that receives every message
// published after this call, independently of any other process.
func (b *Bus) FanOutSubscriber(ctx context.Context, topic string) (message.Subscriber, error) {
	if b.memory != nil {
		return noClose{b.memory}, nil
	}
	// From the topic's last entry, not from "$": redisstream reads from "$"
	// afresh on every read until its first message, so a message added
	// between two of those reads would never arrive.
	from := "0-0"
	last, err := b.client.XRevRangeN(ctx, topic, "+", "-", 1).Result()
	if err != nil {
		return nil, fmt.Errorf("projections: bus subscriber: %w", err)
	}
	if len(last) == 1 {
		from = last[0].ID
	}
	return b.redisSubscriber(from)
}

// redisSubscriber returns a fan-out subscriber that reads after the entry
// fanOutFrom.
func (b *Bus) redisSubscriber(fanOutFrom string) (message.Subscriber, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errors.New("projections: bus closed")
	}
	// A client per subscriber: blocking reads hold a connection each, and
	// closing a subscriber closes its client.
	client := redis.NewClient(b.redisOpts)
	sub, err := redisstream.NewSubscriber(redisstream.SubscriberConfig{
		Client:                        client,
		Consumer:                      watermill.NewShortUUID(),
		BlockTime:                     100 * time.Millisecond,
		DisableIndefiniteInitialBlock: true,
		FanOutOldestId:                fanOutFrom,
	}, b.logger)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("projections: bus subscriber: %w", err)
	}
	b.closers = append(b.closers, sub.Close)
	return sub, nil
}

// Close closes the bus and every subscriber made from it.
func (b *Bus) Close() error {
	var errs []error
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		closers := b.closers
		b.mu.Unlock()
		for _, c := range closers {
			errs = append(errs, c())
		}
		if b.memory != nil {
			errs = append(errs, b.memory.Close())
		} else {
			errs = append(errs, b.client.Close())
		}
	})
	return errors.Join(errs...)
}

// noClose shares the in-process GoChannel: the router closes its handlers'
// subscribers when it stops, which must not close the whole bus.
type noClose struct{ message.Subscriber }

func (noClose) Close() error { return nil }

func watermillLogger(l *slog.Logger) watermill.LoggerAdapter {
	// Watermill logs every subscription at info; keep the program's log for
	// what matters.
	return shutdownIsNoError{watermill.NewSlogLoggerWithLevelMapping(l, map[slog.Level]slog.Level{
		slog.LevelInfo: slog.LevelDebug,
	})}
}

// shutdownIsNoError logs at debug the errors that only say a subscriber was
// stopped: watermill-redisstream reports a read cut short by its context's
// end as an error.
type shutdownIsNoError struct{ watermill.LoggerAdapter }

func (l shutdownIsNoError) Error(msg string, err error, fields watermill.LogFields) {
	if errors.Is(err, context.Canceled) {
		l.LoggerAdapter.Debug(msg, fields.Add(watermill.LogFields{"err": err}))
		return
	}
	l.LoggerAdapter.Error(msg, err, fields)
}

func (l shutdownIsNoError) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return shutdownIsNoError{l.LoggerAdapter.With(fields)}
}
