// Package leader runs a piece of work in one process at a time among those
// that share a Postgres database: the process whose connection holds a
// session advisory lock. The relay and the audit sealer are led this way.
package leader

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TryLock takes the session advisory lock id on conn if it is free, and
// reports whether it did.
func TryLock(ctx context.Context, conn *pgx.Conn, id int64) (bool, error) {
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", id).Scan(&got); err != nil {
		return false, fmt.Errorf("lock: %w", err)
	}
	return got, nil
}

// Run tries the lock id every retry until ctx ends and, while it holds it,
// runs lead on the connection that holds it. A standby keeps one connection
// of its own and tries the lock on it again and again, rather than a new
// connection each time; after leading, or a failure, it starts again on a
// new connection, since the lock ends with its session. What lead returns is
// logged as a lead lost, under name.
func Run(ctx context.Context, pool *pgxpool.Pool, id int64, retry time.Duration, logger *slog.Logger, name string,
	lead func(ctx context.Context, conn *pgx.Conn) error) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.WithoutCancel(ctx))
		}
	}()
	for {
		var err error
		if conn == nil {
			if conn, err = pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy()); err != nil {
				err = fmt.Errorf("connect: %w", err)
			}
		}
		if err == nil {
			var led bool
			if led, err = TryLock(ctx, conn, id); led && err == nil {
				err = lead(ctx, conn)
			}
			if led || err != nil {
				conn.Close(context.WithoutCancel(ctx))
				conn = nil
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			logger.Warn(name+": lost or could not take the lead", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
	}
}
