// Package keyring keeps the per-person keys that seal the personal fields of
// events (eventstore.Keys): each is a random AES-256 key, stored in the table
// personal_keys wrapped (AES-GCM) by the data key, DATA_KEY. Erasing a person
// destroys their key, and with it every personal field sealed under it.
// docs/operations.md says how to back up, rotate and lose the keys.
package keyring

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
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore"
)

// KeySize is the size of the data key and of each person's key: AES-256.
const KeySize = 32

// cacheFor is how long a key read from the table is used without reading it
// again. Another process that erases a person destroys the key in the table,
// which announces it on erasedChannel: a keyring that follows the channel
// (Follow) forgets the key as soon as the announcement arrives, and any
// keyring stops opening their data at most cacheFor later, announcement or
// not (at once when it erased them itself).
const cacheFor = 2 * time.Second

// idleFor is how long a key not taken stays cached. Sealing takes a cached key
// however old, so a key kept past cacheFor spares each append of its person's
// data a query; opening reads it again first, as any expired key.
const idleFor = 10 * time.Minute

// erasedChannel is where the key table announces an erasure, the subject as
// payload (migrations/00018_erasure_everywhere.sql).
const erasedChannel = "personal_keys_erased"

// followRetry is the wait before listening again after the connection that
// listens was lost; the keys cached meanwhile expire after cacheFor.
const followRetry = time.Second

// queryTimeout bounds a read or write of the key table; the codec calls the
// keyring without a context.
const queryTimeout = 10 * time.Second

// checkText is sealed by the data key in data_key.check_value, so that a
// wrong DATA_KEY stops the program at start instead of failing on each read.
const checkText = "employee-tracking data key"

// Keyring is the key table of a database. It is safe for concurrent use.
type Keyring struct {
	pool *pgxpool.Pool
	wrap cipher.AEAD // the data key's
	root []byte      // the data key, from which Derive derives
	now  func() time.Time

	mu   sync.Mutex
	keys map[string]cached
	// evictions counts the keys forgotten on an announcement: a key read
	// from the table while one was forgotten may predate its erasure, and
	// is not cached.
	evictions uint64
}

type cached struct {
	aead    cipher.AEAD // nil: erased
	wrapped []byte      // as read from the table
	readAt  time.Time
	// takenAt is when the key was last taken: refresh reads again the
	// keys taken since they were read, and forgets those idle for idleFor.
	takenAt time.Time
}

// Open returns the keyring of pool's database under dataKey, which must be the
// data key the table was written with (checked against data_key.check_value,
// which the first program to start writes).
func Open(ctx context.Context, pool *pgxpool.Pool, dataKey []byte) (*Keyring, error) {
	wrap, err := newAEAD(dataKey)
	if err != nil {
		return nil, fmt.Errorf("keyring: data key: %w", err)
	}
	k := &Keyring{pool: pool, wrap: wrap, root: bytes.Clone(dataKey), now: time.Now, keys: map[string]cached{}}
	check := wrapWith(wrap, []byte(checkText), []byte("check"))
	if _, err := pool.Exec(ctx, `INSERT INTO data_key (id, check_value) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, check); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	var stored []byte
	if err := pool.QueryRow(ctx, `SELECT check_value FROM data_key WHERE id = 1`).Scan(&stored); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if _, err := unwrapWith(wrap, stored, []byte("check")); err != nil {
		return nil, errors.New("keyring: DATA_KEY is not the data key the personal keys were stored with")
	}
	return k, nil
}

// OpenWith opens the keyring under dataKey or, when it is nil, under the data
// key kept beside the data (generated on first use); stored says that the
// latter was used, which the program warns about.
func OpenWith(ctx context.Context, pool *pgxpool.Pool, dataKey []byte) (k *Keyring, stored bool, err error) {
	if dataKey == nil {
		if dataKey, _, err = StoredDataKey(ctx, pool); err != nil {
			return nil, false, err
		}
		stored = true
	}
	k, err = Open(ctx, pool, dataKey)
	return k, stored, err
}

// StoredDataKey returns the data key kept in the database for a program
// started without DATA_KEY, generating and storing one on first use; generated
// says that this call made it.
func StoredDataKey(ctx context.Context, pool *pgxpool.Pool) (key []byte, generated bool, err error) {
	fresh := make([]byte, KeySize)
	rand.Read(fresh)
	tag, err := pool.Exec(ctx, `INSERT INTO data_key_generated (id, key) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, fresh)
	if err != nil {
		return nil, false, fmt.Errorf("keyring: store a generated data key: %w", err)
	}
	if err := pool.QueryRow(ctx, `SELECT key FROM data_key_generated WHERE id = 1`).Scan(&key); err != nil {
		return nil, false, fmt.Errorf("keyring: read the generated data key: %w", err)
	}
	return key, tag.RowsAffected() == 1, nil
}

