package eventstore_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/testdb"
)

// Test events; the store knows nothing of the domain package.
type checkedIn struct {
	EmployeeID string `json:"employee_id"`
	Minute     int    `json:"minute"`
}

func (checkedIn) EventName() string { return "test.checked_in" }

type checkedOut struct {
	EmployeeID string `json:"employee_id"`
}

func (checkedOut) EventName() string { return "test.checked_out" }

// unknownEvent is registered with no codec.
type unknownEvent struct{}

func (unknownEvent) EventName() string { return "test.unknown" }

func newCodec(t testing.TB) *eventstore.Codec {
	t.Helper()
	c, err := eventstore.NewCodec(checkedIn{}, checkedOut{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newStore returns a store on a fresh database.
func newStore(t testing.TB) *eventstore.Store {
	t.Helper()
	return eventstore.New(testdb.New(t), newCodec(t))
}

// newPool returns a pool of up to maxConns connections on a fresh database, for
// tests that need that many concurrent transactions.
func newPool(t testing.TB, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func event(p eventstore.Payload) eventstore.EventData {
	return eventstore.EventData{ID: uuid.New(), Payload: p}
}

// mustAppend appends and fails the test on error.
func mustAppend(t testing.TB, s *eventstore.Store, stream string, expected int64, events ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, expected, events...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return res
}

func versions(events []eventstore.Event) []int64 {
	vs := make([]int64, len(events))
	for i, e := range events {
		vs[i] = e.Version
	}
	return vs
}
