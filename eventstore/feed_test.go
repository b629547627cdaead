package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/testdb"
)

// readFeed reads from after in pages of limit until it has n events. Any
// transaction running on the server, such as another test's, holds the feed
// fence back for a while, so a read may return less than is committed.
func readFeed(t *testing.T, s *eventstore.Store, after eventstore.Cursor, limit int, f eventstore.FeedFilter, n int) ([]eventstore.Event, eventstore.Cursor) {
	t.Helper()
	var got []eventstore.Event
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		page, next, err := s.ReadFeedFiltered(context.Background(), after, limit, f)
		if err != nil {
			t.Fatalf("read feed after %v: %v", after, err)
		}
		if len(page) == 0 {
			if next != after {
				t.Fatalf("empty page moved the cursor from %v to %v", after, next)
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		if last := page[len(page)-1].Cursor(); next != last {
			t.Fatalf("returned cursor %v, want the last event's %v", next, last)
		}
		got, after = append(got, page...), next
	}
	if len(got) < n {
		t.Errorf("read %d of %d events before the deadline: is a write transaction on the server running that long?", len(got), n)
	}
	return got, after
}

type streamVersion struct {
	Stream  string
	Version int64
}

func streamVersions(events []eventstore.Event) []streamVersion {
	out := make([]streamVersion, len(events))
	for i, e := range events {
		out[i] = streamVersion{e.StreamID, e.Version}
	}
	return out
}

func TestReadFeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustAppend(t, s, "leave-e1", eventstore.NoStream, event(checkedIn{}), event(checkedOut{}))
	mustAppend(t, s, "attendance-e1", eventstore.NoStream, event(checkedIn{}))
	mustAppend(t, s, "leave-e10", eventstore.NoStream, event(checkedOut{}))
	mustAppend(t, s, "leave-e2", eventstore.NoStream, event(checkedIn{}))
	mustAppend(t, s, "leave-e1", 2, event(checkedIn{}))
	all := []streamVersion{{"leave-e1", 1}, {"leave-e1", 2}, {"attendance-e1", 1}, {"leave-e10", 1}, {"leave-e2", 1}, {"leave-e1", 3}}

	t.Run("in commit order, page by page", func(t *testing.T) {
		for _, limit := range []int{1, 2, 100} {
			got, end := readFeed(t, s, eventstore.Cursor{}, limit, eventstore.FeedFilter{}, len(all))
			if diff := cmp.Diff(all, streamVersions(got)); diff != "" {
				t.Errorf("limit %d (-want +got):\n%s", limit, diff)
			}
			page, next, err := s.ReadFeed(ctx, end, limit)
			if err != nil || len(page) != 0 || next != end {
				t.Errorf("read past the end: %d events, cursor %v, %v; want none, %v, nil", len(page), next, err, end)
			}
		}
	})

	t.Run("from a cursor", func(t *testing.T) {
		first, _ := readFeed(t, s, eventstore.Cursor{}, 100, eventstore.FeedFilter{}, len(all))
		if len(first) != len(all) {
			t.Fatalf("got %d events, want %d", len(first), len(all))
		}
		got, _ := readFeed(t, s, first[2].Cursor(), 100, eventstore.FeedFilter{}, len(all)-3)
		if diff := cmp.Diff(all[3:], streamVersions(got)); diff != "" {
			t.Errorf("after the third event (-want +got):\n%s", diff)
		}
	})

	filters := []struct {
		filter eventstore.FeedFilter
		want   []streamVersion
	}{
		{eventstore.FeedFilter{StreamID: "leave-e1"}, []streamVersion{{"leave-e1", 1}, {"leave-e1", 2}, {"leave-e1", 3}}},
		{eventstore.FeedFilter{StreamPrefix: "leave-e1"}, []streamVersion{{"leave-e1", 1}, {"leave-e1", 2}, {"leave-e10", 1}, {"leave-e1", 3}}},
		{eventstore.FeedFilter{StreamPrefix: "attendance-"}, []streamVersion{{"attendance-e1", 1}}},
		{eventstore.FeedFilter{Type: "test.checked_out"}, []streamVersion{{"leave-e1", 2}, {"leave-e10", 1}}},
		{eventstore.FeedFilter{StreamPrefix: "leave-", Type: "test.checked_in"}, []streamVersion{{"leave-e1", 1}, {"leave-e2", 1}, {"leave-e1", 3}}},
		{eventstore.FeedFilter{StreamPrefix: "nobody-"}, []streamVersion{}},
	}
	for _, tt := range filters {
		t.Run(fmt.Sprintf("filtered by %+v", tt.filter), func(t *testing.T) {
			got, _ := readFeed(t, s, eventstore.Cursor{}, 2, tt.filter, len(tt.want))
			if diff := cmp.Diff(tt.want, streamVersions(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("limit must be positive", func(t *testing.T) {
		if _, _, err := s.ReadFeed(ctx, eventstore.Cursor{}, 0); err == nil {
			t.Error("got no error for limit 0, want one")
		}
	})
}

// holdCommits makes every transaction that appends to stream wait, just before
// it commits, until the caller releases the returned lock.
func holdCommits(t *testing.T, pool *pgxpool.Pool, stream string) (release func()) {
	t.Helper()
	ctx := context.Background()
	for _, stmt := range []string{
		`CREATE FUNCTION test_hold_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NULL; END $$`,
		`CREATE CONSTRAINT TRIGGER test_hold_commit AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED
		FOR EACH ROW WHEN (NEW.stream_id = '` + stream + `') EXECUTE FUNCTION test_hold_commit()`,
	} {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(4242)`); err != nil {
		t.Fatal(err)
	}
	return func() {
		defer conn.Release()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock(4242)`); err != nil {
			t.Fatal(err)
		}
	}
}

// waitForHeldCommit waits until a transaction is held by holdCommits.
func waitForHeldCommit(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		var waiting bool
		err := pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND objid = 4242
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
	}
	t.Fatal("no append is waiting to commit")
}

// An event whose transaction commits after a younger one must not be skipped:
// the feed shows nothing past a running append until it ends.
func TestReadFeedWaitsForOlderTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, 4)
	s := eventstore.New(pool, newCodec(t))
	release := holdCommits(t, pool, "slow")

	slowDone := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, "slow", eventstore.NoStream, event(checkedIn{}))
		slowDone <- err
	}()
	waitForHeldCommit(t, pool)
	mustAppend(t, s, "fast", eventstore.NoStream, event(checkedOut{}))

	page, cursor, err := s.ReadFeed(ctx, eventstore.Cursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 0 {
		t.Errorf("while the older append is running the feed returned %v, want nothing", streamVersions(page))
	}

	release()
	if err := <-slowDone; err != nil {
		t.Fatalf("held append: %v", err)
	}
	got, _ := readFeed(t, s, cursor, 10, eventstore.FeedFilter{}, 2)
	if diff := cmp.Diff([]streamVersion{{"slow", 1}, {"fast", 1}}, streamVersions(got)); diff != "" {
		t.Errorf("feed after the older append committed (-want +got):\n%s", diff)
	}
}