// Derive returns a secret for purpose derived from the data key, which every
// process sharing the database derives alike: an HMAC-SHA256 of purpose.
func (k *Keyring) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, k.root)
	m.Write([]byte("employee-tracking " + purpose))
	return m.Sum(nil)
}

// Seal implements eventstore.Keys.
func (k *Keyring) Seal(subject string, aad, plaintext []byte) ([]byte, error) {
	aead, err := k.key(subject, true)
	if err != nil {
		return nil, err
	}
	return wrapWith(aead, plaintext, aad), nil
}

// Open implements eventstore.Keys.
func (k *Keyring) Open(subject string, aad, sealed []byte) ([]byte, error) {
	aead, err := k.key(subject, false)
	if err != nil {
		return nil, err
	}
	plain, err := unwrapWith(aead, sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: open personal data of %s: %w", subject, err)
	}
	return plain, nil
}

// Erase destroys subject's key, so that nothing sealed under it opens again,
// and no key is made for them any more. Erasing twice is erasing once.
func (k *Keyring) Erase(ctx context.Context, subject string) error {
	_, err := k.pool.Exec(ctx, `INSERT INTO personal_keys (subject, wrapped, erased_at) VALUES ($1, NULL, now())
		ON CONFLICT (subject) DO UPDATE SET wrapped = NULL, erased_at = coalesce(personal_keys.erased_at, now())`, subject)
	if err != nil {
		return fmt.Errorf("keyring: erase %s: %w", subject, err)
	}
	k.mu.Lock()
	k.keys[subject] = cached{readAt: k.now()}
	k.mu.Unlock()
	return nil
}

// Erased says whether subject's key was destroyed.
func (k *Keyring) Erased(subject string) (bool, error) {
	_, err := k.key(subject, false)
	if errors.Is(err, eventstore.ErrErased) {
		return true, nil
	}
	return false, err
}

