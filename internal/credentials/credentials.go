// Package credentials keeps password hashes in Postgres, outside the
// events: the commands of app/command claim, replace and release them
// through it, and the API's login compares against them.
package credentials

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/employee"
)

// Store is the credentials table; it satisfies command.Credentials.
type Store struct {
	pool *pgxpool.Pool

	mu    sync.Mutex
	ended func(sessionIDs []string)
}

// New returns the credentials of the database behind pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// OnSessionsEnded registers fn to learn which sessions a change of password
// ended, after its commit: the API closes their WebSockets.
func (s *Store) OnSessionsEnded(fn func(sessionIDs []string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = fn
}

// EndAllSessions ends every session of user $1 for reason $2 and returns
// their ids; run inside the transaction that changes the user's credentials,
// the ids go to the API after the commit.
const EndAllSessions = `UPDATE sessions SET ended_at = now(), end_reason = $2
	WHERE user_id = $1 AND ended_at IS NULL RETURNING session_id::text`

// Claim implements command.Credentials.
func (s *Store) Claim(ctx context.Context, userID, email string, hash []byte) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO credentials (user_id, email, password_hash) VALUES ($1, $2, $3)`, userID, email, string(hash))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return command.ErrEmailTaken
	}
	return err
}

// ClaimAll implements command.Credentials.
func (s *Store) ClaimAll(ctx context.Context, claims []command.Claim) ([]bool, error) {
	ids, emails, hashes := make([]string, len(claims)), make([]string, len(claims)), make([]string, len(claims))
	for i, c := range claims {
		ids[i], emails[i], hashes[i] = c.UserID, c.Email, string(c.Hash)
	}
	rows, err := s.pool.Query(ctx, `INSERT INTO credentials (user_id, email, password_hash)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING RETURNING user_id::text`, ids, emails, hashes)
	if err != nil {
		return nil, err
	}
	claimed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	got := make(map[string]bool, len(claimed))
	for _, id := range claimed {
		got[id] = true
	}
	out := make([]bool, len(claims))
	for i, id := range ids {
		out[i] = got[id]
	}
	return out, nil
}

// Release implements command.Credentials.
func (s *Store) Release(ctx context.Context, userID string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM credentials WHERE user_id = $1`, userID)
	return err
}

// Replace implements command.Credentials: the hash changes and every
// session of the user ends in one transaction.
func (s *Store) Replace(ctx context.Context, userID string, hash []byte) ([]byte, error) {
	var (
		old   string
		ended []string
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT password_hash FROM credentials WHERE user_id = $1 FOR UPDATE`, userID).Scan(&old)
		if errors.Is(err, pgx.ErrNoRows) {
			return employee.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE credentials SET password_hash = $2, updated_at = now() WHERE user_id = $1`, userID, string(hash)); err != nil {
			return err
		}
		ended, err = endAllSessions(ctx, tx, userID, "password changed")
		return err
	})
	if err != nil {
		return nil, err
	}
	s.sessionsEnded(ended)
	return []byte(old), nil
}

// Forget implements command.Credentials: the credentials row, and with it
// the email, goes, and every session ends, in one transaction.
func (s *Store) Forget(ctx context.Context, userID string) error {
	var ended []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM credentials WHERE user_id = $1`, userID); err != nil {
			return err
		}
		var err error
		ended, err = endAllSessions(ctx, tx, userID, "erased")
		return err
	})
	if err != nil {
		return err
	}
	s.sessionsEnded(ended)
	return nil
}

// endAllSessions runs EndAllSessions in tx and returns the ids of the
// sessions it ended.
func endAllSessions(ctx context.Context, tx pgx.Tx, userID, reason string) ([]string, error) {
	rows, err := tx.Query(ctx, EndAllSessions, userID, reason)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// sessionsEnded tells the API which sessions ended, after their commit.
func (s *Store) sessionsEnded(ids []string) {
	s.mu.Lock()
	fn := s.ended
	s.mu.Unlock()
	if fn != nil {
		fn(ids)
	}
}

// Restore implements command.Credentials.
func (s *Store) Restore(ctx context.Context, userID string, old, replaced []byte) error {
	_, err := s.pool.Exec(ctx, `UPDATE credentials SET password_hash = $2 WHERE user_id = $1 AND password_hash = $3`,
		userID, string(old), string(replaced))
	return err
}

// AdminExists implements command.Credentials.
func (s *Store) AdminExists(ctx context.Context, email string) (bool, error) {
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM credentials WHERE lower(email) = lower($1))
		OR EXISTS (SELECT 1 FROM events WHERE type IN ('employee.registered', 'employee.role_changed') AND data->>'role' = 'admin')`,
		email).Scan(&exists)
	return exists, err
}

// Taken implements command.Credentials, in one read of the index of
// lower-cased emails.
func (s *Store) Taken(ctx context.Context, emails []string) (map[string]bool, error) {
	lower := make([]string, len(emails))
	for i, e := range emails {
		lower[i] = strings.ToLower(e)
	}
	rows, err := s.pool.Query(ctx, `SELECT lower(email) FROM credentials WHERE lower(email) = ANY($1)`, lower)
	if err != nil {
		return nil, err
	}
	taken, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(taken))
	for _, e := range taken {
		out[e] = true
	}
	return out, nil
}

// Lookup returns the user and password hash of an email, compared without
// case; ok is false for an unknown email.
func (s *Store) Lookup(ctx context.Context, email string) (userID string, hash []byte, ok bool, err error) {
	var h string
	err = s.pool.QueryRow(ctx, `SELECT user_id::text, password_hash FROM credentials WHERE lower(email) = lower($1)`, email).
		Scan(&userID, &h)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, err
	}
	return userID, []byte(h), true, nil
}
