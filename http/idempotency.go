package http

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
)

const (
	maxIdempotencyKeyLen = 200
	// abandonedAfter is when a claimed key whose request never finished (the
	// process died) may be taken over by a retry.
	abandonedAfter = time.Minute
)

// idempotent makes a POST with an Idempotency-Key answer a repeat (same
// user, key, path and body) with the first response and run nothing; the
// same key with another request is a 409. Server errors are not stored, so
// the client may retry them. A key is remembered for ttl: after that, the
// key is free again, whatever ExpireIdempotencyKeys has deleted yet.
//
// Requests carry passwords and responses personal data, so neither is kept
// readable: a request is recognised by its HMAC under secret, and its response
// is stored sealed under a key derived from secret and the request itself,
// which only a repeat of the request can derive again.
func idempotent(pool *pgxpool.Pool, secret []byte, now func() time.Time, ttl time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := c.Request().Header.Get(headerIdempotencyKey)
			// Checked on every method: any command puts the key in its events' metadata.
			if msg := idempotencyKeyProblem(key); msg != "" {
				return badRequest("invalid header", map[string]string{headerIdempotencyKey: msg})
			}
			if c.Request().Method != http.MethodPost || key == "" {
				return next(c)
			}
			body, err := readBody(c)
			if err != nil {
				return err
			}
			c.Request().Body = io.NopCloser(bytes.NewReader(body))
			user := mustPrincipal(c).EmployeeID
			req := recognise(secret, c.Request().URL.Path, body)
			ctx := c.Request().Context()

			stored, err := claimKey(ctx, pool, user, key, req.hash, now(), ttl)
			if err != nil {
				return err
			}
			if stored != nil {
				first, err := req.open(stored.body)
				if err != nil {
					return fmt.Errorf("idempotency: open the stored response: %w", err)
				}
				c.Response().Header().Set("Idempotent-Replayed", "true")
				return c.Blob(stored.status, stored.contentType, first)
			}

			rec := &recorder{ResponseWriter: c.Response().Writer}
			c.Response().Writer = rec
			if err := next(c); err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			done := context.WithoutCancel(ctx)
			if status >= 500 {
				_, err = pool.Exec(done, `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2`, user, key)
				return err
			}
			_, err = pool.Exec(done, `UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5
				WHERE user_id = $1 AND key = $2`, user, key, status, c.Response().Header().Get(echo.HeaderContentType), req.seal(rec.body.Bytes()))
			return err
		}
	}
}

// recognised is what the idempotency store keeps of a request: hash
// recognises a repeat, sealer seals and opens its response.
type recognised struct {
	hash   []byte
	sealer cipher.AEAD
}

// recognise derives, from secret, the request's path and body: the HMAC that
// recognises a repeat, and the key of its stored response.
func recognise(secret []byte, path string, body []byte) recognised {
	sum := func(purpose string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(purpose + "\x00" + path + "\x00"))
		m.Write(body)
		return m.Sum(nil)
	}
	block, _ := aes.NewCipher(sum("response key")) // a 32-byte key never fails
	sealer, _ := cipher.NewGCM(block)
	return recognised{hash: sum("request"), sealer: sealer}
}

// seal encrypts a response: the key is the request's own, so one nonce of
// zeros would do, but a random one costs nothing.
func (r recognised) seal(response []byte) []byte {
	nonce := make([]byte, r.sealer.NonceSize(), r.sealer.NonceSize()+len(response)+r.sealer.Overhead())
	rand.Read(nonce)
	return r.sealer.Seal(nonce, nonce, response, nil)
}

func (r recognised) open(sealed []byte) ([]byte, error) {
	n := r.sealer.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed response too short")
	}
	return r.sealer.Open(nil, sealed[:n], sealed[n:], nil)
}

// idempotencyKeyProblem says what is wrong with an Idempotency-Key, "" when
// nothing is: the key is stored and goes into events' metadata.
func idempotencyKeyProblem(key string) string {
	if len(key) > maxIdempotencyKeyLen {
		return fmt.Sprintf("must be at most %d characters", maxIdempotencyKeyLen)
	}
	return textProblem(key)
}

type storedResponse struct {
	status      int
	contentType string
	body        []byte
}

// claimKey reserves the key for this request, or returns the response stored
// for an earlier identical one. It fails with errKeyReused or errKeyInFlight.
func claimKey(ctx context.Context, pool *pgxpool.Pool, user, key string, hash []byte, now time.Time, ttl time.Duration) (*storedResponse, error) {
	tag, err := pool.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, user, key, hash, now)
	if err != nil {
		return nil, err
	}
	if tag.RowsAffected() == 1 {
		return nil, nil
	}
	var (
		storedHash []byte
		r          storedResponse
		createdAt  time.Time
	)
	err = pool.QueryRow(ctx, `SELECT request_hash, status, content_type, body, created_at FROM idempotency_keys
		WHERE user_id = $1 AND key = $2`, user, key).Scan(&storedHash, &r.status, &r.contentType, &r.body, &createdAt)
	if errors.Is(err, pgx.ErrNoRows) { // the first request failed and released the key meanwhile
		return claimKey(ctx, pool, user, key, hash, now, ttl)
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(createdAt) >= ttl {
		// Expired: the key starts afresh with this request.
		tag, err = pool.Exec(ctx, `UPDATE idempotency_keys SET request_hash = $3, status = 0, content_type = '', body = '', created_at = $4
			WHERE user_id = $1 AND key = $2 AND created_at = $5`, user, key, hash, now, createdAt)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 0 {
			return nil, errKeyInFlight
		}
		return nil, nil
	}
	if !bytes.Equal(storedHash, hash) {
		return nil, errKeyReused
	}
	if r.status != 0 {
		return &r, nil
	}
	if now.Sub(createdAt) < abandonedAfter {
		return nil, errKeyInFlight
	}
	tag, err = pool.Exec(ctx, `UPDATE idempotency_keys SET created_at = $3 WHERE user_id = $1 AND key = $2 AND status = 0 AND created_at = $4`,
		user, key, now, createdAt)
	if err != nil {
		return nil, err
	}
	if tag.RowsAffected() == 0 {
		return nil, errKeyInFlight
	}
	return nil, nil
}

// ExpireIdempotencyKeys forgets the keys claimed before before, and returns
// how many: a retry with one of them runs again. cmd/server calls it
// periodically with now - IDEMPOTENCY_KEY_TTL.
func ExpireIdempotencyKeys(ctx context.Context, pool *pgxpool.Pool, before time.Time) (int64, error) {
	tag, err := pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("expire idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

// recorder keeps a copy of the response body as it is written.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
