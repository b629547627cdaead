// Package errkind says what kind of failure an error is, in wtf's manner:
// every refusal of the domain and the application carries a Kind, and the
// transport turns kinds into its own codes with one table. A new rule picks a
// kind; no transport changes for it.
package errkind

import "errors"

// Kind is what kind of failure an error is.
type Kind string

// The kinds of failure.
const (
	// Invalid is input that is malformed whatever the state: a bad field.
	Invalid Kind = "EINVALID"
	// Unauthorized is a caller who could not be identified.
	Unauthorized Kind = "EUNAUTHORIZED"
	// Forbidden is a caller the access policy refuses.
	Forbidden Kind = "EFORBIDDEN"
	// NotFound is something that does not exist, or that the caller may not see.
	NotFound Kind = "ENOTFOUND"
	// Conflict is a request the current state does not allow: a repeat of
	// something done, or a change that lost a race.
	Conflict Kind = "ECONFLICT"
	// Unprocessable is well-formed input that a business rule refuses.
	Unprocessable Kind = "EUNPROCESSABLE"
	// Throttled is a caller asked to wait before trying again.
	Throttled Kind = "ETHROTTLED"
)

// Kinded is an error that says its kind. Typed errors of the domain
// implement it; sentinels are made with New.
type Kinded interface {
	error
	ErrorKind() Kind
}

// Error is an error of a kind, with the fields at fault for an Invalid one.
type Error struct {
	Kind    Kind
	Message string
	// Fields name each field at fault with a short, lower-case message.
	Fields map[string]string
	// Err is the cause, kept for errors.Is and errors.As and for logs.
	Err error
}

// New returns an error of kind with message, for a sentinel.
func New(kind Kind, message string) *Error { return &Error{Kind: kind, Message: message} }

// Wrap returns an error of kind with message that keeps err as its cause.
func Wrap(kind Kind, message string, err error) *Error {
	return &Error{Kind: kind, Message: message, Err: err}
}

// InvalidField returns an Invalid error with message that names field with
// fieldMessage.
func InvalidField(message, field, fieldMessage string) *Error {
	return &Error{Kind: Invalid, Message: message, Fields: map[string]string{field: fieldMessage}}
}

func (e *Error) Error() string { return e.Message }

// ErrorKind implements Kinded.
func (e *Error) ErrorKind() Kind { return e.Kind }

// FieldErrors names the fields at fault.
func (e *Error) FieldErrors() map[string]string { return e.Fields }

func (e *Error) Unwrap() error { return e.Err }

// Of is the kind of the first error in err's chain that says one, and ""
// for an error that says none (a failure of the system, not a refusal).
func Of(err error) Kind {
	var k Kinded
	if errors.As(err, &k) {
		return k.ErrorKind()
	}
	return ""
}

// Fields are the fields at fault named by the first error in err's chain
// that names any.
func Fields(err error) map[string]string {
	var f interface{ FieldErrors() map[string]string }
	if errors.As(err, &f) {
		return f.FieldErrors()
	}
	return nil
}
