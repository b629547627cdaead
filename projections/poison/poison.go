package poison

import "errors"

// Error is a failure marked as one that retrying cannot fix.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Mark marks err as one that retrying cannot fix.
func Mark(err error) error { return &Error{err} }

// Is says whether err is, or wraps, a marked failure.
func Is(err error) bool {
	var e *Error
	return errors.As(err, &e)
}
