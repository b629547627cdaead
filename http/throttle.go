package http

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Login throttling. Every attempt that does not log in counts against the
// client's address; it also counts against the account it names, known or
// not, unless that address has logged in to that account before. Past its
// free failures, an address waits a delay that doubles with each further
// failure, and an account refuses addresses it does not know for a while.
// So a guesser is slowed down everywhere, while a stranger cannot lock a user
// out of the addresses they log in from, and an unknown email is answered
// exactly as a known one. The counts live in Postgres: every server sees them.
//
// Attempts whose password is still being compared are counted too (pending),
// and only so many may be at once: guesses sent together cannot all pass the
// check before the first of them fails.
type loginLimit struct {
	free    int           // failures without a wait
	first   time.Duration // the wait after the first failure past free
	max     time.Duration
	pending int // attempts being checked at once
}

var (
	addressLimit = loginLimit{free: 5, first: time.Second, max: 15 * time.Minute, pending: 16}
	accountLimit = loginLimit{free: 10, first: 15 * time.Minute, max: 15 * time.Minute, pending: 4}
)

const (
	// loginFailureWindow: failures are forgotten this long after the last one.
	loginFailureWindow = time.Hour
	// pendingFor bounds how long an attempt counts as being checked, should
	// its server die before it ends (a request takes at most requestTimeout).
	pendingFor = 2 * requestTimeout
	// trustedAddressTTL: an address that has not logged in to an account for
	// this long is a stranger to it again.
	trustedAddressTTL = 90 * 24 * time.Hour
)

// wait is how long after the last of n failures the next attempt waits.
func (l loginLimit) wait(n int) time.Duration {
	if n < l.free {
		return 0
	}
	d := l.first
	for i := l.free; i < n && d < l.max; i++ {
		d *= 2
	}
	return min(d, l.max)
}

// loginAttempt is one login's place in the throttle: the keys it counts against.
type loginAttempt struct {
	address string // the client's address key
	account string // the account's key, "" when the address is trusted by it
	trusted string // the account's key for the trusted addresses
}

// addressKey is the throttle's key of a client address. An IPv6 client
// usually holds a whole /64, so that is what counts.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "address:unknown"
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "address:" + p.String()
	}
	return "address:" + a.String()
}

// accountKey names an account by a hash of its email, so that the throttle
// stores no email, known or not.
func accountKey(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return "account:" + hex.EncodeToString(sum[:])
}

// beginLogin admits an attempt, counting it as pending, or fails with
// *lockedError when the address or the account must wait. An admitted
// attempt is ended with endLogin.
func (a *Accounts) beginLogin(ctx context.Context, clientIP, email string) (loginAttempt, error) {
	at := loginAttempt{address: addressKey(clientIP), trusted: accountKey(email)}
	var trusted bool
	err := a.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM login_trusted_addresses
		WHERE account = $1 AND address = $2 AND last_login_at > $3)`, at.trusted, at.address, a.now().Add(-trustedAddressTTL)).Scan(&trusted)
	if err != nil {
		return loginAttempt{}, err
	}
	if err := a.admit(ctx, at.address, addressLimit); err != nil {
		return loginAttempt{}, err
	}
	if !trusted {
		if err := a.admit(ctx, at.trusted, accountLimit); err != nil {
			// Refused by the account, the attempt failed for the address.
			if endErr := a.endLogin(context.WithoutCancel(ctx), at, loginFailed); endErr != nil {
				return loginAttempt{}, endErr
			}
			return loginAttempt{}, err
		}
		at.account = at.trusted
	}
	return at, nil
}

// admit counts a pending attempt against key, unless key must wait (then it
// fails with *lockedError and counts nothing).
func (a *Accounts) admit(ctx context.Context, key string, l loginLimit) error {
	now := a.now()
	var n int
	err := a.pool.QueryRow(ctx, `INSERT INTO login_failures AS f (key, failures, last_at, pending, pending_at)
		VALUES ($1, 0, $2, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			pending = CASE WHEN f.pending_at <= $2 - make_interval(secs => $7) THEN 0 ELSE f.pending END + 1,
			pending_at = $2
		WHERE (f.failures < $3 OR f.last_at <= $2 - make_interval(secs => $6)
				OR f.last_at + make_interval(secs => least($4 * power(2, least(f.failures - $3, 40)), $5)) <= $2)
			AND (f.pending < $8 OR f.pending_at <= $2 - make_interval(secs => $7))
		RETURNING failures`,
		key, now, l.free, l.first.Seconds(), l.max.Seconds(), loginFailureWindow.Seconds(), pendingFor.Seconds(), l.pending).Scan(&n)
	if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	var last time.Time
	if err := a.pool.QueryRow(ctx, `SELECT failures, last_at FROM login_failures WHERE key = $1`, key).Scan(&n, &last); err != nil {
		return err
	}
	// Refused for its failures, or for too many attempts at once.
	wait := last.Add(l.wait(n)).Sub(now)
	return &lockedError{retryAfterSeconds: max(1, int(math.Ceil(wait.Seconds())))}
}

// How an admitted attempt ended.
type loginOutcome int

const (
	loginFailed    loginOutcome = iota // wrong credentials: a failure
	loginSucceeded                     // the address becomes trusted by the account
	loginAborted                       // an error of ours: not the client's failure
)

// endLogin ends an admitted attempt: it stops being pending, and counts as a
// failure or trusts the address.
func (a *Accounts) endLogin(ctx context.Context, at loginAttempt, outcome loginOutcome) error {
	now := a.now()
	b := &pgx.Batch{}
	for _, key := range []string{at.address, at.account} {
		switch {
		case key == "":
		case outcome == loginFailed:
			b.Queue(`UPDATE login_failures SET pending = greatest(pending - 1, 0),
				failures = CASE WHEN last_at <= $2::timestamptz - make_interval(secs => $3) THEN 1 ELSE failures + 1 END, last_at = $2
				WHERE key = $1`, key, now, loginFailureWindow.Seconds())
		default:
			b.Queue(`UPDATE login_failures SET pending = greatest(pending - 1, 0) WHERE key = $1`, key)
		}
	}
	if outcome == loginSucceeded {
		b.Queue(`INSERT INTO login_trusted_addresses (account, address, last_login_at) VALUES ($1, $2, $3)
			ON CONFLICT (account, address) DO UPDATE SET last_login_at = excluded.last_login_at`, at.trusted, at.address, now)
	}
	return a.pool.SendBatch(ctx, b).Close()
}

// expireLoginState forgets failures and trusted addresses that no longer
// count, and sessions that ended or expired a while ago, and returns how many
// rows it deleted.
func expireLoginState(ctx context.Context, pool *pgxpool.Pool, now time.Time) (int64, error) {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM login_failures WHERE last_at < $1 AND pending_at < $1`, now.Add(-loginFailureWindow))
	b.Queue(`DELETE FROM login_trusted_addresses WHERE last_login_at < $1`, now.Add(-trustedAddressTTL))
	b.Queue(`DELETE FROM sessions WHERE ended_at < now() - make_interval(secs => $1) OR expires_at < now() - make_interval(secs => $1)`,
		sessionKeepAfterEnd.Seconds())
	res := pool.SendBatch(ctx, b)
	defer res.Close()
	var n int64
	for range b.Len() {
		tag, err := res.Exec()
		if err != nil {
			return n, err
		}
		n += tag.RowsAffected()
	}
	return n, res.Close()
}
