// Package testdb gives each test its own fresh, fully migrated Postgres database.
//
// The migrations are applied once per migration set to a template database
// (et_tmpl_<hash of the migration files>); each test then gets a copy made with
// CREATE DATABASE ... TEMPLATE, which takes milliseconds, and drops it at cleanup.
// `go test` runs packages in parallel processes, so the template is built under
// an advisory lock. Postgres being unreachable fails the test: a skipped
// integration test tests nothing.
//
// TEST_DATABASE_URL (a postgres:// URL) selects the server; the role needs the
// CREATEDB right.
package testdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/internal/testenv"
	"github.com/acme/employee-tracking/migrations"
)

// DefaultURL is the server used when TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

const (
	testPrefix = "et_test_"
	tmplPrefix = "et_tmpl_"
	// staleAfter is the age past which a test database is taken for the
	// leftover of a crashed run.
	staleAfter = time.Hour
	// templateLockID serializes template builds across test processes.
	templateLockID int64 = 0x45545f544d504c54 // "ET_TMPLT"
)

// server is the per-process connection to the maintenance database and the
// template built for this migration set.
var server struct {
	mu       sync.Mutex
	admin    *pgxpool.Pool
	base     *url.URL
	template string
}

// New returns a pool on a fresh, migrated database that is dropped when the
// test ends.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dbURL := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatalf("testdb: open pool: %v", err)
	}
	// Cleanups run last in, first out: the pool closes before the drop.
	t.Cleanup(pool.Close)
	return pool
}

// URL creates a fresh, migrated database, registers its drop at cleanup, and
// returns its URL, for tests that start a whole program with a DATABASE_URL.
func URL(t testing.TB) string {
	t.Helper()
	admin, base, tmpl, err := prepare()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	name := newName()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(tmpl)); err != nil {
		t.Fatalf("testdb: create database %s: %v", name, err)
	}
	t.Cleanup(func() { drop(t, admin, name) })
	u := *base
	u.Path = "/" + name
	return u.String()
}

// MissingURL returns the URL of a database that does not exist yet on the test
// server, and drops it at cleanup if something created it: for tests of
// database creation and migration.
func MissingURL(t testing.TB) string {
	t.Helper()
	admin, base, _, err := prepare()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	name := newName()
	t.Cleanup(func() { drop(t, admin, name) })
	u := *base
	u.Path = "/" + name
	return u.String()
}

func drop(t testing.TB, admin *pgxpool.Pool, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		t.Errorf("testdb: drop database %s: %v", name, err)
	}
}

// prepare connects to the server and builds the template once per process.
func prepare() (*pgxpool.Pool, *url.URL, string, error) {
	server.mu.Lock()
	defer server.mu.Unlock()
	if server.template != "" {
		return server.admin, server.base, server.template, nil
	}
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" {
		raw = DefaultURL
	}
	base, err := url.Parse(raw)
	if err != nil || (base.Scheme != "postgres" && base.Scheme != "postgresql") {
		return nil, nil, "", fmt.Errorf("TEST_DATABASE_URL must be a postgres:// URL, got %q", raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if server.admin == nil {
		admin, err := pgxpool.New(ctx, raw)
		if err != nil {
			return nil, nil, "", fmt.Errorf("parse TEST_DATABASE_URL: %w", err)
		}
		pingCtx, cancelPing := context.WithTimeout(ctx, 10*time.Second)
		err = admin.Ping(pingCtx)
		cancelPing()
		if err != nil {
			admin.Close()
			return nil, nil, "", fmt.Errorf("testdb: postgres is unreachable at %s (set TEST_DATABASE_URL to use another server): %w", base.Redacted(), err)
		}
		server.admin = admin
	}
	tmpl, err := migrationSetName()
	if err != nil {
		return nil, nil, "", err
	}
	if err := buildTemplate(ctx, server.admin, base, tmpl); err != nil {
		return nil, nil, "", err
	}
	server.base, server.template = base, tmpl
	return server.admin, base, tmpl, nil
}

// migrationSetName names the template after a hash of the migration files, so
// a changed or added migration gets a new template.
func migrationSetName() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	return tmplPrefix + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// buildTemplate creates and migrates the template unless another process did,
// and drops test databases left behind by crashed runs.
func buildTemplate(ctx context.Context, admin *pgxpool.Pool, base *url.URL, tmpl string) (err error) {
	conn, err := admin.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockID); err != nil {
		return fmt.Errorf("lock template: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", templateLockID); uerr != nil && err == nil {
			err = fmt.Errorf("unlock template: %w", uerr)
		}
	}()

	if err := dropStale(ctx, conn.Conn()); err != nil {
		return err
	}
	var ready bool
	err = conn.QueryRow(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", tmpl).Scan(&ready)
	switch {
	case errors.Is(err, pgx.ErrNoRows): // not built yet
	case err != nil:
		return fmt.Errorf("look up template: %w", err)
	case ready:
		return nil
	default:
		// Marked a template only once migrated: this one is from a crashed build.
		if _, err := conn.Exec(ctx, "DROP DATABASE "+ident(tmpl)+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop unfinished template: %w", err)
		}
	}

	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(tmpl)); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	u := *base
	u.Path = "/" + tmpl
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		return fmt.Errorf("open template: %w", err)
	}
	err = migrations.Up(ctx, pool)
	pool.Close()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	// No connections may remain open to a template being copied.
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(tmpl)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("mark template: %w", err)
	}
	return nil
}

// dropStale drops test databases older than staleAfter; their names carry
// their creation time.
func dropStale(ctx context.Context, conn *pgx.Conn) error {
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", testPrefix)
	if err != nil {
		return fmt.Errorf("list test databases: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list test databases: %w", err)
	}
	cutoff := time.Now().Add(-staleAfter).Unix()
	for _, name := range names {
		created, _, _ := strings.Cut(strings.TrimPrefix(name, testPrefix), "_")
		sec, err := strconv.ParseInt(created, 10, 64)
		if err != nil || sec >= cutoff {
			continue
		}
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop stale test database %s: %w", name, err)
		}
	}
	return nil
}

// newName names a test database after its creation time, so that dropStale
// can tell its age.
func newName() string {
	return testPrefix + strconv.FormatInt(time.Now().Unix(), 10) + "_" + testenv.RandomHex(6)
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
