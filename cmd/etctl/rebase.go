package main

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

func init() {
	commands["rebase-xids"] = command{
		summary: "after a logical restore (pg_dump) into another cluster: move the feed's transaction ids below the new cluster's (stop every server and worker first)",
		run: func(ctx context.Context, getenv func(string) string, stdout io.Writer, _ []string) error {
			pool, _, _, err := openStore(ctx, getenv)
			if err != nil {
				return err
			}
			defer pool.Close()
			r, err := rebaseXIDs(ctx, pool)
			if err != nil {
				return err
			}
			if r.events == 0 {
				fmt.Fprintln(stdout, "transaction ids are below the cluster's: nothing to rebase")
				return nil
			}
			fmt.Fprintf(stdout, "rebased %d events and %d checkpoints; now run `etctl rebuild` and `etctl verify`\n", r.events, r.checkpoints)
			return nil
		},
	}
}

// frozenXID is the transaction id every rebased event gets: older than any
// transaction a cluster assigns, so the feed's fence lets it through and every
// new event sorts after it. Events sharing it are read in position order,
// which within a stream is version order (appends to a stream hold its lock).
const frozenXID = "2"

type rebased struct{ events, checkpoints int64 }

// rebaseXIDs fixes a database restored from a logical dump into another
// cluster. events.tx_id keeps the old cluster's transaction ids, which can be
// above the new cluster's counter: the feed's fence (tx_id below the oldest
// running transaction) then hides the restored events, and new events get
// lower ids than the checkpoints, so the relay never reads them. It gives
// every event frozenXID and moves each checkpoint to the highest position
// before which it had handled everything (a conservative cursor: the rest is
// read again, which consumers skip as duplicates). It does nothing when the
// newest event's id is below the cluster's snapshot, as after a physical
// backup or in the cluster that wrote the events.
func rebaseXIDs(ctx context.Context, pool *pgxpool.Pool) (rebased, error) {
	var r rebased
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Appends and consumers wait until this commits.
		if _, err := tx.Exec(ctx, `LOCK TABLE events, checkpoints, projection_checkpoints IN ACCESS EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("rebase-xids: lock: %w", err)
		}
		var ahead bool
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(tx_id) >= pg_snapshot_xmin(pg_current_snapshot()), false) FROM events`).Scan(&ahead); err != nil {
			return fmt.Errorf("rebase-xids: compare transaction ids: %w", err)
		}
		if !ahead {
			return nil
		}
		for _, table := range []string{"checkpoints", "projection_checkpoints"} {
			tag, err := tx.Exec(ctx, `UPDATE `+table+` c SET tx_id = '`+frozenXID+`', position = coalesce(
				(SELECT min(e.position) FROM events e WHERE (e.tx_id, e.position) > (c.tx_id, c.position)) - 1,
				(SELECT coalesce(max(position), 0) FROM events)), updated_at = now()`)
			if err != nil {
				return fmt.Errorf("rebase-xids: %s: %w", table, err)
			}
			r.checkpoints += tag.RowsAffected()
		}
		// The events table refuses updates; this one rewrites no fact, only
		// the order key that belongs to the cluster.
		for _, sql := range []string{
			`ALTER TABLE events DISABLE TRIGGER events_refuse_update_delete`,
			`UPDATE events SET tx_id = '` + frozenXID + `' WHERE tx_id <> '` + frozenXID + `'`,
			`ALTER TABLE events ENABLE TRIGGER events_refuse_update_delete`,
		} {
			tag, err := tx.Exec(ctx, sql)
			if err != nil {
				return fmt.Errorf("rebase-xids: %w", err)
			}
			if tag.Update() {
				r.events = tag.RowsAffected()
			}
		}
		return nil
	})
	return r, err
}
