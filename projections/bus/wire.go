package bus

import (
	"encoding/binary"
	"fmt"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/ThreeDotsLabs/watermill/message"
)

// entryFields is the number of fields of an entry appendEntry writes.
const entryFields = 3

// appendEntry appends to args the fields and values of msg as a stream entry
// in watermill-redisstream's format (three fields), with its metadata
// written by hand as msgpack: through msgpack's reflection, and a map per
// message, it was half of what the relay's publish cost in Go.
func appendEntry(args []any, msg *message.Message) ([]any, error) {
	if _, ok := msg.Metadata[redisstream.UUIDHeaderKey]; ok {
		return nil, fmt.Errorf("metadata %s is reserved by watermill for message UUID", redisstream.UUIDHeaderKey)
	}
	var md []byte
	if len(msg.Metadata) > 0 {
		size := 5
		for k, v := range msg.Metadata {
			size += len(k) + len(v) + 10
		}
		md = appendMapLen(make([]byte, 0, size), len(msg.Metadata))
		for k, v := range msg.Metadata {
			md = appendStr(appendStr(md, k), v)
		}
	}
	return append(args, redisstream.UUIDHeaderKey, msg.UUID, "metadata", md, "payload", []byte(msg.Payload)), nil
}

// appendMapLen writes a msgpack map header of n entries as msgpack does.
func appendMapLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
	}
}

// appendStr writes s as a msgpack string as msgpack does.
func appendStr(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n < 1<<8:
		b = append(b, 0xd9, byte(n))
	case n < 1<<16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

// unmarshalEntry reads a stream entry in watermill-redisstream's format, as
// its DefaultMarshallerUnmarshaller does. The metadata, a msgpack map of
// strings, is read by hand: through msgpack's reflection it cost about a
// tenth of the pipeline's CPU, every group reading every message of its
// topics. Anything but a map of strings goes to msgpack.
func unmarshalEntry(values map[string]any) (*message.Message, error) {
	s, ok := values["metadata"].(string)
	if !ok || s == "" {
		return redisstream.DefaultMarshallerUnmarshaller{}.Unmarshal(values)
	}
	md, ok := readStringMap(s)
	if !ok {
		return redisstream.DefaultMarshallerUnmarshaller{}.Unmarshal(values)
	}
	id, ok := values[redisstream.UUIDHeaderKey].(string)
	if !ok {
		return redisstream.DefaultMarshallerUnmarshaller{}.Unmarshal(values)
	}
	payload, _ := values["payload"].(string)
	msg := message.NewMessage(id, []byte(payload))
	msg.Metadata = md
	return msg, nil
}

// readStringMap decodes a msgpack map whose keys and values are all strings;
// ok is false for anything else.
func readStringMap(s string) (md message.Metadata, ok bool) {
	r := msgpackReader{s: s}
	var n int
	switch c := r.byte(); {
	case c&0xf0 == 0x80: // fixmap
		n = int(c & 0x0f)
	case c == 0xde: // map16
		n = r.uint(2)
	case c == 0xdf: // map32
		n = r.uint(4)
	default:
		return nil, false
	}
	if r.failed || n > len(r.s) {
		return nil, false
	}
	md = make(message.Metadata, n)
	for range n {
		k := r.str()
		v := r.str()
		if r.failed {
			return nil, false
		}
		md[k] = v
	}
	return md, !r.failed && len(r.s) == 0
}

type msgpackReader struct {
	s      string
	failed bool
}

func (r *msgpackReader) byte() byte {
	if r.failed || len(r.s) < 1 {
		r.failed = true
		return 0
	}
	c := r.s[0]
	r.s = r.s[1:]
	return c
}

// uint reads a big-endian unsigned integer of size bytes.
func (r *msgpackReader) uint(size int) int {
	if r.failed || len(r.s) < size {
		r.failed = true
		return 0
	}
	var n uint64
	switch size {
	case 1:
		n = uint64(r.s[0])
	case 2:
		n = uint64(binary.BigEndian.Uint16([]byte(r.s[:2])))
	case 4:
		n = uint64(binary.BigEndian.Uint32([]byte(r.s[:4])))
	}
	r.s = r.s[size:]
	return int(n)
}

// str reads a string of any of msgpack's string formats.
func (r *msgpackReader) str() string {
	var n int
	switch c := r.byte(); {
	case c&0xe0 == 0xa0: // fixstr
		n = int(c & 0x1f)
	case c == 0xd9: // str8
		n = r.uint(1)
	case c == 0xda: // str16
		n = r.uint(2)
	case c == 0xdb: // str32
		n = r.uint(4)
	default:
		r.failed = true
	}
	if r.failed || len(r.s) < n {
		r.failed = true
		return ""
	}
	v := r.s[:n]
	r.s = r.s[n:]
	return v
}
