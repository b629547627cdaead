package eventstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"
)

// Reading a sealed event merges the members of its stored JSON object with
// those of the objects it opens (personal.go). Most often it keeps them as
// found, in their order (listMembers, appendMembers); otherwise it writes the
// result as json.Marshal writes a map[string]json.RawMessage: members sorted
// by name, compact, the characters <, >, & and U+2028, U+2029 escaped
// (splitObject, appendObject). Doing either on the bytes, with json.Marshal
// called only for the rare member that is not already written that way,
// costs a fraction of decoding the objects into maps and encoding them
// again, which is what dominated the reading of sealed events.

// member is a member of a JSON object.
type member struct {
	name  []byte // unquoted
	key   []byte // as found, quoted; nil when name must be quoted by json.Marshal
	value []byte // as found; written by json.Marshal unless compact
	// compact says that value is written as it is: no space outside its
	// strings, no character that json.Marshal escapes.
	compact bool
}

var errNotObject = errors.New("not a JSON object")

// splitObject appends the members of the JSON object data to into, a later
// member replacing an earlier one of the same name, as decoding into a map
// does. It checks the object's structure, not every value's syntax: the
// result is decoded by encoding/json, which does.
func splitObject(into []member, data []byte) ([]member, error) {
	return scanObject(into, data, true)
}

// errEscapedName is listMembers' answer for a name written with escapes.
var errEscapedName = errors.New("a member's name holds escapes")

// listMembers appends the members of the JSON object data to into as they
// are found, duplicates included, each name as written; errEscapedName when
// a name holds escapes. Their compact flags are not set: appendMembers
// writes them as they are.
func listMembers(into []member, data []byte) ([]member, error) {
	return scanObject(into, data, false)
}

// scanObject is splitObject when forMarshal, listMembers otherwise.
func scanObject(into []member, data []byte, forMarshal bool) ([]member, error) {
	i := skipSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		return nil, errNotObject
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return into, trailing(data, i+1)
	}
	for {
		if i == len(data) || data[i] != '"' {
			return nil, errNotObject
		}
		end, escapes := skipString(data, i)
		if end < 0 {
			return nil, errNotObject
		}
		m := member{key: data[i:end], name: data[i+1 : end-1]}
		if !forMarshal {
			if escapes {
				return nil, errEscapedName
			}
		} else if _, simple := simpleString(m.key); !simple {
			var name string
			if err := json.Unmarshal(m.key, &name); err != nil {
				return nil, err
			}
			m.name, m.key = []byte(name), nil
		}
		if i = skipSpace(data, end); i == len(data) || data[i] != ':' {
			return nil, errNotObject
		}
		i = skipSpace(data, i+1)
		if end, m.compact = skipValue(data, i, forMarshal); end < 0 {
			return nil, errNotObject
		}
		m.value = data[i:end]
		if forMarshal {
			into = setMember(into, m)
		} else {
			into = append(into, m)
		}
		if i = skipSpace(data, end); i == len(data) {
			return nil, errNotObject
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return into, trailing(data, i+1)
		default:
			return nil, errNotObject
		}
	}
}

// setMember sets m in members, replacing the member of the same name.
func setMember(members []member, m member) []member {
	for i := range members {
		if bytes.Equal(members[i].name, m.name) {
			members[i] = m
			return members
		}
	}
	return append(members, m)
}

// memberIndex is the index of the member named name, or -1.
func memberIndex(members []member, name string) int {
	return slices.IndexFunc(members, func(m member) bool { return string(m.name) == name })
}

// deleteMember removes the member named name and returns it, and says
// whether there was one.
func deleteMember(members []member, name string) ([]member, member, bool) {
	i := memberIndex(members, name)
	if i < 0 {
		return members, member{}, false
	}
	m := members[i]
	return slices.Delete(members, i, i+1), m, true
}

// memberOf returns the value of the member named name, or nil.
func memberOf(members []member, name string) []byte {
	if i := memberIndex(members, name); i >= 0 {
		return members[i].value
	}
	return nil
}

// nullMember is a member named name whose value is null.
func nullMember(name string) member {
	return member{name: []byte(name), value: []byte("null"), compact: true}
}

// appendObject appends the object of members as json.Marshal writes a
// map[string]json.RawMessage of them; it sorts members.
func appendObject(dst []byte, members []member) ([]byte, error) {
	slices.SortFunc(members, func(a, b member) int { return bytes.Compare(a.name, b.name) })
	dst = append(dst, '{')
	for i, m := range members {
		if i > 0 {
			dst = append(dst, ',')
		}
		key := m.key
		if key == nil {
			var err error
			if key, err = json.Marshal(string(m.name)); err != nil {
				return nil, err
			}
		}
		dst = append(append(dst, key...), ':')
		if m.compact {
			dst = append(dst, m.value...)
			continue
		}
		value, err := json.Marshal(json.RawMessage(m.value))
		if err != nil {
			return nil, err
		}
		dst = append(dst, value...)
	}
	return append(dst, '}'), nil
}

// appendMembers appends the object of members in their order, each as found.
func appendMembers(dst []byte, members []member) []byte {
	dst = append(dst, '{')
	for i, m := range members {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(append(append(dst, m.key...), ':'), m.value...)
	}
	return append(dst, '}')
}

