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

// readEnvelope reads what EventPayload writes as json.Unmarshal does, data
// holding the keys and escapes that could mislead it included.
func TestReadEnvelopeAgreesWithJSON(t *testing.T) {
	t.Parallel()
	for _, data := range []string{
		`{}`,
		`null`,
		`{"x":1,"metadata":{"actor":"not this"},"recorded_at":"2020-01-01T00:00:00Z"}`,
		`{"s":"a \",\"metadata\":{} \\ \u00e7 \"}","n":[1,2,{"metadata":null}]}`,
		`[{"data":{"data":1}}]`,
	} {
		agreeOnEnvelope(t, "attendance-e\"1\\é", "leave.type\"x", data, "ayşe \",\"metadata\":")
	}
}

func FuzzReadEnvelope(f *testing.F) {
	f.Add("attendance-1", "attendance.checked_in", `{"a":"b"}`, "actor")
	f.Add("x-\"", "t\\", `{"metadata":{}}`, `,"metadata":{"actor":"x"}`)
	f.Fuzz(func(t *testing.T, stream, typ, text, actor string) {
		data, _ := json.Marshal(map[string]any{"text": text, "metadata": map[string]string{"actor": text}})
		agreeOnEnvelope(t, stream, typ, string(data), actor)
	})
}

// agreeOnEnvelope checks that readEnvelope reads the payload of an event of
// these fields as json.Unmarshal does.
func agreeOnEnvelope(t *testing.T, stream, typ, data, actor string) {
	t.Helper()
	e := eventstore.Event{Position: 9, TxID: 8, ID: uuid.New(), StreamID: stream, Version: 2, Type: typ, SchemaVersion: 3,
		Data: []byte(data), Metadata: eventstore.Metadata{Actor: actor, CausationID: "c"},
		RecordedAt: time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC)}
	payload, err := EventPayload(e)
	if err != nil {
		t.Fatal(err)
	}
	var want envelope
	if err := json.Unmarshal(payload, &want); err != nil {
		return // a payload json.Unmarshal refuses (invalid UTF-8, say) is no envelope to agree on
	}
	got, ok := readEnvelope(payload)
	if !ok {
		t.Fatalf("readEnvelope refused %s", payload)
	}
	if !json.Valid(got.Data) {
		t.Fatalf("data %q is no JSON", got.Data)
	}
	var wantData, gotData any
	_ = json.Unmarshal(want.Data, &wantData)
	_ = json.Unmarshal(got.Data, &gotData)
	want.Data, got.Data = nil, nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("envelope of %s (-json +readEnvelope):\n%s", payload, diff)
	}
	if diff := cmp.Diff(wantData, gotData); diff != "" {
		t.Errorf("data of %s (-json +readEnvelope):\n%s", payload, diff)
	}
}

// readMetadata reads every field of Metadata as json.Unmarshal does, and
// refuses what json.Marshal of a Metadata never writes.
func TestReadMetadataAgreesWithJSON(t *testing.T) {
	t.Parallel()
	for _, md := range []eventstore.Metadata{
		{},
		{Actor: "ayşe", RequestID: "r", IdempotencyKey: "k", CausationID: "c", CorrelationID: "o"},
		{Actor: `a "quoted", \ escaped` + "\n\u2028 actor", CorrelationID: `{"actor":"x"}`},
	} {
		b, err := json.Marshal(md)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := readMetadata(b)
		if !ok {
			t.Fatalf("readMetadata refused %s", b)
		}
		if diff := cmp.Diff(md, got); diff != "" {
			t.Errorf("metadata of %s (-want +got):\n%s", b, diff)
		}
	}
	for _, b := range []string{``, `{`, `null`, `{"actor":1}`, `{"other":"x"}`, `{"actor":"x",}`, `{"actor" : "x"}`, `{"actor":"x""request_id":"y"}`} {
		if md, ok := readMetadata([]byte(b)); ok {
			t.Errorf("readMetadata(%s) = %+v, want it refused", b, md)
		}
	}
}
