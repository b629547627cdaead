package eventstore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// openedEvent has personal fields of its subject, one of them a map (which
// decoding fills member by member) and of another person, beside fields that
// are not personal.
type openedEvent struct {
	ID         string         `json:"id" personal:"no"`
	EmployeeID string         `json:"employee_id" personal:"subject"`
	Name       string         `json:"name" personal:"yes"`
	Note       string         `json:"note" personal:"yes"`
	Data       map[string]any `json:"data" personal:"yes"`
	By         string         `json:"by" personal:"no"`
	ByName     string         `json:"by_name" personal:"of:by"`
	Days       int            `json:"days"`
	Tags       []string       `json:"tags"`
	Kind       string         `json:"kind" personal:"no"`
}

func (openedEvent) EventName() string { return "test.opened" }

// openedObjects are stored data of openedEvent, sealed or not, and objects
// sealed as a group's personal fields: with escapes, nested objects, names
// repeated or differing only in case, erased subjects ("gone").
var openedObjects = []string{
	`{"id":"1","employee_id":"e1","name":"Ayşe","note":"late <b>&</b>","data":{"n":1,"m":{"x":[1,2]}},"by":"m2","by_name":"Mehmet","days":2}`,
	`{"id":"1","employee_id":"gone","name":"Ayşe","by":"m2","by_name":"Mehmet"}`,
	`{"id":"1","employee_id":"e1","name":"Ayşe","by":"gone","by_name":"Mehmet"}`,
	`{"employee_id":"e1","name":"a","Name":"b","NAME":"c","data":{"a":1},"Data":{"b":2}}`,
	`{"employee_id":"e1","name":"a","name":"b","n\u0061me":"c","data":{"a":1},"data":{"b":2},"tags":["x"],"tags":[]}`,
	`{"employee_id":"e1","k\u0065y":1,"\ud83d\ude00":2,"quote\"d":3,"nam\u212a":4,"ſ":5,"s":6}`,
	"{\n\t\"employee_id\" : \"e1\" ,\r\n \"note\":\"x\\u2028\"\n, \"data\": [ {} , [] ]}",
	`{"employee_id":"e1","personal":null,"personal:by":null,"by":"m2"}`,
	`{"employee_id":"e1","personal":"AAAA","name":"x"}`,
	`{"employee_id":"e\u0031","personal":"ZTEAdGVzdC5vcGVuZWQ6e30=","Employee_ID":"e1"}`,
	"{\"employee_id\":\"e1\",\"\xff\":1,\"\xfe\":2,\"name\":\"\xffx\"}",
	`{"ID":"x","Days":4,"EMPLOYEE_ID":"e2"}`,
	"{\"employee_id\":\"e1\",\"\u212aind\":\"a\",\"kind\":\"b\",\"\u017fTAGS\":[]}",
	"{\"\u212aind\":\"a\",\"kind\":\"b\",\"\u017fTAGS\":[\"c\"],\"tags\":[]}",
	`{}`,
	`[]`,
	`{"employee_id":"e1","personal":"x"`,
}

// FuzzOpenInPlace: reading sealed data in place gives what the general path,
// which writes the members as json.Marshal writes a map, gives: the same
// JSON value, the same payload, the same erasures, or an error both times;
// whatever the stored object (as sealed, spaced, or as it comes) and
// whatever the sealed group holds.
func FuzzOpenInPlace(f *testing.F) {
	for _, data := range openedObjects {
		f.Add([]byte(data))
	}
	c, err := NewCodec(openedEvent{})
	if err != nil {
		f.Fatal(err)
	}
	c.UseKeys(clearKeys{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, stored := range storedVariants(t, c, data) {
			checkOpenInPlace(t, c, stored)
		}
	})
}

// storedVariants are data as it comes; sealed by c, compact and spaced as
// jsonb writes it (when it is valid JSON); and sealed as the group of the
// subject "e1", beside fields of other names.
func storedVariants(t *testing.T, c *Codec, data []byte) [][]byte {
	t.Helper()
	variants := [][]byte{data}
	name, pf := "test.opened", c.types["test.opened"].personal
	if sealed, err := c.sealPersonal(name, pf, data); err == nil {
		variants = append(variants, sealed)
		var spaced bytes.Buffer
		if json.Indent(&spaced, sealed, "", " ") == nil {
			variants = append(variants, spaced.Bytes())
		}
	}
	box, err := json.Marshal(base64.StdEncoding.EncodeToString(
		append(appendPersonalAAD(nil, "e1", name, ""), append([]byte(":"), data...)...)))
	if err != nil {
		t.Fatal(err)
	}
	group := append(append([]byte(`{"id":"1","personal":`), box...), `,"employee_id":"e1","days":3}`...)
	return append(variants, group)
}

func checkOpenInPlace(t *testing.T, c *Codec, stored []byte) {
	t.Helper()
	name, pf := "test.opened", c.types["test.opened"].personal
	want, wantErased, wantOthers, wantErr := c.openMembers(name, pf, stored, false)
	got, erased, others, err := c.openMembers(name, pf, stored, true)
	if errors.Is(err, errNotInPlace) {
		return // read by the general path
	}
	// Either may fail on a value that is not JSON, which decoding what the
	// other wrote then refuses.
	if read, wantRead := err == nil && json.Valid(got), wantErr == nil && json.Valid(want); read != wantRead {
		t.Fatalf("%s: in place: %s, error %v; general: %s, error %v", stored, got, err, want, wantErr)
	} else if !read {
		return
	}
	if erased != wantErased || !reflect.DeepEqual(others, wantOthers) {
		t.Errorf("%s: in place erased %v %q, general %v %q", stored, erased, others, wantErased, wantOthers)
	}
	var gotValue, wantValue any
	if err := errors.Join(json.Unmarshal(got, &gotValue), json.Unmarshal(want, &wantValue)); err != nil || !reflect.DeepEqual(gotValue, wantValue) {
		t.Errorf("%s: in place %s, general %s (%v)", stored, got, want, err)
	}
	var gotEvent, wantEvent openedEvent
	gotEventErr, wantEventErr := json.Unmarshal(got, &gotEvent), json.Unmarshal(want, &wantEvent)
	if (gotEventErr != nil) != (wantEventErr != nil) || !reflect.DeepEqual(gotEvent, wantEvent) {
		t.Errorf("%s: in place decodes %+v (%v) from %s, general %+v (%v) from %s",
			stored, gotEvent, gotEventErr, got, wantEvent, wantEventErr, want)
	}
}

// TestOpenInPlace: the seeds of FuzzOpenInPlace, and the data that the
// codec seals is read in place, not by the general path.
func TestOpenInPlace(t *testing.T) {
	c, err := NewCodec(openedEvent{})
	if err != nil {
		t.Fatal(err)
	}
	c.UseKeys(clearKeys{})
	name, pf := "test.opened", c.types["test.opened"].personal
	for _, data := range openedObjects {
		for _, stored := range storedVariants(t, c, []byte(data)) {
			checkOpenInPlace(t, c, stored)
		}
	}
	ev := openedEvent{ID: "1", EmployeeID: "e1", Name: "Ayşe", Data: map[string]any{"late": 17.0}, By: "m2", ByName: "Mehmet"}
	for _, ev := range []openedEvent{ev, {ID: "2", EmployeeID: "gone", By: "gone", ByName: "x"}} {
		_, _, data, err := c.Encode(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := c.openMembers(name, pf, data, true); err != nil {
			t.Errorf("%s: %v", data, err)
		}
	}
}
