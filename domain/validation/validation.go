// Package validation carries field-level input errors out of the domain so
// that every package reports them with one type and the API maps them to a
// 400 naming each field once.
package validation

import (
	"regexp"
	"slices"
	"strings"

	"github.com/acme/employee-tracking/domain/errkind"
)

// Error names each invalid field with a short, lower-case message.
type Error struct {
	Fields map[string]string
}

// ErrorKind implements errkind.Kinded: bad input is Invalid.
func (e *Error) ErrorKind() errkind.Kind { return errkind.Invalid }

// FieldErrors names the fields at fault.
func (e *Error) FieldErrors() map[string]string { return e.Fields }

func (e *Error) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return "invalid input: " + strings.Join(parts, ", ")
}

// Check returns an *Error for fields, or nil when fields is empty, so a
// decision can collect messages into a map and return Check(map).
func Check(fields map[string]string) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Fields: fields}
}

// codePattern is the form of the codes the company gives what it defines (a
// leave type, a holiday calendar): short, lower-case, and safe in a URL and
// a stream name.
var codePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,31}$`)

// CheckCode says what is wrong with code as such a code, or "".
func CheckCode(code string) string {
	if !codePattern.MatchString(code) {
		return "must match ^[a-z][a-z0-9_]{1,31}$"
	}
	return ""
}
