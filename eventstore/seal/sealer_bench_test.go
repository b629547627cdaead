package seal

import (
	"context"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/audit"
	"github.com/acme/employee-tracking/internal/testdb"
)

// BenchmarkSealerReadsAndHashes is the sealer's own work for one seal of
// 10,000 events of a check-in's size: reading them in feed order and
// hashing them into a seal. It reports the process's time and allocations
// per event; Postgres's share of the read is in ns/event too.
func BenchmarkSealerReadsAndHashes(b *testing.B) {
	const events = 10_000
	pool := testdb.New(b)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata)
		SELECT gen_random_uuid(), 'attendance-' || gen_random_uuid(), 1, 'attendance.checked_in', 1,
		       jsonb_build_object('at', now(), 'late', true, 'workday', true, 'timezone', 'Europe/Istanbul', 'local_date', '2026-12-07',
		                          'employee_id', gen_random_uuid(), 'late_minutes', g),
		       jsonb_build_object('actor', gen_random_uuid(), 'request_id', gen_random_uuid())
		FROM generate_series(1, $1::int) g`, events); err != nil {
		b.Fatal(err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	b.ReportAllocs()
	for b.Loop() {
		rs, err := hashed(ctx, conn.Conn(), audit.Cursor{}, events)
		if err != nil || len(rs) != events {
			b.Fatalf("read %d events (err %v), want %d", len(rs), err, events)
		}
		audit.Next(nil, rs, time.Now())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
}
