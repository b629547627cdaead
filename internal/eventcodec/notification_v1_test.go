package eventcodec

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/testdb"
)

// raisedV1 is notification.raised as schema version 1 stored it: a
// decision's message and data named the decider, sealed under the
// recipient's key.
type raisedV1 struct {
	NotificationID string            `json:"notification_id" personal:"no"`
	RecipientID    string            `json:"recipient_id" personal:"no"`
	Type           notification.Type `json:"type" personal:"no"`
	Message        string            `json:"message" personal:"yes"`
	Data           map[string]any    `json:"data" personal:"yes"`
	CauseEventID   string            `json:"cause_event_id" personal:"no"`
	RaisedAt       time.Time         `json:"raised_at"`
	SubjectID      string            `json:"subject_id,omitempty" personal:"subject"`
}

func (raisedV1) EventName() string { return "notification.raised" }

// TestNotificationRaisedV1IsReadWithoutTheDecider: a decision's notification
// stored at version 1 reads at version 2 with its message rendered from its
// data, without the decider's name it held; another notification reads as
// stored; the stored rows keep what was written.
func TestNotificationRaisedV1IsReadWithoutTheDecider(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	codec, keys, _, err := Open(ctx, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, err := build([]any{raisedV1{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	before.UseKeys(keys)
	at := time.Date(2024, time.December, 2, 9, 0, 0, 0, time.UTC)
	decided := raisedV1{NotificationID: "n1", RecipientID: "e1", Type: notification.TypeLeaveDecided, SubjectID: "e1", RaisedAt: at,
		Message: "Your leave from 2024-12-01 to 2024-12-05 was approved by Mehmet Demir. Note: enjoy",
		Data: map[string]any{"request_id": "r1", "status": "approved", "start_date": "2024-12-01", "end_date": "2024-12-05",
			"decided_by_name": "Mehmet Demir", "note": "enjoy"}}
	late := raisedV1{NotificationID: "n2", RecipientID: "m1", Type: notification.TypeLateness, SubjectID: "e1", RaisedAt: at,
		Message: "Ayşe Yılmaz checked in 17 minutes late on 2024-12-02.", Data: map[string]any{"employee_id": "e1", "late_minutes": float64(17)}}
	if _, err := eventstore.New(pool, before).Append(ctx, "notify-e1", eventstore.NoStream,
		eventstore.EventData{ID: uuid.New(), Payload: decided}, eventstore.EventData{ID: uuid.New(), Payload: late}); err != nil {
		t.Fatal(err)
	}
	loaded, err := eventstore.New(pool, codec).Load(ctx, "notify-e1")
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 2 {
		t.Fatalf("loaded %d events", len(loaded))
	}
	for _, e := range loaded {
		if e.SchemaVersion != 1 {
			t.Errorf("stored at version %d, want 1 as written", e.SchemaVersion)
		}
	}
	r := loaded[0].Payload.(notification.Raised)
	msg, data := r.View()
	if want := "Your leave from 2024-12-01 to 2024-12-05 was approved. Note: enjoy"; msg != want || data["note"] != "enjoy" {
		t.Errorf("a v1 decision reads %q, %v; want %q", msg, data, want)
	}
	if _, named := data["decided_by_name"]; named || strings.Contains(string(loaded[0].Plain), "Mehmet") {
		t.Errorf("a v1 decision still names its decider: %s", loaded[0].Plain)
	}
	if msg, _ := loaded[1].Payload.(notification.Raised).View(); msg != late.Message {
		t.Errorf("a v1 lateness reads %q, want %q", msg, late.Message)
	}
}
