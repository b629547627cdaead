package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Codec maps wire names to Go types and back. Payloads are stored as JSON; a
// type may declare its schema version with a SchemaVersion() int method (the
// default is 1), and upcasters bring stored data written under an older schema
// version up to the current one before it is decoded.
type Codec struct {
	types map[string]codecType
	mu    sync.RWMutex
	up    map[upcastKey]func(json.RawMessage) (json.RawMessage, error)
	keys  Keys
}

type codecType struct {
	typ      reflect.Type
	version  int
	personal personalFields
}

type upcastKey struct {
	name string
	from int
}

type schemaVersioner interface{ SchemaVersion() int }

// NewCodec registers the event types given as zero values of their (non-pointer)
// struct types. Two types with the same wire name are an error.
func NewCodec(payloads ...any) (*Codec, error) {
	c := &Codec{
		types: make(map[string]codecType, len(payloads)),
		up:    make(map[upcastKey]func(json.RawMessage) (json.RawMessage, error)),
	}
	for _, v := range payloads {
		p, ok := v.(Payload)
		if !ok {
			return nil, fmt.Errorf("eventstore: codec: %T has no EventName method", v)
		}
		typ := reflect.TypeOf(v)
		if typ.Kind() == reflect.Pointer {
			return nil, fmt.Errorf("eventstore: codec: register %T as a value, not a pointer", v)
		}
		name := p.EventName()
		if name == "" {
			return nil, fmt.Errorf("eventstore: codec: %T has an empty event name", v)
		}
		if prev, ok := c.types[name]; ok {
			return nil, fmt.Errorf("eventstore: codec: event name %q used by %v and %v", name, prev.typ, typ)
		}
		version := schemaVersionOf(p)
		if version < 1 {
			return nil, fmt.Errorf("eventstore: codec: %T has schema version %d, want >= 1", v, version)
		}
		personal, err := personalFieldsOf(typ)
		if err != nil {
			return nil, fmt.Errorf("eventstore: codec: %w", err)
		}
		c.types[name] = codecType{typ: typ, version: version, personal: personal}
	}
	return c, nil
}

func schemaVersionOf(p Payload) int {
	if v, ok := p.(schemaVersioner); ok {
		return v.SchemaVersion()
	}
	return 1
}

