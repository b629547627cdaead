package eventstore_test

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"testing"

	"github.com/acme/employee-tracking/eventstore"
)

// objects are stored data as the codec and Postgres's jsonb write them, and
// what json.Marshal writes otherwise than as it finds it.
var objects = []string{
	`{}`,
	` { } `,
	`{"a":1}`,
	`{"b": 2, "a": {"y": [1, 2, {"z": null}], "x": "s"}, "c": true}`,
	"{\n\t\"days\" : 3 ,\r\n \"note\":\"x\"\n}",
	`{"data": {"employee_name": "Ayşe Yılmaz", "late_minutes": 17}, "message": "Ayşe <b>&</b> Ilık"}`,
	"{\"m\": \"line\u2028sep\u2029par\", \"n\": \"\u2027\u202a’\"}",
	`{"esc": "quote \" slash \\ \u00e9 \n tab\t", "u": "\u003c"}`,
	`{"k\u0065y": 1, "key2": 2, "<k>": 3, "ké": 4, "a\"b": 5}`,
	`{"dup": 1, "dup": {"x": 2}, "d\u0075p": 3}`,
	`{"n": -1.50e+10, "arr": [], "obj": {}, "s": "", "f": false}`,
	`{"personal": "c2VhbGVk", "personal:decided_by": null, "employee_id": "e1"}`,
	`{"nested": [[["a <", {"b": ">"}]], "&"]}`,
}

// TestObjectsAreWrittenAsMarshalWritesMaps: the plain data of a sealed event
// is written byte for byte as json.Marshal writes the map of its members.
func TestObjectsAreWrittenAsMarshalWritesMaps(t *testing.T) {
	t.Parallel()
	for _, obj := range objects {
		checkMarshalObject(t, []byte(obj))
	}
}

func FuzzMarshalObject(f *testing.F) {
	for _, obj := range objects {
		f.Add([]byte(obj))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fields map[string]json.RawMessage
		if json.Unmarshal(data, &fields) != nil || fields == nil {
			if got, err := eventstore.MarshalObject(data); err == nil && json.Valid(got) && json.Valid(data) {
				t.Errorf("%q is not an object; written as %s", data, got)
			}
			return
		}
		checkMarshalObject(t, data)
	})
}

func checkMarshalObject(t *testing.T, data []byte) {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	want, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	got, err := eventstore.MarshalObject(data)
	if err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s written as\n%s\nwant\n%s", data, got, want)
	}
}

// TestSealedEventsReadInPlace: a sealed event read from data as the codec
// and as Postgres's jsonb write it, with text that json.Marshal escapes,
// reads as its fields, in the order of the stored members with each sealed
// one replaced by the fields it held; once its subject is erased, as its
// fields with theirs null.
func TestSealedEventsReadInPlace(t *testing.T) {
	t.Parallel()
	c, err := eventstore.NewCodec(notice{})
	if err != nil {
		t.Fatal(err)
	}
	keys := newAESKeys(t, "employee-042", "manager-007")
	c.UseKeys(keys)
	ev := lateNotice()
	ev.Message = "Ayşe <b>&</b>\u2028 \"late\"\n"
	ev.DecidedBy, ev.DecidedByName = "manager-007", "Mehmet Demir"
	name, version, data, err := c.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	var spaced bytes.Buffer
	if err := json.Indent(&spaced, data, "", "  "); err != nil {
		t.Fatal(err)
	}
	plain, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	read := func(data []byte) eventstore.Event {
		t.Helper()
		e := eventstore.Event{Type: name, SchemaVersion: version, Data: data}
		if err := c.DecodeEvent(&e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	var order []string
	for _, key := range memberNames(t, data) {
		switch key {
		case "personal":
			order = append(order, "data", "message")
		case "personal:decided_by":
			order = append(order, "decided_by_name")
		default:
			order = append(order, key)
		}
	}
	for _, stored := range [][]byte{data, spaced.Bytes()} {
		e := read(stored)
		checkPlain(t, e.Plain, string(plain))
		if got := memberNames(t, e.Plain); !slices.Equal(got, order) || e.Erased {
			t.Errorf("plain %s erased %v: members %q, want %q", e.Plain, e.Erased, got, order)
		}
		if got := e.Payload.(notice); got.Message != ev.Message || got.DecidedByName != ev.DecidedByName || got.Data["employee_name"] != ev.Data["employee_name"] {
			t.Errorf("payload %+v, want %+v", got, ev)
		}
	}

	keys.erased["employee-042"] = true
	for _, stored := range [][]byte{data, spaced.Bytes()} {
		e := read(stored)
		checkPlain(t, e.Plain, string(marshalledFields(t, plain, []string{"message", "data"})))
		if !e.Erased {
			t.Errorf("erased: plain %s, not erased", e.Plain)
		}
		if got := e.Payload.(notice); got.Message != "" || got.Data != nil || got.DecidedByName != ev.DecidedByName {
			t.Errorf("erased: payload %+v", got)
		}
	}
}

// memberNames are the names of the members of the JSON object data, in
// their order.
func memberNames(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	var names []string
	for depth := 0; ; {
		tok, err := dec.Token()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		default:
			if name, ok := tok.(string); ok && depth == 1 {
				names = append(names, name)
				if err := dec.Decode(new(json.RawMessage)); err != nil {
					t.Fatalf("%s: %v", data, err)
				}
			}
		}
	}
}

// marshalledFields is the JSON object data as json.Marshal writes the map of
// its members, with the members named null set to null.
func marshalledFields(t *testing.T, data []byte, null []string) []byte {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	for _, f := range null {
		fields[f] = json.RawMessage("null")
	}
	out, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSealedEventsDecodeAsPlainOnesDo: opening a sealed event adds three
// allocations to decoding it (the subject's id, the opened bytes, the plain
// data), not the decoding of its JSON again.
func TestSealedEventsDecodeAsPlainOnesDo(t *testing.T) {
	c, err := eventstore.NewCodec(notice{})
	if err != nil {
		t.Fatal(err)
	}
	c.UseKeys(newAESKeys(t, "employee-042"))
	name, version, sealed, err := c.Encode(lateNotice())
	if err != nil {
		t.Fatal(err)
	}
	plain, err := json.Marshal(lateNotice())
	if err != nil {
		t.Fatal(err)
	}
	allocs := func(data []byte) float64 {
		return testing.AllocsPerRun(100, func() {
			e := eventstore.Event{Type: name, SchemaVersion: version, Data: data}
			if err := c.DecodeEvent(&e); err != nil {
				t.Fatal(err)
			}
		})
	}
	if s, p := allocs(sealed), allocs(plain); s > p+3 {
		t.Errorf("decoding a sealed notification allocates %.0f times, the same in plain text %.0f", s, p)
	}
}
