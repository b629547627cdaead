package http

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
)

// The server is saturated while it serves saturatedAt requests at once;
// WebSocket sessions, whose requests last as long as they do, do not count.
func TestSaturatedCountsRequestsBeingServedButNotWebSockets(t *testing.T) {
	t.Parallel()
	s := &Server{}
	e := echo.New()
	e.Use(s.countServing)
	entered, release := make(chan struct{}), make(chan struct{})
	hold := func(c echo.Context) error {
		entered <- struct{}{}
		<-release
		return c.NoContent(http.StatusNoContent)
	}
	e.GET("/slow", hold)
	e.GET(wsPath, hold)
	var served sync.WaitGroup
	serve := func(path string) {
		served.Go(func() { e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil)) })
		<-entered
	}

	for range 2 * saturatedAt {
		serve(wsPath)
	}
	if s.Saturated() {
		t.Fatalf("saturated by %d WebSocket sessions alone", 2*saturatedAt)
	}
	for i := range saturatedAt {
		if s.Saturated() {
			t.Fatalf("saturated at %d requests, want %d", i, saturatedAt)
		}
		serve("/slow")
	}
	if !s.Saturated() {
		t.Fatalf("not saturated at %d requests", saturatedAt)
	}
	close(release)
	served.Wait()
	if s.Saturated() || s.serving.Load() != 0 {
		t.Fatalf("%d requests counted once all were served, want 0", s.serving.Load())
	}
}
