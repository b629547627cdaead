package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/eventstore"
)

const (
	// feedPage is the page size of feed reads.
	feedPage = 1000
	// fillChunk is the number of rows written per fill transaction.
	fillChunk = 10_000
	// feedStreams is the number of streams the filled events spread over.
	feedStreams = 1000
)

// fillSQL writes check-ins $1..$2 with SQL alone: the fill is setup, not the
// thing measured. %s is the table.
const fillSQL = `INSERT INTO %s (event_id, stream_id, version, type, schema_version, data, metadata)
SELECT gen_random_uuid(), $3 || (i %% $4), i / $4 + 1, 'attendance.checked_in', 1,
       jsonb_build_object('employee_id', md5((i %% $4)::text)::uuid, 'at', now() + i * interval '1 second',
                          'local_date', '2025-03-03', 'late', i %% 7 = 0, 'late_minutes', i %% 60),
       jsonb_build_object('actor', md5((i %% $4)::text)::uuid, 'request_id', 'req-' || i,
                          'correlation_id', md5(i::text)::uuid)
FROM generate_series($1::bigint, $2::bigint) AS i`

// feedScenario fills the store with cfg.events events and reads them back
// through ReadFeed, decoding every payload; the baseline reads the same rows
// from bench_baseline by position, raw.
func (b *bench) feedScenario(ctx context.Context) ([]row, error) {
	n := b.cfg.events
	name := fmt.Sprintf("(d) feed read+decode, %d events", n)
	prefix := fmt.Sprintf("feed%d-", time.Now().UnixNano())

	var start eventstore.Cursor
	err := b.pool.QueryRow(ctx, `SELECT tx_id, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1`).
		Scan(&start.TxID, &start.Position)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	var baseStart int64
	if err := b.pool.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM bench_baseline`).Scan(&baseStart); err != nil {
		return nil, err
	}
	for _, table := range []string{"events", "bench_baseline"} {
		fmt.Fprintf(b.log, "%s: filling %s...\n", name, table)
		if err := b.fill(ctx, table, prefix, n); err != nil {
			return nil, err
		}
	}

	fmt.Fprintf(b.log, "%s: reading...\n", name)
	st, base, err := readAlternately(ctx, n, b.storePage(start), b.baselinePage(baseStart))
	if err != nil {
		return nil, err
	}
	return []row{
		{scenario: name, path: "store", stats: st, ratio: fmt.Sprintf("%.2fx", st.rate()/base.rate()),
			target: verdict(">= 100000 events/s", st.rate() >= 100_000)},
		{scenario: fmt.Sprintf("    latency per page of %d", feedPage), path: "baseline", stats: base},
	}, nil
}

func (b *bench) fill(ctx context.Context, table, prefix string, n int) error {
	q := fmt.Sprintf(fillSQL, table)
	for from := 0; from < n; from += fillChunk {
		to := min(from+fillChunk, n) - 1
		if _, err := b.pool.Exec(ctx, q, from, to, prefix, feedStreams); err != nil {
			return fmt.Errorf("fill %s: %w", table, err)
		}
	}
	_, err := b.pool.Exec(ctx, "VACUUM ANALYZE "+table)
	return err
}

// page reads the next page of at most limit events and returns how many it read.
type page func(ctx context.Context, limit int) (int, error)

// readAlternately reads n events through each of store and baseline, a page
// of one then a page of the other, so that the machine's other load affects
// both alike. The rates count the time spent in each path only.
func readAlternately(ctx context.Context, n int, store, baseline page) (stats, stats, error) {
	var ss, sb stats
	for ss.events < n || sb.events < n {
		for _, r := range []struct {
			s    *stats
			next page
		}{{&ss, store}, {&sb, baseline}} {
			if r.s.events >= n {
				continue
			}
			t0 := time.Now()
			read, err := r.next(ctx, min(feedPage, n-r.s.events))
			if err != nil {
				return stats{}, stats{}, err
			}
			if read == 0 {
				return stats{}, stats{}, fmt.Errorf("ended after %d of %d events", r.s.events, n)
			}
			d := time.Since(t0)
			r.s.latencies = append(r.s.latencies, d)
			r.s.elapsed += d
			r.s.events += read
		}
	}
	return ss, sb, nil
}

// storePage reads the feed from cursor, decoding every payload.
func (b *bench) storePage(cursor eventstore.Cursor) page {
	return func(ctx context.Context, limit int) (int, error) {
		events, next, err := b.store.ReadFeed(ctx, cursor, limit)
		cursor = next
		return len(events), err
	}
}

// baselinePage reads bench_baseline by position after after, raw.
func (b *bench) baselinePage(after int64) page {
	const q = `SELECT position, tx_id, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at
		FROM bench_baseline WHERE position > $1 ORDER BY position LIMIT $2`
	return func(ctx context.Context, limit int) (int, error) {
		rows, err := b.pool.Query(ctx, q, after, limit)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		read := 0
		for rows.Next() {
			var (
				txID           uint64
				id             [16]byte
				stream, typ    string
				version        int64
				schema         int
				data, metadata []byte
				recordedAt     time.Time
			)
			if err := rows.Scan(&after, &txID, &id, &stream, &version, &typ, &schema, &data, &metadata, &recordedAt); err != nil {
				return 0, err
			}
			read++
		}
		return read, rows.Err()
	}
}
