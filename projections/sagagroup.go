package projections

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/internal/writebehind"
	"github.com/acme/employee-tracking/projections/saga"
)

// sagaGroup runs the sagas of one stream category as one consumer group:
// each event is read and decoded once, and every saga reacts to it in turn.
//
// The group tracks the last version it reacted to of each stream, as a
// projection does, so that a lost message is found and fetched from the
// store, and records the versions a batch moved before the batch is
// acknowledged. It keeps them in memory too, and reads from the database only
// the versions of streams it has not met yet: a batch that only passes events
// by costs one write.
type sagaGroup struct {
	group    string
	category string
	sagas    []saga.Saga
	pool     *pgxpool.Pool
	// raise appends the notifications the sagas raise in a batch.
	raise command.RaiseNotificationHandler
	// reactsTo holds the event types some saga of the group reacts to.
	reactsTo map[string]bool

	mu sync.Mutex
	// handled is the last version reacted to of each stream this process
	// has met.
	handled map[string]int64
}

// sagaGroups groups sagas by category, in the order of their first saga.
func sagaGroups(sagas []saga.Saga, pool *pgxpool.Pool, raise command.RaiseNotificationHandler) []*sagaGroup {
	var groups []*sagaGroup
	byCategory := map[string]*sagaGroup{}
	for _, s := range sagas {
		g, ok := byCategory[s.Category]
		if !ok {
			g = &sagaGroup{group: saga.Group(s.Category), category: s.Category, pool: pool, raise: raise,
				reactsTo: map[string]bool{}, handled: map[string]int64{}}
			byCategory[s.Category] = g
			groups = append(groups, g)
		}
		g.sagas = append(g.sagas, s)
		for _, typ := range s.On {
			g.reactsTo[typ] = true
		}
	}
	return groups
}

func (g *sagaGroup) name() string { return g.group }

func (g *sagaGroup) reads() string { return g.category }

func (g *sagaGroup) linger() time.Duration { return 0 }

// decodes tells which events the group looks into: most of a category's
// (check-outs, leave days) no saga reacts to, and decoding them cost the
// group as much as the rest of its work.
func (g *sagaGroup) decodes(eventType string) bool { return g.reactsTo[eventType] }

func (g *sagaGroup) handleBatch(ctx context.Context, events []eventstore.Event) error {
	last := map[string]int64{}
	var unknown []string
	g.mu.Lock()
	for _, s := range streamsOf(events) {
		if v, ok := g.handled[s]; ok {
			last[s] = v
		} else {
			unknown = append(unknown, s)
		}
	}
	g.mu.Unlock()
	if len(unknown) > 0 {
		rows, err := g.pool.Query(ctx, selectVersionsSQL, g.group, unknown)
		if err == nil {
			err = scanVersions(rows, last)
		}
		if err != nil {
			return fmt.Errorf("%s: load versions: %w", g.group, err)
		}
	}
	// The notifications of the batch are appended together, after its
	// reactions and before its versions are saved: one commit, rather than
	// one each, and a batch that fails has its reactions made again, which
	// append only what is not stored.
	reacting, gathered := command.GatherNotifications(saga.RememberLookups(ctx))
	reacted, err := nextVersions(events, last, func(e eventstore.Event) error { return g.react(reacting, e) })
	if err != nil {
		return err
	}
	if err := g.raise.AppendGathered(ctx, gathered); err != nil {
		return fmt.Errorf("%s: append notifications: %w", g.group, err)
	}
	if len(reacted) > 0 {
		// One implicit transaction, committed without waiting for the disk:
		// a lost version only makes the group react again, which appends
		// nothing.
		b := &pgx.Batch{}
		b.Queue(writebehind.AsyncCommit)
		queueSaveVersions(b, g.group, reacted)
		if err := g.pool.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("%s: save versions: %w", g.group, err)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for s, v := range last {
		g.handled[s] = max(g.handled[s], v)
	}
	return nil
}

// react runs every saga of the group on e. A passing failure of any is
// returned first, so that the event is retried rather than parked; a saga
// that cannot ever handle e does not keep the others from reacting.
func (g *sagaGroup) react(ctx context.Context, e eventstore.Event) error {
	var permanent error
	if !g.reactsTo[e.Type] {
		return nil
	}
	for _, s := range g.sagas {
		if !slices.Contains(s.On, e.Type) {
			continue
		}
		err := s.React(ctx, e)
		switch {
		case err == nil:
		case !isPermanent(err):
			return fmt.Errorf("%s: %w", s.Name, err)
		case permanent == nil:
			permanent = fmt.Errorf("%s: %w", s.Name, err)
		}
	}
	return permanent
}
