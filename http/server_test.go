package http

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRequestLogHoldsNoClientHeaderUnbounded: the log line of a request
// names its client, request id and path, all of which a client may fill with
// anything; a line stays short whatever they hold.
func TestRequestLogHoldsNoClientHeaderUnbounded(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s := New(Deps{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	huge := strings.Repeat("9", 100<<10)
	req := httptest.NewRequest(http.MethodGet, "/healthz/"+huge, nil) // from 192.0.2.1, no proxy we trust
	req.Header.Set("X-Forwarded-For", huge+", 10.0.0.1")
	req.Header.Set("X-Real-IP", huge)
	req.Header.Set("X-Request-Id", huge)
	s.ServeHTTP(httptest.NewRecorder(), req)

	var line struct {
		Msg       string `json:"msg"`
		Path      string `json:"path"`
		RemoteIP  string `json:"remote_ip"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line.Msg != "http request" {
		t.Fatalf("log = %.300s (%v), want one request line", logs.String(), err)
	}
	if line.RemoteIP != "192.0.2.1" {
		t.Errorf("remote_ip = %.40q, want the peer's address 192.0.2.1", line.RemoteIP)
	}
	if !strings.HasPrefix(line.Path, "/healthz/999") {
		t.Errorf("path = %.40q, want the start of the request's path", line.Path)
	}
	if logs.Len() > 1024 {
		t.Errorf("the request's log line is %d bytes, want a client's headers to leave it short", logs.Len())
	}
}
