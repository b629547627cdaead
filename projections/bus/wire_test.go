package bus

import (
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// unmarshalEntry reads what watermill-redisstream writes as its own
// unmarshaller does, whatever the metadata: none, a watermark's, an event's,
// strings of every msgpack length format, and maps of 16 keys or more.
func TestUnmarshalEntryReadsWhatRedisstreamWrites(t *testing.T) {
	for name, md := range metadataCases() {
		t.Run(name, func(t *testing.T) {
			var codec redisstream.DefaultMarshallerUnmarshaller
			msg := message.NewMessage("5e0c7c1a-8f5e-4a77-b0a5-3f4d0e1c2b3a", []byte(`{"event_id":"x"}`))
			msg.Metadata = md
			values, err := codec.Marshal("topic", msg)
			if err != nil {
				t.Fatal(err)
			}
			// What Redis hands back: every value a string.
			read := map[string]any{}
			for k, v := range values {
				switch v := v.(type) {
				case []byte:
					read[k] = string(v)
				default:
					read[k] = v
				}
			}
			want, err := codec.Unmarshal(read)
			if err != nil {
				t.Fatal(err)
			}
			got, err := unmarshalEntry(read)
			if err != nil {
				t.Fatal(err)
			}
			if got.UUID != want.UUID || string(got.Payload) != string(want.Payload) {
				t.Errorf("got message %s %q, want %s %q", got.UUID, got.Payload, want.UUID, want.Payload)
			}
			if diff := cmp.Diff(map[string]string(want.Metadata), map[string]string(got.Metadata)); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
		})
	}
}

// appendEntry writes what watermill-redisstream's unmarshaller reads, and a
// map of one key byte for byte as its marshaller does.
func TestAppendEntryWritesWhatRedisstreamReads(t *testing.T) {
	var codec redisstream.DefaultMarshallerUnmarshaller
	for name, md := range metadataCases() {
		t.Run(name, func(t *testing.T) {
			msg := message.NewMessage("5e0c7c1a-8f5e-4a77-b0a5-3f4d0e1c2b3a", []byte(`{"event_id":"x"}`))
			msg.Metadata = md
			args, err := appendEntry(nil, msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(args) != 2*entryFields {
				t.Fatalf("%d arguments, want %d", len(args), 2*entryFields)
			}
			read := map[string]any{}
			for i := 0; i < len(args); i += 2 {
				switch v := args[i+1].(type) {
				case []byte:
					read[args[i].(string)] = string(v)
				default:
					read[args[i].(string)] = v
				}
			}
			got, err := codec.Unmarshal(read)
			if err != nil {
				t.Fatal(err)
			}
			if got.UUID != msg.UUID || string(got.Payload) != string(msg.Payload) {
				t.Errorf("got message %s %q, want %s %q", got.UUID, got.Payload, msg.UUID, msg.Payload)
			}
			if diff := cmp.Diff(map[string]string(md), map[string]string(got.Metadata), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("metadata (-want +got):\n%s", diff)
			}
			if len(md) == 1 {
				values, err := codec.Marshal("topic", msg)
				if err != nil {
					t.Fatal(err)
				}
				if want := values["metadata"].([]byte); string(read["metadata"].(string)) != string(want) {
					t.Errorf("metadata written as %x, msgpack writes %x", read["metadata"], want)
				}
			}
		})
	}
	msg := message.NewMessage("5e0c7c1a-8f5e-4a77-b0a5-3f4d0e1c2b3a", nil)
	msg.Metadata.Set(redisstream.UUIDHeaderKey, "x")
	if _, err := appendEntry(nil, msg); err == nil {
		t.Error("metadata with the reserved key written, want an error")
	}
}

// Metadata that is not a map of strings is left to msgpack, which refuses
// what it cannot read.
func TestReadStringMapRefusesOtherMsgpack(t *testing.T) {
	for name, s := range map[string]string{
		"an array":          "\x91\xa1a",
		"an integer value":  "\x81\xa1a\x01",
		"truncated":         "\x82\xa1a\xa1b\xa1c",
		"a string too long": "\x81\xa1a\xa5ab",
		"trailing bytes":    "\x81\xa1a\xa1b\xc0",
	} {
		if md, ok := readStringMap(s); ok {
			t.Errorf("%s: read %v, want it refused", name, md)
		}
	}
}

func BenchmarkUnmarshalEntry(b *testing.B) {
	var codec redisstream.DefaultMarshallerUnmarshaller
	msg := message.NewMessage("5e0c7c1a-8f5e-4a77-b0a5-3f4d0e1c2b3a", make([]byte, 400))
	msg.Metadata = message.Metadata{MetaStream: "attendance-0b3e6c2a-5b0f-4d8e-9a51-2f1f0c7d9e11", MetaVersion: "12",
		MetaType: "attendance.checked_in", MetaCursor: "812345.17"}
	values, err := codec.Marshal("topic", msg)
	if err != nil {
		b.Fatal(err)
	}
	read := map[string]any{}
	for k, v := range values {
		if bs, ok := v.([]byte); ok {
			v = string(bs)
		}
		read[k] = v
	}
	b.Run("redisstream", func(b *testing.B) {
		for b.Loop() {
			if _, err := codec.Unmarshal(read); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("by hand", func(b *testing.B) {
		for b.Loop() {
			if _, err := unmarshalEntry(read); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// metadataCases are metadata of every shape the bus writes, and of every
// msgpack length format.
func metadataCases() map[string]message.Metadata {
	many := message.Metadata{}
	for i := range 20 {
		many[strings.Repeat("k", i+1)] = strings.Repeat("v", i)
	}
	return map[string]message.Metadata{
		"none":      nil,
		"watermark": {MetaWatermark: "1"},
		"event": {MetaStream: "attendance-0b3e6c2a-5b0f-4d8e-9a51-2f1f0c7d9e11", MetaVersion: "12", MetaType: "attendance.checked_in",
			MetaCursor: "812345.17"},
		"str8":    {"long": strings.Repeat("é", 100)},
		"str16":   {"longer": strings.Repeat("x", 70_000)},
		"empty":   {"": ""},
		"map16":   many,
		"unicode": {"ключ": "значение"},
	}
}

// Whatever bytes an entry's metadata holds, unmarshalEntry reads what
// watermill-redisstream's unmarshaller reads, and never panics: metadata it
// reads by hand must be what msgpack reads too.
func FuzzUnmarshalEntry(f *testing.F) {
	for _, md := range metadataCases() {
		msg := message.NewMessage("5e0c7c1a-8f5e-4a77-b0a5-3f4d0e1c2b3a", nil)
		msg.Metadata = md
		args, err := appendEntry(nil, msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(args[3].([]byte))
	}
	for _, s := range []string{"\x91\xa1a", "\x81\xa1a\x01", "\x82\xa1a\xa1b\xa1c", "\x81\xa1a\xa5ab", "\x81\xa1a\xa1b\xc0",
		"\xdf\xff\xff\xff\xff", "\x81\xa2\xff\xfe\xa1\x00", "\x82\xa1k\xa1a\xa1k\xa1b", "\x81\xdb\xff\xff\xff\xff"} {
		f.Add([]byte(s))
	}
	var codec redisstream.DefaultMarshallerUnmarshaller
	f.Fuzz(func(t *testing.T, metadata []byte) {
		values := map[string]any{redisstream.UUIDHeaderKey: "5e0c7c1a-8f5e-4a77-b0a5-3f4d0e1c2b3a",
			"metadata": string(metadata), "payload": "{}"}
		got, err := unmarshalEntry(values)
		want, wantErr := codec.Unmarshal(values)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("metadata %x: error %v, redisstream's %v", metadata, err, wantErr)
		}
		if err != nil {
			return
		}
		if diff := cmp.Diff(map[string]string(want.Metadata), map[string]string(got.Metadata), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("metadata %x (-redisstream +got):\n%s", metadata, diff)
		}
	})
}
