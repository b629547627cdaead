package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"time"
)

// Hash is a SHA-256 digest.
type Hash [sha256.Size]byte

// String is the lower-case hex form of h.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText writes h in hex, as JSON shows it.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText reads the hex form of a hash.
func (h *Hash) UnmarshalText(b []byte) error {
	if hex.DecodedLen(len(b)) != len(h) {
		return errBadHash
	}
	_, err := hex.Decode(h[:], b)
	if err != nil {
		return errBadHash
	}
	return nil
}

// RecordedAtLayout is the fixed form of recorded_at in an event's canonical
// form: UTC, microseconds (Postgres's precision), always six digits.
const RecordedAtLayout = "2006-01-02T15:04:05.000000Z"

// Record is an event as it is stored and hashed: Data and Metadata are the
// exact text of the stored jsonb (data::text), RecordedAt is in
// RecordedAtLayout. TxID places it in the feed and is not hashed: a
// transaction id says when it committed, not what it is.
type Record struct {
	Position   int64  `json:"position"`
	TxID       uint64 `json:"tx_id"`
	StreamID   string `json:"stream_id"`
	Version    int64  `json:"version"`
	Type       string `json:"type"`
	Data       string `json:"data"`
	Metadata   string `json:"metadata"`
	RecordedAt string `json:"recorded_at"`
}

// FormatRecordedAt is t in RecordedAtLayout.
func FormatRecordedAt(t time.Time) string {
	var buf [len(RecordedAtLayout)]byte
	return string(appendRecordedAt(buf[:0], t))
}

// appendRecordedAt appends t in RecordedAtLayout, digit by digit: through
// time.Format, which reads the layout anew each time, it cost the sealer
// about half a microsecond an event. A year outside 0-9999, which
// RecordedAtLayout cannot show either, goes through time.Format.
func appendRecordedAt(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, RecordedAtLayout)
	}
	hour, minute, second := t.Clock()
	b = appendDigits(b, year, 4)
	b = appendDigits(append(b, '-'), int(month), 2)
	b = appendDigits(append(b, '-'), day, 2)
	b = appendDigits(append(b, 'T'), hour, 2)
	b = appendDigits(append(b, ':'), minute, 2)
	b = appendDigits(append(b, ':'), second, 2)
	b = appendDigits(append(b, '.'), t.Nanosecond()/1000, 6)
	return append(b, 'Z')
}

// appendDigits appends v, not negative, in n decimal digits, zero-padded.
func appendDigits(b []byte, v, n int) []byte {
	b = append(b, make([]byte, n)...)
	for i := len(b) - 1; i >= len(b)-n; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// Cursor returns r's place in the feed.
func (r Record) Cursor() Cursor { return Cursor{TxID: r.TxID, Position: r.Position} }

// Hash is SHA-256 over r's canonical form: its position, stream id, version,
// type, data, metadata and recorded_at, in that order, each as a 4-byte
// big-endian length followed by its bytes (numbers in decimal).
func (r Record) Hash() Hash {
	return hashOf(r.Position, r.StreamID, r.Version, r.Type, r.Data, r.Metadata, r.RecordedAt)
}

// Hashed is an event's place in the feed and its hash: what a seal holds of
// it.
type Hashed struct {
	Cursor Cursor
	Hash   Hash
}

// HashStored is Record.Hash of an event read as Postgres sends it: data and
// metadata the text of the stored jsonb, as bytes. Hashed as they arrive,
// the sealer copies no field of an event into a string of its own.
func HashStored(position int64, streamID []byte, version int64, typ, data, metadata []byte, recordedAt time.Time) Hash {
	var at [len(RecordedAtLayout)]byte
	return hashOf(position, streamID, version, typ, data, metadata, appendRecordedAt(at[:0], recordedAt))
}

// hashOf is SHA-256 over an event's canonical form (Record.Hash).
func hashOf[T string | []byte](position int64, streamID T, version int64, typ, data, metadata T, recordedAt T) Hash {
	var buf [1024]byte
	c := appendText(canonical(buf[:0]).number(position), streamID).number(version)
	for _, v := range [...]T{typ, data, metadata, recordedAt} {
		c = appendText(c, v)
	}
	return sha256.Sum256(c)
}

// fields hashes its arguments, each length-prefixed, so that no two lists of
// fields have the same encoding.
func fields(values ...string) Hash {
	var buf [1024]byte
	c := canonical(buf[:0])
	for _, v := range values {
		c = c.text(v)
	}
	return sha256.Sum256(c)
}

// canonical is a canonical form being written: length-prefixed fields, to be
// hashed at once. Written into a buffer on the stack, an event of common size
// costs its hash no allocation; a hash.Hash written field by field cost the
// sealer four allocations and a copy of each field an event.
type canonical []byte

func (c canonical) text(v string) canonical { return appendText(c, v) }

// appendText appends v, length-prefixed, to c: a method cannot take both
// strings and bytes.
func appendText[T string | []byte](c canonical, v T) canonical {
	return append(binary.BigEndian.AppendUint32(c, uint32(len(v))), v...)
}

func (c canonical) number(v int64) canonical {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], v, 10)
	return append(binary.BigEndian.AppendUint32(c, uint32(len(d))), d...)
}
