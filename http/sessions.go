package http

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/internal/recent"
)

const (
	// endedSessionsEvery is how often a server looks for sessions ended
	// through another server, to close their WebSockets.
	endedSessionsEvery = time.Second
	// endedSessionsMargin covers an end whose transaction started before the
	// last look and committed after it.
	endedSessionsMargin = 5 * time.Second
	// loginStateExpiryEvery is how often a server forgets what no longer counts.
	loginStateExpiryEvery = 10 * time.Minute
	// sessionKeepAfterEnd keeps an ended session a while, so a token of it is
	// refused as a session's, not as an unknown one.
	sessionKeepAfterEnd = 24 * time.Hour
)

// Sessions are the logins, kept in Postgres so that every server agrees. A
// session is the chain of refresh tokens of one login: only its latest
// refresh token buys a new pair (and becomes used), and presenting a used one
// ends the session, since a stolen token and its owner now both hold one.
// Ending a session refuses its refresh token at once, its access tokens at
// once on this server and within recent.TTL on others, and closes its
// WebSockets on this server at once and on others within endedSessionsEvery.
//
// The table's times are the database's: they only decide when a row is
// deleted, which must not depend on a simulated clock (etctl seed-demo).
type Sessions struct {
	pool *pgxpool.Pool
	hub  *Hub
	log  *slog.Logger
	now  func() time.Time // of the login throttle's rows
	ttl  time.Duration    // of a refresh token
	// live maps the sessions found live within recent.TTL to their users.
	live *recent.Cache[string]
}

func newSessions(pool *pgxpool.Pool, hub *Hub, log *slog.Logger, now func() time.Time, refreshTTL time.Duration) *Sessions {
	return &Sessions{pool: pool, hub: hub, log: log, now: now, ttl: refreshTTL, live: recent.New[string](recent.TTL)}
}

// start opens a session for a user and returns its id and the id of its
// first refresh token.
func (s *Sessions) start(ctx context.Context, userID string) (sessionID, refreshID string, err error) {
	sessionID, refreshID = uuid.NewString(), uuid.NewString()
	_, err = s.pool.Exec(ctx, `INSERT INTO sessions (session_id, user_id, refresh_id, created_at, expires_at)
		VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4))`, sessionID, userID, refreshID, s.ttl.Seconds())
	return sessionID, refreshID, err
}

// rotate uses refresh token t and returns the id of the session's next one.
// A token that is not the session's latest ends the session.
func (s *Sessions) rotate(ctx context.Context, t token) (string, error) {
	next := uuid.NewString()
	tag, err := s.pool.Exec(ctx, `UPDATE sessions SET refresh_id = $4, expires_at = now() + make_interval(secs => $5)
		WHERE session_id = $1 AND user_id = $2 AND refresh_id = $3 AND ended_at IS NULL`,
		t.sessionID, t.userID, t.id, next, s.ttl.Seconds())
	if err != nil {
		return "", err
	}
	if tag.RowsAffected() == 1 {
		return next, nil
	}
	if err := s.end(ctx, t.sessionID, t.userID, "refresh token used twice"); err != nil {
		return "", err
	}
	return "", errBadRefresh
}

// end ends one session of a user; ending an ended one does nothing.
func (s *Sessions) end(ctx context.Context, sessionID, userID, reason string) error {
	rows, err := s.pool.Query(ctx, `UPDATE sessions SET ended_at = now(), end_reason = $3
		WHERE session_id = $1 AND user_id = $2 AND ended_at IS NULL RETURNING session_id::text`, sessionID, userID, reason)
	return s.endedRows(rows, err)
}

// endAll ends every session of a user.
func (s *Sessions) endAll(ctx context.Context, userID, reason string) error {
	rows, err := s.pool.Query(ctx, endAllSessions, userID, reason)
	return s.endedRows(rows, err)
}

// endAllSessions ends every session of user $1 for reason $2, inside a
// transaction that changes the user's credentials; the caller passes the ids
// it returns to Sessions.ended after the commit.
const endAllSessions = `UPDATE sessions SET ended_at = now(), end_reason = $2
	WHERE user_id = $1 AND ended_at IS NULL RETURNING session_id::text`

// endedRows forgets the ended sessions and closes their WebSockets here.
func (s *Sessions) endedRows(rows pgx.Rows, err error) error {
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	s.ended(ids)
	return nil
}

// ended forgets that the sessions lived and closes their WebSockets here.
func (s *Sessions) ended(ids []string) {
	for _, id := range ids {
		s.live.Forget(id)
	}
	s.hub.closeSessions(ids)
}

// check is nil while the session lives and belongs to the user. When it
// reads the session from the database, it reads in the same round trip the
// version of the user's employee stream, and returns it; 0 when it answers
// from the sessions found live within recent.TTL.
func (s *Sessions) check(ctx context.Context, sessionID, userID string) (int64, error) {
	if user, ok := s.live.Get(sessionID); ok && user == userID {
		return 0, nil
	}
	var (
		user    string
		version int64
	)
	err := s.pool.QueryRow(ctx, `SELECT s.user_id::text, coalesce((SELECT max(version) FROM events WHERE stream_id = $2), 0)
		FROM sessions s WHERE s.session_id = $1 AND s.ended_at IS NULL`, sessionID, employee.Stream(userID)).Scan(&user, &version)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && user != userID) {
		return 0, errUnauthorized
	}
	if err != nil {
		return 0, err
	}
	s.live.Put(sessionID, user)
	return version, nil
}

// maintain closes, every endedSessionsEvery, the WebSockets of sessions that
// other servers ended, and forgets expired login state every
// loginStateExpiryEvery, until ctx ends.
func (s *Sessions) maintain(ctx context.Context) {
	ended := time.NewTicker(endedSessionsEvery)
	defer ended.Stop()
	expire := time.NewTicker(loginStateExpiryEvery)
	defer expire.Stop()
	var since *time.Time // the database's clock, nil at first
	for {
		select {
		case <-ctx.Done():
			return
		case <-ended.C:
			var (
				ids []string
				now time.Time
			)
			err := s.pool.QueryRow(ctx, `SELECT now(), coalesce(array_agg(session_id::text), '{}') FROM sessions
				WHERE ended_at >= coalesce($1, now()) - make_interval(secs => $2)`, since, endedSessionsMargin.Seconds()).Scan(&now, &ids)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("look for ended sessions", "err", err)
				}
				continue
			}
			since = &now
			s.ended(ids)
		case <-expire.C:
			n, err := expireLoginState(ctx, s.pool, s.now())
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Warn("forget expired login state", "err", err)
			case n > 0:
				s.log.Info("forgot expired login state", "rows", n)
			}
		}
	}
}
