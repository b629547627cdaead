package eventstore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/acme/employee-tracking/eventstore"
)

func TestAppendLoadRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	in := []eventstore.EventData{
		{ID: uuid.New(), Payload: checkedIn{EmployeeID: "e1", Minute: 485}, Metadata: eventstore.Metadata{
			Actor: "user-1", RequestID: "req-1", IdempotencyKey: "key-1", CausationID: "cmd-1", CorrelationID: "corr-1",
		}},
		{ID: uuid.New(), Payload: checkedOut{EmployeeID: "e1"}, Metadata: eventstore.Metadata{Actor: "user-1"}},
	}
	before := time.Now()

	res := mustAppend(t, s, "attendance-e1", eventstore.NoStream, in...)

	if diff := cmp.Diff(eventstore.AppendResult{StreamID: "attendance-e1", FirstVersion: 1, LastVersion: 2}, res); diff != "" {
		t.Errorf("append result (-want +got):\n%s", diff)
	}
	got, err := s.Load(ctx, "attendance-e1")
	if err != nil {
		t.Fatal(err)
	}
	want := []eventstore.Event{
		{ID: in[0].ID, StreamID: "attendance-e1", Version: 1, Type: "test.checked_in", SchemaVersion: 1,
			Data: []byte(`{"minute": 485, "employee_id": "e1"}`), Metadata: in[0].Metadata, Payload: in[0].Payload},
		{ID: in[1].ID, StreamID: "attendance-e1", Version: 2, Type: "test.checked_out", SchemaVersion: 1,
			Data: []byte(`{"employee_id": "e1"}`), Metadata: in[1].Metadata, Payload: in[1].Payload},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(eventstore.Event{}, "Position", "TxID", "RecordedAt", "Plain")); diff != "" {
		t.Errorf("loaded events (-want +got):\n%s", diff)
	}
	for _, e := range got {
		if e.Position <= 0 || e.TxID == 0 {
			t.Errorf("event %d: position %d, tx id %d, want both set", e.Version, e.Position, e.TxID)
		}
		if e.RecordedAt.Before(before.Add(-time.Minute)) || e.RecordedAt.After(time.Now().Add(time.Minute)) {
			t.Errorf("event %d recorded at %v, want about now", e.Version, e.RecordedAt)
		}
	}
	if len(got) == 2 && (got[0].Position >= got[1].Position || got[0].TxID != got[1].TxID) {
		t.Errorf("positions %d, %d and tx ids %d, %d: want increasing positions in one transaction",
			got[0].Position, got[1].Position, got[0].TxID, got[1].TxID)
	}

	from, err := s.LoadFrom(ctx, "attendance-e1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{2}, versions(from)); diff != "" {
		t.Errorf("LoadFrom(1) versions (-want +got):\n%s", diff)
	}
	none, err := s.Load(ctx, "attendance-nobody")
	if err != nil || len(none) != 0 {
		t.Errorf("Load of a missing stream: got %d events, %v; want none, nil", len(none), err)
	}
}

