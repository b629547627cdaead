package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore"
)

// Appends that wait while others are written go out in one transaction, and
// each keeps its own outcome: a conflict or a repeat in the batch fails
// nobody else.
func TestWaitingAppendsShareABatchAndKeepTheirOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, 8)
	s := eventstore.New(pool, newCodec(t))
	mustAppend(t, s, "behind", eventstore.NoStream, event(checkedIn{Minute: 1}))
	repeated := event(checkedIn{Minute: 2})
	mustAppend(t, s, "repeat", eventstore.NoStream, repeated)

	type outcome struct {
		res eventstore.AppendResult
		err error
	}
	var wg sync.WaitGroup
	outcomes := map[string]*outcome{}
	appendAsync := func(stream string, expected int64, e eventstore.EventData) {
		o := &outcome{}
		outcomes[stream] = o
		wg.Go(func() { o.res, o.err = s.Append(ctx, stream, expected, e) })
	}
	release := holdEveryBatchSlot(t, s, pool)
	appendAsync("new-1", eventstore.NoStream, event(checkedIn{Minute: 3}))
	appendAsync("new-2", eventstore.NoStream, event(checkedIn{Minute: 4}))
	appendAsync("behind", 5, event(checkedIn{Minute: 5}))
	appendAsync("repeat", eventstore.NoStream, repeated)
	waitFor(t, "four appends queued", func() bool { return eventstore.QueuedAppends(s) == 4 })
	release()
	wg.Wait()

	for _, stream := range []string{"new-1", "new-2"} {
		if o := outcomes[stream]; o.err != nil || o.res.Duplicate || o.res.FirstVersion != 1 || o.res.LastVersion != 1 {
			t.Errorf("%s: got %+v, %v; want version 1 stored", stream, o.res, o.err)
		}
	}
	var conflict *eventstore.ConflictError
	if o := outcomes["behind"]; !errors.As(o.err, &conflict) || conflict.Actual != 1 {
		t.Errorf("behind: got %+v, %v; want a conflict at version 1", o.res, o.err)
	}
	if o := outcomes["repeat"]; o.err != nil || !o.res.Duplicate {
		t.Errorf("repeat: got %+v, %v; want a duplicate", o.res, o.err)
	}
	var transactions, times int
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT tx_id), count(DISTINCT recorded_at) FROM events
		WHERE stream_id IN ('new-1', 'new-2')`).Scan(&transactions, &times); err != nil {
		t.Fatal(err)
	}
	if transactions != 1 || times != 1 {
		t.Errorf("the waiting appends went out in %d transactions at %d times, want 1 and 1", transactions, times)
	}
	for _, stream := range []string{"behind", "repeat"} {
		if events, err := s.Load(ctx, stream); err != nil || len(events) != 1 {
			t.Errorf("%s: %d events (%v), want the 1 it had", stream, len(events), err)
		}
	}
}

// An append whose caller gives up while it waits for a batch is never
// written.
func TestAnAppendGivenUpInTheQueueIsNotWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, 8)
	s := eventstore.New(pool, newCodec(t))
	release := holdEveryBatchSlot(t, s, pool)
	gaveUp, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.Append(gaveUp, "abandoned", eventstore.NoStream, event(checkedIn{})); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want the caller's deadline", err)
	}
	if n := eventstore.QueuedAppends(s); n != 0 {
		t.Errorf("%d appends still queued, want none", n)
	}
	release()
	if events, err := s.Load(ctx, "abandoned"); err != nil || len(events) != 0 {
		t.Errorf("abandoned: %d events (%v), want none", len(events), err)
	}
}

// holdEveryBatchSlot makes an append of s wait in each batch slot, for a
// stream lock held by a transaction of the test, until release.
func holdEveryBatchSlot(t *testing.T, s *eventstore.Store, pool *pgxpool.Pool) (release func()) {
	t.Helper()
	ctx := context.Background()
	holder, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range eventstore.MaxFlushes {
		blocker := fmt.Sprintf("blocker-%d", i)
		if _, err := holder.Exec(ctx, `SELECT pg_advisory_xact_lock(1163067393, hashtext($1))`, blocker); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { mustAppend(t, s, blocker, eventstore.NoStream, event(checkedIn{})) })
	}
	waitFor(t, "an append waiting in every batch slot", func() bool {
		var waiting int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&waiting)
		return err == nil && waiting == eventstore.MaxFlushes
	})
	return func() {
		if err := holder.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
