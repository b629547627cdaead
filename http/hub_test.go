package http

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/recent"
)

// oneUserStore holds one registered employee; the hub only loads it.
type oneUserStore struct {
	command.EventStore
	e employee.Registered
}

func (s oneUserStore) Load(_ context.Context, stream string) ([]eventstore.Event, error) {
	if stream != employee.Stream(s.e.EmployeeID) {
		return nil, nil
	}
	return []eventstore.Event{{StreamID: stream, Version: 1, Payload: s.e}}, nil
}

// liveSessions says every session lives.
type liveSessions struct{}

func (liveSessions) check(context.Context, string, string) (int64, error) { return 0, nil }

// inbox is the notifications read model of one user, in memory. Like the
// real one, it may receive a notification after the hub was told of it.
type inbox struct {
	query.ReadModels
	mu    sync.Mutex
	items []query.NotificationView // items[i].Seq == i+1
}

func (b *inbox) Notifications(_ context.Context, _ string, _ bool, afterSeq int64, limit int) ([]query.NotificationView, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	from := min(int(afterSeq), len(b.items))
	to := min(from+limit, len(b.items))
	return append([]query.NotificationView(nil), b.items[from:to]...), nil
}

// add appends the next n notifications and returns the last.
func (b *inbox) add(n int, message string) query.NotificationView {
	b.mu.Lock()
	defer b.mu.Unlock()
	for range n {
		b.items = append(b.items, b.nextLocked(message))
	}
	return b.items[len(b.items)-1]
}

// next is the notification add would append next.
func (b *inbox) next(message string) query.NotificationView {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.nextLocked(message)
}

func (b *inbox) nextLocked(message string) query.NotificationView {
	return query.NotificationView{ID: "n", Seq: int64(len(b.items) + 1), Type: "lateness", Message: message}
}

// hubUnderTest is a hub behind a test server, with one manager who may connect.
type hubUnderTest struct {
	*Hub
	user     employee.Registered
	registry *prometheus.Registry
	url      string
	token    string
}

func startHub(t *testing.T, q query.ReadModels) *hubUnderTest {
	t.Helper()
	tok := tokens{secret: []byte("k"), accessTTL: time.Hour, refreshTTL: time.Hour, now: time.Now, sessions: liveSessions{}}
	user := employee.Registered{EmployeeID: "0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", Role: employee.RoleManager}
	reg := prometheus.NewRegistry()
	hub := newHub(q, nil, slog.New(slog.DiscardHandler), newMetrics(reg))
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
	e.GET("/ws", hub.handleConnect(query.NewEmployeeHandler(oneUserStore{e: user}), tok, recent.New[knownEmployee](recent.TTL)))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { _ = hub.close() })
	pair, err := tok.issue(employee.Replay([]any{user}), uuid.NewString(), uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	return &hubUnderTest{Hub: hub, user: user, registry: reg, url: srv.URL, token: pair.AccessToken}
}

// dial opens a session with the given query (after=...), or none.
func (h *hubUnderTest) dial(t *testing.T, query string) *websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(h.url, "http") + "/ws?token=" + h.token
	if query != "" {
		url += "&" + query
	}
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// readSeqs reads frames until the one with seq last, failing on any frame
// that is not the next seq.
func readSeqs(t *testing.T, conn *websocket.Conn, after, last int64) {
	t.Helper()
	for want := after + 1; want <= last; want++ {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("reading seq %d: %v", want, err)
		}
		var f NotificationJSON
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("decode frame %s: %v", b, err)
		}
		if f.Seq != want {
			t.Fatalf("frame seq = %d, want %d", f.Seq, want)
		}
	}
}

// counter is the value of a metric without labels in reg, or -1 when reg
// has no such metric.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return -1
}

// TestHubReplaysBacklogAtTheSocketsPace: a client that reconnects after
// thousands of notifications gets every one of them, in order, however
// small the session's buffer.
func TestHubReplaysBacklogAtTheSocketsPace(t *testing.T) {
	t.Parallel()
	model := &inbox{}
	model.add(5000, "late")
	h := startHub(t, model)
	conn := h.dial(t, "after=0")
	readSeqs(t, conn, 0, 5000)

	// A reconnect from the middle gets the rest.
	again := h.dial(t, "after=4321")
	readSeqs(t, again, 4321, 5000)
}

