package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/internal/testenv"
)

// TestRun starts the worker on a fresh database and Redis, checks its
// operations endpoints and -healthcheck, then stops it the way SIGTERM does.
func TestRun(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	prefix := make([]byte, 6)
	_, _ = rand.Read(prefix)
	env := map[string]string{
		"DATABASE_URL":     testdb.MissingURL(t), // the worker creates and migrates it
		"REDIS_PREFIX":     "test." + hex.EncodeToString(prefix) + ".",
		"WORKER_HTTP_ADDR": addr,
		"LOG_LEVEL":        "warn",
	}
	getenv := func(k string) string { return env[k] }

	if err := run(t.Context(), getenv, io.Discard, []string{"-healthcheck"}); err == nil {
		t.Error("healthcheck with no worker running = nil, want an error")
	}

	ctx, cancel := context.WithCancel(context.Background())
	logs := &testenv.LockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, getenv, logs, nil) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run after cancel = %v, want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("run did not stop within 30s of cancel")
		}
		if t.Failed() {
			t.Logf("worker log:\n%s", logs.String())
		}
	}()

	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				if !strings.Contains(string(body), `"projections":"ok"`) {
					t.Errorf("readyz body = %s, want the projections check", body)
				}
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run stopped before it was ready: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker not ready after 30s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, name := range []string{"et_feed_head_position", "et_consumer_lag_events", "go_goroutines"} {
		if !strings.Contains(string(body), name) {
			t.Errorf("metrics lack %s", name)
		}
	}
	if err := run(t.Context(), getenv, io.Discard, []string{"-healthcheck"}); err != nil {
		t.Errorf("healthcheck against the running worker = %v, want nil", err)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"LATE_GRACE_MINUTES": "-1"}
	err := run(t.Context(), func(k string) string { return env[k] }, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "LATE_GRACE_MINUTES") {
		t.Errorf("run with a bad setting = %v, want an error naming it", err)
	}
}
