package query

import (
	"context"
	"time"

	"github.com/acme/employee-tracking/eventstore"
)

// EventStore is what the queries read of the event store;
// *eventstore.Store satisfies it.
type EventStore interface {
	Load(ctx context.Context, stream string) ([]eventstore.Event, error)
	LoadFrom(ctx context.Context, stream string, afterVersion int64) ([]eventstore.Event, error)
	LoadUntil(ctx context.Context, stream string, until time.Time) ([]eventstore.Event, error)
	ReadFeedFiltered(ctx context.Context, after eventstore.Cursor, limit int, f eventstore.FeedFilter) ([]eventstore.Event, eventstore.Cursor, error)
}

// Event is a stored event with its place in the feed.
type Event = eventstore.Event

// Cursor is a place in the global feed.
type Cursor = eventstore.Cursor

// ParseCursor reads a cursor in the form Cursor.String writes; "" is the
// start of the feed.
func ParseCursor(s string) (Cursor, error) { return eventstore.ParseCursor(s) }