// key returns subject's key, from the cache or the table; sealing makes one
// when the subject has none yet. Erased subjects stay erased in the cache.
// Sealing takes a cached key however old: data sealed with a key another
// process has just destroyed reads as erased, which it is. Opening reads the
// table again after cacheFor, to learn of such an erasure, with every other
// key in use (refresh).
func (k *Keyring) key(subject string, sealing bool) (cipher.AEAD, error) {
	// The clock is read once: every read of an event's personal data asks
	// for a key, and reading the time costs more than the rest of a cached
	// key's lookup.
	now := k.now()
	c, ok, evictions := k.cachedKey(subject, now)
	if ok && c.aead != nil && !sealing && now.Sub(c.readAt) >= cacheFor {
		if err := k.refresh(); err != nil {
			return nil, err
		}
		c, ok, evictions = k.cachedKey(subject, now)
	}
	if ok && (c.aead == nil || sealing || now.Sub(c.readAt) < cacheFor) {
		if c.aead == nil {
			return nil, eventstore.ErrErased
		}
		return c.aead, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	wrapped, found, err := k.read(ctx, subject)
	if err != nil {
		return nil, err
	}
	if !found && !sealing {
		// Nothing was ever sealed for subject by this store; a key
		// made later opens nothing sealed before it.
		return nil, fmt.Errorf("keyring: no key for %s", subject)
	}
	if !found {
		if wrapped, err = k.create(ctx, subject); err != nil {
			return nil, err
		}
	}
	readAt := k.now()
	c = cached{wrapped: wrapped, readAt: readAt, takenAt: readAt}
	if wrapped != nil {
		raw, err := unwrapWith(k.wrap, wrapped, []byte(subject))
		if err != nil {
			return nil, fmt.Errorf("keyring: unwrap the key of %s: %w", subject, err)
		}
		if c.aead, err = newAEAD(raw); err != nil {
			return nil, err
		}
	}
	k.mu.Lock()
	if k.evictions == evictions {
		k.keys[subject] = c
	}
	k.mu.Unlock()
	if c.aead == nil {
		return nil, eventstore.ErrErased
	}
	return c.aead, nil
}

// takenEvery is how often a cached key taken again and again is marked
// taken: refresh needs to know whether it was taken since it was read, and
// whether it has been idle for idleFor, not the last time to the instant;
// marking it rewrites its entry.
const takenEvery = time.Second

// cachedKey returns subject's cached key, marked taken now, and the evictions
// so far.
func (k *Keyring) cachedKey(subject string, now time.Time) (cached, bool, uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.keys[subject]
	if ok && (c.takenAt.Before(c.readAt) || now.Sub(c.takenAt) >= takenEvery) {
		c.takenAt = now
		k.keys[subject] = c
	}
	return c, ok, k.evictions
}

// refresh reads again, in one query, every cached key read at least
// cacheFor/2 ago and taken since, keeps those not taken since as they are
// (for sealing; opening reads them again first), and forgets those not taken
// for idleFor: keys in use together are then read again together, one query
// every cacheFor for a read of many persons' data instead of one query per
// person.
func (k *Keyring) refresh() error {
	k.mu.Lock()
	readAt := k.now()
	old := map[string]cached{}
	for subject, c := range k.keys {
		switch {
		case c.aead == nil || readAt.Sub(c.readAt) < cacheFor/2:
		case !c.takenAt.Before(c.readAt):
			old[subject] = c
		case readAt.Sub(c.takenAt) >= idleFor:
			delete(k.keys, subject)
		}
	}
	evictions := k.evictions
	k.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	rows, err := k.pool.Query(ctx, `SELECT subject, wrapped FROM personal_keys WHERE subject = ANY($1)`, slices.Collect(maps.Keys(old)))
	if err != nil {
		return fmt.Errorf("keyring: read the keys again: %w", err)
	}
	fresh := map[string]cached{}
	var subject string
	var wrapped []byte
	if _, err := pgx.ForEachRow(rows, []any{&subject, &wrapped}, func() error {
		c := cached{wrapped: bytes.Clone(wrapped), readAt: readAt}
		switch {
		case wrapped == nil: // erased
		case bytes.Equal(wrapped, old[subject].wrapped):
			c.aead = old[subject].aead
		default: // wrapped again under a new data key
			raw, err := unwrapWith(k.wrap, wrapped, []byte(subject))
			if err != nil {
				return nil // forgotten: reading it alone reports the error
			}
			if c.aead, err = newAEAD(raw); err != nil {
				return nil
			}
		}
		fresh[subject] = c
		return nil
	}); err != nil {
		return fmt.Errorf("keyring: read the keys again: %w", err)
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	if k.evictions != evictions {
		return nil // keys were forgotten meanwhile: those read may predate an erasure
	}
	for subject := range old {
		if k.keys[subject].aead == nil {
			continue // erased meanwhile, or forgotten
		}
		if c, ok := fresh[subject]; ok {
			c.takenAt = k.keys[subject].takenAt
			k.keys[subject] = c
		} else {
			delete(k.keys, subject)
		}
	}
	return nil
}

// Follow makes k forget a person's key as soon as any process erases them:
// it listens on erasedChannel on a connection of its own, and returns once
// it listens (or with the error of the first attempt). Until ctx ends it
// goes on in the background, listening again when the connection is lost
// (every cached key is forgotten then, since announcements may have been
// missed); meanwhile cacheFor bounds how long an erased key still opens.
func (k *Keyring) Follow(ctx context.Context, log *slog.Logger) error {
	conn, err := k.listen(ctx)
	if err != nil {
		return err
	}
	go func() {
		for {
			err := k.forget(ctx, conn)
			conn.Close(context.WithoutCancel(ctx))
			if ctx.Err() != nil {
				return
			}
			log.Warn("keyring: erasures are not announced to this process until it listens again; cached keys expire meanwhile", "err", err)
			for conn == nil || conn.IsClosed() {
				select {
				case <-ctx.Done():
					return
				case <-time.After(followRetry):
				}
				if conn, err = k.listen(ctx); err != nil {
					conn = nil
				}
			}
			log.Info("keyring: listening for erasures again")
		}
	}()
	return nil
}

// listen connects apart from the pool, listens on erasedChannel, and forgets
// every cached key: an erasure before the listening began was not heard.
func (k *Keyring) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, k.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("keyring: listen for erasures: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+erasedChannel); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("keyring: listen for erasures: %w", err)
	}
	k.mu.Lock()
	clear(k.keys)
	k.evictions++
	k.mu.Unlock()
	return conn, nil
}

// forget drops the cached key of each subject announced on conn, until conn
// fails or ctx ends.
func (k *Keyring) forget(ctx context.Context, conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		k.mu.Lock()
		delete(k.keys, n.Payload)
		k.evictions++
		k.mu.Unlock()
	}
}

