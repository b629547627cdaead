package poison

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsFindsAMarkThroughWrapping(t *testing.T) {
	t.Parallel()
	cause := errors.New("no check-in on 2024-12-02")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"marked", Mark(cause), true},
		{"marked, then wrapped", fmt.Errorf("attendance: apply: %w", Mark(cause)), true},
		{"unmarked", cause, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := Is(tt.err); got != tt.want {
			t.Errorf("%s: Is(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
	if !errors.Is(Mark(cause), cause) {
		t.Error("a mark hides its cause from errors.Is")
	}
}
