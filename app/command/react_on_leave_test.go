package command

import (
	"context"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
)

// recordingStore decides on the history it holds and records what would be
// appended.
type recordingStore struct {
	EventStore
	history  []eventstore.Event
	appended []eventstore.EventData
}

func (s *recordingStore) Update(_ context.Context, _ string, decide func([]eventstore.Event) ([]eventstore.EventData, error)) (eventstore.AppendResult, error) {
	data, err := decide(s.history)
	s.appended = append(s.appended, data...)
	return eventstore.AppendResult{}, err
}

// Load finds no other stream: the company has only the built-in leave types.
func (s *recordingStore) Load(context.Context, string) ([]eventstore.Event, error) { return nil, nil }

// TestReactionsAppendTheSagasIDs: a deduction and a yearly grant run with a
// Reaction origin append events whose ids and metadata are the ones the
// sagas and the sweep derived and stored before they called the commands
// (computed apart with Python's uuid5), so a redelivered cause
// appends nothing.
func TestReactionsAppendTheSagasIDs(t *testing.T) {
	t.Parallel()
	const (
		checkIn  = "0b6c8f0e-8d7a-4c65-9a3e-1f2d3c4b5a69"
		employee = "d7a9b2c4-1e3f-4a5b-8c6d-7e8f9a0b1c2d"
	)
	policy := leave.Policy{AnnualDays: 15, LowThresholdDays: 3, LatenessDeductsLeave: true}
	at := time.Date(2024, 3, 5, 6, 40, 0, 0, time.UTC)

	grants := &recordingStore{}
	err := NewGrantLeaveYearHandler(grants, policy, func() time.Time { return at }).Handle(context.Background(), GrantLeaveYear{
		Origin: Reaction("leave", "grant/"+employee+"/2024", "", "4d52dd8c-c8ff-5f9d-9165-494adc5c03c1"),
		Actor:  "daily-sweep", EmployeeID: employee, Year: 2024,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(grants.appended) != 1 {
		t.Fatalf("grant appended %d events, want 1", len(grants.appended))
	}
	if got, want := grants.appended[0].ID.String(), "8d1bc071-1ded-5106-84e8-896b2800b5de"; got != want {
		t.Errorf("grant's event id = %s, want %s", got, want)
	}
	if m := grants.appended[0].Metadata; m != (eventstore.Metadata{Actor: "daily-sweep", CorrelationID: "4d52dd8c-c8ff-5f9d-9165-494adc5c03c1"}) {
		t.Errorf("grant's metadata = %+v", m)
	}

	deductions := &recordingStore{history: []eventstore.Event{{Version: 1, Payload: grants.appended[0].Payload}}}
	err = NewDeductLatenessHandler(deductions, policy).Handle(context.Background(), DeductLateness{
		Origin: Reaction("leave", checkIn, checkIn, "corr-1"), Actor: "saga.deduct_leave_on_late_check_in",
		EmployeeID: employee, Date: calendar.Date{Year: 2024, Month: 3, Day: 5}, LateMinutes: 40, At: at,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(deductions.appended) == 0 {
		t.Fatal("the deduction appended nothing")
	}
	if got, want := deductions.appended[0].ID.String(), "be4ef06b-5c6e-5204-975e-2f723bc89c6f"; got != want {
		t.Errorf("deduction's event id = %s, want %s", got, want)
	}
	want := eventstore.Metadata{Actor: "saga.deduct_leave_on_late_check_in", CausationID: checkIn, CorrelationID: "corr-1"}
	if m := deductions.appended[0].Metadata; m != want {
		t.Errorf("deduction's metadata = %+v, want %+v", m, want)
	}
}
