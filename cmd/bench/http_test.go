package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/internal/backlog"
	appconfig "github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/internal/testdb"
)

// The HTTP benchmark's throughput counts a load's requests until every
// consumer has handled what they appended: drain must see the slowest
// consumer's backlog and wait until it is gone.
func TestDrainWaitsForTheSlowestConsumer(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	// Five attendance streams of two versions each.
	if err := backlog.Attendance(ctx, pool, 10, 5, calendar.Date{Year: 2000, Month: time.January, Day: 1}, "bench"); err != nil {
		t.Fatal(err)
	}
	// attendance has handled everything, monthly_hours three versions less.
	if _, err := pool.Exec(ctx, `INSERT INTO projection_versions (projection, stream_id, version)
		SELECT 'attendance', stream_id, 2 FROM events GROUP BY stream_id
		UNION ALL
		SELECT 'monthly_hours', stream_id, CASE WHEN row_number() OVER (ORDER BY stream_id) <= 3 THEN 1 ELSE 2 END
		FROM events GROUP BY stream_id`); err != nil {
		t.Fatal(err)
	}
	const handledAfter = 300 * time.Millisecond
	go func() {
		time.Sleep(handledAfter)
		if _, err := pool.Exec(ctx, `UPDATE projection_versions SET version = 2 WHERE projection = 'monthly_hours'`); err != nil {
			t.Error(err)
		}
	}()
	got, err := drain(ctx, pool, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.behind != 3 || got.slowest != "monthly_hours" {
		t.Errorf("backlog: got %d events behind (slowest %q), want 3 (monthly_hours)", got.behind, got.slowest)
	}
	if got.took < handledAfter {
		t.Errorf("drain returned after %s, before the backlog was handled (%s)", got.took, handledAfter)
	}

	// Nothing appended after the head: nothing to wait for.
	head, err := headPosition(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := drain(ctx, pool, head); err != nil || got.behind != 0 {
		t.Errorf("drain after the head: got %v (err %v), want caught up", got, err)
	}
}

// The benchmarked server runs as `make run` starts it: every setting at its
// default but for where it runs, its credentials, and the setup's settings
// that the report names.
func TestBenchServerRunsWithTheDefaults(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	for _, kv := range serverEnv("postgres://postgres@127.0.0.1:5432/et_bench_http", serverBus{redisURL: "redis://127.0.0.1:6379/0", prefix: "etbench.x."}, "127.0.0.1:18001") {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	got, err := appconfig.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want, err := appconfig.Load(func(k string) string { return map[string]string{"JWT_SECRET": env["JWT_SECRET"]}[k] })
	if err != nil {
		t.Fatal(err)
	}
	// Where it runs and who logs in first.
	want.DatabaseURL, want.RedisPrefix, want.HTTPAddr = got.DatabaseURL, got.RedisPrefix, got.HTTPAddr
	want.AdminEmail, want.AdminPassword = got.AdminEmail, got.AdminPassword
	// The setup's settings, each of which the report prints.
	report := strings.Join(setupSettings, " ")
	for _, setting := range []struct {
		name    string
		differs bool
		adopt   func()
	}{
		{"BCRYPT_COST", got.PasswordCost != want.PasswordCost, func() { want.PasswordCost = got.PasswordCost }},
		{"ACCESS_TOKEN_TTL", got.AccessTokenTTL != want.AccessTokenTTL, func() { want.AccessTokenTTL = got.AccessTokenTTL }},
	} {
		if setting.differs && !strings.Contains(report, setting.name+"=") {
			t.Errorf("%s differs from its default but the report does not name it: %s", setting.name, report)
		}
		setting.adopt()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the benchmarked server's settings differ from those of make run (-want +got):\n%s", diff)
	}
}
