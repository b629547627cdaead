package bus

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	// TrimEvery is how often a pipeline trims the bus's streams.
	TrimEvery = 30 * time.Second
	// notificationsKept is how long the fan-out topic keeps a notification:
	// the hubs read it at once, and a client that reconnects catches up from
	// the read model, not from Redis.
	notificationsKept = time.Hour
)

// Trim deletes, from each event topic of topics, the entries that every
// consumer group has acknowledged (those below the lowest pending entry or
// last delivered entry of any group), and from the fan-out topic those older
// than notificationsKept. Without it Redis, which must not evict, would grow
// with every event ever published.
//
// A consumer group created later (a new projection) starts from what is
// left: a stream whose first message it gets comes after a gap, which it fills
// from the event store, but a stream with no new event stays unknown to it
// until then. A new projection is built with etctl rebuild, not from Redis.
//
// A group that nobody reads any more (a removed projection) holds the
// trimming back: delete it (XGROUP DESTROY) on every partition.
func (b *Bus) Trim(ctx context.Context, topics []string) error {
	if b.client == nil {
		return nil
	}
	for _, topic := range topics {
		floor, ok, err := b.acknowledgedFloor(ctx, topic)
		if err != nil {
			return fmt.Errorf("bus: trim %s: %w", topic, err)
		}
		if !ok {
			continue
		}
		if err := b.client.XTrimMinID(ctx, topic, floor).Err(); err != nil {
			return fmt.Errorf("bus: trim %s: %w", topic, err)
		}
	}
	minID := strconv.FormatInt(time.Now().Add(-notificationsKept).UnixMilli(), 10) + "-0"
	if err := b.client.XTrimMinID(ctx, b.NotificationTopic(), minID).Err(); err != nil {
		return fmt.Errorf("bus: trim %s: %w", b.NotificationTopic(), err)
	}
	return nil
}

// acknowledgedFloor returns the lowest entry id of topic that some consumer
// group may still need; ok is false when topic has no group (or no stream)
// yet, when nothing may be trimmed.
func (b *Bus) acknowledgedFloor(ctx context.Context, topic string) (floor string, ok bool, err error) {
	groups, err := b.client.XInfoGroups(ctx, topic).Result()
	if err != nil {
		if strings.HasPrefix(err.Error(), "ERR no such key") {
			return "", false, nil
		}
		return "", false, err
	}
	for _, g := range groups {
		needed := g.LastDeliveredID
		if g.Pending > 0 {
			pending, err := b.client.XPending(ctx, topic, g.Name).Result()
			if err != nil {
				return "", false, err
			}
			// Acknowledged meanwhile, the pending entries are gone and the
			// summary names none: the last delivered entry bounds what the
			// group needs.
			if pending.Count > 0 {
				needed = pending.Lower
			}
		}
		if !ok || streamIDLess(needed, floor) {
			floor, ok = needed, true
		}
	}
	return floor, ok, nil
}

// DestroyGroups deletes the consumer groups groups from topics, where they
// would hold back the trimming once nobody reads for them: the groups of a
// former version.
func (b *Bus) DestroyGroups(ctx context.Context, topics, groups []string) error {
	if b.client == nil {
		return nil
	}
	// Every start asks: in one round trip.
	pipe := b.client.Pipeline()
	for _, topic := range topics {
		for _, g := range groups {
			pipe.XGroupDestroy(ctx, topic, g)
		}
	}
	cmds, _ := pipe.Exec(ctx) // each command reports its own error
	for _, cmd := range cmds {
		// A stream that does not exist has no group to destroy.
		if err := cmd.Err(); err != nil && !strings.Contains(err.Error(), "requires the key to exist") {
			return fmt.Errorf("bus: destroy groups: %w", err)
		}
	}
	return nil
}

// streamIDLess orders Redis stream entry ids ("<ms>-<seq>").
func streamIDLess(a, b string) bool {
	aMS, aSeq := splitStreamID(a)
	bMS, bSeq := splitStreamID(b)
	return aMS < bMS || (aMS == bMS && aSeq < bSeq)
}

func splitStreamID(id string) (ms, seq uint64) {
	m, s, _ := strings.Cut(id, "-")
	ms, _ = strconv.ParseUint(m, 10, 64)
	seq, _ = strconv.ParseUint(s, 10, 64)
	return ms, seq
}
