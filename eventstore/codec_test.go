package eventstore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/acme/employee-tracking/eventstore"
)

// leaveRequested is at schema version 3: version 1 had "days" as a string,
// version 2 renamed "note" to "reason".
type leaveRequested struct {
	RequestID string    `json:"request_id"`
	Start     time.Time `json:"start"`
	Days      float64   `json:"days"`
	Reason    string    `json:"reason,omitempty"`
}

func (leaveRequested) EventName() string  { return "test.leave_requested" }
func (leaveRequested) SchemaVersion() int { return 3 }

// upcastDaysToNumber turns version 1 into version 2.
func upcastDaysToNumber(data json.RawMessage) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	s, ok := m["days"].(string)
	if !ok {
		return nil, fmt.Errorf("days is %T, want a string", m["days"])
	}
	var days float64
	if _, err := fmt.Sscan(s, &days); err != nil {
		return nil, err
	}
	m["days"] = days
	return json.Marshal(m)
}

// upcastNoteToReason turns version 2 into version 3.
func upcastNoteToReason(data json.RawMessage) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	m["reason"] = m["note"]
	delete(m, "note")
	return json.Marshal(m)
}

func newVersionedCodec(t testing.TB) *eventstore.Codec {
	t.Helper()
	c, err := eventstore.NewCodec(checkedIn{}, checkedOut{}, leaveRequested{})
	if err != nil {
		t.Fatal(err)
	}
	c.RegisterUpcaster("test.leave_requested", 1, upcastDaysToNumber)
	c.RegisterUpcaster("test.leave_requested", 2, upcastNoteToReason)
	return c
}