// Many appends commit in a random order relative to their transaction ids while
// a reader follows the feed: it must get every event exactly once, each
// stream in version order.
//
// Replacing feedFence by "true" makes this test (and the one above) fail with
// missing events, which is how it was checked to catch the bug.
// appendRacing appends batch to stream: at AnyVersion, or, when exact, at the
// version the stream is believed to have, believing the conflict when there
// is one. Both kinds of append take part in the race.
func appendRacing(ctx context.Context, s *eventstore.Store, stream string, exact bool, batch []eventstore.EventData) error {
	if !exact {
		_, err := s.Append(ctx, stream, eventstore.AnyVersion, batch...)
		return err
	}
	expected := eventstore.NoStream
	for {
		_, err := s.Append(ctx, stream, expected, batch...)
		var ce *eventstore.ConflictError
		if !errors.As(err, &ce) {
			return err
		}
		expected = ce.Actual
	}
}

func TestReadFeedOutOfOrderCommits(t *testing.T) {
	t.Parallel()
	const (
		writers          = 32
		appendsPerWriter = 6
		streams          = 5
	)
	ctx := context.Background()
	pool := newPool(t, writers+2)
	s := eventstore.New(pool, newCodec(t))
	// Each appended row delays its commit by 0-50 ms, after the row got its
	// tx_id and position.
	for _, stmt := range []string{
		`CREATE FUNCTION test_delay_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_sleep(random() * 0.05); RETURN NULL; END $$`,
		`CREATE CONSTRAINT TRIGGER test_delay_commit AFTER INSERT ON events DEFERRABLE INITIALLY DEFERRED
		FOR EACH ROW EXECUTE FUNCTION test_delay_commit()`,
	} {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu        sync.Mutex
		committed = map[uuid.UUID]bool{}
		writing   sync.WaitGroup
		done      = make(chan struct{})
	)
	for w := range writers {
		writing.Go(func() {
			for i := range appendsPerWriter {
				batch := make([]eventstore.EventData, 1+rand.IntN(3))
				for j := range batch {
					batch[j] = event(checkedIn{EmployeeID: fmt.Sprint(w), Minute: i})
				}
				stream := fmt.Sprintf("stream-%d", rand.IntN(streams))
				if err := appendRacing(ctx, s, stream, w%2 == 1, batch); err != nil {
					t.Errorf("append to %s: %v", stream, err)
					return
				}
				mu.Lock()
				for _, e := range batch {
					committed[e.ID] = true
				}
				mu.Unlock()
			}
		})
	}
	go func() { writing.Wait(); close(done) }()

	// Counts commits that became visible below an already visible event: each
	// is an event a reader without the fence could have skipped.
	lateCommits := make(chan int, 1)
	go func() { lateCommits <- countLateCommits(t, pool, done) }()

	delivered := map[uuid.UUID]int{}
	lastVersion := map[string]int64{}
	var cursor eventstore.Cursor
	var drainBy time.Time // how long to wait for the rest once the writers are done
reading:
	for {
		page, next, err := s.ReadFeed(ctx, cursor, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			delivered[e.ID]++
			if want := lastVersion[e.StreamID] + 1; e.Version != want {
				t.Errorf("stream %s: got version %d, want %d", e.StreamID, e.Version, want)
			}
			lastVersion[e.StreamID] = e.Version
		}
		cursor = next
		select {
		case <-done:
			if drainBy.IsZero() {
				drainBy = time.Now().Add(30 * time.Second)
			}
			if len(delivered) >= len(committed) || time.Now().After(drainBy) { // no writer left: no race
				break reading
			}
		default:
		}
		if len(page) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("event %s delivered %d times, want once", id, n)
		}
		if !committed[id] {
			t.Errorf("event %s delivered but never committed", id)
		}
	}
	for id := range committed {
		if delivered[id] == 0 {
			t.Errorf("committed event %s was never delivered", id)
		}
	}
	if late := <-lateCommits; late == 0 {
		t.Error("no commit landed out of order, the test proved nothing; make the commit delays longer")
	} else {
		t.Logf("%d of %d events committed after a younger one was visible", late, len(committed))
	}
}

