package projections

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/schollz/progressbar/v3"

	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// ErrUnknownProjection is returned by Rebuild and Verify for a name that is
// not a read model.
var ErrUnknownProjection = errors.New("projections: unknown projection")

const rebuildBatch = 5000

// Rebuild folds the whole event store, read directly and never from the bus,
// into fresh tables for the named read models (all of them when names is
// empty), then swaps them in for the live ones in one transaction and records
// the versions they hold, so the live projectors continue from there.
//
// The live projectors of those read models keep running meanwhile. At the
// swap the rebuild takes their locks, which waits for the events they are
// applying and holds back the next ones, and first applies to the fresh
// tables whatever the live ones got after the fold had read the feed.
// progress receives a progress bar (events/s, ETA); nil discards it.
func Rebuild(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, names []string, progress io.Writer) error {
	_, err := rebuild(ctx, pool, store, names, progress, nil)
	return err
}

// rebuild is Rebuild; swapped, when set, runs last in the transaction of the
// swap, with what the fold read. It returns the fold.
func rebuild(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, names []string, progress io.Writer,
	swapped func(ctx context.Context, tx pgx.Tx, r *rebuilt) error) (*rebuilt, error) {
	r, err := fold(ctx, pool, store, names, progress)
	if err != nil {
		return nil, err
	}
	defer r.drop(context.WithoutCancel(ctx))
	return r, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := r.catchUp(ctx, tx, store); err != nil {
			return err
		}
		if err := r.lockLiveTables(ctx, tx); err != nil {
			return err
		}
		for _, m := range r.models {
			for _, t := range m.Tables {
				if _, err := tx.Exec(ctx, `DROP TABLE public.`+t.TableName()); err != nil {
					return fmt.Errorf("projections: rebuild: swap %s: %w", t.TableName(), err)
				}
				if _, err := tx.Exec(ctx, `ALTER TABLE `+r.schema+`.`+t.TableName()+` SET SCHEMA public`); err != nil {
					return fmt.Errorf("projections: rebuild: swap %s: %w", t.TableName(), err)
				}
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM public.projection_versions WHERE projection = ANY($1)`, namesOf(r.models)); err != nil {
			return fmt.Errorf("projections: rebuild: versions: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO public.projection_versions SELECT * FROM `+r.schema+`.projection_versions`); err != nil {
			return fmt.Errorf("projections: rebuild: versions: %w", err)
		}
		if swapped != nil {
			return swapped(ctx, tx, r)
		}
		return nil
	})
}

// Verify rebuilds the named read models (all when names is empty) into a
// scratch schema and writes to out every row that differs from the live
// tables. It returns the number of differences.
//
// It first waits (up to a minute) for the live projectors to reach what the
// rebuild read, then compares while holding their locks, so that a live
// projector that is merely behind is not reported.
func Verify(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, names []string, out, progress io.Writer) (int, error) {
	r, err := fold(ctx, pool, store, names, progress)
	if err != nil {
		return 0, err
	}
	defer r.drop(context.WithoutCancel(ctx))
	if err := r.waitForLive(ctx, pool, time.Minute); err != nil {
		return 0, err
	}
	diffs := 0
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := r.catchUp(ctx, tx, store); err != nil {
			return err
		}
		for _, m := range r.models {
			for _, t := range m.Tables {
				n, err := r.compare(ctx, tx, t, out)
				if err != nil {
					return err
				}
				diffs += n
			}
		}
		// Nothing of the comparison is kept.
		return errVerified
	})
	if !errors.Is(err, errVerified) {
		return diffs, err
	}
	return diffs, nil
}

var errVerified = errors.New("verified")

// rebuilt is the outcome of a fold: fresh tables in a scratch schema.
type rebuilt struct {
	schema string
	models []*readmodel.Model
	// end is the feed cursor the fold read to, and folded the number of
	// events of its category each model folded.
	end    eventstore.Cursor
	folded map[string]int
	pool   *pgxpool.Pool
	// progress receives the progress bar and the events that could not be
	// applied.
	progress io.Writer
}

func selectModels(names []string) ([]*readmodel.Model, error) {
	all := readmodel.All()
	if len(names) == 0 {
		return all, nil
	}
	var out []*readmodel.Model
	for _, m := range all {
		if slices.Contains(names, m.Name) {
			out = append(out, m)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(out, func(m *readmodel.Model) bool { return m.Name == n }) {
			return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownProjection, n, strings.Join(ReadModelNames(), ", "))
		}
	}
	return out, nil
}

