package projections

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestReadinessNamesTheDependencyNotItsAddress: /readyz is public; it says
// which dependency is down, and the error, with its hosts, ports and user
// names, goes to the log only.
func TestReadinessNamesTheDependencyNotItsAddress(t *testing.T) {
	t.Parallel()
	// A database nobody listens on: the driver's error names the host, port, user and database.
	pool, err := pgxpool.New(context.Background(), "postgres://secret_user@127.0.0.1:1/secret_db?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	bus := func(context.Context) error { return errors.New("dial tcp 10.1.2.3:6379: connect: connection refused") }
	status := func(ctx context.Context) (ProjectionStatus, error) {
		return ProjectionStatus{}, errors.New("projections: status: failed to connect to `user=secret_user database=secret_db`")
	}
	var logs bytes.Buffer
	checks, ready := Readiness(context.Background(), slog.New(slog.NewTextHandler(&logs, nil)), pool.Ping, bus, status)
	want := map[string]string{"database": "unreachable", "bus": "unreachable", "projections": "unknown: their status could not be read"}
	if diff := cmp.Diff(want, checks); diff != "" || ready {
		t.Errorf("Readiness = %v (-want +got):\n%s", ready, diff)
	}
	for _, secret := range []string{"127.0.0.1", "10.1.2.3", "secret_user", "secret_db"} {
		if !strings.Contains(logs.String(), secret) {
			t.Errorf("the log lacks %q, which an operator needs:\n%s", secret, logs.String())
		}
	}

	stalled := func(context.Context) (ProjectionStatus, error) {
		return ProjectionStatus{Consumers: []ConsumerStatus{{Name: "attendance", LagSeconds: 600}, {Name: "leave"}}}, nil
	}
	ok := func(context.Context) error { return nil }
	checks, ready = Readiness(context.Background(), slog.New(slog.DiscardHandler), ok, nil, stalled)
	if want := map[string]string{"database": "ok", "bus": "ok", "projections": "stalled: attendance"}; !cmp.Equal(want, checks) || ready {
		t.Errorf("Readiness with a stalled consumer = %v, %v, want %v, false", checks, ready, want)
	}
}
