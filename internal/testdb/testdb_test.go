package testdb_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/internal/testdb"
)

func TestNewGivesFreshMigratedDatabases(t *testing.T) {
	ctx := context.Background()
	a, b := testdb.New(t), testdb.New(t)

	var nameA, nameB string
	if err := a.QueryRow(ctx, "SELECT current_database()").Scan(&nameA); err != nil {
		t.Fatal(err)
	}
	if err := b.QueryRow(ctx, "SELECT current_database()").Scan(&nameB); err != nil {
		t.Fatal(err)
	}
	if nameA == nameB {
		t.Fatalf("both pools are on database %q, want two databases", nameA)
	}
	for _, table := range []string{"events", "checkpoints"} {
		var n int
		if err := a.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("query %s: %v", table, err)
		}
		if n != 0 {
			t.Errorf("%s has %d rows, want 0", table, n)
		}
	}
}

func TestDatabaseIsDroppedAtCleanup(t *testing.T) {
	ctx := context.Background()
	var name string
	t.Run("user", func(t *testing.T) {
		pool := testdb.New(t)
		if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	probe := testdb.New(t)
	var exists bool
	if err := probe.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %q still exists after its test ended", name)
	}
}

func TestMissingURL(t *testing.T) {
	ctx := context.Background()
	probe := testdb.New(t)
	dbURL := testdb.MissingURL(t)
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	var exists bool
	if err := probe.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", cfg.Database).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %q exists, want it missing", cfg.Database)
	}
}
