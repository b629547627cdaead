package command

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/recent"
)

// RecordAttendance is a check-in or a check-out of the actor, at the
// server's clock.
type RecordAttendance struct {
	Actor   employee.Employee
	Origin  Origin
	CheckIn bool // a check-in; a check-out otherwise
}

// RecordAttendanceHandler decides check-ins and check-outs through a cache
// of folded attendance state, so that one costs a single round trip.
type RecordAttendanceHandler struct {
	store    EventStore
	states   *attendanceStates
	holidays *RecentHolidays
	rules    attendance.Rules
	now      Now
}

// NewRecordAttendanceHandler returns the handler, caching holidays in holidays.
func NewRecordAttendanceHandler(store EventStore, holidays *RecentHolidays, rules attendance.Rules, now Now) *RecordAttendanceHandler {
	return &RecordAttendanceHandler{store: store, states: newAttendanceStates(), holidays: holidays, rules: rules, now: now}
}

// Rules are the attendance rules the handler decides by.
func (h *RecordAttendanceHandler) Rules() attendance.Rules { return h.rules }

// Recorded is a check-in or check-out as decided: an attendance.CheckedIn or
// attendance.CheckedOut and the id of its event. A check-in that closed a
// forgotten check-out first is still the CheckedIn.
type Recorded struct {
	Event any
	ID    string
}

// Handle records the check-in or check-out.
func (h *RecordAttendanceHandler) Handle(ctx context.Context, cmd RecordAttendance) (Recorded, error) {
	if err := authorize(cmd.Actor, access.AttendanceRecord, cmd.Actor); err != nil {
		return Recorded{}, err
	}
	at := h.now()
	id := cmd.Actor.EmployeeID
	var decision attendance.Command = attendance.CheckOut{EmployeeID: id, Rules: h.rules}
	if cmd.CheckIn {
		days, err := h.holidays.around(ctx, h.store, cmd.Actor, at)
		if err != nil {
			return Recorded{}, err
		}
		decision = attendance.CheckIn{EmployeeID: id, Schedule: cmd.Actor.Schedule, Holidays: days, Rules: h.rules}
	}
	origin := func([]any) Origin { return cmd.Origin }
	d, err := h.states.decide(ctx, h.store, origin, id, attendance.Stream(id), func(s attendance.State) ([]any, error) {
		return attendance.Decide(s, decision, at)
	})
	if err != nil {
		return Recorded{}, err
	}
	last := len(d.events) - 1
	return Recorded{Event: d.events[last], ID: d.ids[last].String()}, nil
}

// RecentHolidays are the holidays of each calendar's recent years as read at
// most recent.TTL ago: every check-in needs those of its employee's
// calendar. Declaring or withdrawing a holiday forgets its calendar's year.
type RecentHolidays struct {
	cache *recent.Cache[calendar.Holidays]
}

// NewRecentHolidays returns an empty cache.
func NewRecentHolidays() *RecentHolidays {
	return &RecentHolidays{cache: recent.New[calendar.Holidays](recent.TTL)}
}

// around returns the holidays of e's calendar in the year of e's local date
// at t.
func (r *RecentHolidays) around(ctx context.Context, store EventStore, e employee.Employee, t time.Time) (calendar.Holidays, error) {
	loc, err := e.Schedule.Location()
	if err != nil {
		return nil, err
	}
	year := calendar.DateOf(t, loc).Year
	stream := holiday.Stream(e.HolidayCalendar, year)
	if h, ok := r.cache.Get(stream); ok {
		return h, nil
	}
	h, err := LoadHolidays(ctx, store, e.HolidayCalendar, year)
	if err != nil {
		return nil, err
	}
	r.cache.Put(stream, h)
	return h, nil
}

func (r *RecentHolidays) forget(code string, year int) { r.cache.Forget(holiday.Stream(code, year)) }

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

// decide is update for an attendance stream, through the cache. A cached
// state is decided on without loading: the append carries its version, so a
// stale one conflicts and the rest is loaded; a refusal is only trusted on a
// state just loaded. A check-in or check-out then costs one round trip.
// origin gives the origin of the events decided, which may derive their ids.
func (c *attendanceStates) decide(ctx context.Context, store EventStore, origin func(events []any) Origin, actor, stream string,
	decide func(attendance.State) ([]any, error)) (decision, error) {
	cur, cached := c.get(stream)
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
			c.put(stream, cur)
			return decision{}, err
		}
		data, err := origin(events).eventData(actor, stream, events)
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
			c.forget(stream)
		default:
			next := cur
			for _, ev := range events {
				next.state.Apply(ev)
			}
			next.version = res.LastVersion
			c.put(stream, next)
		}
		return newDecision(nil, nil, events, data), nil
	}
	return decision{}, storeError(conflict)
}
