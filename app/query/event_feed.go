package query

import (
	"cmp"
	"context"
	"slices"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
)

// EventFeed asks for a page of the audit feed: every event in commit order
// after After, of one stream, one type, or one employee's streams.
type EventFeed struct {
	After      Cursor
	Limit      int
	StreamID   string
	Type       string
	EmployeeID string
}

// EventPage is a page of the feed; Next is where the following page starts,
// nil when the page reaches the end of the feed.
type EventPage struct {
	Events []Event
	Next   *Cursor
}

// EventFeedHandler reads the audit feed.
type EventFeedHandler struct{ store EventStore }

// maxFeedScan bounds the events one page of an employee's events reads, a
// filter the store cannot answer by index; Next moves past them all, so
// paging on finds the rest. They are read feedScanStep at a time.
const (
	maxFeedScan  = 10_000
	feedScanStep = 500
)

// NewEventFeedHandler returns the handler.
func NewEventFeedHandler(store EventStore) EventFeedHandler { return EventFeedHandler{store: store} }

// Handle returns the page.
func (h EventFeedHandler) Handle(ctx context.Context, q EventFeed) (EventPage, error) {
	f := eventstore.FeedFilter{StreamID: q.StreamID, Type: q.Type}
	page := EventPage{Events: []Event{}}
	if q.EmployeeID == "" {
		// One event more than the page tells whether a next page exists.
		events, _, err := h.store.ReadFeedFiltered(ctx, q.After, q.Limit+1, f)
		if err != nil {
			return EventPage{}, err
		}
		page.Events = append(page.Events, events[:min(q.Limit, len(events))]...)
		if len(events) > q.Limit {
			next := events[q.Limit-1].Cursor()
			page.Next = &next
		}
		return page, nil
	}
	streams := employeeStreams(q.EmployeeID)
	cursor, more := q.After, false
scan:
	for scanned := 0; ; scanned += feedScanStep {
		if scanned >= maxFeedScan {
			more = true // the scan's bound, not the feed's end: the client continues from here
			break
		}
		events, _, err := h.store.ReadFeedFiltered(ctx, cursor, feedScanStep, f)
		if err != nil {
			return EventPage{}, err
		}
		for _, e := range events {
			if slices.Contains(streams, e.StreamID) {
				if len(page.Events) == q.Limit {
					more = true
					break scan
				}
				page.Events = append(page.Events, e)
			}
			cursor = e.Cursor()
		}
		if len(events) < feedScanStep {
			break // the end of the feed
		}
	}
	if more {
		page.Next = &cursor
	}
	return page, nil
}

// employeeStreams are the streams about one employee.
func employeeStreams(id string) []string {
	return []string{employee.Stream(id), attendance.Stream(id), leave.Stream(id), notification.Stream(id)}
}

// EmployeeHistoryHandler reads every event about one employee.
type EmployeeHistoryHandler struct{ store EventStore }

// NewEmployeeHistoryHandler returns the handler.
func NewEmployeeHistoryHandler(store EventStore) EmployeeHistoryHandler {
	return EmployeeHistoryHandler{store: store}
}

// Handle returns the events of the employee's streams in commit order.
func (h EmployeeHistoryHandler) Handle(ctx context.Context, employeeID string) ([]Event, error) {
	var all []Event
	for _, s := range employeeStreams(employeeID) {
		events, err := h.store.Load(ctx, s)
		if err != nil {
			return nil, err
		}
		all = append(all, events...)
	}
	slices.SortFunc(all, func(a, b Event) int {
		return cmp.Or(cmp.Compare(a.TxID, b.TxID), cmp.Compare(a.Position, b.Position))
	})
	return all, nil
}