func TestAppendExpectedVersion(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	// Each case appends to its own stream, which first gets `existing` events.
	tests := []struct {
		name     string
		existing int
		expected int64
		want     eventstore.AppendResult
		conflict *eventstore.ConflictError
	}{
		{name: "no stream on a new stream", existing: 0, expected: eventstore.NoStream, want: eventstore.AppendResult{FirstVersion: 1, LastVersion: 1}},
		{name: "no stream on an existing stream", existing: 2, expected: eventstore.NoStream, conflict: &eventstore.ConflictError{Expected: 0, Actual: 2}},
		{name: "any on a new stream", existing: 0, expected: eventstore.AnyVersion, want: eventstore.AppendResult{FirstVersion: 1, LastVersion: 1}},
		{name: "any on an existing stream", existing: 3, expected: eventstore.AnyVersion, want: eventstore.AppendResult{FirstVersion: 4, LastVersion: 4}},
		{name: "exact version", existing: 2, expected: 2, want: eventstore.AppendResult{FirstVersion: 3, LastVersion: 3}},
		{name: "stale version", existing: 2, expected: 1, conflict: &eventstore.ConflictError{Expected: 1, Actual: 2}},
		{name: "version ahead", existing: 2, expected: 3, conflict: &eventstore.ConflictError{Expected: 3, Actual: 2}},
		{name: "version on a new stream", existing: 0, expected: 1, conflict: &eventstore.ConflictError{Expected: 1, Actual: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stream := "case-" + uuid.NewString()
			for range tt.existing {
				mustAppend(t, s, stream, eventstore.AnyVersion, event(checkedOut{}))
			}

			got, err := s.Append(context.Background(), stream, tt.expected, event(checkedIn{EmployeeID: "e"}))

			if tt.conflict != nil {
				tt.conflict.Stream = stream
				var ce *eventstore.ConflictError
				if !errors.As(err, &ce) || !errors.Is(err, eventstore.ErrConflict) {
					t.Fatalf("got error %v, want a *ConflictError matching ErrConflict", err)
				}
				if diff := cmp.Diff(tt.conflict, ce); diff != "" {
					t.Errorf("conflict (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			tt.want.StreamID = stream
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConcurrentAppendsAtSameVersionOneWins(t *testing.T) {
	t.Parallel()
	const writers = 20
	s := eventstore.New(newPool(t, writers), newCodec(t))
	mustAppend(t, s, "leave-e1", eventstore.NoStream, event(checkedIn{}))

	var wins, conflicts atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			<-start
			_, err := s.Append(context.Background(), "leave-e1", 1, event(checkedIn{Minute: i}))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, eventstore.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()

	if wins.Load() != 1 || conflicts.Load() != writers-1 {
		t.Errorf("got %d wins and %d conflicts, want 1 and %d", wins.Load(), conflicts.Load(), writers-1)
	}
	got, err := s.Load(context.Background(), "leave-e1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{1, 2}, versions(got)); diff != "" {
		t.Errorf("stream versions (-want +got):\n%s", diff)
	}
}

func TestAppendIdempotentRepeat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	var hooked []eventstore.AppendResult
	s.OnAppend(func(r eventstore.AppendResult) { hooked = append(hooked, r) })
	mustAppend(t, s, "leave-e1", eventstore.NoStream, event(checkedIn{}))
	batch := []eventstore.EventData{event(checkedIn{Minute: 1}), event(checkedOut{})}
	first := mustAppend(t, s, "leave-e1", 1, batch...)

	// The response was lost and the command is retried with the same ids, by then
	// with a stale expected version.
	for _, expected := range []int64{1, eventstore.AnyVersion} {
		repeat, err := s.Append(ctx, "leave-e1", expected, batch...)
		if err != nil {
			t.Fatalf("repeat at expected %d: %v", expected, err)
		}
		want := eventstore.AppendResult{StreamID: "leave-e1", FirstVersion: 2, LastVersion: 3, Duplicate: true}
		if diff := cmp.Diff(want, repeat); diff != "" {
			t.Errorf("repeat at expected %d (-want +got):\n%s", expected, diff)
		}
	}

	got, err := s.Load(ctx, "leave-e1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, versions(got)); diff != "" {
		t.Errorf("stream versions (-want +got):\n%s", diff)
	}
	wantHooked := []eventstore.AppendResult{{StreamID: "leave-e1", FirstVersion: 1, LastVersion: 1}, first}
	if diff := cmp.Diff(wantHooked, hooked); diff != "" {
		t.Errorf("OnAppend calls, none for repeats (-want +got):\n%s", diff)
	}
}

func TestAppendReusedID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	stored := event(checkedIn{})
	mustAppend(t, s, "leave-a", eventstore.NoStream, stored)

	tests := []struct {
		name  string
		batch []eventstore.EventData
		want  error
	}{
		{name: "first id in another stream", batch: []eventstore.EventData{stored}, want: eventstore.ErrIDInOtherStream},
		{name: "later id in another stream", batch: []eventstore.EventData{event(checkedOut{}), stored}, want: eventstore.ErrDuplicateID},
		{name: "id twice in the batch", batch: func() []eventstore.EventData { e := event(checkedOut{}); return []eventstore.EventData{e, e} }(), want: eventstore.ErrDuplicateID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(ctx, "leave-b", eventstore.AnyVersion, tt.batch...)
			if !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
	got, err := s.Load(ctx, "leave-b")
	if err != nil || len(got) != 0 {
		t.Errorf("leave-b: got %d events, %v; want none appended", len(got), err)
	}
}

func TestEventsAreImmutable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, 4)
	s := eventstore.New(pool, newCodec(t))
	mustAppend(t, s, "leave-e1", eventstore.NoStream, event(checkedIn{}), event(checkedOut{}))

	for _, stmt := range []string{
		`UPDATE events SET type = 'test.forged'`,
		`UPDATE events SET data = '{}' WHERE version = 2`,
		`DELETE FROM events WHERE version = 1`,
		`TRUNCATE events`,
	} {
		t.Run(stmt, func(t *testing.T) {
			_, err := pool.Exec(ctx, stmt)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "ES003" {
				t.Errorf("got error %v, want SQLSTATE ES003 (events are immutable)", err)
			}
		})
	}
	got, err := s.Load(ctx, "leave-e1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Type != "test.checked_in" {
		t.Errorf("after the refused changes: %+v, want both events unchanged", got)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)

	t.Run("decides on the history and appends at its version", func(t *testing.T) {
		mustAppend(t, s, "u-plain", eventstore.NoStream, event(checkedIn{Minute: 1}))
		res, err := s.Update(ctx, "u-plain", func(history []eventstore.Event) ([]eventstore.EventData, error) {
			return []eventstore.EventData{event(checkedIn{Minute: len(history) + 1})}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(eventstore.AppendResult{StreamID: "u-plain", FirstVersion: 2, LastVersion: 2}, res); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
	})

	t.Run("a decision that raced another writer is retried and lands", func(t *testing.T) {
		var calls int
		res, err := s.Update(ctx, "u-race", func(history []eventstore.Event) ([]eventstore.EventData, error) {
			calls++
			if calls == 1 {
				// Another writer appends between our load and our append.
				mustAppend(t, s, "u-race", eventstore.AnyVersion, event(checkedOut{EmployeeID: "other"}))
			}
			return []eventstore.EventData{event(checkedIn{Minute: len(history)})}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls != 2 {
			t.Errorf("decide called %d times, want 2", calls)
		}
		got, err := s.Load(ctx, "u-race")
		if err != nil {
			t.Fatal(err)
		}
		wantPayloads := []eventstore.Payload{checkedOut{EmployeeID: "other"}, checkedIn{Minute: 1}}
		var gotPayloads []eventstore.Payload
		for _, e := range got {
			gotPayloads = append(gotPayloads, e.Payload)
		}
		if diff := cmp.Diff(wantPayloads, gotPayloads); diff != "" {
			t.Errorf("stream (-want +got):\n%s", diff)
		}
		if res.LastVersion != 2 {
			t.Errorf("result version %d, want 2", res.LastVersion)
		}
	})

	t.Run("gives up after a bounded number of attempts", func(t *testing.T) {
		var calls int
		_, err := s.Update(ctx, "u-busy", func(history []eventstore.Event) ([]eventstore.EventData, error) {
			calls++
			mustAppend(t, s, "u-busy", eventstore.AnyVersion, event(checkedOut{}))
			return []eventstore.EventData{event(checkedIn{})}, nil
		})
		if !errors.Is(err, eventstore.ErrConflict) {
			t.Errorf("got error %v, want ErrConflict", err)
		}
		if calls != eventstore.MaxUpdateAttempts {
			t.Errorf("decide called %d times, want %d", calls, eventstore.MaxUpdateAttempts)
		}
	})

	t.Run("no events appends nothing", func(t *testing.T) {
		res, err := s.Update(ctx, "u-none", func([]eventstore.Event) ([]eventstore.EventData, error) { return nil, nil })
		if err != nil || res != (eventstore.AppendResult{}) {
			t.Errorf("got %+v, %v; want a zero result and no error", res, err)
		}
		if got, _ := s.Load(ctx, "u-none"); len(got) != 0 {
			t.Errorf("stream has %d events, want none", len(got))
		}
	})

	t.Run("an error from decide is returned as is", func(t *testing.T) {
		refused := errors.New("insufficient balance")
		_, err := s.Update(ctx, "u-refused", func([]eventstore.Event) ([]eventstore.EventData, error) { return nil, refused })
		if err != refused {
			t.Errorf("got error %v, want %v", err, refused)
		}
	})
}

func TestLoadUntil(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	mustAppend(t, s, "leave-e1", eventstore.NoStream, event(checkedIn{Minute: 1}))
	time.Sleep(5 * time.Millisecond)
	mustAppend(t, s, "leave-e1", 1, event(checkedIn{Minute: 2}), event(checkedIn{Minute: 3}))
	all, err := s.Load(ctx, "leave-e1")
	if err != nil || len(all) != 3 {
		t.Fatalf("Load: %d events, %v; want 3", len(all), err)
	}

	tests := []struct {
		name  string
		until time.Time
		want  []int64
	}{
		{name: "before the stream", until: all[0].RecordedAt.Add(-time.Microsecond), want: nil},
		{name: "at the first event", until: all[0].RecordedAt, want: []int64{1}},
		{name: "between appends", until: all[1].RecordedAt.Add(-time.Microsecond), want: []int64{1}},
		{name: "at the last append", until: all[2].RecordedAt, want: []int64{1, 2, 3}},
		{name: "later", until: time.Now().Add(time.Hour), want: []int64{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.LoadUntil(ctx, "leave-e1", tt.until)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, versions(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("versions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppendRejectsBadInput(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	tests := []struct {
		name     string
		stream   string
		expected int64
		events   []eventstore.EventData
	}{
		{name: "no events", stream: "s", expected: eventstore.AnyVersion},
		{name: "empty stream", stream: "", expected: eventstore.AnyVersion, events: []eventstore.EventData{event(checkedIn{})}},
		{name: "bad expected version", stream: "s", expected: -2, events: []eventstore.EventData{event(checkedIn{})}},
		{name: "no id", stream: "s", expected: eventstore.AnyVersion, events: []eventstore.EventData{{Payload: checkedIn{}}}},
		{name: "unregistered payload", stream: "s", expected: eventstore.AnyVersion, events: []eventstore.EventData{event(unknownEvent{})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Append(context.Background(), tt.stream, tt.expected, tt.events...); err == nil {
				t.Error("got no error, want one")
			}
		})
	}
	if got, _ := s.Load(context.Background(), "s"); len(got) != 0 {
		t.Errorf("stream s has %d events, want none", len(got))
	}
}
