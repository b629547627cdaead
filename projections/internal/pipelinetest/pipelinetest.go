// Package pipelinetest holds what the tests of projections, of its bus and of
// its relay share: their logger, the Redis they run on with streams of their
// own, a publisher by hand, a wait for a condition, the database and store
// they append to, and the value of a counter.
package pipelinetest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/internal/testdb"
)

// Logger writes the pipeline's warnings and errors to the test log.
func Logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// RedisURL is the Redis of the integration tests (TEST_REDIS_URL).
func RedisURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Prefix is a random prefix of a test's streams and keys.
func Prefix() string { return "ettest." + uuid.NewString()[:8] + "." }

// Redis connects to the Redis at url, failing the test when it does not
// answer, and deletes the test's keys (named after prefix) at its end.
func Redis(t *testing.T, url, prefix string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis is unreachable at %s (set TEST_REDIS_URL): %v", url, err)
	}
	t.Cleanup(func() {
		DropKeys(t, client, prefix)
		client.Close()
	})
	return client
}

// DropKeys deletes every stream and key named after prefix, as a Redis that
// lost its data would.
func DropKeys(t *testing.T, client *redis.Client, prefix string) {
	ctx := context.Background()
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Errorf("list redis keys: %v", err)
		return
	}
	if len(keys) > 0 {
		if err := client.Del(ctx, keys...).Err(); err != nil {
			t.Errorf("delete redis keys: %v", err)
		}
	}
}

// Publish adds messages to a topic by hand, as a relay that crashed or a
// foreign program would, with Watermill's own publisher.
func Publish(t *testing.T, client *redis.Client, topic string, msgs ...*message.Message) {
	t.Helper()
	pub, err := redisstream.NewPublisher(redisstream.PublisherConfig{Client: client}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(topic, msgs...); err != nil {
		t.Fatal(err)
	}
}

// Eventually polls cond until it holds, failing the test after a while.
func Eventually(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pool connects to a fresh database of the test, with room for the pipeline's
// connections.
func Pool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Store is an event store on pool with the catalog's codec.
func Store(t *testing.T, pool *pgxpool.Pool) *eventstore.Store {
	t.Helper()
	codec, _, _, err := eventcodec.Open(context.Background(), pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	return eventstore.New(pool, codec)
}

// Update appends to stream what decide makes of its history, as the API's
// commands do.
func Update(t *testing.T, store *eventstore.Store, stream string, decide func(history []any) ([]any, error)) {
	t.Helper()
	_, err := store.Update(context.Background(), stream, func(history []eventstore.Event) ([]eventstore.EventData, error) {
		events, err := decide(command.Payloads(history))
		if err != nil {
			return nil, err
		}
		out := make([]eventstore.EventData, len(events))
		for i, ev := range events {
			out[i] = eventstore.EventData{ID: uuid.New(), Payload: ev.(eventstore.Payload), Metadata: eventstore.Metadata{Actor: "test"}}
		}
		return out, nil
	})
	if err != nil {
		t.Fatalf("%s: %v", stream, err)
	}
}

// Register registers the employee of reg under a new id and email, which it
// returns, through the domain.
func Register(t *testing.T, store *eventstore.Store, reg employee.Register) string {
	t.Helper()
	reg.EmployeeID = uuid.NewString()
	reg.Email = fmt.Sprintf("%s@example.com", reg.EmployeeID[:8])
	Update(t, store, employee.Stream(reg.EmployeeID), func(h []any) ([]any, error) {
		return employee.Decide(employee.Replay(h), reg, time.Now())
	})
	return reg.EmployeeID
}

// CounterValue is the value c has counted.
func CounterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}
