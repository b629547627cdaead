package bus

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
)

// A member reads a backlog in batches, hands each over as one message in
// order, gives a nacked batch again, and leaves nothing pending once all are
// handled.
func TestGroupReaderHandsOverInOrderAndAcknowledges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	topic := e.bus.EventTopic("attendance", 0)
	const n = 3*groupReadBatch + 7
	var msgs []*message.Message
	var want []string
	for i := range n {
		msgs = append(msgs, message.NewMessage(strconv.Itoa(i), []byte(strconv.Itoa(i))))
		want = append(want, strconv.Itoa(i))
	}
	pipelinetest.Publish(e.t, e.redis, topic, msgs...)
	sub, err := e.bus.GroupSubscriber("test-group", e.member("test/0", nil))
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
			batch := MessagesOf(m)
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
	pipelinetest.Eventually(t, "nothing pending", func() (bool, error) {
		p, err := e.redis.XPending(ctx, topic, "test-group").Result()
		return err == nil && p.Count == 0, err
	})
}

// member is a member of a consumer group named name, that learns of dead
// instances from peers (none when nil).
func (e *env) member(name string, peers *Instances) Member {
	return Member{Name: name, Peers: peers, Health: NewHealth(pipelinetest.Logger(e.t))}
}

// numbered publishes n messages numbered from 0 to topic and returns their
// payloads.
func (e *env) numbered(topic string, n int) []string {
	e.t.Helper()
	var msgs []*message.Message
	var payloads []string
	for i := range n {
		msgs = append(msgs, message.NewMessage(strconv.Itoa(i), []byte(strconv.Itoa(i))))
		payloads = append(payloads, strconv.Itoa(i))
	}
	pipelinetest.Publish(e.t, e.redis, topic, msgs...)
	return payloads
}

// readAll acknowledges what in hands over until it has n messages, or fails
// the test after within; it returns their payloads.
func readAll(t *testing.T, in <-chan *message.Message, n int, within time.Duration) []string {
	t.Helper()
	deadline := time.After(within)
	var got []string
	for len(got) < n {
		select {
		case m := <-in:
			for _, bm := range MessagesOf(m) {
				got = append(got, string(bm.Payload))
			}
			m.Ack()
		case <-deadline:
			t.Fatalf("handed over %d of %d messages within %s", len(got), n, within)
		}
	}
	return got
}

// subscribe makes member m of group read topic, with redisstream's claim
// timeout of 30 s: nothing a test expects sooner may come from that claim.
func (e *env) subscribe(group string, m Member, topic string) <-chan *message.Message {
	e.t.Helper()
	r, err := e.bus.newGroupReader(group, m)
	if err != nil {
		e.t.Fatal(err)
	}
	r.claimAfter = 30 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(func() {
		cancel()
		r.Close()
	})
	in, err := r.Subscribe(ctx, topic)
	if err != nil {
		e.t.Fatal(err)
	}
	return in
}

// failFirstAck fails the first XACK sent in a pipeline after Redis ran it,
// as a connection lost before its answer would.
type failFirstAck struct{ failed atomic.Bool }

func (*failFirstAck) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (*failFirstAck) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *failFirstAck) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			if c.Name() == "xack" && h.failed.CompareAndSwap(false, true) {
				c.SetErr(errors.New("connection reset by peer"))
			}
		}
		return err
	}
}

