package command

import (
	"context"
	"errors"
	"testing"

	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/eventstore"
)

// racedStore loses every race: its Update always ends in a conflict, as
// the store's does once its retries are spent.
type racedStore struct{ EventStore }

func (racedStore) Update(_ context.Context, stream string, _ func([]eventstore.Event) ([]eventstore.EventData, error)) (eventstore.AppendResult, error) {
	return eventstore.AppendResult{}, &eventstore.ConflictError{Stream: stream, Expected: 1, Actual: 2}
}

// TestConflictThatPersistsIsAConflict: a change that keeps losing the race
// for its stream is refused as a conflict the client may retry, never as a
// failure of the system.
func TestConflictThatPersistsIsAConflict(t *testing.T) {
	t.Parallel()
	_, err := update(context.Background(), racedStore{}, Origin{}, "someone", "holidays-2024", func([]any) ([]any, error) { return nil, nil })
	if got := errkind.Of(err); got != errkind.Conflict {
		t.Errorf("kind of %v = %q, want %q", err, got, errkind.Conflict)
	}
	if err == nil || err.Error() != errConcurrent {
		t.Errorf("message = %v, want %q", err, errConcurrent)
	}
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Errorf("%v lost its cause: want errors.Is(err, eventstore.ErrConflict)", err)
	}
}

// TestDerivedIDsAreStable pins derived ids to values computed apart (with
// Python's uuid5): they name streams and events already stored, so deriving
// them differently would register people twice and notify twice.
func TestDerivedIDsAreStable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got  string
		want string
	}{
		{EmployeeID("ayse@example.com"), "b2b0280f-c32f-5eb1-8bba-7544c7767cd0"},
		{EmployeeID("Ayse@Example.com"), "b2b0280f-c32f-5eb1-8bba-7544c7767cd0"},
		{ReactionIDs.ID("lateness", "evt-1").String(), "9091a5b4-42df-54d0-8437-5f86f69a4955"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("derived id = %s, want %s", tt.got, tt.want)
		}
	}
}
