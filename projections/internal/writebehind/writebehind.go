// Package writebehind batches the writes of a transaction into one round trip,
// as the projectors and the relay save what they did.
package writebehind

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// AsyncCommit makes the transaction it runs in commit without waiting for
// its WAL to reach the disk. Read models are derived data: a Postgres crash
// may lose the last few hundred milliseconds of applied events (their rows and
// their recorded versions together, so nothing is half applied), which the
// gap filling of the next event of the stream, or `etctl verify` and
// `rebuild`, restore; in exchange a projector commit costs no disk flush.
const AsyncCommit = `SELECT set_config('synchronous_commit', 'off', true)`

// Conn is a transaction's connection that holds back the fold's writes until
// the next read or the commit, to send them in one round trip. Reads see
// every earlier write: they flush first. A write's error surfaces at the
// flush, and Exec reports no rows affected, which the folds' rows ignore.
type Conn struct {
	conn *pgx.Conn
	// Batch holds the writes not sent yet; statements queued on it go out
	// with them, in order.
	Batch *pgx.Batch
}

// New returns a Conn on conn with nothing held back.
func New(conn *pgx.Conn) *Conn { return &Conn{conn: conn, Batch: &pgx.Batch{}} }

// Exec queues sql until the next read or Flush.
func (w *Conn) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	w.Batch.Queue(sql, args...)
	return pgconn.CommandTag{}, nil
}

// QueryRow sends the writes held back, then reads.
func (w *Conn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := w.Flush(ctx); err != nil {
		return errRow{err}
	}
	return w.conn.QueryRow(ctx, sql, args...)
}

// Flush sends the writes held back in one round trip.
func (w *Conn) Flush(ctx context.Context) error {
	if w.Batch.Len() == 0 {
		return nil
	}
	b := w.Batch
	w.Batch = &pgx.Batch{}
	return w.conn.SendBatch(ctx, b).Close()
}

// errRow is a row whose query could not be sent.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
