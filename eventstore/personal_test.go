package eventstore_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/acme/employee-tracking/eventstore"
)

// registered has personal fields sealed under EmployeeID's key.
type registered struct {
	EmployeeID string `json:"employee_id" personal:"subject"`
	FullName   string `json:"full_name" personal:"yes"`
	Note       string `json:"note" personal:"yes"`
	Role       string `json:"role" personal:"no"`
	Days       int    `json:"days"`
}

func (registered) EventName() string { return "test.registered" }

// xorKeys seal by XOR with a byte per subject, prefixed by the AAD so that
// opening checks it; erased subjects have no key.
type xorKeys struct {
	mu     sync.Mutex
	erased map[string]bool
}

func (k *xorKeys) key(subject string) (byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.erased[subject] {
		return 0, eventstore.ErrErased
	}
	return byte(len(subject)) | 0x80, nil
}

func (k *xorKeys) Seal(subject string, aad, plaintext []byte) ([]byte, error) {
	b, err := k.key(subject)
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), aad...)
	for _, c := range plaintext {
		out = append(out, c^b)
	}
	return out, nil
}

func (k *xorKeys) Open(subject string, aad, sealed []byte) ([]byte, error) {
	b, err := k.key(subject)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(sealed, aad) {
		return nil, errors.New("wrong subject or event")
	}
	out := make([]byte, 0, len(sealed)-len(aad))
	for _, c := range sealed[len(aad):] {
		out = append(out, c^b)
	}
	return out, nil
}

func (k *xorKeys) erase(subject string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.erased[subject] = true
}

func personalCodec(t *testing.T) (*eventstore.Codec, *xorKeys) {
	t.Helper()
	c, err := eventstore.NewCodec(registered{}, checkedIn{})
	if err != nil {
		t.Fatal(err)
	}
	keys := &xorKeys{erased: map[string]bool{}}
	c.UseKeys(keys)
	return c, keys
}

// TestPersonalFieldsAreSealed: the stored data holds no personal text, reads
// give it back, and once the subject's key is gone they read as null, with the
// stored bytes unchanged.
func TestPersonalFieldsAreSealed(t *testing.T) {
	t.Parallel()
	c, keys := personalCodec(t)
	ev := registered{EmployeeID: "e1", FullName: "Ayşe Yılmaz", Note: "moved to Izmir", Role: "employee", Days: 3}
	name, version, data, err := c.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"Ayşe", "Izmir", "full_name", "note"} {
		if strings.Contains(string(data), text) {
			t.Errorf("stored data %s holds %q", data, text)
		}
	}
	e := eventstore.Event{Type: name, SchemaVersion: version, Data: data}
	if err := c.DecodeEvent(&e); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(eventstore.Payload(ev), e.Payload); diff != "" || e.Erased {
		t.Errorf("decoded (-want +got):\n%s erased %v", diff, e.Erased)
	}
	checkPlain(t, e.Plain, `{"days":3,"employee_id":"e1","full_name":"Ayşe Yılmaz","note":"moved to Izmir","role":"employee"}`)

	keys.erase("e1")
	stored := bytes.Clone(data)
	e = eventstore.Event{Type: name, SchemaVersion: version, Data: data}
	if err := c.DecodeEvent(&e); err != nil {
		t.Fatal(err)
	}
	want := registered{EmployeeID: "e1", Role: "employee", Days: 3}
	if diff := cmp.Diff(eventstore.Payload(want), e.Payload); diff != "" || !e.Erased {
		t.Errorf("decoded after erasure (-want +got):\n%s erased %v", diff, e.Erased)
	}
	checkPlain(t, e.Plain, `{"days":3,"employee_id":"e1","full_name":null,"note":null,"role":"employee"}`)
	if !bytes.Equal(stored, e.Data) {
		t.Error("decoding changed the stored data")
	}

	// Another subject's data still opens.
	_, _, other, err := c.Encode(registered{EmployeeID: "e22", FullName: "Mehmet Demir"})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := c.Decode(name, version, other); err != nil || p.(registered).FullName != "Mehmet Demir" {
		t.Errorf("another subject's event = %v, %v", p, err)
	}
}

