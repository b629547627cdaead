package http

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections"
)

// oneUserStore holds one registered employee; the hub only loads it.
type oneUserStore struct {
	EventStore
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

func (liveSessions) check(context.Context, string, string) error { return nil }

// TestHubClosesSlowClients: a client that stops reading is disconnected once
// its buffer fills, instead of holding memory or blocking the others.
func TestHubClosesSlowClients(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Now() }
	tok := tokens{secret: []byte("k"), accessTTL: time.Hour, refreshTTL: time.Hour, now: now, sessions: liveSessions{}}
	user := employee.Registered{EmployeeID: "0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", Role: employee.RoleManager}
	hub := newHub(nil, nil, slog.New(slog.DiscardHandler), newMetrics(prometheus.NewRegistry()))
	e := echo.New()
	e.GET("/ws", hub.handleConnect(oneUserStore{e: user}, tok, newRecent[employee.Employee](recentTTL)))
	srv := httptest.NewServer(e)
	defer srv.Close()
	defer hub.close()

	pair, err := tok.issue(employee.Replay([]any{user}), uuid.NewString(), uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws?token="+pair.AccessToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitFor(t, "the session opens", func() bool { return hub.len() == 1 })

	// The client reads nothing: the socket buffers fill, then the session's.
	big := strings.Repeat("x", 64<<10)
	for seq := int64(1); seq <= 2000 && hub.len() == 1; seq++ {
		hub.publish(projections.NotificationView{ID: "n", Seq: seq, Type: "lateness", Message: big}, user.EmployeeID)
	}
	waitFor(t, "the slow session is closed", func() bool { return hub.len() == 0 })
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
	tok := tokens{secret: []byte("k"), accessTTL: time.Hour, refreshTTL: time.Hour, now: time.Now, sessions: liveSessions{}}
	user := employee.Registered{EmployeeID: "0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", Role: employee.RoleEmployee}
	hub := newHub(nil, nil, slog.New(slog.DiscardHandler), newMetrics(prometheus.NewRegistry()))
	defer hub.close()
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
	e.GET("/ws", hub.handleConnect(oneUserStore{e: user}, tok, newRecent[employee.Employee](recentTTL)))
	srv := httptest.NewServer(e)
	defer srv.Close()
	pair, err := tok.issue(employee.Replay([]any{user}), uuid.NewString(), uuid.NewString())
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(srv.URL + "/ws?token=" + pair.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("plain GET: got %d %q, want 400 application/problem+json", res.StatusCode, res.Header.Get("Content-Type"))
	}
}
