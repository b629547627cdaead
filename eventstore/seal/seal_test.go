package seal_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/audit"
	"github.com/acme/employee-tracking/eventstore/seal"
	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/internal/testenv"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fill stores events as concurrent writers do: writers transactions of
// perTx events each, side by side, so that positions interleave across
// transactions and the feed's order is not the positions'. Data carries
// text jsonb normalises (spaces, key order, escapes).
func fill(t testing.TB, pool *pgxpool.Pool, writers, txs, perTx int) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range txs {
				_, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata)
					SELECT gen_random_uuid(), format('test-%s-%s-%s', $1::int, $2::int, gen_random_uuid()), 1, 'test.filled', 1,
					       format('{"z": %s, "a": "é\u00e9 \"q\"", "n": [1, 2.50]}', g)::jsonb, '{"actor": "t"}'::jsonb
					FROM generate_series(1, $3::int) g`, w, i, perTx)
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// sealAll seals everything stored, in seals of at most maxEvents. The feed's
// fence is the cluster's: other tests' transactions may hold it back a while.
func sealAll(t testing.TB, pool *pgxpool.Pool, maxEvents int) int {
	t.Helper()
	ctx := context.Background()
	s := seal.NewSealer(pool, time.Second, quiet)
	s.MaxEvents = maxEvents
	var stored int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	sealed := 0
	for deadline := time.Now().Add(30 * time.Second); sealed < stored; {
		n, err := s.CatchUp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sealed += n
		if time.Now().After(deadline) {
			t.Fatalf("sealed %d of %d events in 30 s", sealed, stored)
		}
		if sealed < stored {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return sealed
}

// tamper runs statements on the events with their immutability trigger off.
func tamper(t *testing.T, pool *pgxpool.Pool, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	stmts = append(append([]string{`ALTER TABLE events DISABLE TRIGGER events_refuse_update_delete`}, stmts...),
		`ALTER TABLE events ENABLE TRIGGER events_refuse_update_delete`)
	for _, s := range stmts {
		if _, err := pool.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// nth is the position and tx_id of the n-th event (from 0) in feed order.
func nth(t *testing.T, pool *pgxpool.Pool, n int) (position int64, txID uint64) {
	t.Helper()
	err := pool.QueryRow(context.Background(), `SELECT position, tx_id FROM events ORDER BY tx_id, position OFFSET $1 LIMIT 1`, n).
		Scan(&position, &txID)
	if err != nil {
		t.Fatal(err)
	}
	return position, txID
}

// sealOf is the seq of the seal that lists position.
func sealOf(t *testing.T, pool *pgxpool.Pool, position int64) int64 {
	t.Helper()
	var seq int64
	if err := pool.QueryRow(context.Background(), `SELECT seq FROM seals WHERE $1 = ANY (positions)`, position).Scan(&seq); err != nil {
		t.Fatalf("seal of position %d: %v", position, err)
	}
	return seq
}

func TestVerifyNamesTheFirstEventChangedRemovedOrInsertedBehindTheStore(t *testing.T) {
	t.Parallel()
	const events = 4*40*5 + 20_000
	prepare := func(t *testing.T) *pgxpool.Pool {
		pool := testdb.New(t)
		fill(t, pool, 4, 40, 5)
		// Transactions of 2,000: a long one holds the fence back for every
		// test on the cluster.
		fill(t, pool, 1, 10, 2_000)
		if n := sealAll(t, pool, 1_000); n != events {
			t.Fatalf("sealed %d events, want %d", n, events)
		}
		return pool
	}
	cases := []struct {
		name   string
		reason string
		// spoil changes the store and returns the position verify must name.
		spoil func(t *testing.T, pool *pgxpool.Pool) int64
	}{
		{"data changed", "changed", func(t *testing.T, pool *pgxpool.Pool) int64 {
			first, _ := nth(t, pool, 517)
			later, _ := nth(t, pool, 9_000)
			// Changed in the order opposite to the feed's: verify names the first in the feed.
			tamper(t, pool,
				fmt.Sprintf(`UPDATE events SET data = jsonb_set(data, '{z}', '0') WHERE position = %d`, later),
				fmt.Sprintf(`UPDATE events SET data = jsonb_set(data, '{z}', '0') WHERE position = %d`, first))
			return first
		}},
		{"recorded_at changed by a microsecond", "changed", func(t *testing.T, pool *pgxpool.Pool) int64 {
			p, _ := nth(t, pool, 803)
			tamper(t, pool, fmt.Sprintf(`UPDATE events SET recorded_at = recorded_at + interval '1 microsecond' WHERE position = %d`, p))
			return p
		}},
		{"metadata changed", "changed", func(t *testing.T, pool *pgxpool.Pool) int64 {
			p, _ := nth(t, pool, 15_000)
			tamper(t, pool, fmt.Sprintf(`UPDATE events SET metadata = '{"actor": "u"}' WHERE position = %d`, p))
			return p
		}},
		{"removed", "removed", func(t *testing.T, pool *pgxpool.Pool) int64 {
			p, _ := nth(t, pool, 1_999)
			tamper(t, pool, fmt.Sprintf(`DELETE FROM events WHERE position = %d`, p))
			return p
		}},
		{"inserted into a sealed transaction", "inserted", func(t *testing.T, pool *pgxpool.Pool) int64 {
			_, tx := nth(t, pool, 333)
			var p int64
			err := pool.QueryRow(context.Background(), `INSERT INTO events (position, tx_id, event_id, stream_id, version, type, schema_version, data, metadata)
				VALUES ((SELECT max(position) + 10 FROM events), $1, gen_random_uuid(), 'forged-1', 1, 'test.filled', 1, '{}', '{}')
				RETURNING position`, tx).Scan(&p)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			pool := prepare(t)
			store := seal.New(pool)
			ok, err := store.Verify(context.Background(), 1, 0)
			if seals := count(t, pool, `SELECT count(*) FROM seals`); err != nil || !ok.OK || ok.Events != events || ok.Seals != seals {
				t.Fatalf("untouched store: got %+v, %v; want ok, %d seals, %d events", ok, err, seals, events)
			}
			want := c.spoil(t, pool)
			wantSeal := int64(0)
			if c.reason != "inserted" {
				wantSeal = sealOf(t, pool, want)
			}
			r, err := store.Verify(context.Background(), 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			f := r.Failure
			if r.OK || f == nil || f.Position == nil || *f.Position != want || !strings.Contains(f.Reason, c.reason) {
				t.Fatalf("got %+v (%v), want position %d %s", r, f, want, c.reason)
			}
			if wantSeal != 0 && f.Seal != wantSeal {
				t.Fatalf("got seal %d, want %d", f.Seal, wantSeal)
			}
			// A range that ends before the seal of the change still verifies.
			if f.Seal > 1 {
				if r, err := store.Verify(context.Background(), 1, f.Seal-1); err != nil || !r.OK {
					t.Fatalf("seals before the change: got %+v, %v; want ok", r, err)
				}
			}
		})
	}
}

func TestTwoSealersSealEveryEventOnceInOneChain(t *testing.T) {
	t.Parallel()
	url := testdb.URL(t)
	ctx, cancel := context.WithCancel(context.Background())
	var sealers sync.WaitGroup
	logs := []*testenv.LockedBuffer{{}, {}}
	for i := range 2 {
		// Each sealer has a pool (and lock connection) of its own, as two processes do.
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		s := seal.NewSealer(pool, 5*time.Millisecond, slog.New(slog.NewTextHandler(logs[i], nil)))
		s.MaxEvents = 97
		sealers.Go(func() { s.Run(ctx) })
	}
	writers, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(writers.Close)
	fill(t, writers, 6, 200, 3)
	const total = 6 * 200 * 3
	deadline := time.Now().Add(30 * time.Second)
	for {
		var sealed int
		if err := writers.QueryRow(ctx, `SELECT coalesce(sum(count), 0) FROM seals`).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if sealed >= total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sealed %d of %d events in 30 s", sealed, total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	sealers.Wait()
	// One sealer led throughout; the other never sealed, nor tried to.
	active := 0
	for _, l := range logs {
		active += strings.Count(l.String(), "sealer: active")
		if strings.Contains(l.String(), "level=WARN") {
			t.Errorf("a sealer failed: %s", l.String())
		}
	}
	if active != 1 {
		t.Errorf("%d sealers were active, want 1 at a time and no change of leader", active)
	}
	var listed, distinct, events, seals, maxSeq int
	err = writers.QueryRow(context.Background(), `SELECT count(p), count(DISTINCT p), (SELECT count(*) FROM events),
		(SELECT count(*) FROM seals), (SELECT max(seq) FROM seals)
		FROM seals, unnest(positions) p JOIN events e ON e.position = p`).Scan(&listed, &distinct, &events, &seals, &maxSeq)
	if err != nil {
		t.Fatal(err)
	}
	if listed != total || distinct != total || events != total {
		t.Errorf("seals list %d positions (%d distinct) of %d stored events, want each of %d once", listed, distinct, events, total)
	}
	if seals != maxSeq {
		t.Errorf("%d seals up to seq %d: the chain has a hole", seals, maxSeq)
	}
	r, err := seal.New(writers).Verify(context.Background(), 1, 0)
	if err != nil || !r.OK || r.Events != total {
		t.Errorf("verify: got %+v, %v; want ok over %d events", r, err, total)
	}
}

func TestAnExportedPackChecksWithNoDatabase(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	fill(t, pool, 3, 30, 7)
	sealAll(t, pool, 50)
	store := seal.New(pool)
	wantSeals := count(t, pool, `SELECT count(*) FROM seals`)
	var all bytes.Buffer
	seals, events, err := store.Export(context.Background(), 1, 0, &all)
	if err != nil || seals != wantSeals || events != 630 {
		t.Fatalf("export: %d seals, %d events, %v; want %d and 630", seals, events, err, wantSeals)
	}
	if r, err := audit.CheckPack(all.Bytes()); err != nil || !r.OK || r.Seals != wantSeals || r.Events != 630 {
		t.Fatalf("check of the whole pack: got %+v, %v", r, err)
	}
	var part bytes.Buffer
	if _, _, err := store.Export(context.Background(), 4, 6, &part); err != nil {
		t.Fatal(err)
	}
	wantEvents := count(t, pool, `SELECT sum(count) FROM seals WHERE seq BETWEEN 4 AND 6`)
	if r, err := audit.CheckPack(part.Bytes()); err != nil || !r.OK || r.Seals != 3 || r.Events != wantEvents {
		t.Fatalf("check of seals 4 to 6: got %+v, %v; want ok over %d events", r, err, wantEvents)
	}
	// A pack exported after a change behind the store's back names it.
	p, _ := nth(t, pool, 222)
	tamper(t, pool, fmt.Sprintf(`UPDATE events SET data = '{"z": 1}' WHERE position = %d`, p))
	var spoilt bytes.Buffer
	if _, _, err := store.Export(context.Background(), 1, 0, &spoilt); err != nil {
		t.Fatal(err)
	}
	r, err := audit.CheckPack(spoilt.Bytes())
	if want := sealOf(t, pool, p); err != nil || r.OK || r.Failure.Position == nil || *r.Failure.Position != p || r.Failure.Seal != want {
		t.Fatalf("got %+v, %v; want position %d of seal %d named", r, err, p, want)
	}
}

// count is the number a query returns.
func count(t *testing.T, pool *pgxpool.Pool, query string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestEveryEventOfASealHasAProofOfItsRoot(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	fill(t, pool, 1, 5, 2_000)
	fill(t, pool, 1, 1, 1)
	// Once the cluster's fence (other tests' transactions) has passed them
	// all, they make a seal of 10,000 events and one of one.
	deadline := time.Now().Add(30 * time.Second)
	for count(t, pool, `SELECT count(*) FROM events WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())`) < 10_001 {
		if time.Now().After(deadline) {
			t.Fatal("the fence did not pass the events in 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	sealAll(t, pool, 10_000)
	if got := count(t, pool, `SELECT count(*) FROM seals WHERE (seq, count) IN ((1, 10000), (2, 1))`); got != 2 {
		t.Fatalf("want seal 1 of 10,000 events and seal 2 of one")
	}
	store := seal.New(pool)
	rows, err := pool.Query(context.Background(), `SELECT position FROM events ORDER BY tx_id, position`)
	if err != nil {
		t.Fatal(err)
	}
	positions := make([]int64, 0, 10_001)
	for rows.Next() {
		var p int64
		if err := rows.Scan(&p); err != nil {
			t.Fatal(err)
		}
		positions = append(positions, p)
	}
	if len(positions) != 10_001 {
		t.Fatalf("%d events", len(positions))
	}
	for i, p := range positions {
		// Every leaf of a tree of 10,000 is proved in domain/audit; here,
		// one in 97 and the ends of both seals, read from the store.
		if i%97 != 0 && i < 9_999 {
			continue
		}
		proof, err := store.Proof(context.Background(), p)
		if err != nil {
			t.Fatalf("position %d: %v", p, err)
		}
		if !proof.Valid() || proof.Event.Position != p || proof.Hash != proof.Event.Hash() {
			t.Fatalf("position %d: the proof does not lead to seal %d's root", p, proof.Seal.Seq)
		}
		var wantSeq int64
		var wantIndex int
		err = pool.QueryRow(context.Background(), `SELECT seq, array_position(positions, $1) - 1 FROM seals WHERE $1 = ANY (positions)`, p).
			Scan(&wantSeq, &wantIndex)
		if err != nil || proof.Seal.Seq != wantSeq || proof.Index != wantIndex {
			t.Fatalf("position %d: seal %d, index %d; want %d, %d (%v)", p, proof.Seal.Seq, proof.Index, wantSeq, wantIndex, err)
		}
	}
	if _, err := store.Proof(context.Background(), positions[len(positions)-1]+1_000); err != audit.ErrNoEvent {
		t.Errorf("an unknown position: got %v, want %v", err, audit.ErrNoEvent)
	}
	fill(t, pool, 1, 1, 1)
	if _, err := store.Proof(context.Background(), positions[len(positions)-1]+1); err != audit.ErrNotSealed {
		t.Errorf("an event not sealed yet: got %v, want %v", err, audit.ErrNotSealed)
	}
}

func TestProgressSaysHowFarTheChainIsBehind(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	store := seal.New(pool)
	ctx := context.Background()
	if p, err := store.Progress(ctx); err != nil || p != (seal.Progress{}) {
		t.Fatalf("an empty store: got %+v, %v; want zero", p, err)
	}
	fill(t, pool, 2, 5, 100)
	// Events below the fence and in no seal age; the fence is the cluster's,
	// so other tests' transactions may hold them back a moment.
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := store.Progress(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p.LastSeq == 0 && p.Lag >= 200*time.Millisecond {
			break
		}
		if p.LastSeq != 0 || time.Now().After(deadline) {
			t.Fatalf("unsealed events: got %+v, want no seal and a lag of 200 ms at least", p)
		}
		time.Sleep(20 * time.Millisecond)
	}
	sealAll(t, pool, 300)
	p, err := store.Progress(ctx)
	if err != nil || p.LastSeq != int64(count(t, pool, `SELECT count(*) FROM seals`)) || p.Lag != 0 {
		t.Fatalf("all sealed: got %+v, %v; want the last seq and no lag", p, err)
	}
}

func TestCatchUpLeavesTheSealingToTheActiveSealer(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	logs := &testenv.LockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	running := make(chan struct{})
	go func() {
		defer close(running)
		seal.NewSealer(pool, 10*time.Millisecond, slog.New(slog.NewTextHandler(logs, nil))).Run(ctx)
	}()
	defer func() {
		cancel()
		<-running
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "sealer: active") {
		if time.Now().After(deadline) {
			t.Fatal("the sealer did not start in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := seal.NewSealer(pool, time.Second, quiet).CatchUp(context.Background()); err != seal.ErrSealerActive {
		t.Fatalf("CatchUp beside an active sealer: got %v, want %v", err, seal.ErrSealerActive)
	}
}

func TestVerifyNamesASealRemovedOrChanged(t *testing.T) {
	t.Parallel()
	prepare := func(t *testing.T, stmts ...string) *seal.Store {
		pool := testdb.New(t)
		fill(t, pool, 2, 10, 50)
		sealAll(t, pool, 100)
		if n := count(t, pool, `SELECT count(*) FROM seals`); n < 6 {
			t.Fatalf("%d seals, want at least 6", n)
		}
		stmts = append(append([]string{`ALTER TABLE seals DISABLE TRIGGER seals_refuse_update_delete`}, stmts...),
			`ALTER TABLE seals ENABLE TRIGGER seals_refuse_update_delete`)
		for _, s := range stmts {
			if _, err := pool.Exec(context.Background(), s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		return seal.New(pool)
	}
	cases := []struct {
		name   string
		stmt   string
		from   int64
		seal   int64
		reason string
	}{
		{"the first removed", `DELETE FROM seals WHERE seq = 1`, 1, 2, "seal 1 is missing"},
		{"one in the middle removed", `DELETE FROM seals WHERE seq = 4`, 1, 5, "seal 4 is missing"},
		{"the one before the range removed", `DELETE FROM seals WHERE seq = 4`, 5, 5, "seal 4 is missing"},
		{"a root changed", `UPDATE seals SET root = sha256(root) WHERE seq = 3`, 1, 3, "hash does not cover"},
		{"a root and hash changed", `UPDATE seals SET root = sha256(root), hash = sha256(hash) WHERE seq = 3`, 1, 3, "hash does not cover"},
		{"a hash changed", `UPDATE seals SET hash = sha256(hash) WHERE seq = 3`, 1, 3, "hash does not cover"},
		{"a list of events changed", `UPDATE seals SET leaves = sha256(leaves) || substr(leaves, 33) WHERE seq = 2`, 1, 2, "does not match its root"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := prepare(t, c.stmt).Verify(context.Background(), c.from, 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.OK || r.Failure == nil || r.Failure.Seal != c.seal || !strings.Contains(r.Failure.Reason, c.reason) {
				t.Fatalf("got %+v (%v), want seal %d: %s", r, r.Failure, c.seal, c.reason)
			}
		})
	}
}

// Under a steady flow of appends the sealer seals once an interval, whatever
// committed meanwhile: sealing on until nothing new was below the fence made a
// seal every few milliseconds, each read and stored for itself.
func TestASteadyFlowIsSealedOnceAnInterval(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	const interval, flow = 100 * time.Millisecond, 1500 * time.Millisecond
	var sealer sync.WaitGroup
	sealer.Go(func() { seal.NewSealer(pool, interval, quiet).Run(ctx) })
	// The flow goes on until something is sealed: the feed's fence is the
	// cluster's, and other tests' transactions may hold it back a while.
	start := time.Now()
	for time.Since(start) < flow || count(t, pool, `SELECT count(*) FROM seals`) == 0 {
		if time.Since(start) > 30*time.Second {
			t.Fatal("nothing sealed in 30 s of appends")
		}
		fill(t, pool, 4, 1, 5)
	}
	took := time.Since(start)
	cancel()
	sealer.Wait()
	seals, sealed := count(t, pool, `SELECT count(*) FROM seals`), count(t, pool, `SELECT coalesce(sum(count), 0) FROM seals`)
	// One at the start, one a tick, and a tick's slack for a slow host.
	if most := int(took/interval) + 3; seals > most {
		t.Errorf("%d seals of %d events in %s of steady appends, a tick every %s: want at most %d", seals, sealed, took.Round(time.Millisecond), interval, most)
	}
}