// RegisterUpcaster registers up to turn data of event name at schema version
// from into data at version from+1. Call it at start, before the codec is used;
// an unknown name, a version outside [1, current) or a second upcaster for the
// same step is a programming error and panics.
func (c *Codec) RegisterUpcaster(name string, from int, up func(json.RawMessage) (json.RawMessage, error)) {
	t, ok := c.types[name]
	if !ok {
		panic(fmt.Sprintf("eventstore: upcaster for unregistered event %q", name))
	}
	if from < 1 || from >= t.version {
		panic(fmt.Sprintf("eventstore: upcaster for %q from version %d, current version is %d", name, from, t.version))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := upcastKey{name, from}
	if _, dup := c.up[k]; dup {
		panic(fmt.Sprintf("eventstore: second upcaster for %q from version %d", name, from))
	}
	c.up[k] = up
}

// CheckUpcasters names every step between an older schema version of a
// registered event and its current one that no upcaster covers: events stored
// at that version could not be read. Call it once every upcaster is
// registered, so that a forgotten one stops the program at start rather than
// at the first old event it reads.
func (c *Codec) CheckUpcasters() error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var missing []error
	for name, t := range c.types {
		for from := 1; from < t.version; from++ {
			if _, ok := c.up[upcastKey{name, from}]; !ok {
				missing = append(missing, fmt.Errorf("eventstore: %q is at schema version %d, and no upcaster reads version %d", name, t.version, from))
			}
		}
	}
	slices.SortFunc(missing, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(missing...)
}

// Encode returns the wire name, schema version and JSON of p, whose type must
// be registered, as stored: its personal fields sealed.
func (c *Codec) Encode(p Payload) (name string, schemaVersion int, data []byte, err error) {
	if p == nil || (reflect.TypeOf(p).Kind() == reflect.Pointer && reflect.ValueOf(p).IsNil()) {
		return "", 0, nil, errors.New("eventstore: encode: nil payload")
	}
	name = p.EventName()
	t, ok := c.types[name]
	if !ok {
		return "", 0, nil, fmt.Errorf("%w: %q (%T)", ErrUnknownEvent, name, p)
	}
	if typ := reflect.TypeOf(p); typ != t.typ && !(typ.Kind() == reflect.Pointer && typ.Elem() == t.typ) {
		return "", 0, nil, fmt.Errorf("eventstore: encode: %q is registered as %v, got %T", name, t.typ, p)
	}
	data, err = json.Marshal(p)
	if err != nil {
		return "", 0, nil, fmt.Errorf("eventstore: encode %q: %w", name, err)
	}
	if t.personal.sealed() {
		if data, err = c.sealPersonal(name, t.personal, data); err != nil {
			return "", 0, nil, err
		}
	}
	return name, t.version, data, nil
}

// Decode opens the personal fields of stored data, upcasts it from
// schemaVersion to the current version of the named event and decodes it into
// a value of the registered type. Erased personal fields decode as zero values.
func (c *Codec) Decode(name string, schemaVersion int, data []byte) (Payload, error) {
	p, _, _, err := c.decode(name, schemaVersion, data)
	return p, err
}

// DecodeEvent sets the Payload, Plain and Erased of e from its stored data.
func (c *Codec) DecodeEvent(e *Event) error {
	p, plain, erased, err := c.decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	e.Payload, e.Plain, e.Erased = p, plain, erased
	return nil
}

func (c *Codec) decode(name string, schemaVersion int, data []byte) (p Payload, plain json.RawMessage, erased bool, err error) {
	t, ok := c.types[name]
	if !ok {
		return nil, nil, false, fmt.Errorf("%w: %q", ErrUnknownEvent, name)
	}
	if schemaVersion < 1 || schemaVersion > t.version {
		return nil, nil, false, fmt.Errorf("eventstore: decode %q: schema version %d, current is %d", name, schemaVersion, t.version)
	}
	raw, erased, erasedOthers, err := c.openPersonal(name, t.personal, data)
	if err != nil {
		return nil, nil, false, fmt.Errorf("eventstore: decode %q: %w", name, err)
	}
	if schemaVersion < t.version {
		if raw, err = c.upcast(name, schemaVersion, t.version, raw); err != nil {
			return nil, nil, false, err
		}
	}
	if nulled := erasedFields(t.personal, erased, erasedOthers); len(nulled) > 0 {
		if raw, err = nullPersonal(nulled, raw); err != nil {
			return nil, nil, false, fmt.Errorf("eventstore: decode %q: %w", name, err)
		}
	}
	ptr := reflect.New(t.typ)
	if err := json.Unmarshal(raw, ptr.Interface()); err != nil {
		return nil, nil, false, fmt.Errorf("eventstore: decode %q: %w", name, err)
	}
	return ptr.Elem().Interface().(Payload), raw, erased, nil
}

// erasedFields are the fields to read as null: the subject's when erased,
// and the other persons' whose keys were destroyed.
func erasedFields(pf personalFields, erased bool, others []string) []string {
	if !erased {
		return others
	}
	return append(slices.Clip(pf.fields), others...)
}

// upcast brings raw from schema version from up to version to.
func (c *Codec) upcast(name string, from, to int, raw json.RawMessage) (json.RawMessage, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for v := from; v < to; v++ {
		up, ok := c.up[upcastKey{name, v}]
		if !ok {
			return nil, fmt.Errorf("eventstore: decode %q: no upcaster from schema version %d", name, v)
		}
		var err error
		if raw, err = up(raw); err != nil {
			return nil, fmt.Errorf("eventstore: upcast %q from schema version %d: %w", name, v, err)
		}
	}
	return raw, nil
}
