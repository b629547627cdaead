package seal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/audit"
	"github.com/acme/employee-tracking/internal/leader"
)

// sealerLockID is the session advisory lock held by the one active sealer.
const sealerLockID int64 = 0x45545f5345414c53 // "ET_SEALS"

// MaxEvents bounds the events of one seal, so that a backlog is sealed in
// steps of bounded memory and a proof's path stays short (14 steps).
const MaxEvents = 10_000

// Sealer seals what the feed committed since the last seal, every Interval.
type Sealer struct {
	pool     *pgxpool.Pool
	interval time.Duration
	logger   *slog.Logger
	now      func() time.Time
	// MaxEvents bounds each seal; MaxEvents by default.
	MaxEvents int
}

// NewSealer returns a sealer of pool's events that looks for new ones every
// interval.
func NewSealer(pool *pgxpool.Pool, interval time.Duration, logger *slog.Logger) *Sealer {
	return &Sealer{pool: pool, interval: interval, logger: logger, now: time.Now, MaxEvents: MaxEvents}
}

// Run seals until ctx ends, logging and retrying what fails. One sealer is
// active across processes: the others keep one connection each and try the
// lock on it every interval, as the relay does.
func (s *Sealer) Run(ctx context.Context) {
	leader.Run(ctx, s.pool, sealerLockID, s.interval, s.logger, "sealer", s.lead)
}

// lead seals on conn while it holds the sealer lock.
func (s *Sealer) lead(ctx context.Context, conn *pgx.Conn) error {
	s.logger.Info("sealer: active")
	// Read once per lead: while the lock is held, no one else seals.
	prev, err := last(ctx, conn)
	if err != nil {
		return err
	}
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	for {
		if prev, _, err = s.catchUp(ctx, conn, prev); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// ErrSealerActive: another sealer holds the lock; it seals what CatchUp
// would have.
var ErrSealerActive = errors.New("seal: another sealer is active")

// CatchUp seals everything below the feed's fence as it reads it and reports
// the events it sealed: what Run does at each tick, for etctl and the
// benchmark. It fails with ErrSealerActive while another sealer holds the
// lock.
func (s *Sealer) CatchUp(ctx context.Context) (int, error) {
	// A connection of its own: the lock is the session's.
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	got, err := leader.TryLock(ctx, conn, sealerLockID)
	if err != nil {
		return 0, err
	}
	if !got {
		return 0, ErrSealerActive
	}
	// Released before the connection closes: a session ends a moment after
	// its client closed it, and a CatchUp right after this one would find
	// the lock still held.
	defer func() {
		// A failure leaves the lock to the close.
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", sealerLockID)
	}()
	prev, err := last(ctx, conn)
	if err != nil {
		return 0, err
	}
	_, n, err := s.catchUp(ctx, conn, prev)
	return n, err
}

// catchUp seals after prev until the feed's fence, and returns the last seal
// and the events sealed. It stops at the first seal short of MaxEvents, which
// reached the fence as it stood: under a steady flow there is always more
// below it by then, and sealing on until none was left made a seal of a few
// hundred events every few milliseconds, each read, hashed and stored for
// itself, rather than one every interval.
func (s *Sealer) catchUp(ctx context.Context, conn *pgx.Conn, prev *audit.Seal) (*audit.Seal, int, error) {
	sealed := 0
	for {
		next, err := s.sealNext(ctx, conn, prev)
		if err != nil || next == nil {
			return prev, sealed, err
		}
		prev, sealed = next, sealed+next.Count
		if next.Count < s.MaxEvents {
			return prev, sealed, nil
		}
	}
}

// sealNext seals up to MaxEvents events after prev and returns the new seal,
// or nil when nothing new is below the feed's fence.
func (s *Sealer) sealNext(ctx context.Context, conn *pgx.Conn, prev *audit.Seal) (*audit.Seal, error) {
	after := audit.Cursor{}
	if prev != nil {
		after = prev.Through
	}
	events, err := hashed(ctx, conn, after, s.MaxEvents)
	if err != nil || len(events) == 0 {
		return nil, err
	}
	next := audit.Next(prev, events, s.now().UTC().Truncate(time.Microsecond))
	if err := insert(ctx, conn, next); err != nil {
		return nil, err
	}
	return &next, nil
}

// insert stores seal.
func insert(ctx context.Context, conn *pgx.Conn, seal audit.Seal) error {
	leaves := make([]byte, 0, len(seal.Leaves)*len(audit.Hash{}))
	for _, l := range seal.Leaves {
		leaves = append(leaves, l[:]...)
	}
	_, err := conn.Exec(ctx, `INSERT INTO seals (seq, after_tx_id, after_position, through_tx_id, through_position,
		from_position, to_position, count, root, prev_hash, hash, positions, leaves, sealed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		seal.Seq, seal.After.TxID, seal.After.Position, seal.Through.TxID, seal.Through.Position,
		seal.FromPosition, seal.ToPosition, seal.Count, seal.Root[:], seal.PrevHash[:], seal.Hash[:],
		seal.Positions, leaves, seal.SealedAt)
	if err != nil {
		return fmt.Errorf("seal: store seal %d: %w", seal.Seq, err)
	}
	return nil
}
