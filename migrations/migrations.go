// Package migrations holds the numbered SQL migrations of the database and applies
// them with goose. The same files are applied by the programs at start, by
// `etctl migrate` and by the test database helper.
//
// A migration is a file named NNNNN_description.sql with `-- +goose Up` and
// `-- +goose Down` sections; PL/pgSQL bodies go between `-- +goose StatementBegin`
// and `-- +goose StatementEnd`.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS

// VersionTable is the table in which goose records the applied migrations.
const VersionTable = "goose_db_version"

// migrateLockID is the session advisory lock held while migrating, so that
// several processes starting at once apply each migration exactly once.
const migrateLockID int64 = 0x45545f4d49475254 // "ET_MIGRT"

// Up applies every pending migration to the database of pool. Concurrent callers
// on the same database wait for each other.
func Up(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, FS,
		goose.WithTableName(VersionTable),
		goose.WithSessionLocker(advisoryLocker{}),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: up: %w", err)
	}
	return nil
}

// advisoryLocker blocks on a session advisory lock; goose's own Postgres locker
// polls every five seconds, which would stall every concurrent start.
type advisoryLocker struct{}

func (advisoryLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockID)
	return err
}

func (advisoryLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", migrateLockID)
	return err
}

// ErrCannotCreateDatabase reports that the database is missing and the role may
// not create it.
var ErrCannotCreateDatabase = errors.New("migrations: database is missing and the role may not create it")

// EnsureDatabase creates the database named in databaseURL if it does not exist,
// connecting to the "postgres" maintenance database of the same server.
func EnsureDatabase(ctx context.Context, databaseURL string) error {
	// pgxpool's parser knows the pool_* settings a URL may carry; pgx's would
	// send them to the server as unknown run-time parameters.
	poolCfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return fmt.Errorf("migrations: parse database url: %w", err)
	}
	cfg := poolCfg.ConnConfig
	name := cfg.Database
	if name == "" {
		return errors.New("migrations: database url names no database")
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("migrations: connect to maintenance database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("migrations: look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505"):
		// Another process created it first (duplicate_database, or a unique
		// violation in pg_database when both inserted at once).
		return nil
	case errors.As(err, &pgErr) && pgErr.Code == "42501": // insufficient_privilege
		return fmt.Errorf("%w: database %q, role %q: %s", ErrCannotCreateDatabase, name, cfg.User, pgErr.Message)
	default:
		return fmt.Errorf("migrations: create database %q: %w", name, err)
	}
}