// TestPersonalFieldsOfAnErasedSubject: an event about someone already erased
// is stored without their personal fields, and reads as erased.
func TestPersonalFieldsOfAnErasedSubject(t *testing.T) {
	t.Parallel()
	c, keys := personalCodec(t)
	keys.erase("e1")
	name, version, data, err := c.Encode(registered{EmployeeID: "e1", FullName: "Ayşe Yılmaz", Days: 1})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "Ayşe") {
		t.Fatalf("stored %s", data)
	}
	e := eventstore.Event{Type: name, SchemaVersion: version, Data: data}
	if err := c.DecodeEvent(&e); err != nil || !e.Erased || e.Payload.(registered).FullName != "" {
		t.Errorf("decoded %+v, %v; want erased", e, err)
	}
}

// TestPersonalDataIsBoundToItsSubject: sealed data moved to another subject's
// event does not open.
func TestPersonalDataIsBoundToItsSubject(t *testing.T) {
	t.Parallel()
	c, _ := personalCodec(t)
	name, version, data, err := c.Encode(registered{EmployeeID: "e1", FullName: "Ayşe Yılmaz"})
	if err != nil {
		t.Fatal(err)
	}
	moved := bytes.Replace(data, []byte(`"e1"`), []byte(`"e2"`), 1)
	if _, err := c.Decode(name, version, moved); err == nil {
		t.Error("sealed data of e1 opened as e2's")
	}
}

