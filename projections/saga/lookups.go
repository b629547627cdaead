package saga

import (
	"context"
	"slices"
	"sync"
)

// lookups are the people and the admins that the reactions to one batch of
// events read, each once: reacting to a backlog of late check-ins, each read
// the late employee's stream and the admins, two round trips an event, and
// the pipeline worked such a backlog off at about a thousand events a second.
type lookups struct {
	mu         sync.Mutex
	persons    map[string]person
	admins     []string
	haveAdmins bool
}

type lookupsKey struct{}

// RememberLookups returns ctx, with which the sagas read each person and the
// admins once, however many of their reactions need them. The pipeline's
// saga groups react to each batch with it: what a batch reads is as current
// as a reaction's own read, the employees' streams being another category's,
// applied in no order with these events.
func RememberLookups(ctx context.Context) context.Context {
	return context.WithValue(ctx, lookupsKey{}, &lookups{persons: map[string]person{}})
}

func lookupsOf(ctx context.Context) (*lookups, bool) {
	l, ok := ctx.Value(lookupsKey{}).(*lookups)
	return l, ok
}

// person is employee id as the notifications name them, read once a batch.
func (n *notifier) person(ctx context.Context, id string) (person, error) {
	l, ok := lookupsOf(ctx)
	if !ok {
		return n.readPerson(ctx, id)
	}
	l.mu.Lock()
	p, ok := l.persons[id]
	l.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := n.readPerson(ctx, id)
	if err != nil {
		return p, err
	}
	l.mu.Lock()
	l.persons[id] = p
	l.mu.Unlock()
	return p, nil
}

// admins are the active admins, read once a batch; the caller's own copy,
// which it may change.
func (n *notifier) admins(ctx context.Context) ([]string, error) {
	l, ok := lookupsOf(ctx)
	if !ok {
		return n.queries.Admins(ctx)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.haveAdmins {
		admins, err := n.queries.Admins(ctx)
		if err != nil {
			return nil, err
		}
		l.admins, l.haveAdmins = admins, true
	}
	return slices.Clone(l.admins), nil
}