// namesApart says whether the names of members[from:to] differ from every
// other name of members, even compared as encoding/json matches a name to a
// struct field (bytes.EqualFold, which also reads invalid UTF-8 as U+FFFD,
// as decoding does): then no member is lost or decoded over another,
// whatever their order.
//
// Names whose first characters are ASCII and differ even in case differ, so
// only a name whose first character another one has (0x20 is the bit of
// case in ASCII letters; setting it in anything else leaves fewer characters
// apart, never more), or any name once one starts otherwise, is compared in
// full.
func namesApart(members []member, from, to int) bool {
	var taken [utf8.RuneSelf]bool
	compareAll := false
	mark := func(name []byte) (shared bool) {
		if len(name) == 0 || name[0] >= utf8.RuneSelf {
			compareAll = true
			return true
		}
		shared, taken[name[0]|0x20] = taken[name[0]|0x20], true
		return shared
	}
	for _, m := range members[:from] {
		mark(m.name)
	}
	for _, m := range members[to:] {
		mark(m.name)
	}
	for j := from; j < to; j++ {
		name := members[j].name
		if shared := mark(name); (shared || compareAll) && (nameAmong(members[:j], name) || nameAmong(members[to:], name)) {
			return false
		}
	}
	return true
}

// nameAmong says whether name is one of the names of members, compared as
// namesApart does.
func nameAmong(members []member, name []byte) bool {
	for i := range members {
		if bytes.EqualFold(members[i].name, name) {
			return true
		}
	}
	return false
}

// objectSize is about the size of the object appendObject or appendMembers
// writes.
func objectSize(members []member) int {
	n := 2
	for _, m := range members {
		n += len(m.name) + len(m.value) + 4
	}
	return n
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trailing(data []byte, i int) error {
	if skipSpace(data, i) != len(data) {
		return errNotObject
	}
	return nil
}

// skipString returns the index after the string that starts at data[i], or
// -1, and whether it holds escapes.
func skipString(data []byte, i int) (end int, escapes bool) {
	j := i + 1
	for {
		if j > len(data) {
			return -1, false
		}
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return -1, false
		}
		b := bytes.IndexByte(data[j:j+k], '\\')
		if b < 0 {
			j += k
			break
		}
		escapes = true
		j += b + 2
	}
	return j + 1, escapes
}

// compactText says whether text holds none of the characters json.Marshal
// escapes in raw JSON: <, >, & and U+2028, U+2029 (E2 80 A8 and E2 80 A9).
func compactText(text []byte) bool {
	if bytes.IndexByte(text, '<') >= 0 || bytes.IndexByte(text, '>') >= 0 || bytes.IndexByte(text, '&') >= 0 {
		return false
	}
	for {
		k := bytes.IndexByte(text, 0xE2)
		if k < 0 {
			return true
		}
		if k+2 < len(text) && text[k+1] == 0x80 && text[k+2]&^1 == 0xA8 {
			return false
		}
		text = text[k+1:]
	}
}

// simpleString returns the text of v when it is a string that json.Marshal
// writes as it is when it quotes the text: printable ASCII, without escapes
// or the characters it escapes.
func simpleString(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' {
		return nil, false
	}
	end, escapes := skipString(v, 0)
	if end != len(v) || escapes {
		return nil, false
	}
	text := v[1 : end-1]
	if !compactText(text) {
		return nil, false
	}
	for _, c := range text {
		if c < 0x20 || c >= 0x80 {
			return nil, false
		}
	}
	return text, true
}

// skipValue returns the index after the value that starts at data[i], or
// -1, and, when checkCompact, whether the value is compact: no space outside
// its strings, and no character in them that json.Marshal escapes in raw
// JSON.
func skipValue(data []byte, i int, checkCompact bool) (end int, compact bool) {
	if i == len(data) {
		return -1, false
	}
	switch data[i] {
	case '"':
		end, _ := skipString(data, i)
		return end, end > 0 && checkCompact && compactText(data[i+1:end-1])
	case '{', '[':
		compact = checkCompact
		depth := 0
		for j := i; j < len(data); j++ {
			if plainInStructure[data[j]] {
				continue
			}
			switch c := data[j]; {
			case c == '"':
				end, _ := skipString(data, j)
				if end < 0 {
					return -1, false
				}
				compact = compact && compactText(data[j+1:end-1])
				j = end - 1
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				if depth--; depth == 0 {
					return j + 1, compact
				}
			case isSpace(c):
				compact = false
			}
		}
		return -1, false
	}
	j := i
	for j < len(data) && !isSpace(data[j]) && data[j] != ',' && data[j] != '}' && data[j] != ']' {
		j++
	}
	if j == i {
		return -1, false
	}
	return j, checkCompact
}

// plainInStructure are the bytes of an object or array, outside its strings,
// that skipValue passes over.
var plainInStructure = func() (plain [256]bool) {
	for c := range plain {
		plain[c] = !isSpace(byte(c)) && !strings.ContainsRune(`"{}[]`, rune(c))
	}
	return plain
}()
