package command

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/validation"
	"github.com/acme/employee-tracking/eventstore"
)

// EventStore is what the commands need of the event store;
// *eventstore.Store satisfies it.
type EventStore interface {
	Load(ctx context.Context, stream string) ([]eventstore.Event, error)
	LoadFrom(ctx context.Context, stream string, afterVersion int64) ([]eventstore.Event, error)
	Append(ctx context.Context, stream string, expected int64, events ...eventstore.EventData) (eventstore.AppendResult, error)
	Update(ctx context.Context, stream string, decide func(history []eventstore.Event) ([]eventstore.EventData, error)) (eventstore.AppendResult, error)
	AppendAll(ctx context.Context, appends []eventstore.StreamAppend) ([]eventstore.AppendResult, error)
}

// Now is the clock of the commands.
type Now func() time.Time

// IDSpace derives stable ids from names: the same name gives the same id,
// so repeating the work that names it appends nothing twice. Ids of
// different spaces never meet.
type IDSpace uuid.UUID

// The spaces of derived ids. They are part of the stored history: an id
// derived anew must equal the one stored, so neither space ever changes.
var (
	// CommandIDs are the ids of what the commands record: employees (from
	// their email) and the events of commands repeated with an
	// idempotency key.
	CommandIDs = IDSpace(uuid.MustParse("6f1c2a9e-4b7d-5e21-9c3a-0d8e7f6a5b41"))
	// ReactionIDs are the ids of what the sagas and the daily sweep record,
	// derived from what caused it.
	ReactionIDs = IDSpace(uuid.MustParse("6f1d7c56-4c1e-4d0a-9a57-2f0d3b8e5a11"))
)

// ID is the id of the thing named by parts.
func (s IDSpace) ID(parts ...string) uuid.UUID {
	var name []byte
	for i, p := range parts {
		if i > 0 {
			name = append(name, 0)
		}
		name = append(name, p...)
	}
	return uuid.NewSHA1(uuid.UUID(s), name)
}

// DerivedID is the id of the thing named by parts among the commands' ids.
func DerivedID(parts ...string) uuid.UUID { return CommandIDs.ID(parts...) }

// Origin says on behalf of which request a command runs: it becomes the
// metadata of its events and, with an idempotency key, their ids.
type Origin struct {
	RequestID      string
	IdempotencyKey string
	CausationID    string
	CorrelationID  string
	// seed makes event ids deterministic when set; empty means random ids,
	// unless the idempotency key names them.
	seed string
	// reactionKind and reactionCause, when set, derive the event ids in
	// ReactionIDs, as the sagas and the daily sweep always have.
	reactionKind, reactionCause string
}

// Reaction is the origin of what a saga or the daily sweep records in
// reaction to cause (an event id, or a key such as "grant/<employee>/<year>"):
// its i-th event's id is ReactionIDs.ID(kind, cause, i), so reacting twice
// appends nothing. causationID and correlationID go into the metadata.
func Reaction(kind, cause, causationID, correlationID string) Origin {
	return Origin{CausationID: causationID, CorrelationID: correlationID, reactionKind: kind, reactionCause: cause}
}

// SystemActor is the actor recorded for what no user asked for.
const SystemActor = "system"

// withSeed returns o with ids derived from seed, for commands whose identity
// is their content (a registration, a yearly grant).
func (o Origin) withSeed(seed string) Origin {
	o.seed = seed
	return o
}

// idSeed is what the ids of actor's events derive from, or "" for random ids.
func (o Origin) idSeed(actor string) string {
	switch {
	case o.seed != "":
		return o.seed
	case o.IdempotencyKey != "" && actor != "":
		return "idem\x00" + actor + "\x00" + o.IdempotencyKey
	}
	return ""
}

// newID is the id of a thing of kind that actor's command makes: derived
// from the idempotency key when there is one, so that a repeat makes the
// same thing, random otherwise.
func (o Origin) newID(actor, kind string) uuid.UUID {
	if seed := o.idSeed(actor); seed != "" {
		return DerivedID(seed, kind)
	}
	return uuid.New()
}

// metadata is the metadata of actor's events.
func (o Origin) metadata(actor string) eventstore.Metadata {
	return eventstore.Metadata{
		Actor: actor, RequestID: o.RequestID, IdempotencyKey: o.IdempotencyKey,
		CausationID: o.CausationID, CorrelationID: o.CorrelationID,
	}
}

// eventData makes events appendable on stream, recorded as actor's.
func (o Origin) eventData(actor, stream string, events []any) ([]eventstore.EventData, error) {
	meta := o.metadata(actor)
	seed := o.idSeed(actor)
	out := make([]eventstore.EventData, len(events))
	for i, ev := range events {
		p, ok := ev.(eventstore.Payload)
		if !ok {
			return nil, fmt.Errorf("event %T has no name", ev)
		}
		id := uuid.New()
		switch {
		case o.reactionCause != "":
			id = ReactionIDs.ID(o.reactionKind, o.reactionCause, strconv.Itoa(i))
		case seed != "":
			id = DerivedID(seed, stream, p.EventName(), strconv.Itoa(i))
		}
		out[i] = eventstore.EventData{ID: id, Payload: p, Metadata: meta}
	}
	return out, nil
}

// decision is what a command decided: the history it decided on and the
// events it appended. Answers are built from it, never from a read model, so
// a command's answer shows its own effect.
type decision struct {
	// stored is the stream's history as loaded, with versions.
	stored []eventstore.Event
	// history and events are the payloads before and of the decision.
	history, events []any
	// ids are the ids of events.
	ids []uuid.UUID
}

// after is the stream's history with the decided events.
func (d decision) after() []any { return append(append([]any(nil), d.history...), d.events...) }

