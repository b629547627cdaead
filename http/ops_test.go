package http

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/projections"
)

// downStatus fails its status read as a driver does, naming the database.
func downStatus(context.Context) (projections.ProjectionStatus, error) {
	return projections.ProjectionStatus{}, errors.New("failed to connect to `user=secret_user database=secret_db`")
}

// TestReadyzNamesTheDependencyNotItsAddress: /readyz answers anyone; with
// the database and the bus down it says so, without their addresses.
func TestReadyzNamesTheDependencyNotItsAddress(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), "postgres://secret_user@127.0.0.1:1/secret_db?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	bus := func(context.Context) error { return errors.New("dial tcp 10.1.2.3:6379: connect: connection refused") }
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/readyz", nil), rec)
	if err := handleReadyz(slog.New(slog.DiscardHandler), pool, bus, downStatus)(c); err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, `"database":"unreachable"`) || !strings.Contains(body, `"bus":"unreachable"`) {
		t.Errorf("/readyz = %d %s, want 503 naming the database and the bus unreachable", rec.Code, body)
	}
	for _, secret := range []string{"127.0.0.1", "10.1.2.3", "secret_user", "secret_db"} {
		if strings.Contains(body, secret) {
			t.Errorf("/readyz shows %q: %s", secret, body)
		}
	}
}
