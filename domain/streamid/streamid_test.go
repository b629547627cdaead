package streamid_test

import (
	"strings"
	"testing"

	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/domain/streamid"
)

// TestStreamNames pins every stream name byte for byte: stored events carry
// them, and the bus's topics and the consumers' categories are cut from them.
func TestStreamNames(t *testing.T) {
	t.Parallel()
	const id = "0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b"
	tests := []struct {
		category, stream, want, wantCategory string
	}{
		{employee.Category, employee.Stream(id), "employee-" + id, "employee"},
		{attendance.Category, attendance.Stream(id), "attendance-" + id, "attendance"},
		{leave.Category, leave.Stream(id), "leave-" + id, "leave"},
		{leave.TypesCategory, leave.TypesStream(), "leavetypes-company", "leavetypes"},
		{leave.BlocksCategory, leave.BlocksStream(), "leaveblocks-company", "leaveblocks"},
		{holiday.Category, holiday.Stream(holiday.Default, 2024), "holidays-2024", "holidays"},
		{holiday.Category, holiday.Stream("berlin", 2024), "holidays-berlin-2024", "holidays"},
		{holiday.CalendarsCategory, holiday.CalendarsStream(), "holidaycalendars-company", "holidaycalendars"},
		{notification.Category, notification.Stream(id), "notify-" + id, "notify"},
		{approval.PolicyCategory, approval.PolicyStream(), "approvalpolicy-company", "approvalpolicy"},
		{approval.DelegationCategory, approval.DelegationStream(id), "delegations-" + id, "delegations"},
	}
	for _, tt := range tests {
		if tt.stream != tt.want || tt.category != tt.wantCategory {
			t.Errorf("stream %q of category %q, want %q of %q", tt.stream, tt.category, tt.want, tt.wantCategory)
		}
		category, _, ok := streamid.Split(tt.stream)
		if !ok || category != tt.category {
			t.Errorf("Split(%q) = category %q, %v; want %q", tt.stream, category, ok, tt.category)
		}
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		streamID, wantCategory, wantID string
		wantOK                         bool
	}{
		{"leave-e1", "leave", "e1", true},
		{"attendance-0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", "attendance", "0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b", true},
		{"attendance-0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b-2024-03-01", "attendance", "0b7f6c1e-8f0a-5d8e-9a51-3c1f2e4d5a6b-2024-03-01", true},
		{"holidays-2024", "holidays", "2024", true},
		{"leave--", "leave", "-", true},
		{"leave-\x00\xff", "leave", "\x00\xff", true},
		{"", "", "", false},
		{"leave", "", "", false},
		{"leave-", "", "", false},
		{"-e1", "", "", false},
		{"-", "", "", false},
		{"--", "", "", false},
	}
	for _, tt := range tests {
		category, id, ok := streamid.Split(tt.streamID)
		if category != tt.wantCategory || id != tt.wantID || ok != tt.wantOK {
			t.Errorf("Split(%q) = %q, %q, %v; want %q, %q, %v", tt.streamID, category, id, ok, tt.wantCategory, tt.wantID, tt.wantOK)
		}
	}
}

// FuzzSplit: whatever Split accepts, Of builds again, from a category without
// a dash and a non-empty id.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"leave-e1", "attendance-a-b-c", "", "-", "leave-", "-x", "notify-\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		category, id, ok := streamid.Split(s)
		if !ok {
			if category != "" || id != "" {
				t.Fatalf("Split(%q) refused but returned %q, %q", s, category, id)
			}
			return
		}
		if category == "" || id == "" || strings.Contains(category, "-") {
			t.Fatalf("Split(%q) = %q, %q", s, category, id)
		}
		if got := streamid.Of(category, id); got != s {
			t.Fatalf("Of(Split(%q)) = %q", s, got)
		}
	})
}