func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	c := newVersionedCodec(t)
	tests := []struct {
		payload     eventstore.Payload
		wantName    string
		wantVersion int
	}{
		{checkedIn{EmployeeID: "e1", Minute: 485}, "test.checked_in", 1},
		{checkedOut{EmployeeID: "e1"}, "test.checked_out", 1},
		{leaveRequested{RequestID: "r1", Start: time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), Days: 2.5, Reason: "trip"}, "test.leave_requested", 3},
		{checkedIn{}, "test.checked_in", 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T", tt.payload), func(t *testing.T) {
			name, version, data, err := c.Encode(tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			if name != tt.wantName || version != tt.wantVersion {
				t.Errorf("encoded as %q v%d, want %q v%d", name, version, tt.wantName, tt.wantVersion)
			}
			got, err := c.Decode(name, version, data)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.payload, got); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCodecUpcasts(t *testing.T) {
	t.Parallel()
	c := newVersionedCodec(t)
	want := leaveRequested{RequestID: "r1", Days: 2, Reason: "trip"}
	tests := []struct {
		version int
		data    string
	}{
		{1, `{"request_id":"r1","days":"2","note":"trip","start":"0001-01-01T00:00:00Z"}`},
		{2, `{"request_id":"r1","days":2,"note":"trip","start":"0001-01-01T00:00:00Z"}`},
		{3, `{"request_id":"r1","days":2,"reason":"trip","start":"0001-01-01T00:00:00Z"}`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("from v%d", tt.version), func(t *testing.T) {
			got, err := c.Decode("test.leave_requested", tt.version, []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCodecErrors(t *testing.T) {
	t.Parallel()
	c := newVersionedCodec(t)
	noUpcasters, err := eventstore.NewCodec(leaveRequested{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want error // nil: any error
	}{
		{"decode unknown name", decodeErr(c, "test.nope", 1, `{}`), eventstore.ErrUnknownEvent},
		{"encode unregistered type", encodeErr(c, unknownEvent{}), eventstore.ErrUnknownEvent},
		{"encode nil", encodeErr(c, nil), nil},
		{"encode nil pointer", encodeErr(c, (*checkedIn)(nil)), nil},
		{"version from the future", decodeErr(c, "test.leave_requested", 4, `{}`), nil},
		{"version zero", decodeErr(c, "test.checked_in", 0, `{}`), nil},
		{"missing upcaster", decodeErr(noUpcasters, "test.leave_requested", 2, `{}`), nil},
		{"failing upcaster", decodeErr(c, "test.leave_requested", 1, `{"days":2}`), nil},
		{"malformed json", decodeErr(c, "test.checked_in", 1, `{"minute":`), nil},
		{"wrong field type", decodeErr(c, "test.checked_in", 1, `{"minute":"late"}`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("got no error, want one")
			}
			if tt.want != nil && !errors.Is(tt.err, tt.want) {
				t.Errorf("got error %v, want %v", tt.err, tt.want)
			}
		})
	}
}

func decodeErr(c *eventstore.Codec, name string, version int, data string) error {
	_, err := c.Decode(name, version, []byte(data))
	return err
}

func encodeErr(c *eventstore.Codec, p eventstore.Payload) error {
	_, _, _, err := c.Encode(p)
	return err
}

type sameName struct{}

func (sameName) EventName() string { return "test.checked_in" }

type zeroVersion struct{}

func (zeroVersion) EventName() string  { return "test.zero" }
func (zeroVersion) SchemaVersion() int { return 0 }

func TestNewCodecRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		payloads []any
	}{
		{"duplicate name", []any{checkedIn{}, sameName{}}},
		{"pointer", []any{&checkedIn{}}},
		{"not an event", []any{struct{}{}}},
		{"schema version below one", []any{zeroVersion{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := eventstore.NewCodec(tt.payloads...); err == nil {
				t.Error("got no error, want one")
			}
		})
	}
}

func TestRegisterUpcasterPanicsOnMistakes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		from int
		ev   string
	}{
		{"unknown event", 1, "test.nope"},
		{"from the current version", 3, "test.leave_requested"},
		{"from zero", 0, "test.leave_requested"},
		{"second upcaster for a step", 1, "test.leave_requested"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newVersionedCodec(t)
			defer func() {
				if recover() == nil {
					t.Error("got no panic, want one")
				}
			}()
			c.RegisterUpcaster(tt.ev, tt.from, upcastNoteToReason)
		})
	}
}

// TestCheckUpcasters: a codec that cannot read every older schema version of
// its events says which steps are missing; one that can says nothing.
func TestCheckUpcasters(t *testing.T) {
	t.Parallel()
	if err := newVersionedCodec(t).CheckUpcasters(); err != nil {
		t.Errorf("every step has its upcaster, got %v", err)
	}
	if err := newCodec(t).CheckUpcasters(); err != nil {
		t.Errorf("events at schema version 1 need no upcaster, got %v", err)
	}
	none, err := eventstore.NewCodec(checkedIn{}, leaveRequested{})
	if err != nil {
		t.Fatal(err)
	}
	want := `eventstore: "test.leave_requested" is at schema version 3, and no upcaster reads version 1` + "\n" +
		`eventstore: "test.leave_requested" is at schema version 3, and no upcaster reads version 2`
	if err := none.CheckUpcasters(); err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	none.RegisterUpcaster("test.leave_requested", 2, upcastNoteToReason)
	want = `eventstore: "test.leave_requested" is at schema version 3, and no upcaster reads version 1`
	if err := none.CheckUpcasters(); err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func FuzzCodecDecode(f *testing.F) {
	c := newVersionedCodec(f)
	for _, seed := range []struct {
		name    string
		version int
		data    string
	}{
		{"test.checked_in", 1, `{"employee_id":"e1","minute":3}`},
		{"test.leave_requested", 1, `{"days":"1.5","note":"x"}`},
		{"test.leave_requested", 2, `{"days":1}`},
		{"test.leave_requested", 3, `null`},
		{"test.nope", 1, `{}`},
		{"", -1, ``},
	} {
		f.Add(seed.name, seed.version, []byte(seed.data))
	}
	f.Fuzz(func(t *testing.T, name string, version int, data []byte) {
		p, err := c.Decode(name, version, data)
		if err != nil {
			if p != nil {
				t.Errorf("Decode returned %v with error %v, want nil", p, err)
			}
			return
		}
		if p == nil || p.EventName() != name {
			t.Errorf("Decode(%q) returned %#v, want a %q event", name, p, name)
		}
	})
}
