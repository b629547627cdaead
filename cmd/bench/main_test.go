package main

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Benchmarks run at the same time on one server each name their own scratch
// database: BENCH_DATABASE_NAME, created fresh and dropped at the end, while
// the default's is left alone.
func TestOpenDatabaseByName(t *testing.T) {
	ctx := context.Background()
	name := fmt.Sprintf("et_bench_name_test_%d", time.Now().UnixNano())
	dbURL, drop, err := openDatabase(ctx, func(k string) string { return map[string]string{"BENCH_DATABASE_NAME": name}[k] }, false)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/"+name {
		t.Errorf("database URL %s, want one of database %s", dbURL, name)
	}
	exists := func() bool {
		t.Helper()
		admin, err := pgx.Connect(ctx, defaultServerURL)
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close(ctx)
		var n int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	if !exists() {
		t.Fatalf("database %s not created", name)
	}
	drop()
	if exists() {
		t.Errorf("database %s still there after the run", name)
	}
}

// A cost that grows as its size does is linear; one that grows faster, worse.
func TestGrowth(t *testing.T) {
	for _, tt := range []struct {
		cost, size float64
		want       string
	}{
		{10.65, 10, "linear"},
		{18, 10, "worse than linear"},
		{2.7, 10, "better than linear"},
	} {
		if got := growth(tt.cost, tt.size); got != tt.want {
			t.Errorf("growth(%v, %v) = %q, want %q", tt.cost, tt.size, got, tt.want)
		}
	}
}

// bench overhead -only runs the comparisons named, and refuses a name it does
// not know before it creates any database.
func TestOverheadComparisons(t *testing.T) {
	b := &overheadBench{}
	got, err := b.comparisons("append, feed")
	if err != nil || len(got) != 2 {
		t.Fatalf(`comparisons("append, feed") = %d comparisons, %v; want 2`, len(got), err)
	}
	if _, err := b.comparisons("append,sealing"); err == nil {
		t.Error(`comparisons("append,sealing") gave no error`)
	}
	if _, err := b.comparisons(""); err == nil {
		t.Error(`comparisons("") gave no error`)
	}
}
