package projections

import (
	"sync"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/eventstore"
)

// decodedEventsKept is how many decoded events a process keeps for its other
// groups: at a steady 5,000 events a second, the last 0.8 s, while the
// groups of a category read the same event within tens of milliseconds of
// each other.
const decodedEventsKept = 4096

// decodedEvents keeps the events the process's consumer groups decoded last,
// by id, for the other groups of the category that read the same events from
// the bus: every group of a category reads every event, and decoding each
// was a tenth of the server's CPU in HTTP check-ins, three times a check-in.
// The groups share the decoded payloads read-only, as a hand-over does. An
// event with personal fields is not kept: opened, its fields would outlive
// an erasure that came after.
type decodedEvents struct {
	personal map[string]bool // the event types with personal fields

	mu   sync.Mutex
	byID map[uuid.UUID]eventstore.Event
	ring [decodedEventsKept]uuid.UUID // the ids kept, the oldest at next
	next int
}

func newDecodedEvents(codec *eventstore.Codec) *decodedEvents {
	d := &decodedEvents{personal: map[string]bool{}, byID: make(map[uuid.UUID]eventstore.Event, decodedEventsKept)}
	for _, name := range codec.PersonalEvents() {
		d.personal[name] = true
	}
	return d
}

// get returns the event of id as a group decoded it, if it is kept.
func (d *decodedEvents) get(id uuid.UUID) (eventstore.Event, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.byID[id]
	return e, ok
}

// keep keeps e, decoded, in place of the oldest kept.
func (d *decodedEvents) keep(e eventstore.Event) {
	if d.personal[e.Type] {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.byID[e.ID]; ok {
		return
	}
	delete(d.byID, d.ring[d.next])
	d.ring[d.next] = e.ID
	d.byID[e.ID] = e
	d.next = (d.next + 1) % len(d.ring)
}
