package http

import (
	"context"
	"errors"
	"sync"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/eventstore"
)

// attendanceStates caches the decision state of attendance streams with the
// version it was folded to. An attendance stream grows by every check-in and
// check-out for as long as the employee works here, so a command loads only
// the events after the cached version. Optimistic concurrency keeps it
// correct with several instances: a stale entry just means more to load, and
// an append on a stale version is a conflict that loads the rest.
type attendanceStates struct {
	mu  sync.Mutex
	m   map[string]cachedAttendance
	max int
}

type cachedAttendance struct {
	version int64
	state   attendance.State
}

// maxCachedStreams bounds the cache; past it an arbitrary entry makes room.
const maxCachedStreams = 10_000

func newAttendanceStates() *attendanceStates {
	return &attendanceStates{m: map[string]cachedAttendance{}, max: maxCachedStreams}
}

func (c *attendanceStates) get(stream string) (cachedAttendance, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[stream]
	return e, ok
}

// put keeps e unless the cache holds a newer version of the stream.
func (c *attendanceStates) put(stream string, e cachedAttendance) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[stream]; ok && old.version >= e.version {
		return
	}
	if _, ok := c.m[stream]; !ok && len(c.m) >= c.max {
		for k := range c.m { // map order is random: evict one entry
			delete(c.m, k)
			break
		}
	}
	c.m[stream] = e
}

func (c *attendanceStates) forget(stream string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, stream)
}

// decideAttendance is update for an attendance stream, through the cache. A
// cached state is decided on without loading: the append carries its version,
// so a stale one conflicts and the rest is loaded; a refusal is only trusted
// on a state just loaded. A check-in or check-out then costs one round trip.
func decideAttendance(ctx context.Context, store EventStore, cache *attendanceStates, o origin, stream string,
	decide func(attendance.State) ([]any, error)) (decision, error) {
	cur, cached := cache.get(stream)
	load := !cached
	var conflict error
	for range eventstore.MaxUpdateAttempts {
		if load {
			newer, err := store.LoadFrom(ctx, stream, cur.version)
			if err != nil {
				return decision{}, err
			}
			for _, e := range newer {
				cur.state.Apply(e.Payload)
				cur.version = e.Version
			}
		}
		events, err := decide(cur.state)
		if err != nil {
			if !load {
				load = true
				continue
			}
			cache.put(stream, cur)
			return decision{}, err
		}
		data, err := o.eventData(stream, events)
		if err != nil {
			return decision{}, err
		}
		res, err := store.Append(ctx, stream, cur.version, data...) // version 0 is NoStream
		switch {
		case errors.Is(err, eventstore.ErrConflict):
			conflict, load = err, true
			continue
		case err != nil:
			return decision{}, err
		case res.Duplicate:
			// A repeat of events stored earlier: the state moved on without
			// them being applied here, so start afresh next time.
			cache.forget(stream)
		default:
			next := cur
			for _, ev := range events {
				next.state.Apply(ev)
			}
			next.version = res.LastVersion
			cache.put(stream, next)
		}
		return decision{events: events, data: data, result: res}, nil
	}
	return decision{}, conflict
}
