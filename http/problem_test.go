package http

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/validation"
)

// TestProblemOfEveryKind: an error answers by its kind alone, so a new rule
// of the domain needs no change here.
func TestProblemOfEveryKind(t *testing.T) {
	t.Parallel()
	want := map[errkind.Kind]int{
		errkind.Invalid: 400, errkind.Unauthorized: 401, errkind.Forbidden: 403, errkind.NotFound: 404,
		errkind.Conflict: 409, errkind.Unprocessable: 422, errkind.Throttled: 429,
	}
	for kind, status := range want {
		err := fmt.Errorf("decide: %w", errkind.New(kind, "a rule nobody wrote yet"))
		if p, internal := problemFor(err); p.Status != status || internal {
			t.Errorf("problemFor(%s error) = %d (internal %v), want %d", kind, p.Status, internal, status)
		}
	}
	if len(problemOfKind) != len(want) {
		t.Errorf("problemOfKind has %d kinds, the test knows %d: add the new kind here", len(problemOfKind), len(want))
	}
}

func TestProblemDetails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want Problem
	}{
		{employee.ErrSelfManaged, newProblem(400, "invalid input", map[string]string{"manager_id": "an employee cannot be their own manager"})},
		{leave.ErrEndBeforeStart, newProblem(400, "invalid input", map[string]string{"end_date": "must not be before start_date"})},
		{&validation.Error{Fields: map[string]string{"email": "required"}}, newProblem(400, "invalid input", map[string]string{"email": "required"})},
		{badRequest("invalid query parameters", map[string]string{"to": "x"}), newProblem(400, "invalid query parameters", map[string]string{"to": "x"})},
		{leave.ErrRequestNotFound, newProblem(404, "not found", nil)},
		{errForbidden, newProblem(403, "you are not allowed to do this", nil)},
		{fmt.Errorf("approve: %w", leave.ErrNotPending), newProblem(409, "approve: leave request is not pending", nil)},
		{&leave.OverlapError{With: "r1"}, newProblem(422, "leave request overlaps request r1", nil)},
	}
	for _, tt := range tests {
		got, _ := problemFor(tt.err)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("problemFor(%v) (-want +got):\n%s", tt.err, diff)
		}
	}
}
