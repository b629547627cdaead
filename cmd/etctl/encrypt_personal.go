package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/eventstore/seal"
)

func init() {
	commands["encrypt-personal"] = command{
		summary: "once, after upgrading a store written before personal data was sealed: seal the personal fields of its events (stop every server and worker first; resumable; -export-seals-to pack.json when seals exist; docs/audit.md)",
		run:     encryptPersonalCommand,
	}
}

// defaultRewriteBatch is how many events one transaction of the migration
// rewrites: a kill loses at most one batch's work, which the next run redoes.
const defaultRewriteBatch = 500

func encryptPersonalCommand(ctx context.Context, getenv func(string) string, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("encrypt-personal", flag.ContinueOnError)
	fs.SetOutput(stdout)
	pack := fs.String("export-seals-to", "", "when seals exist: write the whole chain to this pack first, then start the chain anew")
	batch := fs.Int("batch", defaultRewriteBatch, "events rewritten per transaction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *batch < 1 {
		return errors.New("encrypt-personal: -batch must be at least 1")
	}
	pool, store, _, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()
	m := personalMigration{pool: pool, codec: store.Codec(), batch: *batch, out: stdout}
	return m.run(ctx, *pack)
}

// personalMigration seals the personal fields of events stored in the clear,
// the one rewrite of stored history (docs/audit.md, "Seals and the encryption
// migration"). It rewrites a batch per transaction, in position order, and
// skips what is already sealed, so a run killed midway is finished by the next.
type personalMigration struct {
	pool  *pgxpool.Pool
	codec *eventstore.Codec
	batch int
	out   io.Writer
	// afterBatch, when set, runs after each committed batch (the tests kill
	// the run there).
	afterBatch func(rewritten int)
}

func (m personalMigration) run(ctx context.Context, pack string) error {
	plain, err := m.anyPlain(ctx)
	if err != nil {
		return err
	}
	if !plain {
		fmt.Fprintln(m.out, "no event holds personal fields in the clear: nothing to seal")
		return nil
	}
	if err := m.restartChain(ctx, pack); err != nil {
		return err
	}
	total, after := 0, int64(0)
	for {
		n, last, err := m.rewriteBatch(ctx, after, true)
		if err != nil {
			return err
		}
		if last == after {
			break
		}
		total, after = total+n, last
		if m.afterBatch != nil {
			m.afterBatch(total)
		}
	}
	// Idempotency records written before kept responses in the clear;
	// a retry of one of them runs again.
	if _, err := m.pool.Exec(ctx, `DELETE FROM idempotency_keys`); err != nil {
		return fmt.Errorf("encrypt-personal: forget the idempotency records: %w", err)
	}
	fmt.Fprintf(m.out, "sealed the personal fields of %d events; now flush this system's Redis keys (or change REDIS_PREFIX) and run `etctl rebuild`\n", total)
	return nil
}

// anyPlain says whether an event holds personal fields in the clear: only
// then do the seals stand in the way.
func (m personalMigration) anyPlain(ctx context.Context) (bool, error) {
	for after := int64(0); ; {
		n, last, err := m.rewriteBatch(ctx, after, false)
		if err != nil || n > 0 || last == after {
			return n > 0, err
		}
		after = last
	}
}

