// Package pipelinetest holds what the tests of projections and of its bus
// share: their logger, the Redis they run on with streams of their own, a
// publisher by hand, and a wait for a condition.
package pipelinetest

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
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
