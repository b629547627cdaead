package validation

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	if err := Check(nil); err != nil {
		t.Errorf("Check(nil) = %v, want nil", err)
	}
	if err := Check(map[string]string{}); err != nil {
		t.Errorf("Check(empty) = %v, want nil", err)
	}

	err := Check(map[string]string{"name": "required", "email": "must be a valid email address"})
	var ve *Error
	if !errors.As(err, &ve) {
		t.Fatalf("Check(fields) = %v, want *Error", err)
	}
	if got := len(ve.Fields); got != 2 {
		t.Errorf("got %d fields, want 2", got)
	}
	// Sorted by field so the message is stable across runs.
	if got, want := err.Error(), "invalid input: email: must be a valid email address, name: required"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCheckCode(t *testing.T) {
	t.Parallel()
	for code, ok := range map[string]bool{
		"berlin": true, "de_by": true, "a1": true, "abcdefghijklmnopqrstuvwxyz012345": true,
		"": false, "a": false, "Berlin": false, "1st": false, "de-by": false, "abcdefghijklmnopqrstuvwxyz0123456": false, "tr\x00": false,
	} {
		if got := CheckCode(code) == ""; got != ok {
			t.Errorf("CheckCode(%q) accepts = %v, want %v", code, got, ok)
		}
	}
}
