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
func FormatRecordedAt(t time.Time) string { return t.UTC().Format(RecordedAtLayout) }

// Cursor returns r's place in the feed.
func (r Record) Cursor() Cursor { return Cursor{TxID: r.TxID, Position: r.Position} }

// Hash is SHA-256 over r's canonical form: its position, stream id, version,
// type, data, metadata and recorded_at, in that order, each as a 4-byte
// big-endian length followed by its bytes (numbers in decimal).
func (r Record) Hash() Hash {
	var buf [1024]byte
	return sha256.Sum256(canonical(buf[:0]).
		number(r.Position).text(r.StreamID).number(r.Version).text(r.Type).
		text(r.Data).text(r.Metadata).text(r.RecordedAt))
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

func (c canonical) text(v string) canonical {
	return append(binary.BigEndian.AppendUint32(c, uint32(len(v))), v...)
}

func (c canonical) number(v int64) canonical {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], v, 10)
	return append(binary.BigEndian.AppendUint32(c, uint32(len(d))), d...)
}
