package errkind_test

import (
	"testing"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/domain/validation"
)

// TestDomainErrorsSayTheirKind pins the kind of every refusal of the domain:
// the API answers by kind alone.
func TestDomainErrorsSayTheirKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want errkind.Kind
	}{
		{&validation.Error{Fields: map[string]string{"email": "required"}}, errkind.Invalid},
		{employee.ErrSelfManaged, errkind.Invalid},
		{leave.ErrEndBeforeStart, errkind.Invalid},
		{employee.ErrNotFound, errkind.NotFound},
		{leave.ErrRequestNotFound, errkind.NotFound},
		{notification.ErrNotFound, errkind.NotFound},
		{holiday.ErrNotDeclared, errkind.NotFound},
		{attendance.ErrAlreadyCheckedIn, errkind.Conflict},
		{attendance.ErrNotCheckedIn, errkind.Conflict},
		{leave.ErrNotPending, errkind.Conflict},
		{leave.ErrNotCancellable, errkind.Conflict},
		{holiday.ErrAlreadyDeclared, errkind.Conflict},
		{employee.ErrAlreadyRegistered, errkind.Conflict},
		{employee.ErrInactive, errkind.Conflict},
		{&leave.OverlapError{With: "x"}, errkind.Unprocessable},
		{&leave.InsufficientBalanceError{Requested: 1}, errkind.Unprocessable},
		{leave.ErrNoWorkdays, errkind.Unprocessable},
		{leave.ErrSpansYears, errkind.Unprocessable},
	}
	for _, tt := range tests {
		if got := errkind.Of(tt.err); got != tt.want {
			t.Errorf("Of(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	if got := errkind.Fields(employee.ErrSelfManaged)["manager_id"]; got != employee.ErrSelfManaged.Error() {
		t.Errorf(`Fields(ErrSelfManaged)["manager_id"] = %q, want %q`, got, employee.ErrSelfManaged.Error())
	}
	if got := errkind.Fields(leave.ErrEndBeforeStart)["end_date"]; got != "must not be before start_date" {
		t.Errorf(`Fields(ErrEndBeforeStart)["end_date"] = %q, want "must not be before start_date"`, got)
	}
}
