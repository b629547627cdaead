package bus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/acme/employee-tracking/eventstore"
)

// Message metadata keys set by the relay.
const (
	MetaStream    = "stream"
	MetaVersion   = "version"
	MetaType      = "type"
	MetaCursor    = "cursor"
	MetaWatermark = "watermark" // set on watermark messages, whose payload is a cursor
)

// envelope is the payload of an event message: the stored event as JSON.
type envelope struct {
	EventID       uuid.UUID           `json:"event_id"`
	Position      int64               `json:"position"`
	TxID          uint64              `json:"tx_id"`
	Stream        string              `json:"stream"`
	Version       int64               `json:"version"`
	Type          string              `json:"type"`
	SchemaVersion int                 `json:"schema_version"`
	Data          json.RawMessage     `json:"data"`
	Metadata      eventstore.Metadata `json:"metadata"`
	RecordedAt    time.Time           `json:"recorded_at"`
}

// EventMessage makes the bus message of e; its UUID is the event id, so a
// duplicate publish is recognisable downstream.
func EventMessage(e eventstore.Event) (*message.Message, error) {
	payload, err := EventPayload(e)
	if err != nil {
		return nil, err
	}
	msg := message.NewMessage(e.ID.String(), payload)
	msg.Metadata.Set(MetaStream, e.StreamID)
	msg.Metadata.Set(MetaVersion, strconv.FormatInt(e.Version, 10))
	msg.Metadata.Set(MetaType, e.Type)
	// Consumers that ignore the stream still advance their checkpoint.
	msg.Metadata.Set(MetaCursor, e.Cursor().String())
	return msg, nil
}

// EventPayload is the envelope of e, written by hand: the relay encodes
// every event, and json.Marshal would validate and compact the stored data,
// which Postgres has already checked, every time.
func EventPayload(e eventstore.Event) ([]byte, error) {
	meta, err := json.Marshal(e.Metadata)
	if err != nil {
		return nil, fmt.Errorf("projections: encode event %s: %w", e.ID, err)
	}
	stream, _ := json.Marshal(e.StreamID) // strings always marshal
	typ, _ := json.Marshal(e.Type)
	data := []byte(e.Data)
	if len(data) == 0 {
		data = []byte("null")
	}
	b := make([]byte, 0, 200+len(stream)+len(typ)+len(data)+len(meta))
	b = append(b, `{"event_id":"`...)
	b = append(b, e.ID.String()...)
	b = append(b, `","position":`...)
	b = strconv.AppendInt(b, e.Position, 10)
	b = append(b, `,"tx_id":`...)
	b = strconv.AppendUint(b, e.TxID, 10)
	b = append(b, `,"stream":`...)
	b = append(b, stream...)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, e.Version, 10)
	b = append(b, `,"type":`...)
	b = append(b, typ...)
	b = append(b, `,"schema_version":`...)
	b = strconv.AppendInt(b, int64(e.SchemaVersion), 10)
	b = append(b, `,"data":`...)
	b = append(b, data...)
	b = append(b, `,"metadata":`...)
	b = append(b, meta...)
	b = append(b, `,"recorded_at":"`...)
	b = e.RecordedAt.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"}`...)
	return b, nil
}

// WatermarkMessage tells a partition's consumers that the relay has published
// everything of the partition up to c.
func WatermarkMessage(c eventstore.Cursor) *message.Message {
	msg := message.NewMessage(uuid.NewString(), []byte(c.String()))
	msg.Metadata.Set(MetaWatermark, "1")
	return msg
}

// DecodeEvent turns an event message back into a stored event, decoding its
// payload with codec.
func DecodeEvent(codec *eventstore.Codec, payload []byte) (eventstore.Event, error) {
	e, err := StoredEvent(payload)
	if err != nil {
		return e, err
	}
	if err := codec.DecodeEvent(&e); err != nil {
		return eventstore.Event{}, fmt.Errorf("decode %s: %w", e.Type, err)
	}
	return e, nil
}

// StoredEvent turns an event message back into a stored event as the store
// keeps it: its data undecoded (no Payload), for a consumer that passes
// events of its type by without looking into them.
func StoredEvent(payload []byte) (eventstore.Event, error) {
	env, ok := readEnvelope(payload)
	if !ok {
		if err := json.Unmarshal(payload, &env); err != nil {
			return eventstore.Event{}, fmt.Errorf("decode envelope: %w", err)
		}
	}
	if env.Stream == "" || env.Version < 1 || env.Type == "" {
		return eventstore.Event{}, fmt.Errorf("decode envelope: stream %q, version %d, type %q", env.Stream, env.Version, env.Type)
	}
	return eventstore.Event{
		Position: env.Position, TxID: env.TxID, ID: env.EventID, StreamID: env.Stream, Version: env.Version,
		Type: env.Type, SchemaVersion: env.SchemaVersion, Data: env.Data, Metadata: env.Metadata,
		RecordedAt: env.RecordedAt,
	}, nil
}

