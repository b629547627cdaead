package command

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/eventstore"
)

// memStore is an in-memory event store with the store's version rules.
type memStore struct {
	EventStore
	mu      sync.Mutex
	streams map[string][]eventstore.Event
	loads   int // events returned by LoadFrom, to see what the cache saves
	calls   int // calls of LoadFrom: round trips
}

func (s *memStore) LoadFrom(_ context.Context, stream string, after int64) ([]eventstore.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.streams[stream]
	out := append([]eventstore.Event(nil), all[min(int(after), len(all)):]...)
	s.loads += len(out)
	s.calls++
	return out, nil
}

func (s *memStore) Append(_ context.Context, stream string, expected int64, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := int64(len(s.streams[stream]))
	if expected != eventstore.AnyVersion && expected != cur {
		return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: stream, Expected: expected, Actual: cur}
	}
	for i, e := range events {
		s.streams[stream] = append(s.streams[stream], eventstore.Event{StreamID: stream, Version: cur + int64(i) + 1, Payload: e.Payload})
	}
	return eventstore.AppendResult{StreamID: stream, FirstVersion: cur + 1, LastVersion: cur + int64(len(events))}, nil
}

func TestRecordAttendanceThroughTheCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &memStore{streams: map[string][]eventstore.Event{}}
	cache := newAttendanceStates()
	id := "0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b"
	stream := attendance.Stream(id)
	sched := employee.Schedule{Timezone: "UTC", WorkStart: 8 * 60, WorkEnd: 17 * 60, Workdays: []int{1, 2, 3, 4, 5, 6, 7}}
	at := time.Date(2024, 12, 2, 9, 0, 0, 0, time.UTC)
	step := func(cache *attendanceStates, cmd attendance.Command) error {
		_, err := cache.decide(ctx, store, func([]any) Origin { return Origin{} }, id, stream, func(s attendance.State) ([]any, error) {
			return attendance.Decide(s, cmd, at)
		})
		return err
	}
	checkIn := attendance.CheckIn{EmployeeID: id, Schedule: sched, Rules: attendance.DefaultRules()}
	checkOut := attendance.CheckOut{EmployeeID: id, Rules: attendance.DefaultRules()}

	for i := range 10 {
		cmd := attendance.Command(checkIn)
		if i%2 == 1 {
			cmd = checkOut
		}
		if err := step(cache, cmd); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if store.loads != 0 {
		t.Errorf("events loaded with a warm cache = %d, want 0", store.loads)
	}
	if store.calls != 1 {
		t.Errorf("loads of the stream = %d, want 1 (the first command's, on a cold cache)", store.calls)
	}

	// Another instance (its own cache) checks in: this cache is stale, and
	// still refuses a second check-in and accepts the check-out.
	if err := step(newAttendanceStates(), checkIn); err != nil {
		t.Fatalf("check-in elsewhere: %v", err)
	}
	if err := step(cache, checkIn); !errors.Is(err, attendance.ErrAlreadyCheckedIn) {
		t.Errorf("check-in on a stale cache = %v, want ErrAlreadyCheckedIn", err)
	}
	if err := step(cache, checkOut); err != nil {
		t.Errorf("check-out on a stale cache = %v, want nil", err)
	}
	if got, want := len(store.streams[stream]), 12; got != want {
		t.Errorf("stream length = %d, want %d", got, want)
	}
}
