package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/acme/employee-tracking/eventstore"
)

// AppendAll stores what an Append at AnyVersion of each would, one after
// another, in one transaction: a stream's appends follow its last version in
// the order given, and a repeat stores nothing.
func TestAppendAllAppendsEachAfterItsStreamInOneTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, 4)
	s := eventstore.New(pool, newCodec(t))
	mustAppend(t, s, "inbox-a", eventstore.NoStream, event(checkedIn{Minute: 1}), event(checkedIn{Minute: 2}))
	repeated := event(checkedIn{Minute: 3})
	mustAppend(t, s, "inbox-b", eventstore.NoStream, repeated)
	var woken []eventstore.AppendResult
	s.OnAppend(func(res eventstore.AppendResult) { woken = append(woken, res) })

	results, err := s.AppendAll(ctx, []eventstore.StreamAppend{
		{Stream: "inbox-a", Events: []eventstore.EventData{event(checkedIn{Minute: 10})}},
		{Stream: "inbox-b", Events: []eventstore.EventData{repeated}},
		{Stream: "inbox-c", Events: []eventstore.EventData{event(checkedIn{Minute: 20}), event(checkedIn{Minute: 21})}},
		{Stream: "inbox-a", Events: []eventstore.EventData{event(checkedIn{Minute: 11})}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []eventstore.AppendResult{
		{StreamID: "inbox-a", FirstVersion: 3, LastVersion: 3},
		{StreamID: "inbox-b", Duplicate: true},
		{StreamID: "inbox-c", FirstVersion: 1, LastVersion: 2},
		{StreamID: "inbox-a", FirstVersion: 4, LastVersion: 4},
	}
	if !slices.Equal(results, want) {
		t.Errorf("results %+v, want %+v", results, want)
	}
	if want := slices.DeleteFunc(slices.Clone(want), func(r eventstore.AppendResult) bool { return r.Duplicate }); !slices.Equal(woken, want) {
		t.Errorf("the hooks heard %+v, want %+v", woken, want)
	}
	minutes := func(stream string) []int {
		events, err := s.Load(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, e := range events {
			out = append(out, e.Payload.(checkedIn).Minute)
		}
		return out
	}
	if got := minutes("inbox-a"); !slices.Equal(got, []int{1, 2, 10, 11}) {
		t.Errorf("inbox-a holds minutes %v, want 1 2 10 11 in that order", got)
	}
	if got := minutes("inbox-b"); !slices.Equal(got, []int{3}) {
		t.Errorf("inbox-b holds minutes %v, want the 3 it had", got)
	}
	var transactions int
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT tx_id) FROM events WHERE version > 2 OR stream_id = 'inbox-c'`).Scan(&transactions); err != nil {
		t.Fatal(err)
	}
	if transactions != 1 {
		t.Errorf("the appends went out in %d transactions, want 1", transactions)
	}

	// Made again, all of it is a repeat.
	again, err := s.AppendAll(ctx, []eventstore.StreamAppend{{Stream: "inbox-b", Events: []eventstore.EventData{repeated}}})
	if err != nil || len(again) != 1 || !again[0].Duplicate {
		t.Errorf("a repeat gave %+v, %v; want a duplicate", again, err)
	}
}

// A statement refused whole (an id stored in another stream) leaves each
// append to meet its own outcome alone.
func TestAppendAllRefusedWholeMakesEachAppendAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	elsewhere := event(checkedIn{Minute: 1})
	mustAppend(t, s, "other", eventstore.NoStream, elsewhere)
	_, err := s.AppendAll(ctx, []eventstore.StreamAppend{
		{Stream: "inbox", Events: []eventstore.EventData{event(checkedIn{Minute: 2})}},
		{Stream: "inbox", Events: []eventstore.EventData{elsewhere}},
	})
	if !errors.Is(err, eventstore.ErrIDInOtherStream) {
		t.Errorf("got %v, want ErrIDInOtherStream", err)
	}
	if events, err := s.Load(ctx, "inbox"); err != nil || len(events) != 1 {
		t.Errorf("inbox: %d events (%v), want the 1 appended before the refused one", len(events), err)
	}
}

// A saga group's batch raises thousands of notifications to a few inboxes:
// one call appends them all, each inbox's in the order given and without a
// hole, and the same call again stores nothing more.
func TestAppendAllOfThousandsKeepsEachStreamsOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	const inboxes, appends = 40, 5000
	mustAppend(t, s, "inbox-0", eventstore.NoStream, event(checkedIn{Minute: -1}))
	all := make([]eventstore.StreamAppend, appends)
	for i := range all {
		all[i] = eventstore.StreamAppend{Stream: fmt.Sprintf("inbox-%d", i%inboxes), Events: []eventstore.EventData{event(checkedIn{Minute: i})}}
	}
	results, err := s.AppendAll(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	for i, res := range results {
		want := int64(i/inboxes + 1)
		if i%inboxes == 0 {
			want++ // inbox-0 held one event before
		}
		if res.Duplicate || res.FirstVersion != want || res.LastVersion != want {
			t.Fatalf("append %d: %+v, want version %d", i, res, want)
		}
	}
	for n := range inboxes {
		events, err := s.Load(ctx, fmt.Sprintf("inbox-%d", n))
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			events = events[1:]
		}
		if len(events) != appends/inboxes {
			t.Fatalf("inbox-%d holds %d events, want %d", n, len(events), appends/inboxes)
		}
		for k, e := range events {
			if got, want := e.Payload.(checkedIn).Minute, n+k*inboxes; got != want {
				t.Fatalf("inbox-%d, event %d: minute %d, want %d", n, k, got, want)
			}
		}
	}
	again, err := s.AppendAll(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(again, func(r eventstore.AppendResult) bool { return !r.Duplicate }); i >= 0 {
		t.Errorf("made again, append %d stored %+v", i, again[i])
	}
}