// read returns subject's wrapped key (nil when erased) and whether a row exists.
func (k *Keyring) read(ctx context.Context, subject string) ([]byte, bool, error) {
	var wrapped []byte
	err := k.pool.QueryRow(ctx, `SELECT wrapped FROM personal_keys WHERE subject = $1`, subject).Scan(&wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("keyring: read the key of %s: %w", subject, err)
	}
	return wrapped, true, nil
}

// create stores a new key for subject unless another process just did, and
// returns the one stored: one query, two when another process came first.
func (k *Keyring) create(ctx context.Context, subject string) ([]byte, error) {
	raw := make([]byte, KeySize)
	rand.Read(raw)
	var wrapped []byte
	err := k.pool.QueryRow(ctx, `INSERT INTO personal_keys (subject, wrapped) VALUES ($1, $2) ON CONFLICT (subject) DO NOTHING RETURNING wrapped`,
		subject, wrapWith(k.wrap, raw, []byte(subject))).Scan(&wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		wrapped, _, err = k.read(ctx, subject)
		return wrapped, err
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: store a key for %s: %w", subject, err)
	}
	return wrapped, nil
}

// Rotate wraps every stored key under newKey instead of oldKey, in one
// transaction: the events, sealed under the persons' keys, stay as they are.
// It returns how many keys it wrapped again.
func Rotate(ctx context.Context, pool *pgxpool.Pool, oldKey, newKey []byte) (int, error) {
	oldWrap, err := newAEAD(oldKey)
	if err != nil {
		return 0, fmt.Errorf("keyring: old data key: %w", err)
	}
	newWrap, err := newAEAD(newKey)
	if err != nil {
		return 0, fmt.Errorf("keyring: new data key: %w", err)
	}
	n := 0
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var check []byte
		if err := tx.QueryRow(ctx, `SELECT check_value FROM data_key WHERE id = 1 FOR UPDATE`).Scan(&check); err != nil {
			return err
		}
		if _, err := unwrapWith(oldWrap, check, []byte("check")); err != nil {
			return errors.New("the old data key is not the one the keys are stored with")
		}
		rows, err := tx.Query(ctx, `SELECT subject, wrapped FROM personal_keys WHERE wrapped IS NOT NULL`)
		if err != nil {
			return err
		}
		type row struct {
			subject string
			wrapped []byte
		}
		all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.subject, &x.wrapped)
		})
		if err != nil {
			return err
		}
		for _, r := range all {
			raw, err := unwrapWith(oldWrap, r.wrapped, []byte(r.subject))
			if err != nil {
				return fmt.Errorf("unwrap the key of %s: %w", r.subject, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE personal_keys SET wrapped = $2 WHERE subject = $1`,
				r.subject, wrapWith(newWrap, raw, []byte(r.subject))); err != nil {
				return err
			}
		}
		n = len(all)
		_, err = tx.Exec(ctx, `UPDATE data_key SET check_value = $1 WHERE id = 1`, wrapWith(newWrap, []byte(checkText), []byte("check")))
		if err != nil {
			return err
		}
		// A generated data key kept beside the data is replaced by the new one.
		_, err = tx.Exec(ctx, `DELETE FROM data_key_generated`)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("keyring: rotate the data key: %w", err)
	}
	return n, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// wrapWith seals plaintext with a fresh random nonce, which it prepends.
func wrapWith(aead cipher.AEAD, plaintext, aad []byte) []byte {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, plaintext, aad)
}

func unwrapWith(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("sealed data too short")
	}
	return aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], aad)
}