// A failed acknowledgement, sent with the read that follows it, neither loses
// what that read returned nor leaves anything pending.
func TestGroupReaderDeliversAReadWhoseAcknowledgementFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	topic := e.bus.EventTopic("attendance", 0)
	want := e.numbered(topic, 3*groupReadBatch+7)
	r, err := e.bus.newGroupReader("test-group", e.member("test/0", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.claimAfter = 30 * time.Second
	hook := &failFirstAck{}
	r.client.AddHook(hook)
	in, err := r.Subscribe(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, in, len(want), 10*time.Second) // the claim would take 30 s
	if !hook.failed.Load() {
		t.Fatal("no acknowledgement failed: the test tested nothing")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("messages handed over (-want +got):\n%s", diff)
	}
	pipelinetest.Eventually(t, "nothing pending", func() (bool, error) {
		p, err := e.redis.XPending(t.Context(), topic, "test-group").Result()
		return err == nil && p.Count == 0, err
	})
}

// pending makes consumer of group read every message of topic and leaves
// them pending, as a member that died before it handled them.
func (e *env) pending(topic, group, consumer string) int {
	e.t.Helper()
	ctx := context.Background()
	if err := e.redis.XGroupCreateMkStream(ctx, topic, group, "0").Err(); err != nil {
		e.t.Fatal(err)
	}
	streams, err := e.redis.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: consumer, Streams: []string{topic, ">"}}).Result()
	if err != nil {
		e.t.Fatal(err)
	}
	return len(streams[0].Messages)
}

// A member that comes back under its name first reads what it left pending,
// at once, not after the claim timeout.
func TestGroupReaderResumesItsOwnPendingEntriesAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	topic := e.bus.EventTopic("attendance", 0)
	want := e.numbered(topic, 2*groupReadBatch+5)
	if n := e.pending(topic, "test-group", "host-0/0"); n != len(want) {
		t.Fatalf("left %d pending, want %d", n, len(want))
	}
	began := time.Now()
	got := readAll(t, e.subscribe("test-group", e.member("host-0/0", nil), topic), len(want), 5*time.Second)
	t.Logf("resumed %d pending entries in %s", len(got), time.Since(began).Round(time.Millisecond))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("messages handed over (-want +got):\n%s", diff)
	}
}

// The entries of a member of an instance whose heartbeat stopped are taken
// over within seconds, not after the claim timeout, and the dead member
// leaves the group.
func TestGroupReaderTakesOverADeadInstanceWithinSeconds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	topic := e.bus.EventTopic("attendance", 0)
	want := e.numbered(topic, 2*groupReadBatch+5)
	if n := e.pending(topic, "test-group", "gone-0/0"); n != len(want) {
		t.Fatalf("left %d pending, want %d", n, len(want))
	}
	diedAt := time.Now().Add(-instanceDeadAfter - time.Second)
	if err := e.redis.ZAdd(t.Context(), e.prefix+"instances", redis.Z{Score: float64(diedAt.UnixMilli()), Member: "gone-0"}).Err(); err != nil {
		t.Fatal(err)
	}
	peers, err := JoinInstances(e.bus)
	if err != nil {
		t.Fatal(err)
	}
	defer peers.Leave()
	for range 2 { // the first heartbeat lists no dead instance
		if err := peers.Heartbeat(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]deadInstance{{"gone-0", diedAt.UnixMilli()}}, peers.deadOnes(), cmp.AllowUnexported(deadInstance{})); diff != "" {
		t.Fatalf("dead instances (-want +got):\n%s", diff)
	}
	began := time.Now()
	got := readAll(t, e.subscribe("test-group", e.member(peers.ConsumerName(0), peers), topic), len(want), 5*time.Second)
	t.Logf("took over %d entries in %s", len(got), time.Since(began).Round(time.Millisecond))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("messages handed over (-want +got):\n%s", diff)
	}
	pipelinetest.Eventually(t, "the dead member left the group", func() (bool, error) {
		consumers, err := e.redis.XInfoConsumers(t.Context(), topic, "test-group").Result()
		for _, c := range consumers {
			if c.Name == "gone-0/0" {
				return false, err
			}
		}
		return true, err
	})
}