// countLateCommits polls the events table without any fence until done, and
// counts the events that became visible after an event with a greater
// (tx_id, position) was already visible.
func countLateCommits(t *testing.T, pool *pgxpool.Pool, done <-chan struct{}) int {
	seen := map[int64]bool{}
	var maxTx uint64
	var maxPos int64
	late := 0
	for {
		select {
		case <-done:
			return late
		default:
		}
		rows, err := pool.Query(context.Background(), `SELECT tx_id, position FROM events`)
		if err != nil {
			t.Error(err)
			return late
		}
		for rows.Next() {
			var tx uint64
			var pos int64
			if err := rows.Scan(&tx, &pos); err != nil {
				t.Error(err)
			}
			if seen[pos] {
				continue
			}
			seen[pos] = true
			if tx < maxTx || (tx == maxTx && pos < maxPos) {
				late++
				continue
			}
			maxTx, maxPos = tx, pos
		}
		if err := rows.Err(); err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
	}
}

func TestCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	s := eventstore.New(pool, newCodec(t))

	got, err := s.LoadCheckpoint(ctx, "relay")
	if err != nil || got != (eventstore.Cursor{}) {
		t.Errorf("missing checkpoint: got %v, %v; want the start of the feed", got, err)
	}

	want := eventstore.Cursor{TxID: 1 << 40, Position: 77}
	if err := s.SaveCheckpoint(ctx, pool, "relay", eventstore.Cursor{TxID: 5, Position: 6}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCheckpoint(ctx, pool, "relay", want); err != nil {
		t.Fatal(err)
	}
	// A checkpoint saved in a transaction that rolls back is not saved.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCheckpoint(ctx, tx, "relay", eventstore.Cursor{TxID: 9, Position: 9}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	got, err = s.LoadCheckpoint(ctx, "relay")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("checkpoint: got %v, want %v", got, want)
	}
	if other, _ := s.LoadCheckpoint(ctx, "projector"); other != (eventstore.Cursor{}) {
		t.Errorf("checkpoint of another consumer: got %v, want the start", other)
	}
}