// fold reads the whole feed into memory tables of the selected read models
// and copies them into a new scratch schema, with the versions they hold.
func fold(ctx context.Context, pool *pgxpool.Pool, store *eventstore.Store, names []string, progress io.Writer) (*rebuilt, error) {
	models, err := selectModels(names)
	if err != nil {
		return nil, err
	}
	if progress == nil {
		progress = io.Discard
	}
	var total int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&total); err != nil {
		return nil, fmt.Errorf("projections: rebuild: count events: %w", err)
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(progress),
		progressbar.OptionSetDescription("rebuild "+strings.Join(namesOf(models), ",")),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }),
		// The bar's clock starts at its first render: now, not after the
		// first batch, or a store read in one batch shows a rate of
		// millions of events a second.
		progressbar.OptionSetRenderBlankState(true),
	)

	type folding struct {
		m        *readmodel.Model
		apply    readmodel.Apply
		tables   []readmodel.MemTable
		versions map[string]int64
	}
	fs := make([]*folding, len(models))
	for i, m := range models {
		apply, tables := m.Memory()
		fs[i] = &folding{m: m, apply: apply, tables: tables, versions: map[string]int64{}}
	}
	var skipped int
	folded := map[string]int{}
	var cursor eventstore.Cursor
	for {
		events, next, err := store.ReadFeed(ctx, cursor, rebuildBatch)
		if err != nil {
			return nil, fmt.Errorf("projections: rebuild: %w", err)
		}
		if len(events) == 0 {
			break
		}
		for _, e := range events {
			for _, f := range fs {
				if category, _, ok := streamid.Split(e.StreamID); !ok || category != f.m.Category {
					continue
				}
				folded[f.m.Name]++
				if err := f.apply(ctx, e); err != nil {
					// The live projector parks such an event; so does the fold.
					fmt.Fprintf(progress, "\nskipped %s %s v%d in %s: %v\n", e.Type, e.StreamID, e.Version, f.m.Name, err)
					skipped++
				}
				f.versions[e.StreamID] = e.Version
			}
		}
		_ = bar.Add(len(events))
		cursor = next
	}
	_ = bar.Finish()

	schema := "rebuild_" + randomHex(6)
	r := &rebuilt{schema: schema, models: models, end: cursor, folded: folded, pool: pool, progress: progress}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE `+schema+`.projection_versions (LIKE public.projection_versions INCLUDING ALL)`); err != nil {
			return err
		}
		for _, f := range fs {
			for _, t := range f.tables {
				if _, err := tx.Exec(ctx, `CREATE TABLE `+schema+`.`+t.TableName()+` (LIKE public.`+t.TableName()+` INCLUDING ALL)`); err != nil {
					return err
				}
				if _, err := t.CopyTo(ctx, tx, schema); err != nil {
					return err
				}
			}
			versions := make([][]any, 0, len(f.versions))
			for stream, v := range f.versions {
				versions = append(versions, []any{f.m.Name, stream, v})
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{schema, "projection_versions"}, []string{"projection", "stream_id", "version"},
				pgx.CopyFromRows(versions)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.drop(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("projections: rebuild: write tables: %w", err)
	}
	if skipped > 0 {
		fmt.Fprintf(progress, "%d events could not be applied (see above)\n", skipped)
	}
	return r, nil
}

// lockNotAvailable is the SQLSTATE of a lock taken with NOWAIT that another
// transaction holds.
const lockNotAvailable = "55P03"

// lockLiveTables takes the live tables of the rebuilt read models, all at
// once or none: a swap that dropped one table and then waited for another,
// which a query reading both holds while it waits for the first, would be a
// deadlock that Postgres ends by failing one of them (the query, as often as
// not). While a query holds one, the locks are let go and taken again a moment
// later; the queries are short.
func (r *rebuilt) lockLiveTables(ctx context.Context, tx pgx.Tx) error {
	var tables []string
	for _, m := range r.models {
		for _, t := range m.Tables {
			tables = append(tables, "public."+t.TableName())
		}
	}
	lock := `LOCK TABLE ` + strings.Join(tables, ", ") + ` IN ACCESS EXCLUSIVE MODE NOWAIT`
	wait := time.Millisecond
	for {
		if _, err := tx.Exec(ctx, `SAVEPOINT live_tables`); err != nil {
			return fmt.Errorf("projections: rebuild: lock the live tables: %w", err)
		}
		_, err := tx.Exec(ctx, lock)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != lockNotAvailable {
			if err != nil {
				return fmt.Errorf("projections: rebuild: lock the live tables: %w", err)
			}
			return nil
		}
		if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT live_tables`); err != nil {
			return fmt.Errorf("projections: rebuild: lock the live tables: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// catchUp locks the live projectors of the rebuilt read models out and
// applies to the fresh tables every event the live tables hold beyond what
// the fold read. It leaves tx with the scratch schema first in its search
// path.
func (r *rebuilt) catchUp(ctx context.Context, tx pgx.Tx, store *eventstore.Store) error {
	models := slices.Clone(r.models)
	slices.SortFunc(models, func(a, b *readmodel.Model) int { return strings.Compare(a.Name, b.Name) })
	for _, m := range models {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, projectionLockKey(m.Name)); err != nil {
			return fmt.Errorf("projections: rebuild: lock %s: %w", m.Name, err)
		}
	}
	if _, err := tx.Exec(ctx, `SET LOCAL search_path = `+r.schema+`, public`); err != nil {
		return err
	}
	for _, m := range r.models {
		rows, err := tx.Query(ctx, `SELECT l.stream_id, coalesce(s.version, 0), l.version
			FROM public.projection_versions l LEFT JOIN projection_versions s USING (projection, stream_id)
			WHERE l.projection = $1 AND l.version > coalesce(s.version, 0)`, m.Name)
		if err != nil {
			return fmt.Errorf("projections: rebuild: catch up %s: %w", m.Name, err)
		}
		type behind struct {
			stream     string
			from, upTo int64
		}
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (behind, error) {
			var b behind
			err := row.Scan(&b.stream, &b.from, &b.upTo)
			return b, err
		})
		if err != nil {
			return fmt.Errorf("projections: rebuild: catch up %s: %w", m.Name, err)
		}
		apply := m.Live(tx)
		for _, b := range list {
			events, err := store.LoadFrom(ctx, b.stream, b.from)
			if err != nil {
				return err
			}
			for _, e := range events {
				if e.Version > b.upTo {
					break
				}
				applied, err := r.applyOrPark(ctx, tx, m, apply, e)
				if err != nil {
					return fmt.Errorf("projections: rebuild: catch up %s with %s v%d: %w", m.Name, e.StreamID, e.Version, err)
				}
				if !applied {
					// The rows remember what the undone apply wrote.
					apply = m.Live(tx)
				}
			}
			if err := saveVersion(ctx, tx, m.Name, b.stream, b.upTo); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyOrPark applies e to m's fresh tables in a savepoint. An event that
// can never be applied is undone, reported and parked, as the live projector
// does, and the catch-up goes on; any other failure is returned. It reports
// whether e was applied.
func (r *rebuilt) applyOrPark(ctx context.Context, tx pgx.Tx, m *readmodel.Model, apply readmodel.Apply, e eventstore.Event) (bool, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false, err
	}
	cause := apply(ctx, e)
	if cause == nil {
		return true, sp.Commit(ctx)
	}
	if err := sp.Rollback(ctx); err != nil {
		return false, err
	}
	if !isPermanent(cause) {
		return false, cause
	}
	fmt.Fprintf(r.progress, "parked %s %s v%d in %s: %v\n", e.Type, e.StreamID, e.Version, m.Name, cause)
	payload, err := bus.EventPayload(e)
	if err != nil {
		return false, err
	}
	return false, parkIn(ctx, tx, m.Name, e.ID.String(), payload, &e, cause)
}

// waitForLive waits until the live projectors have handled every stream up to
// the versions the fold read.
func (r *rebuilt) waitForLive(ctx context.Context, pool *pgxpool.Pool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var behind int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM `+r.schema+`.projection_versions s
			LEFT JOIN public.projection_versions l USING (projection, stream_id)
			WHERE coalesce(l.version, 0) < s.version`).Scan(&behind)
		if err != nil {
			return fmt.Errorf("projections: verify: %w", err)
		}
		if behind == 0 || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// compare writes the rows of t that differ between the live table and the
// rebuilt one, matched by key.
func (r *rebuilt) compare(ctx context.Context, tx pgx.Tx, t readmodel.Table, out io.Writer) (int, error) {
	var on, key []string
	for _, k := range t.KeyColumns() {
		on = append(on, "l."+k+" = s."+k)
		key = append(key, "'"+k+"', coalesce(l."+k+", s."+k+")")
	}
	rows, err := tx.Query(ctx, `SELECT jsonb_build_object(`+strings.Join(key, ", ")+`)::text,
			CASE WHEN l.`+t.KeyColumns()[0]+` IS NULL THEN 'missing' ELSE to_jsonb(l)::text END,
			CASE WHEN s.`+t.KeyColumns()[0]+` IS NULL THEN 'missing' ELSE to_jsonb(s)::text END
		FROM public.`+t.TableName()+` l FULL JOIN `+r.schema+`.`+t.TableName()+` s ON `+strings.Join(on, " AND ")+`
		WHERE l.`+t.KeyColumns()[0]+` IS NULL OR s.`+t.KeyColumns()[0]+` IS NULL OR to_jsonb(l) <> to_jsonb(s)
		ORDER BY 1`)
	if err != nil {
		return 0, fmt.Errorf("projections: verify %s: %w", t.TableName(), err)
	}
	n := 0
	for rows.Next() {
		var k, live, want string
		if err := rows.Scan(&k, &live, &want); err != nil {
			rows.Close()
			return n, fmt.Errorf("projections: verify %s: %w", t.TableName(), err)
		}
		fmt.Fprintf(out, "%s %s\n  live:    %s\n  rebuilt: %s\n", t.TableName(), k, live, want)
		n++
	}
	return n, rows.Err()
}

func (r *rebuilt) drop(ctx context.Context) {
	_, _ = r.pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+r.schema+` CASCADE`)
}

// ReadModelNames lists the projections that rebuild and verify know.
func ReadModelNames() []string { return namesOf(readmodel.All()) }

func namesOf(models []*readmodel.Model) []string {
	out := make([]string, len(models))
	for i, m := range models {
		out[i] = m.Name
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
