package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/internal/backlog"
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

// Each consumer group reads the topics of its stream category only, and each
// topic carries the events of its category only: a check-in wakes the groups
// that handle attendance, not every group.
func TestEachGroupReadsOnlyItsCategory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testRedisURL())
	p := e.pipeline(testSettings(), quietClock)
	e.start(p)
	c := e.company()
	e.declareHoliday("2024-12-25", "Christmas")
	e.workday(c)
	e.leave(c.emp, leave.Grant{EmployeeID: c.emp, Year: 2024})
	eventually(t, "lateness notified", func() (bool, error) { return len(e.inbox(c.manager)) == 1, nil })
	// The notification is in the store; now everything is published too.
	eventually(t, "caught up", e.caughtUp)

	ctx := context.Background()
	keys, err := e.redis.Keys(ctx, e.prefix+"events.*").Result()
	if err != nil {
		t.Fatal(err)
	}
	readers := map[string][]string{} // category -> groups
	for _, cons := range p.consumers {
		readers[cons.reads()] = append(readers[cons.reads()], cons.name())
	}
	carried := map[string]int{} // category -> events seen on its topics
	var codec redisstream.DefaultMarshallerUnmarshaller
	for _, topic := range keys {
		category, _, _ := strings.Cut(strings.TrimPrefix(topic, e.prefix+"events."), ".")
		groups, err := e.redis.XInfoGroups(ctx, topic).Result()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, g := range groups {
			names = append(names, g.Name)
		}
		slices.Sort(names)
		want := slices.Sorted(slices.Values(readers[category]))
		if !slices.Equal(names, want) {
			t.Errorf("%s: read by %v, want %v", topic, names, want)
		}
		entries, err := e.redis.XRange(ctx, topic, "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, xm := range entries {
			msg, err := codec.Unmarshal(xm.Values)
			if err != nil {
				t.Fatal(err)
			}
			stream := msg.Metadata.Get(metaStream)
			if stream == "" {
				continue // a watermark
			}
			if got, _, _ := streamid.Split(stream); got != category {
				t.Errorf("%s carries an event of %s", topic, stream)
			}
			carried[category]++
		}
	}
	for _, category := range []string{"employee", "attendance", "leave", "holidays", "notify"} {
		if carried[category] == 0 {
			t.Errorf("no event of %s on its topics %v", category, keys)
		}
	}
}

// A fan-out subscriber gets every message published after it was made, even
// one published before its first read, and none from before.
func TestFanOutSubscriberMissesNothingPublishedAfterIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testRedisURL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	topic := e.bus.NotificationTopic()
	e.publish(topic, message.NewMessage("before", nil))
	sub, err := e.bus.fanOutSubscriber(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	e.publish(topic, message.NewMessage("after", nil))
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

// The in-process bus works off a backlog at a rate of the order of Redis's:
// thousands of events a second, not one transaction per event and consumer
// while the relay waits for each.
func TestMemoryBusWorksOffABacklogQuickly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, MemoryBus)
	const events, employees = 20_000, 500
	if err := backlog.Attendance(context.Background(), e.pool, events, employees, date("2024-01-01"), "test"); err != nil {
		t.Fatal(err)
	}
	p := e.pipeline(testSettings(), quietClock)
	start := time.Now()
	e.start(p)
	// Measured on two cores shared with other test suites (load 4): 3.6 to
	// 4.2 s with batches, 19.5 s one event at a time.
	deadline := start.Add(12 * time.Second)
	for {
		ok, err := e.caughtUp()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events not applied after %s: the in-process bus drains too slowly", events, time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d events through every read model and saga in %s", events, time.Since(start).Round(time.Millisecond))
}

// NewBus takes its settings' defaults for zero fields and refuses what it
// cannot run with, rather than clamping it.
func TestBusSettings(t *testing.T) {
	t.Parallel()
	b, err := NewBus(BusSettings{URL: MemoryBus}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Partitions() != DefaultPartitions || b.prefix != DefaultTopicPrefix || b.members != DefaultGroupMembers || b.claimAfter != DefaultClaimAfter {
		t.Errorf("defaults: %d partitions, prefix %q, %d members, claim after %s; want %d, %q, %d, %s",
			b.Partitions(), b.prefix, b.members, b.claimAfter, DefaultPartitions, DefaultTopicPrefix, DefaultGroupMembers, DefaultClaimAfter)
	}
	for _, bad := range []BusSettings{
		{},
		{URL: "not a url"},
		{URL: MemoryBus, Partitions: -1},
		{URL: MemoryBus, GroupMembers: -2},
		{URL: MemoryBus, ClaimAfter: -time.Second},
	} {
		if b, err := NewBus(bad, nil); err == nil {
			b.Close()
			t.Errorf("NewBus(%+v) succeeded, want an error", bad)
		}
	}
}
