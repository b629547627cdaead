package bus

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/eventcodec"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	t.Parallel()
	codec, err := eventcodec.New()
	if err != nil {
		t.Fatal(err)
	}
	payload := attendance.CheckedIn{EmployeeID: "e\"1", At: time.Date(2024, 12, 2, 5, 17, 0, 0, time.UTC), LocalDate: calendar.Date{Year: 2024, Month: time.December, Day: 2},
		Timezone: "Europe/Istanbul", Workday: true, Late: true, LateMinutes: 17}
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	want := eventstore.Event{
		Position: 42, TxID: 7, ID: uuid.New(), StreamID: "attendance-e\"1", Version: 3, Type: payload.EventName(), SchemaVersion: 1,
		Data: data, Metadata: eventstore.Metadata{Actor: "ayşe", CausationID: "c", CorrelationID: "r"},
		RecordedAt: time.Date(2024, 12, 2, 5, 17, 0, 123456000, time.UTC), Payload: payload,
		Plain: data, // nothing personal to open
	}
	msg, err := EventMessage(want)
	if err != nil {
		t.Fatal(err)
	}
	if msg.UUID != want.ID.String() || msg.Metadata.Get(MetaStream) != want.StreamID || msg.Metadata.Get(MetaVersion) != "3" {
		t.Errorf("message: got uuid %s, metadata %v; want the event id, stream and version", msg.UUID, msg.Metadata)
	}
	got, err := DecodeEvent(codec, msg.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if _, err := DecodeEvent(codec, []byte(`{"stream":"x-1","version":1,"type":"no.such_event","data":{}}`)); err == nil {
		t.Error("decoding an unknown event type: got no error")
	}
}