func TestPersonalEventsNeedKeysAndASubject(t *testing.T) {
	t.Parallel()
	c, err := eventstore.NewCodec(registered{}, checkedIn{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := c.Encode(registered{EmployeeID: "e1", FullName: "x"}); err == nil {
		t.Error("a codec without keys encoded personal fields")
	}
	if _, _, _, err := c.Encode(checkedIn{EmployeeID: "e1"}); err != nil {
		t.Errorf("an event without personal fields needs no keys: %v", err)
	}
	withKeys, _ := personalCodec(t)
	if _, _, _, err := withKeys.Encode(registered{FullName: "x"}); err == nil {
		t.Error("personal fields without a subject were encoded")
	}
}

type twoSubjects struct {
	A string `json:"a" personal:"subject"`
	B string `json:"b" personal:"subject"`
}

func (twoSubjects) EventName() string { return "test.two_subjects" }

type noSubject struct {
	A string `json:"a" personal:"yes"`
}

func (noSubject) EventName() string { return "test.no_subject" }

type badTag struct {
	A string `json:"a" personal:"maybe"`
}

func (badTag) EventName() string { return "test.bad_tag" }

type takenName struct {
	ID string `json:"id" personal:"subject"`
	P  string `json:"personal" personal:"yes"`
}

func (takenName) EventName() string { return "test.taken_name" }

func TestPersonalTagsAreChecked(t *testing.T) {
	t.Parallel()
	for _, ev := range []any{twoSubjects{}, noSubject{}, badTag{}, takenName{}} {
		if _, err := eventstore.NewCodec(ev); err == nil {
			t.Errorf("%T registered; want its personal tags refused", ev)
		}
	}
}

func checkPlain(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("plain %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("plain (-want +got):\n%s", diff)
	}
}

// decided holds personal data of two persons: the note written about its
// subject, and the name of whoever decided, sealed under the decider's key.
type decided struct {
	EmployeeID    string `json:"employee_id" personal:"subject"`
	Note          string `json:"note" personal:"yes"`
	DecidedBy     string `json:"decided_by,omitempty" personal:"no"`
	DecidedByName string `json:"decided_by_name,omitempty" personal:"of:decided_by"`
}

func (decided) EventName() string { return "test.decided" }

// TestAnotherPersonsFieldsAreSealedUnderTheirKey: a field tagged
// personal:"of:<id field>" is sealed under that person's key, so erasing
// them erases it and nothing else, and erasing the subject leaves it.
func TestAnotherPersonsFieldsAreSealedUnderTheirKey(t *testing.T) {
	t.Parallel()
	c, err := eventstore.NewCodec(decided{})
	if err != nil {
		t.Fatal(err)
	}
	keys := &xorKeys{erased: map[string]bool{}}
	c.UseKeys(keys)
	if got := c.PersonalEvents(); !slices.Equal(got, []string{"test.decided"}) {
		t.Errorf("PersonalEvents = %v", got)
	}
	ev := decided{EmployeeID: "e1", Note: "enjoy", DecidedBy: "manager2", DecidedByName: "Mehmet Demir"}
	name, version, data, err := c.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"Mehmet", "enjoy"} {
		if strings.Contains(string(data), text) {
			t.Errorf("stored data %s holds %q", data, text)
		}
	}
	var stored map[string]json.RawMessage
	if err := json.Unmarshal(data, &stored); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(mustBase64(t, stored["personal:decided_by"]), []byte("manager2\x00test.decided\x00decided_by")) {
		t.Errorf("the decider's name is not sealed under their key: %s", data)
	}
	decode := func() eventstore.Event {
		t.Helper()
		e := eventstore.Event{Type: name, SchemaVersion: version, Data: data}
		if err := c.DecodeEvent(&e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	if e := decode(); !cmp.Equal(eventstore.Payload(ev), e.Payload) || e.Erased {
		t.Errorf("decoded %+v erased %v, want %+v", e.Payload, e.Erased, ev)
	}

	keys.erase("manager2")
	e := decode()
	if want := (decided{EmployeeID: "e1", Note: "enjoy", DecidedBy: "manager2"}); !cmp.Equal(eventstore.Payload(want), e.Payload) || e.Erased {
		t.Errorf("decider erased: decoded %+v erased %v, want %+v, not erased (the subject is not)", e.Payload, e.Erased, want)
	}
	checkPlain(t, e.Plain, `{"decided_by":"manager2","decided_by_name":null,"employee_id":"e1","note":"enjoy"}`)
	keys.erase("e1")
	if e := decode(); !e.Erased || e.Payload.(decided).Note != "" {
		t.Errorf("subject erased too: %+v erased %v", e.Payload, e.Erased)
	}
	// Appended after the decider's erasure: their name is not kept at all.
	if _, _, data, err := c.Encode(decided{EmployeeID: "e3", DecidedBy: "manager2", DecidedByName: "Mehmet Demir"}); err != nil ||
		strings.Contains(string(data), "Mehmet") || !strings.Contains(string(data), `"personal:decided_by":null`) {
		t.Errorf("encoded after the decider's erasure: %s, %v", data, err)
	}

	// Nobody decided: nothing is sealed for anyone, and a name without an id
	// is refused.
	if _, _, data, err := c.Encode(decided{EmployeeID: "e4", Note: "n"}); err != nil || strings.Contains(string(data), "personal:") {
		t.Errorf("without a decider: %s, %v", data, err)
	}
	if _, _, _, err := c.Encode(decided{EmployeeID: "e4", DecidedByName: "Mehmet Demir"}); err == nil {
		t.Error("a decider's name without their id was stored")
	}
}

// TestAnotherPersonsTagIsChecked: personal:"of:<f>" must name a string field
// declared not personal, the other person's id.
func TestAnotherPersonsTagIsChecked(t *testing.T) {
	t.Parallel()
	for _, v := range []any{ofNoSuchField{}, ofPersonalID{}} {
		if _, err := eventstore.NewCodec(v); err == nil {
			t.Errorf("%T registered", v)
		}
	}
}

type ofNoSuchField struct {
	EmployeeID string `json:"employee_id" personal:"subject"`
	Name       string `json:"name" personal:"of:by"`
}

func (ofNoSuchField) EventName() string { return "test.of_no_such_field" }

type ofPersonalID struct {
	EmployeeID string `json:"employee_id" personal:"subject"`
	By         string `json:"by" personal:"yes"`
	Name       string `json:"name" personal:"of:by"`
}

func (ofPersonalID) EventName() string { return "test.of_personal_id" }

func mustBase64(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	var b []byte
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return b
}
