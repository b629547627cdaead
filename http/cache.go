package http

import (
	"sync"
	"time"
)

// recentTTL is how long a value read from the event store answers for it:
// authenticating a request and deciding a check-in then cost no round trip
// of their own. A change made through this instance is seen at once (its
// handler forgets the entry); one made through another instance, within
// recentTTL.
const recentTTL = 2 * time.Second

// maxRecent bounds a cache; past it, expired entries go first, then an
// arbitrary one.
const maxRecent = 10_000

// recent keeps values for a while of wall-clock time (the API's clock may be
// a test's fixed one).
type recent[V any] struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]recentEntry[V]
}

type recentEntry[V any] struct {
	v       V
	expires time.Time
}

func newRecent[V any](ttl time.Duration) *recent[V] {
	return &recent[V]{ttl: ttl, m: map[string]recentEntry[V]{}}
}

func (c *recent[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || time.Now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *recent[V]) put(key string, v V) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= maxRecent {
		for k, e := range c.m {
			if now.After(e.expires) {
				delete(c.m, k)
			}
		}
		for k := range c.m { // map order is random: evict one entry
			if len(c.m) < maxRecent {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = recentEntry[V]{v: v, expires: now.Add(c.ttl)}
}

func (c *recent[V]) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}
