package http

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/eventstore"
)

// EventStore is what the API needs of the event store.
type EventStore interface {
	Load(ctx context.Context, stream string) ([]eventstore.Event, error)
	LoadFrom(ctx context.Context, stream string, afterVersion int64) ([]eventstore.Event, error)
	LoadUntil(ctx context.Context, stream string, until time.Time) ([]eventstore.Event, error)
	Append(ctx context.Context, stream string, expected int64, events ...eventstore.EventData) (eventstore.AppendResult, error)
	Update(ctx context.Context, stream string, decide func(history []eventstore.Event) ([]eventstore.EventData, error)) (eventstore.AppendResult, error)
	ReadFeedFiltered(ctx context.Context, after eventstore.Cursor, limit int, f eventstore.FeedFilter) ([]eventstore.Event, eventstore.Cursor, error)
}

// idNamespace scopes the deterministic event ids derived by the API.
var idNamespace = uuid.MustParse("6f1c2a9e-4b7d-5e21-9c3a-0d8e7f6a5b41")

// derivedID is a stable id for the thing named by parts, so repeating a
// command derives the same ids and the event store appends nothing twice.
func derivedID(parts ...string) uuid.UUID {
	name := ""
	for i, p := range parts {
		if i > 0 {
			name += "\x00"
		}
		name += p
	}
	return uuid.NewSHA1(idNamespace, []byte(name))
}

// origin says who asks for a command and on behalf of which request: it
// becomes the events' metadata and, with an idempotency key, their ids.
type origin struct {
	meta eventstore.Metadata
	// seed makes event ids deterministic when set; empty means random ids.
	seed string
}

func originOf(c echo.Context) origin {
	o := origin{meta: eventstore.Metadata{
		RequestID:      requestID(c),
		IdempotencyKey: c.Request().Header.Get(headerIdempotencyKey),
		CausationID:    requestID(c),
		CorrelationID:  c.Request().Header.Get(headerCorrelationID),
	}}
	if !validID(o.meta.CorrelationID) {
		o.meta.CorrelationID = o.meta.RequestID
	}
	if p, ok := principalOf(c); ok {
		o.meta.Actor = p.EmployeeID
		if o.meta.IdempotencyKey != "" {
			o.seed = "idem\x00" + p.EmployeeID + "\x00" + o.meta.IdempotencyKey
		}
	}
	return o
}

// withSeed returns o with ids derived from seed, for commands whose identity
// is their content (a registration, a yearly grant).
func (o origin) withSeed(seed string) origin {
	o.seed = seed
	return o
}

func (o origin) eventData(stream string, events []any) ([]eventstore.EventData, error) {
	out := make([]eventstore.EventData, len(events))
	for i, ev := range events {
		p, ok := ev.(eventstore.Payload)
		if !ok {
			return nil, fmt.Errorf("event %T has no name", ev)
		}
		id := uuid.New()
		if o.seed != "" {
			id = derivedID(o.seed, stream, p.EventName(), strconv.Itoa(i))
		}
		out[i] = eventstore.EventData{ID: id, Payload: p, Metadata: o.meta}
	}
	return out, nil
}

// decision is the outcome of a command: the history it was decided on and
// the events it decided. Responses are built from these, never from a read
// model, so a command's answer shows its own effect.
type decision struct {
	stored  []eventstore.Event
	history []any
	events  []any
	data    []eventstore.EventData
	result  eventstore.AppendResult
}

// eventID is the id of the i-th decided event.
func (d decision) eventID(i int) uuid.UUID { return d.data[i].ID }

// update decides on the stream's current history and appends the result
// with optimistic concurrency; the store retries a conflict a few times.
func update(ctx context.Context, store EventStore, o origin, stream string, decide func(history []any) ([]any, error)) (decision, error) {
	var d decision
	res, err := store.Update(ctx, stream, func(stored []eventstore.Event) ([]eventstore.EventData, error) {
		d.stored, d.history = stored, payloads(stored)
		events, err := decide(d.history)
		if err != nil {
			return nil, err
		}
		d.events = events
		d.data, err = o.eventData(stream, events)
		return d.data, err
	})
	if err != nil {
		return decision{}, err
	}
	d.result = res
	return d, nil
}

func payloads(events []eventstore.Event) []any {
	out := make([]any, len(events))
	for i, e := range events {
		out[i] = e.Payload
	}
	return out
}

func loadPayloads(ctx context.Context, store EventStore, stream string) ([]any, error) {
	events, err := store.Load(ctx, stream)
	if err != nil {
		return nil, err
	}
	return payloads(events), nil
}

// loadEmployee returns the current state of an employee, or errNotFound.
func loadEmployee(ctx context.Context, store EventStore, id string) (employee.Employee, error) {
	history, err := loadPayloads(ctx, store, employee.Stream(id))
	if err != nil {
		return employee.Employee{}, err
	}
	e := employee.Replay(history)
	if !e.Exists {
		return employee.Employee{}, errNotFound
	}
	return e, nil
}

// loadHolidays returns the company holidays of the given years.
func loadHolidays(ctx context.Context, store EventStore, years ...int) (calendar.Holidays, error) {
	out := calendar.Holidays{}
	for _, y := range years {
		history, err := loadPayloads(ctx, store, holiday.Stream(y))
		if err != nil {
			return nil, err
		}
		for d, name := range holiday.Replay(history).Holidays() {
			out[d] = name
		}
	}
	return out, nil
}
