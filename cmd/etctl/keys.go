package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore/keyring"
	"github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/migrations"
)

func init() {
	commands["rotate-data-key"] = command{
		summary: "wrap the keys of personal data under NEW_DATA_KEY instead of DATA_KEY (unset: the data key kept in the database); then restart every program with DATA_KEY set to the new key",
		run:     rotateDataKey,
	}
}

func rotateDataKey(ctx context.Context, getenv func(string) string, stdout io.Writer, _ []string) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if getenv("NEW_DATA_KEY") == "" {
		return errors.New("rotate-data-key: set NEW_DATA_KEY to the base64 of 32 new random bytes (openssl rand -base64 32)")
	}
	newKey, err := config.ParseDataKey(getenv("NEW_DATA_KEY"))
	if err != nil {
		return fmt.Errorf("NEW_DATA_KEY: %w", err)
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool); err != nil {
		return err
	}
	oldKey := cfg.DataKey
	if oldKey == nil {
		if oldKey, _, err = keyring.StoredDataKey(ctx, pool); err != nil {
			return err
		}
	}
	n, err := keyring.Rotate(ctx, pool, oldKey, newKey)
	if err != nil {
		return err
	}
	// The idempotency records' secret derives from the data key: the new
	// one would take a retry for another request.
	if _, err := pool.Exec(ctx, `DELETE FROM idempotency_keys`); err != nil {
		return fmt.Errorf("rotate-data-key: forget the idempotency records: %w", err)
	}
	fmt.Fprintf(stdout, "wrapped %d keys under the new data key; restart every server and worker with DATA_KEY set to it\n", n)
	return nil
}
