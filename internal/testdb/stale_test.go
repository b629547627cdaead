package testdb

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/acme/employee-tracking/internal/testenv"
)

func TestDropStaleDropsOnlyOldTestDatabases(t *testing.T) {
	ctx := context.Background()
	admin, _, _, err := prepare()
	if err != nil {
		t.Fatal(err)
	}
	stale := testPrefix + strconv.FormatInt(time.Now().Add(-2*staleAfter).Unix(), 10) + "_" + testenv.RandomHex(6)
	fresh := newName()
	for _, name := range []string{stale, fresh} {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(name)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { drop(t, admin, name) })
	}

	conn, err := admin.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if err := dropStale(ctx, conn.Conn()); err != nil {
		t.Fatalf("dropStale: %v", err)
	}

	for name, want := range map[string]bool{stale: false, fresh: true} {
		var got bool
		if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("database %s exists: got %v, want %v", name, got, want)
		}
	}
}
