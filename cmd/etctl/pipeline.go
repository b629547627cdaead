package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/eventstore/keyring"
	"github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/migrations"
	"github.com/acme/employee-tracking/projections"
)

func init() {
	commands["migrate"] = command{
		summary: "create the database if missing and apply pending migrations",
		run: func(ctx context.Context, getenv func(string) string, stdout io.Writer, _ []string) error {
			pool, _, _, err := openStore(ctx, getenv)
			if err != nil {
				return err
			}
			pool.Close()
			fmt.Fprintln(stdout, "migrations applied")
			return nil
		},
	}
	commands["rebuild"] = command{
		summary: "rebuild read models from the event store and swap them in: [" + strings.Join(projections.ReadModelNames(), "|") + "]... (default all)",
		run: func(ctx context.Context, getenv func(string) string, stdout io.Writer, args []string) error {
			pool, store, _, err := openStore(ctx, getenv)
			if err != nil {
				return err
			}
			defer pool.Close()
			if err := projections.Rebuild(ctx, pool, store, args, os.Stderr); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "rebuilt and swapped in")
			return nil
		},
	}
	commands["verify"] = command{
		summary: "rebuild read models into a scratch schema and print every row that differs from the live ones (exit 1 if any)",
		run: func(ctx context.Context, getenv func(string) string, stdout io.Writer, args []string) error {
			pool, store, _, err := openStore(ctx, getenv)
			if err != nil {
				return err
			}
			defer pool.Close()
			n, err := projections.Verify(ctx, pool, store, args, stdout, os.Stderr)
			if err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("verify: %d rows differ from a rebuild", n)
			}
			fmt.Fprintln(stdout, "read models match a rebuild from the event store")
			return nil
		},
	}
}

// openStore connects to DATABASE_URL, creating and migrating the database as
// needed, and returns the event store on it and the keys of its personal data.
func openStore(ctx context.Context, getenv func(string) string) (*pgxpool.Pool, *eventstore.Store, *keyring.Keyring, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := migrations.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return nil, nil, nil, err
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := migrations.Up(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	codec, keys, _, err := eventcodec.Open(ctx, pool, cfg.DataKey)
	if err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	return pool, eventstore.New(pool, codec), keys, nil
}
