package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/internal/testenv"
)

type frame struct {
	ID      string         `json:"id"`
	Seq     int64          `json:"seq"`
	Type    string         `json:"type"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data"`
}

func (a *app) dial(t *testing.T, query string, header http.Header) *websocket.Conn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(a.base, "http") + "/ws/notifications?" + query
	conn, res, err := websocket.DefaultDialer.Dial(url, header)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", query, err, status)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func readFrame(t *testing.T, conn *websocket.Conn, within time.Duration) frame {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(within))
	kind, b, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if kind != websocket.TextMessage {
		t.Fatalf("frame kind = %d, want text", kind)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("decode frame %s: %v", b, err)
	}
	return f
}

// readLateness reads frames until a lateness notification, past those the
// daily sweep may raise first: after DAILY_CHECK_AT in their zone it reports
// the employees the test registered absent until they check in.
func readLateness(t *testing.T, conn *websocket.Conn, within time.Duration) frame {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		f := readFrame(t, conn, time.Until(deadline))
		if f.Type != "absence" {
			return f
		}
	}
}

// lateness are the lateness notifications of frames.
func lateness(frames []frame) []frame {
	return slices.DeleteFunc(slices.Clone(frames), func(f frame) bool { return f.Type != "lateness" })
}

// TestLatenessReachesManagerOverWebSocket goes through the whole path on
// Redis: a late check-in, the saga, the bus, the hub, the manager's socket;
// then a reconnect with after receives what was missed meanwhile.
func TestLatenessReachesManagerOverWebSocket(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0"})
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	late := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "full_name": "Ayşe Yılmaz", "schedule": testenv.LateSchedule()})
	other := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "full_name": "Mehmet Demir", "schedule": testenv.LateSchedule()})

	conn := a.dial(t, "token="+mgr.token, nil)
	eventually(t, "the session is counted", func() bool {
		return strings.Contains(string(a.must(http.StatusOK, "GET", "/metrics", "", nil, nil).body), "websocket_sessions_open 1")
	})

	var in struct {
		Late        bool `json:"late"`
		LateMinutes int  `json:"late_minutes"`
	}
	a.must(http.StatusCreated, "POST", "/api/attendance/", late.token, map[string]string{"type": "check-in"}, &in)
	if !in.Late || in.LateMinutes < 120 {
		t.Fatalf("check-in = %+v, want late by at least 120 minutes", in)
	}
	start := time.Now()
	first := readLateness(t, conn, 5*time.Second)
	if first.Type != "lateness" || !strings.Contains(first.Message, "Ayşe Yılmaz") || first.Seq < 1 {
		t.Fatalf("frame = %+v, want a lateness notification about Ayşe Yılmaz", first)
	}
	// Arrival within readFrame's deadline is asserted; the contract's "within
	// a second" is a latency goal that a loaded test machine cannot promise,
	// so the time is logged.
	t.Logf("lateness reached the manager %v after the check-in", time.Since(start))
	conn.Close()

	// While the manager is away another employee is late.
	a.must(http.StatusCreated, "POST", "/api/attendance/", other.token, map[string]string{"type": "check-in"}, nil)
	eventually(t, "the missed notification is in the read model", func() bool {
		var page struct{ Items []frame }
		a.must(http.StatusOK, "GET", "/api/notifications/?after="+strconv.FormatInt(first.Seq, 10), mgr.token, nil, &page)
		return len(lateness(page.Items)) == 1
	})

	// The token may also come in the Authorization header.
	again := a.dial(t, "after="+strconv.FormatInt(first.Seq, 10), http.Header{"Authorization": {"Bearer " + mgr.token}})
	missed := readLateness(t, again, 5*time.Second)
	if missed.Type != "lateness" || missed.Seq <= first.Seq || !strings.Contains(missed.Message, "Mehmet Demir") {
		t.Fatalf("first frame after reconnect = %+v, want the missed lateness of Mehmet Demir after seq %d", missed, first.Seq)
	}

	// Marking it read appends an event; the list shows it.
	var read frame
	a.must(http.StatusOK, "POST", "/api/notifications/"+missed.ID+"/mark-as-read/", mgr.token, nil, &read)
	eventually(t, "the notification is read", func() bool {
		var page struct{ Items []frame }
		a.must(http.StatusOK, "GET", "/api/notifications/?unread=true", mgr.token, nil, &page)
		unread := lateness(page.Items)
		return len(unread) == 1 && unread[0].ID == first.ID
	})
	a.must(http.StatusNotFound, "POST", "/api/notifications/"+missed.ID+"/mark-as-read/", late.token, nil, nil)
}

// TestWebSocketRefusals: no token, a bad token, a foreign origin.
func TestWebSocketRefusals(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	url := "ws" + strings.TrimPrefix(a.base, "http") + "/ws/notifications"
	tests := []struct {
		name   string
		query  string
		header http.Header
		want   int
	}{
		{"no token", "", nil, http.StatusUnauthorized},
		{"bad token", "?token=abc", nil, http.StatusUnauthorized},
		{"bad after", "?token=" + admin.token + "&after=-1", nil, http.StatusBadRequest},
		{"foreign origin", "?token=" + admin.token, http.Header{"Origin": {"https://evil.example.com"}}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, res, err := websocket.DefaultDialer.Dial(url+tt.query, tt.header)
			if err == nil {
				conn.Close()
				t.Fatal("dial succeeded, want a refusal")
			}
			if res == nil || res.StatusCode != tt.want {
				t.Fatalf("dial = %v (%v), want status %d", res, err, tt.want)
			}
		})
	}
	// Same origin is fine.
	a.dial(t, "token="+admin.token, http.Header{"Origin": {a.base}})
}