func newDecision(stored []eventstore.Event, history, events []any, data []eventstore.EventData) decision {
	ids := make([]uuid.UUID, len(data))
	for i, e := range data {
		ids[i] = e.ID
	}
	return decision{stored: stored, history: history, events: events, ids: ids}
}

// errConcurrent is a change that lost the race for its stream more often
// than the store retries.
const errConcurrent = "the resource was changed concurrently; retry"

// storeError gives the store's errors their kind.
func storeError(err error) error {
	var conflict *eventstore.ConflictError
	if errors.As(err, &conflict) {
		return errkind.Wrap(errkind.Conflict, errConcurrent, err)
	}
	return err
}

// update decides on the stream's current history and appends the result as
// actor's, with optimistic concurrency; the store retries a conflict a few
// times.
func update(ctx context.Context, store EventStore, o Origin, actor, stream string, decide func(history []any) ([]any, error)) (decision, error) {
	return updateStored(ctx, store, o, actor, stream, func(stored []eventstore.Event) ([]any, error) {
		return decide(Payloads(stored))
	})
}

// updateStored is update for a decision that reads the stored events, their
// recording times for one.
func updateStored(ctx context.Context, store EventStore, o Origin, actor, stream string, decide func(stored []eventstore.Event) ([]any, error)) (decision, error) {
	var (
		stored       []eventstore.Event
		history, evs []any
		data         []eventstore.EventData
	)
	_, err := store.Update(ctx, stream, func(s []eventstore.Event) ([]eventstore.EventData, error) {
		stored, history = s, Payloads(s)
		events, err := decide(s)
		if err != nil {
			return nil, err
		}
		evs = events
		data, err = o.eventData(actor, stream, events)
		return data, err
	})
	if err != nil {
		return decision{}, storeError(err)
	}
	return newDecision(stored, history, evs, data), nil
}

// Payloads are the payloads of events.
func Payloads(events []eventstore.Event) []any {
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
	return Payloads(events), nil
}

// LoadEmployee returns the current state of an employee, or
// employee.ErrNotFound.
func LoadEmployee(ctx context.Context, store EventStore, id string) (employee.Employee, error) {
	e, _, err := LoadEmployeeAt(ctx, store, id)
	return e, err
}

// LoadEmployeeAt is LoadEmployee, and the version of the employee's stream
// that the state was folded to.
func LoadEmployeeAt(ctx context.Context, store EventStore, id string) (employee.Employee, int64, error) {
	events, err := store.Load(ctx, employee.Stream(id))
	if err != nil {
		return employee.Employee{}, 0, err
	}
	e := employee.Replay(Payloads(events))
	if !e.Exists {
		return employee.Employee{}, 0, employee.ErrNotFound
	}
	return e, events[len(events)-1].Version, nil
}

// LoadHolidays returns the holidays of the calendar code in the given years.
func LoadHolidays(ctx context.Context, store EventStore, code string, years ...int) (calendar.Holidays, error) {
	out := calendar.Holidays{}
	for _, y := range years {
		history, err := loadPayloads(ctx, store, holiday.Stream(code, y))
		if err != nil {
			return nil, err
		}
		for d, name := range holiday.Replay(history).Holidays() {
			out[d] = name
		}
	}
	return out, nil
}

// LoadHolidayCalendars returns the company's holiday calendars.
func LoadHolidayCalendars(ctx context.Context, store EventStore) (holiday.Calendars, error) {
	history, err := loadPayloads(ctx, store, holiday.CalendarsStream())
	if err != nil {
		return holiday.Calendars{}, err
	}
	return holiday.ReplayCalendars(history), nil
}

// RequireHolidayCalendar returns holiday.ErrUnknownCalendar unless a holiday
// calendar has code, and a validation error naming field for a code no
// calendar could have. The default calendar needs no read.
func RequireHolidayCalendar(ctx context.Context, store EventStore, code, field string) error {
	if code == holiday.Default {
		return nil
	}
	if msg := validation.CheckCode(code); msg != "" {
		return errkind.InvalidField("invalid input", field, msg)
	}
	cals, err := LoadHolidayCalendars(ctx, store)
	if err != nil {
		return err
	}
	if !cals.Has(code) {
		return holiday.ErrUnknownCalendar
	}
	return nil
}

// checkHolidayCalendar refuses a code in a request body that names no
// holiday calendar: well-formed, but a business rule refuses it (422), the
// field named.
func checkHolidayCalendar(ctx context.Context, store EventStore, code, field string) error {
	err := RequireHolidayCalendar(ctx, store, code, field)
	if errors.Is(err, holiday.ErrUnknownCalendar) {
		return &errkind.Error{Kind: errkind.Unprocessable, Message: "no holiday calendar has that code",
			Fields: map[string]string{field: "must name a holiday calendar"}, Err: err}
	}
	return err
}

// LoadLeaveTypes returns the company's leave policy: the built-in types of
// policy and what admins made or changed.
func LoadLeaveTypes(ctx context.Context, store EventStore, policy leave.Policy) (leave.Types, error) {
	history, err := loadPayloads(ctx, store, leave.TypesStream())
	if err != nil {
		return leave.Types{}, err
	}
	return leave.ReplayTypes(policy, history), nil
}

// LoadLeaveBlocks returns the company's blocked periods in force, as the
// store holds them: a block counts from the moment its append committed.
func LoadLeaveBlocks(ctx context.Context, store EventStore) (leave.Blocks, error) {
	history, err := loadPayloads(ctx, store, leave.BlocksStream())
	if err != nil {
		return leave.Blocks{}, err
	}
	return leave.ReplayBlocks(history), nil
}
