package errkind_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/acme/employee-tracking/domain/errkind"
)

type typed struct{}

func (typed) Error() string           { return "typed" }
func (typed) ErrorKind() errkind.Kind { return errkind.Unprocessable }

func TestOf(t *testing.T) {
	t.Parallel()
	sentinel := errkind.New(errkind.Conflict, "already done")
	cause := errors.New("lost a race")
	tests := []struct {
		name string
		err  error
		want errkind.Kind
	}{
		{"sentinel", sentinel, errkind.Conflict},
		{"wrapped sentinel", fmt.Errorf("context: %w", sentinel), errkind.Conflict},
		{"typed error", fmt.Errorf("context: %w", typed{}), errkind.Unprocessable},
		{"wrap of a cause", errkind.Wrap(errkind.NotFound, "not found", cause), errkind.NotFound},
		{"no kind", cause, ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		if got := errkind.Of(tt.err); got != tt.want {
			t.Errorf("%s: Of(%v) = %q, want %q", tt.name, tt.err, got, tt.want)
		}
	}
	if err := errkind.Wrap(errkind.NotFound, "not found", cause); !errors.Is(err, cause) {
		t.Errorf("Wrap lost its cause: errors.Is(%v, %v) = false", err, cause)
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("decide: %w", errkind.InvalidField("end date is before start date", "end_date", "must not be before start_date"))
	if got := errkind.Fields(err)["end_date"]; got != "must not be before start_date" {
		t.Errorf(`Fields(%v)["end_date"] = %q, want "must not be before start_date"`, err, got)
	}
	if got := errkind.Of(err); got != errkind.Invalid {
		t.Errorf("Of(%v) = %q, want %q", err, got, errkind.Invalid)
	}
	if got := errkind.Fields(errors.New("plain")); got != nil {
		t.Errorf("Fields(plain) = %v, want nil", got)
	}
}