// restartChain handles the seals a rewrite would break. Without seals there
// is nothing to do. With seals, and a pack to write, it checks the chain
// against the store (a rewrite must not launder a change made behind the
// store's back), writes the whole chain to the pack, where an auditor keeps
// checking the history as it was up to now with no database, and deletes the
// seals, so that the sealer seals the rewritten store as a new chain.
func (m personalMigration) restartChain(ctx context.Context, pack string) error {
	var seals int64
	if err := m.pool.QueryRow(ctx, `SELECT count(*) FROM seals`).Scan(&seals); err != nil {
		return fmt.Errorf("encrypt-personal: %w", err)
	}
	if seals == 0 {
		return nil
	}
	if pack == "" {
		return fmt.Errorf("encrypt-personal: %d seals cover events this rewrite changes, and would report each as changed: "+
			"rerun with -export-seals-to pack.json to keep the chain as a pack and start it anew (docs/audit.md)", seals)
	}
	r, err := seal.New(m.pool).Verify(ctx, 1, 0)
	if err != nil {
		return fmt.Errorf("encrypt-personal: verify the chain: %w", err)
	}
	if r.Failure != nil {
		return fmt.Errorf("encrypt-personal: the chain does not verify, nothing rewritten: %w", r.Failure)
	}
	if err := writePack(ctx, m.pool, m.out, 1, 0, pack); err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		for _, sql := range []string{
			`LOCK TABLE seals IN ACCESS EXCLUSIVE MODE`,
			`ALTER TABLE seals DISABLE TRIGGER seals_refuse_update_delete`,
			`DELETE FROM seals`,
			`ALTER TABLE seals ENABLE TRIGGER seals_refuse_update_delete`,
		} {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("encrypt-personal: start the chain anew: %w", err)
	}
	fmt.Fprintf(m.out, "the %d seals verified and are kept in %s; the sealer starts a new chain over the rewritten store\n", seals, pack)
	return nil
}

// withSubject gives a notification stored before notifications named their
// subject the subject it would have named (notification.SubjectOf), under
// whose key its message and data are then sealed.
func withSubject(typ string, data []byte) ([]byte, error) {
	var n notification.Raised
	if typ != n.EventName() {
		return data, nil
	}
	if err := json.Unmarshal(data, &n); err != nil {
		return nil, err
	}
	if n.SubjectID != "" {
		return data, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	fields["subject_id"], _ = json.Marshal(notification.SubjectOf(n.RecipientID, n.Data))
	return json.Marshal(fields)
}

// rewriteBatch seals the events with personal fields after position after,
// up to a batch of them, in one transaction; it returns how many it rewrote
// (would rewrite, unless write) and the last position it looked at (after
// itself when none is left).
func (m personalMigration) rewriteBatch(ctx context.Context, after int64, write bool) (rewritten int, last int64, err error) {
	last = after
	err = pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT position, type, data::text FROM events
			WHERE position > $1 AND type = ANY($2) ORDER BY position LIMIT $3`, after, m.codec.PersonalEvents(), m.batch)
		if err != nil {
			return err
		}
		type row struct {
			position   int64
			typ, data  string
			sealedData []byte
		}
		var changed []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.position, &r.typ, &r.data); err != nil {
				return err
			}
			last = r.position
			data, err := withSubject(r.typ, []byte(r.data))
			if err != nil {
				return fmt.Errorf("event %d: %w", r.position, err)
			}
			if r.sealedData, err = m.codec.SealStored(r.typ, data); err != nil {
				return fmt.Errorf("event %d: %w", r.position, err)
			}
			if string(r.sealedData) != r.data {
				changed = append(changed, r)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if rewritten = len(changed); rewritten == 0 || !write {
			return nil
		}
		// The events table refuses updates; this is the one sanctioned
		// rewrite of their data, for this transaction only.
		if _, err := tx.Exec(ctx, `ALTER TABLE events DISABLE TRIGGER events_refuse_update_delete`); err != nil {
			return err
		}
		for _, r := range changed {
			if _, err := tx.Exec(ctx, `UPDATE events SET data = $2 WHERE position = $1`, r.position, r.sealedData); err != nil {
				return fmt.Errorf("event %d: %w", r.position, err)
			}
		}
		_, err = tx.Exec(ctx, `ALTER TABLE events ENABLE TRIGGER events_refuse_update_delete`)
		return err
	})
	if err != nil {
		return 0, after, fmt.Errorf("encrypt-personal: %w", err)
	}
	return rewritten, last, nil
}
