// Package catalog lists every domain event type and the upcasters that read
// their older schema versions, for the event store's codec registry
// (internal/eventcodec builds the codec from them). docs/events.md says how to
// change an event.
package catalog

import (
	"encoding/json"

	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
)

// Event is what every domain event implements: its stable wire name.
type Event interface {
	EventName() string
}

// Events returns a zero value of every event type of every package.
func Events() []any {
	var all []any
	for _, list := range [][]any{employee.Events(), holiday.Events(), attendance.Events(), leave.Events(), leave.TypeEvents(), leave.BlockEvents(),
		notification.Events(), leave.ApprovalEvents(), approval.Events(), holiday.CalendarEvents()} {
		all = append(all, list...)
	}
	return all
}

// Upcaster turns the data of the event named Event, stored at schema version
// From, into its data at schema version From+1. The codec chains them up to
// the current version when it reads an old event; stored events are never
// rewritten. Up must be a pure function: reads call it concurrently.
type Upcaster struct {
	Event string
	From  int
	Up    func(json.RawMessage) (json.RawMessage, error)
}

// Upcasters returns every upcaster of every event. An event whose
// SchemaVersion rises gets here the upcaster of the version it leaves, and
// the codec refuses to start without it.
func Upcasters() []Upcaster {
	return []Upcaster{
		{Event: notification.Raised{}.EventName(), From: 1, Up: notification.UpcastRaisedV1},
	}
}