// Two pipelines on one host never share a name; a name given up is taken
// again by the next.
func TestInstanceNamesAreUniqueAndReused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	a, err := JoinInstances(e.bus)
	if err != nil {
		t.Fatal(err)
	}
	b, err := JoinInstances(e.bus)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Leave()
	if a.name == b.name {
		t.Fatalf("two instances named %s", a.name)
	}
	if err := a.Leave(); err != nil {
		t.Fatal(err)
	}
	again, err := JoinInstances(e.bus)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Leave()
	if again.name != a.name {
		t.Errorf("after %s left, the next instance is %s, want %s", a.name, again.name, a.name)
	}
}

// An instance is alone once two heartbeats in a row found no other alive:
// another's heartbeat ends it at once, one dead for instanceDeadAfter does
// not count, and neither does a heartbeat after a failed one.
func TestAnInstanceIsAloneAfterTwoHeartbeatsWithNoOther(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	beat := func(in *Instances) {
		t.Helper()
		if err := in.Heartbeat(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	// a reaches Redis through a proxy, to fail a heartbeat.
	proxy := startProxy(t, e.redis.Options().Addr)
	viaProxy, err := New(Settings{URL: "redis://" + proxy.addr + "/" + strconv.Itoa(e.redis.Options().DB), Prefix: e.prefix}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer viaProxy.Close()
	a, err := JoinInstances(viaProxy)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Leave()
	diedAt := time.Now().Add(-instanceDeadAfter - time.Second)
	if err := e.redis.ZAdd(t.Context(), e.prefix+"instances", redis.Z{Score: float64(diedAt.UnixMilli()), Member: "gone-0"}).Err(); err != nil {
		t.Fatal(err)
	}
	if a.Alone() {
		t.Fatal("alone before any heartbeat")
	}
	beat(a)
	if a.Alone() {
		t.Fatal("alone after one heartbeat: another may not have beaten since Redis came back")
	}
	beat(a)
	if !a.Alone() {
		t.Fatal("not alone after two heartbeats with only a dead instance beside it")
	}

	// Straight to Redis: another address for the same one.
	b, err := JoinInstances(e.bus)
	if err != nil {
		t.Fatal(err)
	}
	if b.name == a.name {
		t.Fatalf("an instance reaching Redis by another address took the name %s too", a.name)
	}
	beat(b)
	beat(a)
	if a.Alone() {
		t.Fatal("alone while another instance beats")
	}
	if err := b.Leave(); err != nil {
		t.Fatal(err)
	}
	// b's last heartbeat ages out after instanceDeadAfter.
	if err := e.redis.ZAdd(t.Context(), e.prefix+"instances", redis.Z{Score: float64(diedAt.UnixMilli()), Member: b.name}).Err(); err != nil {
		t.Fatal(err)
	}
	beat(a)
	beat(a)
	if !a.Alone() {
		t.Fatal("not alone once the other instance died")
	}

	proxy.cut()
	if err := a.Heartbeat(t.Context()); err == nil {
		t.Fatal("a heartbeat through a cut proxy succeeded")
	}
	if a.Alone() {
		t.Error("alone after a failed heartbeat")
	}
	proxy.restore(t)
	pipelinetest.Eventually(t, "a heartbeat through the proxy again", func() (bool, error) { return a.Heartbeat(t.Context()) == nil, nil })
	if a.Alone() {
		t.Error("alone at the first heartbeat after a failed one")
	}
	beat(a)
	if !a.Alone() {
		t.Error("not alone at the second heartbeat after a failed one")
	}
	if (*Instances)(nil).Alone() {
		t.Error("no instances (the in-process bus) alone")
	}
}

// A Redis outage is one warning for all the members of a pipeline, and one
// line when Redis answers again; the members then read on.
func TestGroupReadersLogAnOutageOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	proxy := startProxy(t, e.redis.Options().Addr)
	records := &recordCounter{}
	logger := slog.New(records)
	bus, err := New(Settings{URL: "redis://" + proxy.addr + "/" + strconv.Itoa(e.redis.Options().DB), Prefix: e.prefix}, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	health := NewHealth(logger)
	// Members stop together before the bus closes them one by one.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var ins []<-chan *message.Message
	for part := range 40 { // as many members as a pipeline runs
		r, err := bus.newGroupReader("test-group", Member{Name: "test/" + strconv.Itoa(part), Health: health})
		if err != nil {
			t.Fatal(err)
		}
		in, err := r.Subscribe(ctx, bus.EventTopic("attendance", part))
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, in)
	}

	proxy.cut()
	time.Sleep(3 * time.Second)
	if got := records.count(slog.LevelWarn); got != 1 {
		t.Errorf("warnings in 3 s of outage: %d, want 1:\n%s", got, records)
	}
	proxy.restore(t)
	e.numbered(bus.EventTopic("attendance", 7), 1)
	readAll(t, ins[7], 1, 10*time.Second)
	if got := records.count(slog.LevelInfo); got != 1 {
		t.Errorf("lines at info once Redis answered again: %d, want 1:\n%s", got, records)
	}
}

// recordCounter is a slog handler that keeps the records it is given.
type recordCounter struct {
	mu      sync.Mutex
	records []slog.Record
}

func (c *recordCounter) Enabled(context.Context, slog.Level) bool { return true }
func (c *recordCounter) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.records = append(c.records, r.Clone())
	return nil
}
func (c *recordCounter) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *recordCounter) WithGroup(string) slog.Handler      { return c }