// readEnvelope reads an envelope as EventPayload writes it, without
// scanning the event's data as json.Unmarshal does twice (to check it, then
// to find its end): every consumer reads every event of its category, and
// the data is most of an envelope. Its fields come in EventPayload's order.
// The data ends at the last `,"metadata":` of the payload: metadata holds no
// such key, and the sequence cannot occur inside a JSON string, whose quotes
// are escaped. ok is false for anything else, which json.Unmarshal reads.
func readEnvelope(b []byte) (env envelope, ok bool) {
	r := envelopeReader{rest: b}
	id := r.field(`{"event_id":"`, '"')
	env.Position, ok = r.int(`,"position":`)
	txID, ok2 := r.int(`,"tx_id":`)
	env.TxID = uint64(txID)
	stream := r.str(`,"stream":`)
	version, ok3 := r.int(`,"version":`)
	env.Version = version
	typ := r.str(`,"type":`)
	schema, ok4 := r.int(`,"schema_version":`)
	env.SchemaVersion = int(schema)
	if r.failed || !ok || !ok2 || !ok3 || !ok4 || !bytes.HasPrefix(r.rest, []byte(`,"data":`)) {
		return env, false
	}
	rest := r.rest[len(`,"data":`):]
	meta := bytes.LastIndex(rest, []byte(`,"metadata":`))
	at := bytes.LastIndex(rest, []byte(`,"recorded_at":"`))
	if meta < 0 || at < meta || !bytes.HasSuffix(rest, []byte(`"}`)) {
		return env, false
	}
	var err error
	if env.EventID, err = uuid.ParseBytes(id); err != nil {
		return env, false
	}
	if env.Stream, err = unquote(stream); err != nil {
		return env, false
	}
	if env.Type, err = unquote(typ); err != nil {
		return env, false
	}
	if env.Metadata, ok = readMetadata(rest[meta+len(`,"metadata":`) : at]); !ok {
		return env, false
	}
	recorded := rest[at+len(`,"recorded_at":"`) : len(rest)-len(`"}`)]
	if env.RecordedAt, err = time.Parse(time.RFC3339Nano, string(recorded)); err != nil {
		return env, false
	}
	env.Data = rest[:meta]
	return env, true
}

// readMetadata reads metadata as json.Marshal writes it, an object of some
// of Metadata's fields, without json.Unmarshal's reflection, a tenth of what
// reading an envelope cost; ok is false for anything else.
func readMetadata(b []byte) (md eventstore.Metadata, ok bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return md, false
	}
	r := envelopeReader{rest: b[1 : len(b)-1]}
	for sep := ""; len(r.rest) > 0; sep = "," {
		key := r.str(sep)
		value := r.str(":")
		if r.failed {
			return md, false
		}
		v, err := unquote(value)
		if err != nil {
			return md, false
		}
		switch string(key) {
		case `"actor"`:
			md.Actor = v
		case `"request_id"`:
			md.RequestID = v
		case `"idempotency_key"`:
			md.IdempotencyKey = v
		case `"causation_id"`:
			md.CausationID = v
		case `"correlation_id"`:
			md.CorrelationID = v
		default:
			return md, false
		}
	}
	return md, true
}

// envelopeReader reads the fields of an envelope in order; the first that
// is not where it should be fails the read.
type envelopeReader struct {
	rest   []byte
	failed bool
}

// field reads after prefix up to the byte end, which it skips.
func (r *envelopeReader) field(prefix string, end byte) []byte {
	if r.failed || !bytes.HasPrefix(r.rest, []byte(prefix)) {
		r.failed = true
		return nil
	}
	r.rest = r.rest[len(prefix):]
	i := bytes.IndexByte(r.rest, end)
	if i < 0 {
		r.failed = true
		return nil
	}
	v := r.rest[:i]
	r.rest = r.rest[i+1:]
	return v
}

// int reads a number after prefix.
func (r *envelopeReader) int(prefix string) (int64, bool) {
	if r.failed || !bytes.HasPrefix(r.rest, []byte(prefix)) {
		r.failed = true
		return 0, false
	}
	r.rest = r.rest[len(prefix):]
	i := 0
	for i < len(r.rest) && (r.rest[i] >= '0' && r.rest[i] <= '9' || i == 0 && r.rest[i] == '-') {
		i++
	}
	n, err := strconv.ParseInt(string(r.rest[:i]), 10, 64)
	r.rest = r.rest[i:]
	return n, err == nil
}

// str reads a JSON string after prefix, its quotes included.
func (r *envelopeReader) str(prefix string) []byte {
	if r.failed || !bytes.HasPrefix(r.rest, []byte(prefix)) || len(r.rest) <= len(prefix) || r.rest[len(prefix)] != '"' {
		r.failed = true
		return nil
	}
	r.rest = r.rest[len(prefix):]
	for i := 1; i < len(r.rest); i++ {
		switch r.rest[i] {
		case '\\':
			i++ // the escaped byte
		case '"':
			v := r.rest[:i+1]
			r.rest = r.rest[i+1:]
			return v
		}
	}
	r.failed = true
	return nil
}

// unquote decodes a JSON string; one without escapes is its bytes.
func unquote(quoted []byte) (string, error) {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), nil
	}
	var s string
	err := json.Unmarshal(quoted, &s)
	return s, err
}

// partitionOf spreads streams over n partitions; every event of a stream goes
// to the same one.
func partitionOf(stream string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(stream))
	return int(h.Sum32() % uint32(n))
}
