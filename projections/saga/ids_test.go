package saga

import (
	"testing"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/notification"
)

// TestReactionIDsAreTheStoredOnes pins the ids the sagas and the sweep
// derive from known causes to the values their former derivation gave:
// ids already stored must come out again byte for byte, or a redelivered
// cause would notify twice and deduct twice.
func TestReactionIDsAreTheStoredOnes(t *testing.T) {
	t.Parallel()
	const (
		checkIn  = "0b6c8f0e-8d7a-4c65-9a3e-1f2d3c4b5a69"
		employee = "d7a9b2c4-1e3f-4a5b-8c6d-7e8f9a0b1c2d"
		manager  = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
	)
	day := calendar.Date{Year: 2024, Month: 3, Day: 5}
	tests := []struct {
		name, got, want string
	}{
		{"lateness notification", command.NotificationID(checkIn, employee, notification.TypeLateness).String(), "b7114f37-7bd1-56e0-acb9-6d6affb77241"},
		{"absence notification", command.NotificationID("absence/"+employee+"/2024-03-05", manager, notification.TypeAbsence).String(), "37d8e654-cdae-5c6d-93f3-3e1400ed66de"},
		{"sweep correlation", sweepCorrelationID(employee, day).String(), "4d52dd8c-c8ff-5f9d-9165-494adc5c03c1"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: id = %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}
