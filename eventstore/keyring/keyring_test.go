package keyring

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/testdb"
)

func newKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k)
	return k
}

func TestSealOpenErase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	dataKey := newKey()
	k, err := Open(ctx, pool, dataKey)
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("e1\x00test")
	sealed, err := k.Seal("e1", aad, []byte("Ayşe Yılmaz"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("Ayşe")) {
		t.Fatal("sealed data holds the plaintext")
	}
	// Another process, on the same table, opens it.
	other, err := Open(ctx, pool, dataKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := other.Open("e1", aad, sealed); err != nil || string(got) != "Ayşe Yılmaz" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := other.Open("e1", []byte("e2\x00test"), sealed); err == nil {
		t.Error("opened with another subject's AAD")
	}

	if err := k.Erase(ctx, "e1"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open("e1", aad, sealed); !errors.Is(err, eventstore.ErrErased) {
		t.Errorf("open after erasure: %v, want ErrErased", err)
	}
	if _, err := k.Seal("e1", aad, []byte("again")); !errors.Is(err, eventstore.ErrErased) {
		t.Errorf("seal after erasure: %v, want ErrErased (no new key for an erased person)", err)
	}
	if err := k.Erase(ctx, "e1"); err != nil {
		t.Errorf("erasing twice: %v", err)
	}
	// The other process learns of it once its cached key expires.
	other.now = func() time.Time { return time.Now().Add(cacheFor) }
	if _, err := other.Open("e1", aad, sealed); !errors.Is(err, eventstore.ErrErased) {
		t.Errorf("other process after its cache expired: %v, want ErrErased", err)
	}
	var wrapped []byte
	if err := pool.QueryRow(ctx, `SELECT wrapped FROM personal_keys WHERE subject = 'e1'`).Scan(&wrapped); err != nil || wrapped != nil {
		t.Errorf("stored key after erasure = %x, %v; want NULL", wrapped, err)
	}
}

// TestConcurrentFirstSeals: processes sealing for a new person at once agree
// on one key.
func TestConcurrentFirstSeals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	dataKey := newKey()
	const n = 8
	sealed := make([][]byte, n)
	rings := make([]*Keyring, n)
	var wg sync.WaitGroup
	for i := range n {
		k, err := Open(ctx, pool, dataKey)
		if err != nil {
			t.Fatal(err)
		}
		rings[i] = k
		wg.Go(func() {
			var err error
			if sealed[i], err = k.Seal("e1", nil, []byte(fmt.Sprint("text ", i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range n {
		if got, err := rings[(i+1)%n].Open("e1", nil, sealed[i]); err != nil || string(got) != fmt.Sprint("text ", i) {
			t.Errorf("sealed by %d, opened by another: %q, %v", i, got, err)
		}
	}
}

// TestFirstSealStoresTheKeyInOneQuery: a person's first seal looks for their
// key and stores a new one, one query each; a seal under a cached key sends
// none.
func TestFirstSealStoresTheKeyInOneQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, sent := countingPool(t)
	k, err := Open(ctx, pool, newKey())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{2, 0} {
		before := sent.n.Load()
		sealed, err := k.Seal("e1", nil, []byte("name"))
		if err != nil {
			t.Fatal(err)
		}
		if n := sent.n.Load() - before; n != want {
			t.Errorf("seal %d sent %d queries, want %d", i+1, n, want)
		}
		if got, err := k.Open("e1", nil, sealed); err != nil || string(got) != "name" {
			t.Errorf("opened %q, %v", got, err)
		}
	}
}

func TestWrongDataKeyIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	if _, err := Open(ctx, pool, newKey()); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, pool, newKey()); err == nil {
		t.Error("a second data key opened the key table")
	}
	if _, err := Open(ctx, pool, []byte("short")); err == nil {
		t.Error("a short data key was accepted")
	}
}

// TestRotate: after a rotation the new data key opens everything sealed
// before it, and the old one is refused.
func TestRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	oldKey, newDataKey := newKey(), newKey()
	k, err := Open(ctx, pool, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	const people = 300
	sealed := make([][]byte, people)
	for i := range people {
		if sealed[i], err = k.Seal(fmt.Sprint("e", i), nil, []byte(fmt.Sprint("name ", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := k.Erase(ctx, "e0"); err != nil {
		t.Fatal(err)
	}
	if _, err := Rotate(ctx, pool, newKey(), newDataKey); err == nil {
		t.Fatal("rotated from a data key that is not the table's")
	}
	n, err := Rotate(ctx, pool, oldKey, newDataKey)
	if err != nil {
		t.Fatal(err)
	}
	if n != people-1 {
		t.Errorf("rotated %d keys, want %d (the erased one has none)", n, people-1)
	}
	if _, err := Open(ctx, pool, oldKey); err == nil {
		t.Error("the old data key still opens the table")
	}
	after, err := Open(ctx, pool, newDataKey)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < people; i++ {
		if got, err := after.Open(fmt.Sprint("e", i), nil, sealed[i]); err != nil || string(got) != fmt.Sprint("name ", i) {
			t.Fatalf("e%d after rotation: %q, %v", i, got, err)
		}
	}
	if _, err := after.Open("e0", nil, sealed[0]); !errors.Is(err, eventstore.ErrErased) {
		t.Errorf("erased e0 after rotation: %v", err)
	}
}

// TestStoredDataKey: without DATA_KEY, the first program generates the data
// key and keeps it in the database; the next ones use it; a rotation to a
// DATA_KEY deletes it.
func TestStoredDataKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	k1, stored, err := OpenWith(ctx, pool, nil)
	if err != nil || !stored {
		t.Fatalf("first start: %v, stored %v", err, stored)
	}
	sealed, err := k1.Seal("e1", nil, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	k2, _, err := OpenWith(ctx, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k2.Open("e1", nil, sealed); err != nil || string(got) != "x" {
		t.Fatalf("second start: %q, %v", got, err)
	}
	generated, fresh, err := StoredDataKey(ctx, pool)
	if err != nil || fresh {
		t.Fatalf("StoredDataKey again: fresh %v, %v", fresh, err)
	}
	dataKey := newKey()
	if _, err := Rotate(ctx, pool, generated, dataKey); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM data_key_generated`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("generated data key rows after rotation: %d, %v", rows, err)
	}
	k3, stored, err := OpenWith(ctx, pool, dataKey)
	if err != nil || stored {
		t.Fatalf("start with DATA_KEY: %v, stored %v", err, stored)
	}
	if got, err := k3.Open("e1", nil, sealed); err != nil || string(got) != "x" {
		t.Errorf("after rotation: %q, %v", got, err)
	}
}

// TestErasureReachesEveryProcess: a keyring that follows the announcements
// forgets an erased person's key as soon as another process erases them,
// long before its cache would expire (its clock is stopped here, so only the
// announcement can do it); after its listening connection is lost, it
// listens again and forgets what it may have missed.
func TestErasureReachesEveryProcess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	pool := testdb.New(t)
	t.Cleanup(cancel)
	dataKey := newKey()
	eraser, err := Open(ctx, pool, dataKey)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, pool, dataKey)
	if err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	other.now = func() time.Time { return stopped }
	if err := other.Follow(ctx, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	sealed := map[string][]byte{}
	for _, subject := range []string{"e1", "e2"} {
		if sealed[subject], err = eraser.Seal(subject, nil, []byte("name of "+subject)); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Open(subject, nil, sealed[subject]); err != nil {
			t.Fatal(err)
		}
	}
	// erasedWithin erases subject in the eraser and says how long the other
	// keyring still opened their data.
	erasedWithin := func(subject string, bound time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		if err := eraser.Erase(ctx, subject); err != nil {
			t.Fatal(err)
		}
		for {
			_, err := other.Open(subject, nil, sealed[subject])
			if errors.Is(err, eventstore.ErrErased) {
				return time.Since(start)
			}
			if err != nil {
				t.Fatal(err)
			}
			if time.Since(start) > bound {
				t.Fatalf("%s still opens in the other keyring %v after the erasure", subject, bound)
			}
			time.Sleep(time.Millisecond)
		}
	}
	took := erasedWithin("e1", time.Second)
	t.Logf("the other keyring stopped opening e1 %v after the erasure", took)

	// The listening connection is lost: the keyring listens again within
	// followRetry, forgetting the keys it cached meanwhile.
	var ended bool
	if err := pool.QueryRow(ctx, `SELECT bool_and(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN `+erasedChannel+`'`).Scan(&ended); err != nil || !ended {
		t.Fatalf("end the listening connection: %v, %v", ended, err)
	}
	took = erasedWithin("e2", followRetry+time.Second)
	t.Logf("with the listening connection lost, the other keyring stopped opening e2 %v after the erasure", took)
}

// queries counts the queries a pool sends.
type queries struct{ n atomic.Int64 }

// countingPool is a pool on a fresh database, with the count of the queries
// it sends.
func countingPool(t *testing.T) (*pgxpool.Pool, *queries) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	sent := &queries{}
	cfg.ConnConfig.Tracer = sent
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, sent
}

func (q *queries) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	q.n.Add(1)
	return ctx
}
func (q *queries) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestExpiredKeysAreReadAgainTogether: once the cached keys expire, reading
// the data of many persons reads their keys again in one query, which learns
// of an erasure made meanwhile by another process; a key not taken since it
// was last read is not read again, and seals without a query until it has
// not been taken for idleFor.
func TestExpiredKeysAreReadAgainTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, sent := countingPool(t)
	dataKey := newKey()
	eraser, err := Open(ctx, pool, dataKey)
	if err != nil {
		t.Fatal(err)
	}
	reader, err := Open(ctx, pool, dataKey)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	reader.now = func() time.Time { return clock }
	sealed := map[string][]byte{}
	for i := range 20 {
		subject := fmt.Sprintf("e%d", i)
		if sealed[subject], err = eraser.Seal(subject, nil, []byte("name of "+subject)); err != nil {
			t.Fatal(err)
		}
		if _, err := reader.Open(subject, nil, sealed[subject]); err != nil {
			t.Fatal(err)
		}
	}
	if err := eraser.Erase(ctx, "e0"); err != nil {
		t.Fatal(err)
	}
	// readAll opens the data of e0 up to e<n-1>, once their keys expired,
	// and says how many queries it took.
	readAll := func(n int) int64 {
		t.Helper()
		clock = clock.Add(cacheFor)
		before := sent.n.Load()
		for i := range n {
			subject := fmt.Sprintf("e%d", i)
			got, err := reader.Open(subject, nil, sealed[subject])
			switch {
			case subject == "e0" && !errors.Is(err, eventstore.ErrErased):
				t.Errorf("e0 erased by another process: %q, %v; want ErrErased", got, err)
			case subject != "e0" && (err != nil || string(got) != "name of "+subject):
				t.Errorf("%s = %q, %v", subject, got, err)
			}
		}
		return sent.n.Load() - before
	}
	if n := readAll(19); n != 1 {
		t.Errorf("19 expired keys read again in %d queries, want 1", n)
	}
	if n := readAll(18); n != 1 {
		t.Errorf("18 expired keys read again in %d queries, want 1", n)
	}
	readAt := func(subject string) (time.Time, bool) {
		reader.mu.Lock()
		defer reader.mu.Unlock()
		c, ok := reader.keys[subject]
		return c.readAt, ok
	}
	if at, kept := readAt("e19"); !kept || !at.Before(clock) {
		t.Errorf("the key of e19, not taken since it was last read: kept %v, read %s ago; want kept, not read again", kept, clock.Sub(at))
	}
	before := sent.n.Load()
	if _, err := reader.Seal("e19", nil, []byte("new name of e19")); err != nil {
		t.Fatal(err)
	}
	if n := sent.n.Load() - before; n != 0 {
		t.Errorf("sealing under the expired key of e19 sent %d queries, want 0", n)
	}
	// e18 was last taken a cacheFor ago: idle for idleFor, it is forgotten
	// (e1's expired key has the keys read again).
	clock = clock.Add(idleFor - cacheFor)
	readAll(2)
	if _, kept := readAt("e18"); kept {
		t.Errorf("the key of e18, idle for %s, is still cached", idleFor)
	}
}

// TestOpeningReadsTheClockOnce: opening under a cached key reads the clock
// once, and marks the key taken (rewriting its entry) once a takenEvery, not
// at every opening.
func TestOpeningReadsTheClockOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := countingPool(t)
	k, err := Open(ctx, pool, newKey())
	if err != nil {
		t.Fatal(err)
	}
	clock, reads := time.Now(), 0
	k.now = func() time.Time { reads++; return clock }
	sealed, err := k.Seal("e1", nil, []byte("name of e1"))
	if err != nil {
		t.Fatal(err)
	}
	takenAt := func() time.Time {
		k.mu.Lock()
		defer k.mu.Unlock()
		return k.keys["e1"].takenAt
	}
	first := takenAt()
	reads = 0
	for i := range 10 {
		clock = first.Add(time.Duration(i) * takenEvery / 10)
		if got, err := k.Open("e1", nil, sealed); err != nil || string(got) != "name of e1" {
			t.Fatalf("open = %q, %v", got, err)
		}
	}
	if reads != 10 {
		t.Errorf("10 openings read the clock %d times, want 10", reads)
	}
	if got := takenAt(); !got.Equal(first) {
		t.Errorf("taken again within %s: marked taken %s later", takenEvery, got.Sub(first))
	}
	clock = first.Add(takenEvery)
	if _, err := k.Open("e1", nil, sealed); err != nil {
		t.Fatal(err)
	}
	if got := takenAt(); !got.Equal(clock) {
		t.Errorf("taken %s after it was marked taken: marked %s, want %s", takenEvery, got, clock)
	}
}
