// Package readmodel holds the read models: for each, the tables it keeps,
// the fold of its stream category's events into them (run on the live
// tables in a transaction, or in memory by a rebuild) and the queries that
// read them. The pipeline in package projections runs the folds; http reads
// through the queries.
package readmodel

import "errors"

// UnappliableError is a fold's refusal of an event it can never apply (a
// change to an employee never registered, a decision on an unknown request):
// the event is parked, not retried.
type UnappliableError struct{ Err error }

func (e *UnappliableError) Error() string { return e.Err.Error() }
func (e *UnappliableError) Unwrap() error { return e.Err }

func unappliable(err error) error { return &UnappliableError{err} }

// IsUnappliable says whether err is, or wraps, an UnappliableError.
func IsUnappliable(err error) bool {
	var u *UnappliableError
	return errors.As(err, &u)
}
