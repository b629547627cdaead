package http

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/internal/testdb"
)

// TestExpireLoginState deletes the throttle's rows that no longer count and
// sessions a day after they ended or expired, and nothing else.
func TestExpireLoginState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	now := time.Now()
	hoursAgo := func(h int) time.Time { return now.Add(-time.Duration(h) * time.Hour) }
	b := &pgx.Batch{}
	failures := `INSERT INTO login_failures (key, failures, last_at, pending, pending_at) VALUES ($1, 3, $2, 0, $3)`
	b.Queue(failures, "old", hoursAgo(2), hoursAgo(2))
	b.Queue(failures, "old but being checked", hoursAgo(2), now)
	b.Queue(failures, "recent", now, now)
	trusted := `INSERT INTO login_trusted_addresses (account, address, last_login_at) VALUES ($1, 'address:192.0.2.1', $2)`
	b.Queue(trusted, "old", hoursAgo(91*24))
	b.Queue(trusted, "recent", hoursAgo(89*24))
	sessions := `INSERT INTO sessions (session_id, user_id, refresh_id, created_at, expires_at, ended_at)
		VALUES ($1, $1, $1, now() - interval '10 days', now() + make_interval(hours => $2), now() + make_interval(hours => $3))`
	ids := map[string]string{}
	for _, s := range []struct {
		name             string
		expires, endedIn *int
	}{
		{"ended two days ago", ptr(100), ptr(-48)},
		{"ended an hour ago", ptr(100), ptr(-1)},
		{"expired two days ago", ptr(-48), nil},
		{"expired an hour ago", ptr(-1), nil},
		{"live", ptr(100), nil},
	} {
		ids[s.name] = uuid.NewString()
		b.Queue(sessions, ids[s.name], s.expires, s.endedIn)
	}
	if err := pool.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}

	n, err := expireLoginState(ctx, pool, now)
	if err != nil || n != 4 {
		t.Errorf("expireLoginState = %d, %v, want 4 rows deleted", n, err)
	}
	left := func(query string) []string {
		rows, err := pool.Query(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		return names
	}
	if got, want := left(`SELECT key FROM login_failures`), []string{"old but being checked", "recent"}; !slices.Equal(got, want) {
		t.Errorf("failures left = %q, want %q", got, want)
	}
	if got, want := left(`SELECT account FROM login_trusted_addresses`), []string{"recent"}; !slices.Equal(got, want) {
		t.Errorf("trusted addresses left = %q, want %q", got, want)
	}
	var want []string
	for _, name := range []string{"ended an hour ago", "expired an hour ago", "live"} {
		want = append(want, ids[name])
	}
	slices.Sort(want)
	if got := left(`SELECT session_id::text FROM sessions`); !slices.Equal(got, want) {
		t.Errorf("sessions left = %q, want those %q", got, want)
	}
}

func ptr[T any](v T) *T { return &v }
