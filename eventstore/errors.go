package eventstore

import (
	"errors"
	"fmt"
)

var (
	// ErrConflict matches every *ConflictError.
	ErrConflict = errors.New("eventstore: stream version conflict")
	// ErrUnknownEvent reports an event name the codec does not know.
	ErrUnknownEvent = errors.New("eventstore: unknown event")
	// ErrIDInOtherStream reports an append whose first event id is stored in
	// another stream: deterministic ids collided, or a command was replayed
	// against the wrong stream.
	ErrIDInOtherStream = errors.New("eventstore: event id already stored in another stream")
	// ErrDuplicateID reports an append whose first event id is new but a later
	// one is already stored, or repeated within the batch.
	ErrDuplicateID = errors.New("eventstore: event id already stored")
	// ErrInvalidCursor reports a malformed feed cursor.
	ErrInvalidCursor = errors.New("eventstore: invalid cursor")
)

// ConflictError reports that a stream was not at the expected version.
type ConflictError struct {
	Stream   string
	Expected int64
	Actual   int64
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("eventstore: stream %q: expected version %d, actual %d", e.Stream, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
