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
	"sync"
)

// The personal struct tag says what a field of an event holds about a person:
//
//	personal:"subject"  the id of the person the event is about, whose key seals its personal fields
//	personal:"yes"      personal data (a name, an email, free text written about the person): stored sealed
//	personal:"of:<f>"   personal data of another person, whose id is the field named <f> (json name):
//	                    stored sealed under that person's key
//	personal:"no"       declared not personal: stored as it is
//
// An event with personal fields has exactly one subject. Its stored data holds
// every field but the personal ones, and under personalKey the personal ones
// as one JSON object sealed with the subject's key (AES-GCM, bound to the
// subject and the event's name), or null when the subject's key was already
// destroyed. The fields of another person are kept likewise under
// personalKey+":"+<f>, sealed with their key (and left out when <f> is
// empty). Destroying a key erases what it sealed from every event at once,
// while the stored bytes, and so the audit seals, stay as they were.
const personalKey = "personal"

// PersonalOf is the prefix of the tag of another person's personal data:
// personal:"of:<json name of the field holding their id>".
const PersonalOf = "of:"

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
	// Open decrypts what Seal returned; ErrErased when the key was
	// destroyed. It must not keep aad or sealed, which the codec reuses.
	Open(subject string, aad, sealed []byte) ([]byte, error)
}

// personalFields are the json names of an event type's subject and personal
// fields, read from its personal tags, and those of the other persons whose
// data it holds.
type personalFields struct {
	subject string
	fields  []string
	others  []otherPerson
}

// otherPerson is the personal data an event holds of someone other than its
// subject: the field holding their id, and the fields sealed under their key.
type otherPerson struct {
	subject string
	fields  []string
}

// key is where the other person's sealed fields are stored.
func (o otherPerson) key() string { return personalKey + ":" + o.subject }

// sealed says whether the type has personal fields of anyone.
func (pf personalFields) sealed() bool { return len(pf.fields) > 0 || len(pf.others) > 0 }

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
		if strings.HasPrefix(name, personalKey+":") {
			return pf, fmt.Errorf("%v.%s: json names starting %q are the codec's", typ, f.Name, personalKey+":")
		}
		tag := f.Tag.Get("personal")
		if of, ok := strings.CutPrefix(tag, PersonalOf); ok {
			i := slices.IndexFunc(pf.others, func(o otherPerson) bool { return o.subject == of })
			if i < 0 {
				pf.others = append(pf.others, otherPerson{subject: of})
				i = len(pf.others) - 1
			}
			pf.others[i].fields = append(pf.others[i].fields, name)
			continue
		}
		switch tag {
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
	for _, o := range pf.others {
		f, ok := fieldByJSONName(typ, o.subject)
		if !ok || f.Type.Kind() != reflect.String || f.Tag.Get("personal") != PersonalNo {
			return pf, fmt.Errorf("%v: personal:%q names no string field %q tagged personal:%q (the other person's id)",
				typ, PersonalOf+o.subject, o.subject, PersonalNo)
		}
	}
	return pf, nil
}

