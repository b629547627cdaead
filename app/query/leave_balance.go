package query

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
)

// LeaveBalance names a balance of an employee: of a leave type (empty:
// annual) and a leave year, on a calendar date (zero: the whole year, with
// what is due by today), from the events recorded up to AsOf (zero: now).
type LeaveBalance struct {
	Employee employee.Employee
	Type     string
	Year     int
	On       calendar.Date
	AsOf     time.Time
}

// TypedBalance is the balance of one leave type.
type TypedBalance struct {
	Type    string
	Balance leave.Balance
}

// ErrUnknownLeaveType answers a balance of a type the company does not have.
var ErrUnknownLeaveType error = errkind.InvalidField("unknown leave type", "leave_type", "unknown leave type")

// LeaveBalanceHandler folds an employee's balances from their leave stream
// and the company's leave types, so a balance is exact the moment a command
// is answered, and due credits and lapses count whether or not any process
// ran on their day.
type LeaveBalanceHandler struct {
	store   EventStore
	policy  leave.Policy
	now     func() time.Time
	streams *leaveStreams
}

// NewLeaveBalanceHandler returns the handler; policy gives the built-in
// types.
func NewLeaveBalanceHandler(store EventStore, policy leave.Policy, now func() time.Time) LeaveBalanceHandler {
	return LeaveBalanceHandler{store: store, policy: policy, now: now, streams: newLeaveStreams()}
}

// Handle returns the balance q names.
func (h LeaveBalanceHandler) Handle(ctx context.Context, q LeaveBalance) (leave.Balance, error) {
	_, b, err := h.Ledger(ctx, q)
	return b, err
}

// Ledger returns the lines that explain the balance q names, and the
// balance.
func (h LeaveBalanceHandler) Ledger(ctx context.Context, q LeaveBalance) ([]leave.Line, leave.Balance, error) {
	acct, types, of, err := h.load(ctx, q)
	if err != nil {
		return nil, leave.Balance{}, err
	}
	if _, ok := types.On(of.Type, calendar.Date{Year: q.Year, Month: time.January, Day: 1}); !ok {
		return nil, leave.Balance{}, ErrUnknownLeaveType
	}
	lines, b := acct.Ledger(types, of)
	return lines, b, nil
}

// All returns the balance of every active type in the year q names (its
// Type aside).
func (h LeaveBalanceHandler) All(ctx context.Context, q LeaveBalance) ([]TypedBalance, error) {
	acct, types, of, err := h.load(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []TypedBalance
	for _, typ := range types.Current() {
		if !typ.Active {
			continue
		}
		of.Type = typ.Code
		out = append(out, TypedBalance{Type: typ.Code, Balance: acct.Balance(types, of)})
	}
	return out, nil
}

// load reads the account and the leave types as recorded by q's AsOf;
// without one, everything recorded, whatever the clocks say.
func (h LeaveBalanceHandler) load(ctx context.Context, q LeaveBalance) (leave.Account, leave.Types, leave.BalanceOf, error) {
	stream := leave.Stream(q.Employee.EmployeeID)
	var (
		history []leave.Positioned
		types   leave.Types
		err     error
	)
	asOf := q.AsOf
	if asOf.IsZero() {
		asOf = h.now()
		history, err = h.streams.load(ctx, h.store, stream)
		if err == nil {
			types, err = h.currentTypes(ctx)
		}
	} else {
		var events, policy []eventstore.Event
		events, err = h.store.LoadUntil(ctx, stream, asOf)
		if err == nil {
			policy, err = h.store.LoadUntil(ctx, leave.TypesStream(), asOf)
		}
		history, types = positioned(nil, events), leave.ReplayTypes(h.policy, command.Payloads(policy))
	}
	if err != nil {
		return leave.Account{}, leave.Types{}, leave.BalanceOf{}, err
	}
	of := leave.BalanceOf{
		Type: cmp.Or(q.Type, leave.TypeAnnual), Year: q.Year, On: q.On, Employment: command.EmploymentOf(q.Employee, asOf),
	}
	return leave.ReplayPositioned(history), types, of, nil
}

// currentTypes are the leave types as they stand.
func (h LeaveBalanceHandler) currentTypes(ctx context.Context) (leave.Types, error) {
	history, err := h.streams.load(ctx, h.store, leave.TypesStream())
	if err != nil {
		return leave.Types{}, err
	}
	events := make([]any, len(history))
	for i, e := range history {
		events[i] = e.Event
	}
	return leave.ReplayTypes(h.policy, events), nil
}

func positioned(history []leave.Positioned, events []eventstore.Event) []leave.Positioned {
	for _, e := range events {
		history = append(history, leave.Positioned{Position: e.Position, Event: e.Payload})
	}
	return history
}

// leaveStreams keeps each leave stream's (and the policy stream's) events
// read so far, with the
// version they reach: a balance reads only what was appended since, and
// ten years of leave are not decoded again at every request. Entries are
// never changed in place, so readers share them.
type leaveStreams struct {
	mu sync.Mutex
	m  map[string]readStream
}

type readStream struct {
	version int64
	history []leave.Positioned
}

// maxReadStreams bounds the cache; past it an arbitrary entry makes room.
const maxReadStreams = 10_000

func newLeaveStreams() *leaveStreams { return &leaveStreams{m: map[string]readStream{}} }

// load returns every event of stream.
func (c *leaveStreams) load(ctx context.Context, store EventStore, stream string) ([]leave.Positioned, error) {
	c.mu.Lock()
	cur := c.m[stream]
	c.mu.Unlock()
	newer, err := store.LoadFrom(ctx, stream, cur.version)
	if err != nil || len(newer) == 0 {
		return cur.history, err
	}
	// Clipped, so that appending copies rather than writing into an array
	// another reader holds.
	next := readStream{version: newer[len(newer)-1].Version, history: positioned(slices.Clip(cur.history), newer)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[stream]; ok && old.version >= next.version {
		return next.history, nil
	}
	if _, ok := c.m[stream]; !ok && len(c.m) >= maxReadStreams {
		for k := range c.m { // map order is random: evict one entry
			delete(c.m, k)
			break
		}
	}
	c.m[stream] = next
	return next.history, nil
}
