package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acme/employee-tracking/eventstore/seal"
	"github.com/acme/employee-tracking/internal/testdb"
)

// TestAuditExportAndOfflineVerify: a pack exported from the store checks
// with no database at hand, and a pack edited by one byte fails, naming the
// seal and the event.
func TestAuditExportAndOfflineVerify(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.URL(t)}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	pool, _, _, err := openStore(ctx, getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for i := range 30 {
		_, err := pool.Exec(ctx, `INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata)
			SELECT gen_random_uuid(), 'test-' || $1::int, g, 'test.filled', 1, jsonb_build_object('n', g, 'text', 'ü "x"'), '{"actor": "t"}'
			FROM generate_series(1, 100) g`, i)
		if err != nil {
			t.Fatal(err)
		}
	}
	sealer := seal.NewSealer(pool, time.Second, slog.New(slog.DiscardHandler))
	sealer.MaxEvents = 256
	for sealed, deadline := 0, time.Now().Add(30*time.Second); sealed < 3_000; {
		n, err := sealer.CatchUp(ctx)
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("sealed %d of 3000 events: %v", sealed, err)
		}
		sealed += n
	}
	var out bytes.Buffer
	// Nothing left to seal: etctl says so.
	if err := run(ctx, getenv, &out, []string{"audit", "seal"}); err != nil || out.String() != "sealed 0 events\n" {
		t.Fatalf("etctl audit seal: %v, %q", err, out.String())
	}

	dir := t.TempDir()
	pack := filepath.Join(dir, "pack.json")
	out.Reset()
	if err := run(ctx, getenv, &out, []string{"audit", "export", "-from-seq", "1", "-o", pack}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "3000 events") {
		t.Fatalf("export said %q", out.String())
	}
	// Offline: no database answers at this address.
	offline := func(k string) string {
		if k == "DATABASE_URL" {
			return "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"
		}
		return ""
	}
	out.Reset()
	if err := run(ctx, offline, &out, []string{"audit", "verify", "-pack", pack}); err != nil || !strings.Contains(out.String(), "3000 events") {
		t.Fatalf("verify the untouched pack: %v, %q", err, out.String())
	}
	out.Reset()
	if err := run(ctx, getenv, &out, []string{"audit", "verify", "-from-seq", "2", "-to-seq", "5"}); err != nil || !strings.Contains(out.String(), "ok: 4 seals") {
		t.Fatalf("verify seals 2 to 5 in the store: %v, %q", err, out.String())
	}

	b, err := os.ReadFile(pack)
	if err != nil {
		t.Fatal(err)
	}
	// One byte of one event's data: the n of the event at position 2222.
	var position int64 = 2222
	var n int
	if err := pool.QueryRow(ctx, `SELECT (data->>'n')::int FROM events WHERE position = $1`, position).Scan(&n); err != nil {
		t.Fatal(err)
	}
	old := fmt.Sprintf(`{"n": %d, `, n)
	at := bytes.Index(b, []byte(fmt.Sprintf(`{"position":%d,`, position)))
	i := bytes.Index(b[at:], []byte(strings.ReplaceAll(old, `"`, `\"`)))
	if at < 0 || i < 0 {
		t.Fatalf("event at %d with %s not found in the pack", position, old)
	}
	edited := append([]byte{}, b...)
	edited[at+i+len(`{\"n\": `)] ^= 1 // the first digit of n
	if err := os.WriteFile(pack, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	var seq int64
	if err := pool.QueryRow(ctx, `SELECT seq FROM seals WHERE $1 = ANY (positions)`, position).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	err = run(ctx, offline, &out, []string{"audit", "verify", "-pack", pack})
	if want := fmt.Sprintf("seal %d, position %d: event changed", seq, position); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("verify the edited pack: got %v, want %q", err, want)
	}

	for _, args := range [][]string{{"audit"}, {"audit", "export"}, {"audit", "export", "-from-seq", "0", "-o", pack}, {"audit", "verify", "-from-seq", "-1"}, {"audit", "sign"}} {
		if err := run(ctx, getenv, &out, args); err == nil {
			t.Errorf("etctl %v: no error", args)
		}
	}
}
