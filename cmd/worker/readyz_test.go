package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acme/employee-tracking/cmd/internal/startup"
	"github.com/acme/employee-tracking/projections"
	"github.com/acme/employee-tracking/projections/bus"
)

// TestReadyzNamesTheDependencyNotItsAddress: with the database and Redis
// down, /readyz says so without their addresses or the user's name.
func TestReadyzNamesTheDependencyNotItsAddress(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), "postgres://secret_user@127.0.0.1:1/secret_db?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	b, err := bus.New(bus.Settings{URL: "redis://127.0.0.1:2/0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sys := &startup.App{Logger: slog.New(slog.DiscardHandler), Pool: pool, Bus: b}
	rec := httptest.NewRecorder()
	routes(sys, projections.NewMonitor(pool), prometheus.NewRegistry()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, `"database":"unreachable"`) || !strings.Contains(body, `"bus":"unreachable"`) {
		t.Errorf("/readyz = %d %s, want 503 naming the database and the bus unreachable", rec.Code, body)
	}
	for _, secret := range []string{"127.0.0.1", "secret_user", "secret_db"} {
		if strings.Contains(body, secret) {
			t.Errorf("/readyz shows %q: %s", secret, body)
		}
	}
}
