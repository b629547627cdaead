package leader_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/internal/leader"
	"github.com/acme/employee-tracking/internal/testdb"
)

// TestOneLeadsAtATime: of three processes' loops on one lock, one leads at a
// time, and when it stops leading another takes over.
func TestOneLeadsAtATime(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var active, most, leads atomic.Int32
	lead := func(ctx context.Context, _ *pgx.Conn) error {
		n := active.Add(1)
		defer active.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(50 * time.Millisecond) // then gives the lead up
		if leads.Add(1) >= 6 {
			cancel()
		}
		return nil
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			leader.Run(ctx, pool, 0x4c45414445525453, 20*time.Millisecond, slog.New(slog.DiscardHandler), "test", lead)
		})
	}
	wg.Wait()
	if got := leads.Load(); got < 6 {
		t.Errorf("leads = %d, want 6: the lead was not taken over", got)
	}
	if got := most.Load(); got != 1 {
		t.Errorf("at most %d led at once, want 1", got)
	}
}

// TestTryLock: a lock held by one session is refused to another.
func TestTryLock(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	conns := make([]*pgx.Conn, 2)
	for i := range conns {
		c, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(ctx) })
		conns[i] = c
	}
	for i, want := range []bool{true, false} {
		if got, err := leader.TryLock(ctx, conns[i], 42); err != nil || got != want {
			t.Errorf("session %d: TryLock = %t, %v, want %t", i, got, err, want)
		}
	}
}
