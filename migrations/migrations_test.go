package migrations_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/migrations"
)

// latestVersion is the version of the newest migration file.
func latestVersion(t *testing.T) int64 {
	t.Helper()
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migration files: %v", err)
	}
	var latest int64
	for _, name := range names {
		prefix, _, _ := strings.Cut(name, "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: version prefix: %v", name, err)
		}
		latest = max(latest, v)
	}
	return latest
}

func TestUpConcurrentStartsApplyOnce(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.MissingURL(t)
	if err := migrations.EnsureDatabase(ctx, dbURL); err != nil {
		t.Fatal(err)
	}

	// A deployed database (the version table exists) gets a new migration, and two
	// processes start at once: both find it pending. Without the lock both would
	// apply it and one would fail. (On a fresh database goose's own retry around
	// creating the version table happens to serialize them.)
	createVersionTable(t, ctx, dbURL)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		pool := openPool(t, dbURL)
		wg.Go(func() { errs <- migrations.Up(ctx, pool) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Up: %v", err)
		}
	}
	pool := openPool(t, dbURL)
	if err := migrations.Up(ctx, pool); err != nil {
		t.Fatalf("Up on a migrated database: %v", err)
	}

	var applied, maxVersion int64
	err := pool.QueryRow(ctx, "SELECT count(*), max(version_id) FROM "+migrations.VersionTable+" WHERE version_id > 0").
		Scan(&applied, &maxVersion)
	if err != nil {
		t.Fatal(err)
	}
	names, _ := fs.Glob(migrations.FS, "*.sql")
	if applied != int64(len(names)) {
		t.Errorf("applied migrations: got %d, want %d (one per file)", applied, len(names))
	}
	if want := latestVersion(t); maxVersion != want {
		t.Errorf("database version: got %d, want %d", maxVersion, want)
	}
	for _, table := range []string{"events", "checkpoints"} {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
}

func TestEnsureDatabase(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.MissingURL(t)

	// Concurrent starts race to create it; both succeed.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = migrations.EnsureDatabase(ctx, dbURL) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("EnsureDatabase call %d: %v", i, err)
		}
	}
	pool := openPool(t, dbURL)
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("connect to the created database: %v", err)
	}
	if err := migrations.EnsureDatabase(ctx, dbURL); err != nil {
		t.Errorf("EnsureDatabase on an existing database: %v", err)
	}
}

// A URL may carry pgxpool settings such as pool_max_conns; they must not reach
// the server as run-time parameters.
func TestEnsureDatabaseWithPoolSettings(t *testing.T) {
	dbURL := testdb.MissingURL(t)
	sep := "?"
	if strings.Contains(dbURL, "?") {
		sep = "&"
	}
	if err := migrations.EnsureDatabase(context.Background(), dbURL+sep+"pool_max_conns=7"); err != nil {
		t.Fatalf("EnsureDatabase with pool_max_conns: %v", err)
	}
}

func TestEnsureDatabaseWithoutCreateRight(t *testing.T) {
	ctx := context.Background()
	admin := testdb.New(t)
	role := "et_nocreatedb_" + strings.ToLower(rand.Text())
	if _, err := admin.Exec(ctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN NOCREATEDB"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP ROLE "+pgx.Identifier{role}.Sanitize()); err != nil {
			t.Errorf("drop role: %v", err)
		}
	})

	u, err := url.Parse(testdb.MissingURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	err = migrations.EnsureDatabase(ctx, u.String())
	if !errors.Is(err, migrations.ErrCannotCreateDatabase) {
		t.Errorf("got error %v, want ErrCannotCreateDatabase", err)
	}
}

func createVersionTable(t *testing.T, ctx context.Context, dbURL string) {
	t.Helper()
	db := stdlib.OpenDBFromPool(openPool(t, dbURL))
	defer db.Close()
	store, err := database.NewStore(goose.DialectPostgres, migrations.VersionTable)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateVersionTable(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := store.Insert(ctx, db, database.InsertRequest{Version: 0}); err != nil {
		t.Fatal(err)
	}
}

func openPool(t *testing.T, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
