// Package catalog lists every domain event type, for the event store's
// codec registry.
package catalog

import (
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
	for _, list := range [][]any{employee.Events(), holiday.Events(), attendance.Events(), leave.Events(), notification.Events()} {
		all = append(all, list...)
	}
	return all
}
