package eventcodec

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/catalog"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/testdb"
)

// The example to copy when an event changes (docs/events.md): the event
// "example.leave_requested" was first stored with a number of days; its
// schema version 2 holds minutes of leave, 480 to a day, as the leave account
// does. Its upcaster turns the data of version 1 into that of version 2.

// requestedV1 is the event as the program stored it before the change. Only
// this test keeps it, to store what that program stored; the change itself
// replaces the type.
type requestedV1 struct {
	RequestID string `json:"request_id"`
	Days      int    `json:"days"`
}

func (requestedV1) EventName() string { return "example.leave_requested" }

// requested is the event since the change: schema version 2.
type requested struct {
	RequestID string `json:"request_id"`
	Minutes   int    `json:"minutes"`
}

func (requested) EventName() string  { return "example.leave_requested" }
func (requested) SchemaVersion() int { return 2 }

// upcastDaysToMinutes turns version 1 into version 2. It edits the fields it
// changes and keeps the others as they are, so it needs no copy of the old type.
func upcastDaysToMinutes(data json.RawMessage) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	var days int
	if err := json.Unmarshal(fields["days"], &days); err != nil {
		return nil, fmt.Errorf("days: %w", err)
	}
	delete(fields, "days")
	fields["minutes"] = json.RawMessage(fmt.Sprint(days * 480))
	return json.Marshal(fields)
}

// exampleUpcasters is what catalog.Upcasters would list for the change.
var exampleUpcasters = []catalog.Upcaster{{Event: "example.leave_requested", From: 1, Up: upcastDaysToMinutes}}

// TestUpcasterReadsStoredV1EventsAsV2 stores events at version 1 with the
// program as it was, then reads them with the program as it is: Load and the
// feed return version 2, and the stored rows keep what was written.
func TestUpcasterReadsStoredV1EventsAsV2(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	const stream, stored = "example-e1", 3000

	before, err := build([]any{requestedV1{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := make([]eventstore.EventData, stored)
	want := make([]eventstore.Payload, stored, stored+1)
	for i := range old {
		old[i] = eventstore.EventData{ID: uuid.New(), Payload: requestedV1{RequestID: fmt.Sprint("r", i), Days: i % 20}}
		want[i] = requested{RequestID: fmt.Sprint("r", i), Minutes: i % 20 * 480}
	}
	if _, err := eventstore.New(pool, before).Append(ctx, stream, eventstore.NoStream, old...); err != nil {
		t.Fatal(err)
	}

	if _, err := build([]any{requested{}}, nil); err == nil {
		t.Fatal("a codec at version 2 without the upcaster from version 1 started; want it refused")
	}
	after, err := build([]any{requested{}}, exampleUpcasters)
	if err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool, after)
	if _, err := store.Append(ctx, stream, stored, eventstore.EventData{ID: uuid.New(), Payload: requested{RequestID: "new", Minutes: 240}}); err != nil {
		t.Fatal(err)
	}
	want = append(want, requested{RequestID: "new", Minutes: 240})

	loaded, err := store.Load(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	checkReadAsV2(t, "Load", loaded, want)

	// Another test's transaction on the server holds the feed's fence back
	// for a while: read until every event has come.
	var fed []eventstore.Event
	cursor, deadline := eventstore.Cursor{}, time.Now().Add(30*time.Second)
	for len(fed) < len(want) && time.Now().Before(deadline) {
		page, next, err := store.ReadFeed(ctx, cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		fed, cursor = append(fed, page...), next
	}
	checkReadAsV2(t, "the feed", fed, want)
}

// checkReadAsV2 compares the payloads of events with want, and says whether each
// event is still stored as written: the old ones at version 1 with days.
func checkReadAsV2(t *testing.T, how string, events []eventstore.Event, want []eventstore.Payload) {
	t.Helper()
	got := make([]eventstore.Payload, len(events))
	for i, e := range events {
		got[i] = e.Payload
		wantVersion, wantField := 1, "days"
		if i == len(want)-1 {
			wantVersion, wantField = 2, "minutes"
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(e.Data, &fields); err != nil {
			t.Fatal(err)
		}
		if _, ok := fields[wantField]; e.SchemaVersion != wantVersion || !ok || len(fields) != 2 {
			t.Fatalf("%s: event %d is stored at schema version %d as %s; want version %d with %q", how, i, e.SchemaVersion, e.Data, wantVersion, wantField)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", how, diff)
	}
}

func TestUpcastDaysToMinutesRefusesWhatVersion1NeverStored(t *testing.T) {
	t.Parallel()
	for _, data := range []string{`{}`, `{"days":"2"}`, `{"days":1.5}`, `[]`, `null`, `{"days":`} {
		if got, err := upcastDaysToMinutes(json.RawMessage(data)); err == nil {
			t.Errorf("upcast %s = %s, want an error", data, got)
		}
	}
}