func TestCursorText(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in   string
		want eventstore.Cursor
	}{
		{"", eventstore.Cursor{}},
		{"0.0", eventstore.Cursor{}},
		{"123.4567", eventstore.Cursor{TxID: 123, Position: 4567}},
		{"18446744073709551615.9223372036854775807", eventstore.Cursor{TxID: 1<<64 - 1, Position: 1<<63 - 1}},
	}
	for _, tt := range valid {
		got, err := eventstore.ParseCursor(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseCursor(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
		}
		if tt.in != "" && got.String() != tt.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tt.in)
		}
	}
	for _, in := range []string{"12", "a.b", "12.", ".5", "12.-1", "-1.2", "1.2.3", " 1.2", "18446744073709551616.1"} {
		if _, err := eventstore.ParseCursor(in); !errors.Is(err, eventstore.ErrInvalidCursor) {
			t.Errorf("ParseCursor(%q): got error %v, want ErrInvalidCursor", in, err)
		}
	}
}

func TestReadFeedDecodesLargePages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	s := eventstore.New(pool, newCodec(t))
	const n = 1000
	for a := range n / 100 {
		batch := make([]eventstore.EventData, 100)
		for i := range batch {
			batch[i] = event(checkedIn{Minute: a*100 + i})
		}
		if a == 9 {
			batch[50] = event(checkedOut{EmployeeID: "the odd one"})
		}
		mustAppend(t, s, "big", eventstore.AnyVersion, batch...)
	}

	got, _ := readFeed(t, s, eventstore.Cursor{}, n, eventstore.FeedFilter{}, n)
	if len(got) != n {
		t.Fatalf("got %d events, want %d", len(got), n)
	}
	for i, e := range got {
		var want eventstore.Payload = checkedIn{Minute: i}
		if i == 950 {
			want = checkedOut{EmployeeID: "the odd one"}
		}
		if diff := cmp.Diff(want, e.Payload); diff != "" {
			t.Fatalf("event %d payload (-want +got):\n%s", i, diff)
		}
	}

	// A reader that does not know one of the events fails, whichever part of
	// the page it is in.
	onlyCheckIns, err := eventstore.NewCodec(checkedIn{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = eventstore.New(pool, onlyCheckIns).ReadFeed(ctx, eventstore.Cursor{}, n)
	if !errors.Is(err, eventstore.ErrUnknownEvent) {
		t.Errorf("got error %v, want ErrUnknownEvent", err)
	}
}
