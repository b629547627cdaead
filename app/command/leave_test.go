package command

import (
	"context"
	"errors"
	"testing"

	"github.com/acme/employee-tracking/domain/leave"
)

// requestsIn says every request is held by one stream.
type requestsIn string

func (s requestsIn) StreamOfLeaveRequest(context.Context, string) (string, error) {
	return string(s), nil
}

// TestLeaveOwnerReadsTheLeaveAccountsStream: the owner is the whole id after
// the category, dashes included, and a request held anywhere but in a leave
// account has no owner, rather than one named after another stream.
func TestLeaveOwnerReadsTheLeaveAccountsStream(t *testing.T) {
	t.Parallel()
	const id = "0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b"
	tests := []struct {
		stream  string
		want    string
		wantErr bool
	}{
		{leave.Stream(id), id, false},
		{"employee-" + id, "", true},
		{"leaves-" + id, "", true},
		{"leave-", "", true},
		{"leave", "", true},
		{id, "", true},
	}
	for _, tt := range tests {
		got, err := LeaveOwner(context.Background(), requestsIn(tt.stream), "r1")
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("owner of a request in %q = %q, %v; want %q, error %v", tt.stream, got, err, tt.want, tt.wantErr)
		}
	}
	if _, err := LeaveOwner(context.Background(), requestsIn(""), "r1"); !errors.Is(err, leave.ErrRequestNotFound) {
		t.Errorf("owner of a request held nowhere: %v, want %v", err, leave.ErrRequestNotFound)
	}
}
