package eventstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Expected versions with a special meaning for Append.
const (
	AnyVersion int64 = -1 // append without a concurrency check
	NoStream   int64 = 0  // the stream must not exist yet
)

// Payload is a domain event: a struct with a stable wire name.
type Payload interface{ EventName() string }

// Metadata says who and what caused an event. It is stored as jsonb; a new
// field must also be read in selectEvents.
type Metadata struct {
	Actor          string `json:"actor,omitempty"`
	RequestID      string `json:"request_id,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	CausationID    string `json:"causation_id,omitempty"`
	CorrelationID  string `json:"correlation_id,omitempty"`
}

// EventData is an event to append. ID makes the append idempotent: derive it
// deterministically from the command (or the event that caused it) so that a
// repeated command appends nothing.
type EventData struct {
	ID       uuid.UUID
	Payload  Payload
	Metadata Metadata
}

// Event is an event as stored.
type Event struct {
	Position      int64
	TxID          uint64
	ID            uuid.UUID
	StreamID      string
	Version       int64
	Type          string
	SchemaVersion int
	Data          json.RawMessage // as stored, personal fields sealed
	Metadata      Metadata
	RecordedAt    time.Time
	Payload       Payload // decoded by the codec, after upcasting
	// Plain is Data with its personal fields opened (null when erased), after
	// upcasting: what readers are shown.
	Plain json.RawMessage
	// Erased says that the event's personal fields were erased: they read as
	// null in Plain and as zero values in Payload.
	Erased bool
}

// Cursor returns the feed position of e.
func (e Event) Cursor() Cursor { return Cursor{TxID: e.TxID, Position: e.Position} }

// Cursor is a position in the global feed, ordered by (TxID, Position). The zero
// value is the start of the feed.
type Cursor struct {
	TxID     uint64
	Position int64
}

// String returns the opaque text form of c, "<tx_id>.<position>".
func (c Cursor) String() string {
	return strconv.FormatUint(c.TxID, 10) + "." + strconv.FormatInt(c.Position, 10)
}

// ParseCursor parses the text form made by Cursor.String. The empty string is
// the start of the feed.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	tx, pos, ok := strings.Cut(s, ".")
	if !ok {
		return Cursor{}, fmt.Errorf("%w: %q", ErrInvalidCursor, s)
	}
	txID, err := strconv.ParseUint(tx, 10, 64)
	if err != nil {
		return Cursor{}, fmt.Errorf("%w: %q", ErrInvalidCursor, s)
	}
	p, err := strconv.ParseInt(pos, 10, 64)
	if err != nil || p < 0 {
		return Cursor{}, fmt.Errorf("%w: %q", ErrInvalidCursor, s)
	}
	return Cursor{TxID: txID, Position: p}, nil
}

// AppendResult describes an append.
type AppendResult struct {
	StreamID     string
	FirstVersion int64
	LastVersion  int64
	Duplicate    bool // an idempotent repeat: nothing was appended
}
