package projections

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/projections/readmodel"
)

// buildNewReadModels builds, from the store, each read model that an upgrade
// added to a store with history: one that has applied nothing (no versions,
// no checkpoint) while the store holds events of its category. Its live
// projector would otherwise place only what streams receive from now on.
// It runs before the consumers subscribe.
func (p *Pipeline) buildNewReadModels(ctx context.Context) error {
	for _, c := range p.consumers {
		if m, ok := c.(*liveModel); ok {
			if err := p.buildIfNew(ctx, m.Model); err != nil {
				return fmt.Errorf("projections: build the new read model %s: %w", m.Name, err)
			}
		}
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

// buildIfNew rebuilds m if it is new to the store. Instances starting at
// once take turns on a lock of m's: the first builds it, the others then
// find it built. The swap that puts the built tables in place also sets
// m's checkpoints to where the fold read, so the relay never rewinds m to
// the start of the feed and the monitor sees m as far as it is.
func (p *Pipeline) buildIfNew(ctx context.Context, m *readmodel.Model) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	key := lockKey("build", m.Name)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return err
	}
	// A session lock the unlock fails to release goes with the session.
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	var isNew bool
	if err := conn.QueryRow(ctx, newReadModelSQL, m.Name, m.Category).Scan(&isNew); err != nil || !isNew {
		return err
	}
	start := time.Now()
	r, err := rebuild(ctx, p.pool, p.store, []string{m.Name}, nil, func(ctx context.Context, tx pgx.Tx, r *rebuilt) error {
		b := &pgx.Batch{}
		for part := range p.bus.Partitions() {
			b.Queue(saveCheckpointSQL, m.Name, part, r.end.TxID, r.end.Position)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return err
	}
	p.logger.Info("projections: built a read model new to this store from its events",
		"read_model", m.Name, "events", r.folded[m.Name], "to", r.end.String(), "took", time.Since(start).Round(time.Millisecond).String())
	return nil
}
