// Package recent keeps values read from the event store for a short while,
// so that the API authenticates a request and decides a check-in without a
// round trip of their own.
package recent

import (
	"sync"
	"time"
)

// TTL is how long a value read from the event store answers for it. A
// change made through this instance is seen at once (what makes it forgets
// the entry); one made through another instance, within TTL.
const TTL = 2 * time.Second

// maxEntries bounds a cache; past it, expired entries go first, then an
// arbitrary one.
const maxEntries = 10_000

// Cache keeps values for a while of wall-clock time (the API's clock may be
// a test's fixed one). It is safe for concurrent use.
type Cache[V any] struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]entry[V]
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// New returns a cache whose values answer for ttl.
func New[V any](ttl time.Duration) *Cache[V] {
	return &Cache[V]{ttl: ttl, m: map[string]entry[V]{}}
}

// Get returns the value of key unless it expired.
func (c *Cache[V]) Get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || time.Now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put keeps v for key.
func (c *Cache[V]) Put(key string, v V) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= maxEntries {
		for k, e := range c.m {
			if now.After(e.expires) {
				delete(c.m, k)
			}
		}
		for k := range c.m { // map order is random: evict one entry
			if len(c.m) < maxEntries {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = entry[V]{v: v, expires: now.Add(c.ttl)}
}

// Last returns the value put last under key, expired or not, until it is
// forgotten or evicted: a caller that can tell cheaply whether it is still
// true keeps it without building it again.
func (c *Cache[V]) Last(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	return e.v, ok
}

// Forget drops key, after a change to its value.
func (c *Cache[V]) Forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}