func (c *recordCounter) count(level slog.Level) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.records {
		if r.Level == level {
			n++
		}
	}
	return n
}

func (c *recordCounter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, r := range c.records {
		b.WriteString(r.Level.String() + " " + r.Message + "\n")
	}
	return b.String()
}

// proxy forwards TCP connections to a Redis, until cut.
type proxy struct {
	target, addr string
	// up gates every write: once cut, not one more byte passes, though
	// closing the connections takes a while.
	up    atomic.Bool
	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	p := &proxy{target: target, addr: "127.0.0.1:0"}
	p.restore(t)
	t.Cleanup(p.cut)
	return p
}

// restore listens again on the proxy's address.
func (p *proxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.up.Store(true)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go p.forward(up, c)
			go p.forward(c, up)
		}
	}()
}

// forward copies from src to dst while the proxy is up.
func (p *proxy) forward(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.up.Load() {
			return
		}
		if _, werr := dst.Write(buf[:n]); werr != nil || err != nil {
			return
		}
	}
}

// cut closes the listener and every connection: calls fail at once.
func (p *proxy) cut() {
	p.up.Store(false)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// A member that lingers hands a steady flow over a few messages at a time:
// what arrives while it waits makes one batch.
func TestGroupReaderLingersToBatchASteadyFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	topic := e.bus.EventTopic("attendance", 0)
	m := e.member("test/0", nil)
	m.Linger = 50 * time.Millisecond
	sub, err := e.bus.GroupSubscriber("test-group", m)
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
	const n = 100
	began := time.Now()
	go func() {
		for i := range n {
			pipelinetest.Publish(e.t, e.redis, topic, message.NewMessage(strconv.Itoa(i), nil))
			time.Sleep(2 * time.Millisecond)
		}
	}()
	got, batches := 0, 0
	for got < n {
		select {
		case msg := <-in:
			got += len(MessagesOf(msg))
			batches++
			msg.Ack()
		case <-ctx.Done():
			t.Fatalf("handed over %d of %d messages", got, n)
		}
	}
	// 100 messages over at least 200 ms, longer on a loaded host: about one
	// batch per 50 ms of the flow, one more for the first message, which
	// finds the member waiting, and one for a read cut short at the end.
	// Without lingering each message would come nearly alone.
	flow := time.Since(began)
	if most := min(int(flow/m.Linger)+2, n/4); batches > most {
		t.Errorf("%d messages a 2 ms apart over %s came in %d batches, want at most %d", n, flow.Round(time.Millisecond), batches, most)
	}
}
