package eventstore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// The personal struct tag says what a field of an event holds about a person:
//
//	personal:"subject"  the id of the person the event is about, whose key seals its personal fields
//	personal:"yes"      personal data (a name, an email, free text written about the person): stored sealed
//	personal:"no"       declared not personal: stored as it is
//
// An event with personal fields has exactly one subject. Its stored data holds
// every field but the personal ones, and under personalKey the personal ones
// as one JSON object sealed with the subject's key (AES-GCM, bound to the
// subject and the event's name), or null when the subject's key was already
// destroyed. Destroying the key erases them from every event at once, while
// the stored bytes, and so the audit seals, stay as they were.
const personalKey = "personal"

// Personal tag values.
const (
	PersonalSubject = "subject"
	PersonalYes     = "yes"
	PersonalNo      = "no"
)

// ErrErased is what Keys answer for a subject whose key was destroyed.
var ErrErased = errors.New("eventstore: the subject's personal data is erased")

// Keys seal and open personal data under a key per subject. The codec calls
// them on every append and read of an event with personal fields, so an
// implementation caches its keys.
type Keys interface {
	// Seal encrypts plaintext under subject's key, creating the key on first
	// use; ErrErased when it was destroyed.
	Seal(subject string, aad, plaintext []byte) ([]byte, error)
	// Open decrypts what Seal returned; ErrErased when the key was destroyed.
	Open(subject string, aad, sealed []byte) ([]byte, error)
}

// personalFields are the json names of an event type's subject and personal
// fields, read from its personal tags.
type personalFields struct {
	subject string
	fields  []string
}

// personalFieldsOf reads the personal tags of typ.
func personalFieldsOf(typ reflect.Type) (personalFields, error) {
	var pf personalFields
	if typ.Kind() != reflect.Struct {
		return pf, nil
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == personalKey {
			return pf, fmt.Errorf("%v.%s: the json name %q is the codec's", typ, f.Name, personalKey)
		}
		switch tag := f.Tag.Get("personal"); tag {
		case PersonalSubject:
			if pf.subject != "" || f.Type.Kind() != reflect.String {
				return pf, fmt.Errorf("%v.%s: an event has one subject, a string", typ, f.Name)
			}
			pf.subject = name
		case PersonalYes:
			pf.fields = append(pf.fields, name)
		case PersonalNo, "":
		default:
			return pf, fmt.Errorf("%v.%s: personal tag %q, want subject, yes or no", typ, f.Name, tag)
		}
	}
	if len(pf.fields) > 0 && pf.subject == "" {
		return pf, fmt.Errorf("%v has personal fields and no subject", typ)
	}
	return pf, nil
}

// UseKeys makes c seal and open personal fields with keys. Call it at start,
// before the codec is used: without keys, encoding an event with personal
// fields fails.
func (c *Codec) UseKeys(keys Keys) { c.keys = keys }

// sealPersonal moves the personal fields of data, the JSON of an event named
// name, under personalKey, sealed with the subject's key.
func (c *Codec) sealPersonal(name string, pf personalFields, data []byte) ([]byte, error) {
	if c.keys == nil {
		return nil, fmt.Errorf("eventstore: encode %q: personal fields and no keys to seal them", name)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("eventstore: encode %q: %w", name, err)
	}
	var subject string
	if err := json.Unmarshal(fields[pf.subject], &subject); err != nil || subject == "" {
		return nil, fmt.Errorf("eventstore: encode %q: no subject in %q", name, pf.subject)
	}
	personal := make(map[string]json.RawMessage, len(pf.fields))
	for _, f := range pf.fields {
		personal[f] = fields[f]
		delete(fields, f)
	}
	plain, err := json.Marshal(personal)
	if err != nil {
		return nil, err
	}
	sealed, err := c.keys.Seal(subject, personalAAD(subject, name), plain)
	switch {
	case errors.Is(err, ErrErased):
		fields[personalKey] = json.RawMessage("null")
	case err != nil:
		return nil, fmt.Errorf("eventstore: encode %q: seal: %w", name, err)
	default:
		fields[personalKey], _ = json.Marshal(base64.StdEncoding.EncodeToString(sealed))
	}
	return json.Marshal(fields)
}

// openPersonal returns data with its sealed personal fields opened, and
// whether they are erased (then left out). Data with nothing sealed is
// returned as it is.
func (c *Codec) openPersonal(name string, data []byte) (plain []byte, erased bool, err error) {
	if !bytes.Contains(data, []byte(`"`+personalKey+`"`)) {
		return data, false, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, false, err
	}
	box, ok := fields[personalKey]
	if !ok {
		return data, false, nil
	}
	delete(fields, personalKey)
	var sealed []byte // nil: sealed after the key was destroyed
	if err := json.Unmarshal(box, &sealed); err != nil {
		return nil, false, fmt.Errorf("sealed personal data: %w", err)
	}
	if sealed != nil {
		personal, err := c.open(name, fields, sealed)
		if err != nil && !errors.Is(err, ErrErased) {
			return nil, false, err
		}
		for k, v := range personal {
			fields[k] = v
		}
		erased = err != nil
	} else {
		erased = true
	}
	plain, err = json.Marshal(fields)
	return plain, erased, err
}

// open decrypts the personal fields sealed in an event named name, whose
// other fields name the subject.
func (c *Codec) open(name string, fields map[string]json.RawMessage, sealed []byte) (map[string]json.RawMessage, error) {
	if c.keys == nil {
		return nil, errors.New("personal data sealed, and no keys to open it")
	}
	t, ok := c.types[name]
	if !ok || t.personal.subject == "" {
		return nil, fmt.Errorf("personal data sealed in an event without a subject")
	}
	var subject string
	if err := json.Unmarshal(fields[t.personal.subject], &subject); err != nil {
		return nil, fmt.Errorf("subject %q: %w", t.personal.subject, err)
	}
	plain, err := c.keys.Open(subject, personalAAD(subject, name), sealed)
	if err != nil {
		return nil, err
	}
	var personal map[string]json.RawMessage
	if err := json.Unmarshal(plain, &personal); err != nil {
		return nil, fmt.Errorf("opened personal data: %w", err)
	}
	return personal, nil
}

// personalAAD binds sealed data to its subject and event, so that it cannot
// be moved to another.
func personalAAD(subject, name string) []byte { return []byte(subject + "\x00" + name) }

// nullPersonal sets the personal fields of an erased event to null in its
// plain JSON.
func nullPersonal(pf personalFields, data []byte) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	for _, f := range pf.fields {
		fields[f] = json.RawMessage("null")
	}
	return json.Marshal(fields)
}

// PersonalEvents returns the wire names of the registered events that have
// personal fields.
func (c *Codec) PersonalEvents() []string {
	var names []string
	for name, t := range c.types {
		if len(t.personal.fields) > 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// SealStored returns the stored data of an event written before its
// personal fields were sealed, with them sealed: the one rewrite of stored
// history, the encryption migration's. Data already sealed, or of an event
// without personal fields, is returned as it is.
func (c *Codec) SealStored(name string, data []byte) ([]byte, error) {
	t, ok := c.types[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEvent, name)
	}
	if len(t.personal.fields) == 0 {
		return data, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("eventstore: %q: %w", name, err)
	}
	if _, sealed := fields[personalKey]; sealed {
		return data, nil
	}
	return c.sealPersonal(name, t.personal, data)
}
