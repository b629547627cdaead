package projections

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/projections/bus"
)

// The groups of a process share what one of them decoded, the last
// decodedEventsKept events, and never an event with personal fields.
func TestDecodedEventsKeepsTheLastEventsWithNothingPersonal(t *testing.T) {
	t.Parallel()
	codec, err := eventcodec.New()
	if err != nil {
		t.Fatal(err)
	}
	d := newDecodedEvents(codec)
	checkIn := func() eventstore.Event {
		return eventstore.Event{ID: uuid.New(), Type: attendance.CheckedIn{}.EventName(), Payload: attendance.CheckedIn{EmployeeID: "e1"}}
	}
	first := checkIn()
	d.keep(first)
	if got, ok := d.get(first.ID); !ok || got.Payload != first.Payload {
		t.Fatalf("get of a kept check-in: %+v, %v", got, ok)
	}
	raised := eventstore.Event{ID: uuid.New(), Type: notification.Raised{}.EventName(), Payload: notification.Raised{Message: "Ayşe was late"}}
	d.keep(raised)
	if _, ok := d.get(raised.ID); ok {
		t.Error("a notification, personal, was kept")
	}
	d.keep(first) // kept once, however many groups decode it
	for range decodedEventsKept - 1 {
		d.keep(checkIn())
	}
	if _, ok := d.get(first.ID); !ok {
		t.Errorf("the oldest of %d events kept is gone", decodedEventsKept)
	}
	last := checkIn()
	d.keep(last)
	if _, ok := d.get(first.ID); ok {
		t.Errorf("the oldest is still kept after %d more", decodedEventsKept)
	}
	if _, ok := d.get(last.ID); !ok || len(d.byID) != decodedEventsKept {
		t.Errorf("after %d events: the last kept %v, %d kept, want %d", decodedEventsKept+1, ok, len(d.byID), decodedEventsKept)
	}
}

// readsAttendance is a consumer of the attendance category that handles
// nothing: eventOf only asks its name and category.
type readsAttendance struct{ consumer }

func (readsAttendance) reads() string { return "attendance" }

// A group reading an event another group of its process decoded takes that
// decoding: the message's id finds it, and its payload is not read again.
func TestGroupsOfAProcessDecodeAnEventOnce(t *testing.T) {
	t.Parallel()
	codec, err := eventcodec.New()
	if err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(nil, codec)
	rt := &runtime{store: store, decoded: newDecodedEvents(codec)}
	checkIn := attendance.CheckedIn{EmployeeID: "e1", Late: true, LateMinutes: 7}
	data, err := json.Marshal(checkIn)
	if err != nil {
		t.Fatal(err)
	}
	e := eventstore.Event{ID: uuid.New(), StreamID: "attendance-e1", Version: 1, Type: checkIn.EventName(), SchemaVersion: 1, Data: data}
	msg, err := bus.EventMessage(e)
	if err != nil {
		t.Fatal(err)
	}
	first, err := rt.eventOf(readsAttendance{}, msg)
	if err != nil || first.Payload != checkIn {
		t.Fatalf("first decoding: %+v, %v; want the check-in", first.Payload, err)
	}
	// The same message as another group reads it, its payload spoiled:
	// read again, it would fail.
	again := msg.Copy()
	again.Payload = []byte("{")
	second, err := rt.eventOf(readsAttendance{}, again)
	if err != nil || second.Payload != checkIn {
		t.Errorf("the second group's: %+v, %v; want the first group's decoding", second.Payload, err)
	}
}
