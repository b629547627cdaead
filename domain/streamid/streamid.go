// Package streamid names event streams: one per aggregate, "<category>-<id>".
// The category says what kind of aggregate the stream holds and has no dash;
// the id may have dashes (an employee's id is a UUID). Each domain package
// declares its Category beside its Stream function.
package streamid

import "strings"

const separator = "-"

// Of is the id of the stream of the aggregate id of category.
func Of(category, id string) string { return category + separator + id }

// Split returns the category and the aggregate id of streamID, cut at its
// first dash. ok is false when streamID has no dash or either part is empty:
// no stream of the domain is named so.
func Split(streamID string) (category, id string, ok bool) {
	category, id, found := strings.Cut(streamID, separator)
	if !found || category == "" || id == "" {
		return "", "", false
	}
	return category, id, true
}
