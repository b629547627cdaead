package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
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

// lateSchedule starts work at midnight in a zone where it is now at least two
// hours past midnight, so a check-in now is late.
func lateSchedule() map[string]any {
	tz := "UTC"
	if h := time.Now().UTC().Hour(); h < 2 {
		tz = "Etc/GMT-3" // three hours ahead of UTC
	}
	return map[string]any{"timezone": tz, "work_start": "00:00", "work_end": "23:59", "grace_minutes": 0, "workdays": []int{1, 2, 3, 4, 5, 6, 7}}
}

// TestLatenessReachesManagerOverWebSocket goes through the whole path on
// Redis: a late check-in, the saga, the bus, the hub, the manager's socket;
// then a reconnect with after receives what was missed meanwhile.
func TestLatenessReachesManagerOverWebSocket(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0"})
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	late := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "full_name": "Ayşe Yılmaz", "schedule": lateSchedule()})
	other := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID, "full_name": "Mehmet Demir", "schedule": lateSchedule()})

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
	first := readFrame(t, conn, 5*time.Second)
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
		return len(page.Items) == 1
	})

	// The token may also come in the Authorization header.
	again := a.dial(t, "after="+strconv.FormatInt(first.Seq, 10), http.Header{"Authorization": {"Bearer " + mgr.token}})
	missed := readFrame(t, again, 5*time.Second)
	if missed.Type != "lateness" || missed.Seq != first.Seq+1 || !strings.Contains(missed.Message, "Mehmet Demir") {
		t.Fatalf("first frame after reconnect = %+v, want the missed lateness of Mehmet Demir with seq %d", missed, first.Seq+1)
	}

	// Marking it read appends an event; the list shows it.
	var read frame
	a.must(http.StatusOK, "POST", "/api/notifications/"+missed.ID+"/mark-as-read/", mgr.token, nil, &read)
	eventually(t, "the notification is read", func() bool {
		var page struct{ Items []frame }
		a.must(http.StatusOK, "GET", "/api/notifications/?unread=true", mgr.token, nil, &page)
		return len(page.Items) == 1 && page.Items[0].ID == first.ID
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