// TestHubPushesRacingReplayArriveOnceInOrder: notifications raised while a
// backlog is replayed are pushed live, sometimes before the read model holds
// them; the client gets every seq exactly once, in order.
func TestHubPushesRacingReplayArriveOnceInOrder(t *testing.T) {
	t.Parallel()
	model := &inbox{}
	model.add(3000, "late")
	h := startHub(t, model)
	conn := h.dial(t, "after=0")
	raised := make(chan struct{})
	go func() {
		defer close(raised)
		for range 1000 {
			if rand.IntN(2) == 0 { // the bus is ahead of the read model
				h.publish(model.next("late"), h.user.EmployeeID)
				time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
				model.add(1, "late")
			} else {
				h.publish(model.add(1, "late"), h.user.EmployeeID)
			}
		}
	}()
	readSeqs(t, conn, 0, 4000)
	<-raised

	// Nothing more: a frame after 4000 would be a duplicate.
	h.publish(model.add(1, "last"), h.user.EmployeeID)
	readSeqs(t, conn, 4000, 4001)
}

// TestHubSendsMissedSeqBeforeLaterPush: a live push of seq 5 that arrives
// before the read model holds 4 waits for 4 instead of skipping it.
func TestHubSendsMissedSeqBeforeLaterPush(t *testing.T) {
	t.Parallel()
	model := &inbox{}
	model.add(3, "late")
	h := startHub(t, model)
	conn := h.dial(t, "after=0")
	readSeqs(t, conn, 0, 3)

	five := query.NotificationView{ID: "n", Seq: 5, Type: "lateness", Message: "late"}
	h.publish(five, h.user.EmployeeID)
	time.Sleep(100 * time.Millisecond) // the read model is behind the bus
	model.add(2, "late")
	readSeqs(t, conn, 3, 5)

	// A push repeated by a relay that published again is not sent twice.
	h.publish(five, h.user.EmployeeID)
	h.publish(model.add(1, "late"), h.user.EmployeeID)
	readSeqs(t, conn, 5, 6)
}

// TestHubClosesSlowClients: a client that stops reading is disconnected once
// its socket stays full for the write timeout, and counted; meanwhile the
// session holds a bounded number of notifications, however many arrive.
func TestHubClosesSlowClients(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 64<<10)
	model := &inbox{}
	h := startHub(t, model)
	h.m.Config.WriteWait = 500 * time.Millisecond
	const dropped = "websocket_slow_clients_dropped_total"
	if got := counter(t, h.registry, dropped); got != 0 {
		t.Fatalf("%s before any session = %v, want 0", dropped, got)
	}
	h.dial(t, "")
	waitFor(t, "the session opens", func() bool { return h.len() == 1 })

	// The client reads nothing: the socket buffers fill, then the session's.
	for seq := int64(1); seq <= 2000 && h.len() == 1; seq++ {
		h.publish(model.add(1, big), h.user.EmployeeID)
		h.mu.RLock()
		for _, st := range h.byUser[h.user.EmployeeID] {
			st.mu.Lock()
			held := len(st.live)
			st.mu.Unlock()
			if held > liveQueue || st.inFlight.Load() > inFlightFrames {
				t.Fatalf("session holds %d live notifications and %d frames, want at most %d and %d", held, st.inFlight.Load(), liveQueue, inFlightFrames)
			}
		}
		h.mu.RUnlock()
	}
	waitFor(t, "the slow session is closed", func() bool { return h.len() == 0 })
	if got := counter(t, h.registry, dropped); got != 1 {
		t.Errorf("%s = %v, want 1", dropped, got)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHubRefusesPlainRequests: a request that is not a WebSocket handshake is
// answered with a problem, before the connection is taken from net/http.
func TestHubRefusesPlainRequests(t *testing.T) {
	t.Parallel()
	h := startHub(t, nil)
	res, err := http.Get(h.url + "/ws?token=" + h.token)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("plain GET: got %d %q, want 400 application/problem+json", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestHubStartsOneWriterWhenAPushMeetsTheConnect: a push that reaches a
// session while it connects must not start a second writer beside the
// replay's, which would send pages it read before the other had moved on.
func TestHubStartsOneWriterWhenAPushMeetsTheConnect(t *testing.T) {
	t.Parallel()
	model := &inbox{}
	last := model.add(200, "late")
	h := startHub(t, model)
	stop := make(chan struct{})
	pushing := make(chan struct{})
	go func() {
		defer close(pushing)
		for {
			select {
			case <-stop:
				return
			default:
				h.publish(last, h.user.EmployeeID)
			}
		}
	}()
	defer func() { close(stop); <-pushing }()
	for range 300 {
		conn := h.dial(t, "after=0")
		readSeqs(t, conn, 0, 200)
		conn.Close()
	}
}
