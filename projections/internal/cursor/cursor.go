// Package cursor orders positions in the event store's feed, as the relay and
// the consumer runtime compare them.
package cursor

import "github.com/acme/employee-tracking/eventstore"

// Less reports whether a comes before b in the feed.
func Less(a, b eventstore.Cursor) bool {
	return a.TxID < b.TxID || (a.TxID == b.TxID && a.Position < b.Position)
}

// Max returns the later of a and b.
func Max(a, b eventstore.Cursor) eventstore.Cursor {
	if Less(a, b) {
		return b
	}
	return a
}
