package projections

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// buildNewReadModels builds, from the store, each read model that an upgrade
// added to a store with history: one that has applied nothing (no versions,
// no checkpoint) while the store holds events of its category. Its live
// projector would otherwise place only what streams receive from now on.
// It runs before the consumers subscribe, and folds the store once for all
// such models.
//
// Instances starting at once take turns on a lock of each model's, taken in
// the same order everywhere: the first builds, the others then find the
// models built. The swap that puts the built tables in place also sets
// their checkpoints to where the fold read, so the relay never rewinds them
// to the start of the feed and the monitor sees them as far as they are.
func (p *Pipeline) buildNewReadModels(ctx context.Context) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("projections: build new read models: %w", err)
	}
	defer conn.Release()
	var fresh []string
	for _, c := range p.consumers {
		m, ok := c.(*liveModel)
		if !ok {
			continue
		}
		key := lockKey("build", m.Name)
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
			return fmt.Errorf("projections: build new read models: %w", err)
		}
		// A session lock the unlock fails to release goes with the session.
		defer func() {
			if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
				conn.Conn().Close(context.WithoutCancel(ctx))
			}
		}()
		var isNew bool
		if err := conn.QueryRow(ctx, newReadModelSQL, m.Name, m.Category).Scan(&isNew); err != nil {
			return fmt.Errorf("projections: build new read models: %w", err)
		}
		if isNew {
			fresh = append(fresh, m.Name)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	start := time.Now()
	r, err := rebuild(ctx, p.pool, p.store, fresh, nil, func(ctx context.Context, tx pgx.Tx, r *rebuilt) error {
		b := &pgx.Batch{}
		for _, name := range fresh {
			for part := range p.bus.Partitions() {
				b.Queue(saveCheckpointSQL, name, part, r.end.TxID, r.end.Position)
			}
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("projections: build the new read models %s: %w", strings.Join(fresh, ", "), err)
	}
	for _, name := range fresh {
		p.logger.Info("projections: built a read model new to this store from its events",
			"read_model", name, "events", r.folded[name], "to", r.end.String(), "took", time.Since(start).Round(time.Millisecond).String())
	}
	return nil
}

// newReadModelSQL tells whether read model $1, of stream category $2, has
// applied nothing while the store holds events of $2: stream ids from
// "$2-" to "$2." ('.' follows '-'), a range of the index of the C-collated
// stream ids, whatever plan the statement gets.
const newReadModelSQL = `SELECT NOT EXISTS (SELECT 1 FROM projection_versions WHERE projection = $1)
	AND NOT EXISTS (SELECT 1 FROM projection_checkpoints WHERE projection = $1)
	AND EXISTS (SELECT 1 FROM events WHERE stream_id > $2 || '-' AND stream_id < $2 || '.')`