// TestShutdownClosesSessions: stopping the program says goodbye to open
// WebSocket sessions and returns cleanly.
func TestShutdownClosesSessions(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	conn := a.dial(t, "token="+a.admin().token, nil)
	eventually(t, "the session is counted", func() bool {
		return strings.Contains(string(a.must(http.StatusOK, "GET", "/metrics", "", nil, nil).body), "websocket_sessions_open 1")
	})
	if err := a.stop(); err != nil {
		t.Fatalf("stop = %v, want nil", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("read after shutdown = %v, want a going-away close", err)
	}
}

// raiser appends notifications to one user's inbox in the app's event store,
// as the sagas do, without the events that would cause them.
type raiser struct {
	t         *testing.T
	pool      *pgxpool.Pool
	store     *eventstore.Store
	recipient string
}

func (a *app) raiser(recipient string) *raiser {
	a.t.Helper()
	pool, err := pgxpool.New(context.Background(), a.dbURL)
	if err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(pool.Close)
	codec, _, _, err := eventcodec.Open(context.Background(), pool, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return &raiser{t: a.t, pool: pool, store: eventstore.New(pool, codec), recipient: recipient}
}

// raise appends n notifications in one append, wakes the app's relay as
// another server would, and reports whether it could.
func (r *raiser) raise(n int) bool {
	events := make([]eventstore.EventData, n)
	for i := range events {
		id := uuid.New()
		events[i] = eventstore.EventData{ID: id, Payload: notification.Raised{
			NotificationID: id.String(), RecipientID: r.recipient, Type: notification.TypeLateness,
			Message: "late " + id.String(), Data: map[string]any{}, CauseEventID: uuid.NewString(), RaisedAt: time.Now().UTC(),
			SubjectID: r.recipient,
		}}
	}
	ctx := context.Background()
	if _, err := r.store.Append(ctx, notification.Stream(r.recipient), eventstore.AnyVersion, events...); err != nil {
		r.t.Errorf("raise %d notifications: %v", n, err)
		return false
	}
	if _, err := r.pool.Exec(ctx, "SELECT pg_notify('et_relay_wake', '')"); err != nil {
		r.t.Errorf("wake the relay: %v", err)
		return false
	}
	return true
}

// waitForInbox waits until the user's notifications read model holds seq.
func (a *app) waitForInbox(u user, seq int64) {
	a.t.Helper()
	eventually(a.t, "the read model holds seq "+strconv.FormatInt(seq, 10), func() bool {
		var page struct{ Items []frame }
		a.must(http.StatusOK, "GET", "/api/notifications/?after="+strconv.FormatInt(seq-1, 10), u.token, nil, &page)
		return len(page.Items) == 1
	})
}

// readSeqs reads frames until the one with seq last, failing on a frame
// that is not the next seq.
func readSeqs(t *testing.T, conn *websocket.Conn, after, last int64) {
	t.Helper()
	for want := after + 1; want <= last; want++ {
		if f := readFrame(t, conn, 10*time.Second); f.Seq != want {
			t.Fatalf("frame seq = %d, want %d", f.Seq, want)
		}
	}
}

// TestReconnectGetsWholeBacklog: a manager who missed 5,000 notifications and
// reconnects with after=0 gets all of them, in order, while reading at an
// ordinary pace; a reconnect with the last seq read gets the rest.
func TestReconnectGetsWholeBacklog(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0"})
	mgr := a.register(a.admin(), "manager", nil)
	r := a.raiser(mgr.ID)
	for range 10 {
		r.raise(500)
	}
	a.waitForInbox(mgr, 5000)

	start := time.Now()
	readSeqs(t, a.dial(t, "token="+mgr.token+"&after=0", nil), 0, 5000)
	t.Logf("5,000 notifications replayed in %v", time.Since(start))

	conn := a.dial(t, "token="+mgr.token+"&after=0", nil)
	readSeqs(t, conn, 0, 1234)
	conn.Close()
	readSeqs(t, a.dial(t, "token="+mgr.token+"&after=1234", nil), 1234, 5000)

	if metrics := string(a.must(http.StatusOK, "GET", "/metrics", "", nil, nil).body); !strings.Contains(metrics, "websocket_slow_clients_dropped_total 0") {
		t.Errorf("/metrics has no websocket_slow_clients_dropped_total 0:\n%s", metrics)
	}
}

// TestPushesRacingReplayArriveOnceInOrder: a client reconnects again and
// again with the last seq it read while notifications are raised one by one,
// so pushes arrive during replays, sometimes before the read model has them
// or the one before them; each connection gets every seq after its after
// exactly once, in order.
func TestPushesRacingReplayArriveOnceInOrder(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0"})
	mgr := a.register(a.admin(), "manager", nil)
	r := a.raiser(mgr.ID)
	for range 4 {
		r.raise(500)
	}
	a.waitForInbox(mgr, 2000)

	const raisedLive = 500
	stop, raised := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(raised)
		for range raisedLive {
			select {
			case <-stop:
				return
			default:
			}
			if !r.raise(1) {
				return
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-raised })
	var last, connections int64
	for last < 2000+raisedLive {
		conn := a.dial(t, "token="+mgr.token+"&after="+strconv.FormatInt(last, 10), nil)
		upTo := min(last+1+rand.Int64N(150), 2000+raisedLive)
		readSeqs(t, conn, last, upTo)
		conn.Close()
		last, connections = upTo, connections+1
	}
	<-raised
	t.Logf("%d connections", connections)
	// One more after all: a duplicate of an earlier seq would come first.
	conn := a.dial(t, "token="+mgr.token+"&after="+strconv.FormatInt(last-50, 10), nil)
	r.raise(1)
	readSeqs(t, conn, last-50, last+1)
}