func fieldByJSONName(typ reflect.Type, name string) (reflect.StructField, bool) {
	for i := range typ.NumField() {
		if n, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ","); n == name {
			return typ.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// UseKeys makes c seal and open personal fields with keys. Call it at start,
// before the codec is used: without keys, encoding an event with personal
// fields fails.
func (c *Codec) UseKeys(keys Keys) { c.keys = keys }

// sealPersonal moves the personal fields of data, the JSON of an event named
// name, under personalKey, sealed with the subject's key, and those of each
// other person under theirs. It works on the members of the object
// (object.go) and writes the result, and each sealed object, as json.Marshal
// writes a map of the members, which is what it did when it went through one.
func (c *Codec) sealPersonal(name string, pf personalFields, data []byte) ([]byte, error) {
	if c.keys == nil {
		return nil, fmt.Errorf("eventstore: encode %q: personal fields and no keys to seal them", name)
	}
	var buf, personal [16]member
	fields, err := splitObject(buf[:0], data)
	if err != nil {
		return nil, fmt.Errorf("eventstore: encode %q: %w", name, err)
	}
	if len(pf.fields) > 0 {
		subject := stringMember(fields, pf.subject)
		if subject == "" {
			return nil, fmt.Errorf("eventstore: encode %q: no subject in %q", name, pf.subject)
		}
		fields, err = c.sealGroup(fields, personal[:0], personalMember, subject, appendPersonalAAD(nil, subject, name, ""), pf.fields)
		if err != nil {
			return nil, fmt.Errorf("eventstore: encode %q: %w", name, err)
		}
	}
	for _, o := range pf.others {
		subject := stringMember(fields, o.subject)
		if subject != "" {
			at := member{name: []byte(o.key())}
			fields, err = c.sealGroup(fields, personal[:0], at, subject, appendPersonalAAD(nil, subject, name, o.subject), o.fields)
			if err != nil {
				return nil, fmt.Errorf("eventstore: encode %q: %w", name, err)
			}
			continue
		}
		for _, f := range o.fields {
			var m member
			var ok bool
			if fields, m, ok = deleteMember(fields, f); ok && !isEmptyJSON(m.value) {
				return nil, fmt.Errorf("eventstore: encode %q: %q holds personal data of nobody: %q is empty", name, f, o.subject)
			}
		}
	}
	return appendObject(make([]byte, 0, objectSize(fields)), fields)
}

// personalMember is the member that holds the subject's sealed fields.
var personalMember = member{name: []byte(personalKey), key: []byte(`"` + personalKey + `"`)}

// sealGroup moves the fields names out of fields into one JSON object (an
// absent field as null) sealed with subject's key, stored as the member at
// (null when the key was destroyed). personal is scratch space.
func (c *Codec) sealGroup(fields, personal []member, at member, subject string, aad []byte, names []string) ([]member, error) {
	for _, f := range names {
		var m member
		var ok bool
		if fields, m, ok = deleteMember(fields, f); !ok {
			m = nullMember(f)
		}
		personal = setMember(personal, m)
	}
	plain, err := appendObject(make([]byte, 0, objectSize(personal)), personal)
	if err != nil {
		return nil, err
	}
	sealed, err := c.keys.Seal(subject, aad, plain)
	at.compact = true
	switch {
	case errors.Is(err, ErrErased):
		at.value = []byte("null")
	case err != nil:
		return nil, fmt.Errorf("seal: %w", err)
	default:
		// The base64 alphabet needs no escape in JSON.
		at.value = make([]byte, 0, base64.StdEncoding.EncodedLen(len(sealed))+2)
		at.value = append(base64.StdEncoding.AppendEncode(append(at.value, '"'), sealed), '"')
	}
	return setMember(fields, at), nil
}

func isEmptyJSON(v json.RawMessage) bool {
	switch string(v) {
	case "null", `""`, "{}", "[]":
		return true
	}
	return false
}

// openPersonal returns data with its sealed personal fields opened, whether
// the subject's are erased (then left out), and the fields of other persons
// whose key was destroyed (left out too). Data with nothing sealed is
// returned as it is. Opened data keeps the stored members as they are and
// in their order, each sealed one replaced by the members it held, as they
// were sealed. Data whose names hold escapes, repeat or differ only in case
// (which encoding/json decodes into one field, the later winning) is written
// instead as json.Marshal writes a map of its members, sorted (object.go),
// so that it decodes as it always did.
func (c *Codec) openPersonal(name string, pf personalFields, data []byte) (plain []byte, erased bool, erasedOthers []string, err error) {
	// A type without personal fields was never sealed: its data, most of
	// the feed's (check-ins and outs), is not searched.
	if !pf.sealed() || !bytes.Contains(data, []byte(`"`+personalKey)) {
		return data, false, nil, nil
	}
	plain, erased, erasedOthers, err = c.openMembers(name, pf, data, true)
	if errors.Is(err, errNotInPlace) {
		return c.openMembers(name, pf, data, false)
	}
	return plain, erased, erasedOthers, err
}

// errNotInPlace is openMembers' answer for data that it cannot open in
// place.
var errNotInPlace = errors.New("eventstore: the members cannot be kept in place")

// openScratch holds the sealed bytes and the AADs of the groups an event's
// data opens: Keys.Open keeps neither.
var openScratch = sync.Pool{New: func() any { return new([]byte) }}

// openMembers is openPersonal keeping the members in place, or writing them
// as json.Marshal writes a map.
func (c *Codec) openMembers(name string, pf personalFields, data []byte, inPlace bool) (plain []byte, erased bool, erasedOthers []string, err error) {
	var buf [24]member
	var fields []member
	if inPlace {
		if fields, err = listMembers(buf[:0], data); err != nil || !namesApart(fields, 0, len(fields)) {
			return nil, false, nil, errNotInPlace
		}
	} else if fields, err = splitObject(buf[:0], data); err != nil {
		return nil, false, nil, err
	}
	// What a group opens may share the scratch space: it is released once
	// the opened data is written.
	scratch := openScratch.Get().(*[]byte)
	defer func() {
		*scratch = (*scratch)[:0]
		openScratch.Put(scratch)
	}()
	opened := false
	// The subject's group (g = -1), then each other person's.
	for g := -1; g < len(pf.others); g++ {
		box, subjectField, other := personalKey, pf.subject, ""
		if g >= 0 {
			box, subjectField, other = pf.others[g].key(), pf.others[g].subject, pf.others[g].subject
		}
		at := memberIndex(fields, box)
		if at < 0 {
			continue
		}
		opened = true
		// The box's name is no subject's (personalFieldsOf): openGroup
		// finds the subject with the box still among fields.
		group, gone, err := c.openGroup(name, fields, fields[at].value, subjectField, other, scratch)
		switch {
		case err != nil:
			return nil, false, nil, err
		case gone && g < 0:
			erased, group = true, emptyObject
		case gone:
			erasedOthers, group = append(erasedOthers, pf.others[g].fields...), emptyObject
		}
		if fields, err = mergeOpened(fields, at, group, inPlace); err != nil {
			return nil, false, nil, err
		}
	}
	if !opened {
		return data, false, nil, nil
	}
	plain = make([]byte, 0, objectSize(fields))
	if inPlace {
		return appendMembers(plain, fields), erased, erasedOthers, nil
	}
	plain, err = appendObject(plain, fields)
	return plain, erased, erasedOthers, err
}

// emptyObject is what an erased group opens to: no member.
var emptyObject = []byte("{}")

// mergeOpened replaces the group's member fields[at] with the members of
// opened, the JSON object of its personal fields: in place, or as decoding
// into a map does.
func mergeOpened(fields []member, at int, opened []byte, inPlace bool) ([]member, error) {
	if !inPlace {
		fields, err := splitObject(slices.Delete(fields, at, at+1), opened)
		if err != nil {
			return nil, fmt.Errorf("opened personal data: %w", err)
		}
		return fields, nil
	}
	var buf [16]member
	more, err := listMembers(buf[:0], opened)
	if err != nil {
		return nil, errNotInPlace
	}
	if fields = slices.Replace(fields, at, at+1, more...); !namesApart(fields, at, at+len(more)) {
		return nil, errNotInPlace
	}
	return fields, nil
}

// openGroup opens box, the personal fields sealed under the key of the
// person whose id is in the field subjectField (other, when they are not
// the subject), and says whether that key was destroyed. It appends what it
// decodes to scratch, which what it returns may share.
func (c *Codec) openGroup(name string, fields []member, box []byte, subjectField, other string,
	scratch *[]byte) (plain []byte, erased bool, err error) {
	start := len(*scratch)
	buf, null, err := appendSealed(*scratch, box)
	if err != nil {
		return nil, false, fmt.Errorf("sealed personal data: %w", err)
	}
	if null {
		return nil, true, nil
	}
	if c.keys == nil {
		return nil, false, errors.New("personal data sealed, and no keys to open it")
	}
	if subjectField == "" {
		return nil, false, fmt.Errorf("personal data sealed in an event without a subject")
	}
	subject := stringMember(fields, subjectField)
	if subject == "" {
		return nil, false, fmt.Errorf("no subject in %q", subjectField)
	}
	end := len(buf)
	buf = appendPersonalAAD(buf, subject, name, other)
	*scratch = buf
	plain, err = c.keys.Open(subject, buf[end:], buf[start:end:end])
	if errors.Is(err, ErrErased) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	return plain, false, nil
}

// appendSealed appends to dst the sealed data that box holds as base64
// text, or says that box is null: sealed after the key was destroyed.
func appendSealed(dst, box []byte) (sealed []byte, null bool, err error) {
	if len(box) > 1 && box[0] == '"' {
		if end, escapes := skipString(box, 0); end == len(box) && !escapes {
			sealed, err = base64.StdEncoding.AppendDecode(dst, box[1:end-1])
			return sealed, false, err
		}
	}
	var decoded []byte
	if err := json.Unmarshal(box, &decoded); err != nil {
		return nil, false, err
	}
	return append(dst, decoded...), decoded == nil, nil
}

// stringMember is the string of the field name, or "".
func stringMember(fields []member, name string) string {
	v := memberOf(fields, name)
	if v == nil {
		return "" // absent (no other person): spares json.Unmarshal its error
	}
	if text, ok := simpleString(v); ok {
		return string(text)
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// appendPersonalAAD appends the AAD that binds sealed data to its subject
// and event, and to the field holding the id of the other person whose data
// it is (when other is not empty), so that it cannot be moved to another.
func appendPersonalAAD(dst []byte, subject, event, other string) []byte {
	dst = append(append(append(dst, subject...), 0), event...)
	if other != "" {
		dst = append(append(dst, 0), other...)
	}
	return dst
}

// nullPersonal sets the erased fields named to null in an event's plain JSON.
func nullPersonal(names []string, data []byte) ([]byte, error) {
	var buf [16]member
	fields, err := splitObject(buf[:0], data)
	if err != nil {
		return nil, err
	}
	for _, f := range names {
		fields = setMember(fields, nullMember(f))
	}
	return appendObject(make([]byte, 0, objectSize(fields)), fields)
}

// PersonalEvents returns the wire names of the registered events that have
// personal fields.
func (c *Codec) PersonalEvents() []string {
	var names []string
	for name, t := range c.types {
		if t.personal.sealed() {
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
	if !t.personal.sealed() {
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
