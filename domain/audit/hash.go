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
	return fields(
		strconv.FormatInt(r.Position, 10), r.StreamID, strconv.FormatInt(r.Version, 10), r.Type,
		r.Data, r.Metadata, r.RecordedAt,
	)
}

// fields hashes its arguments, each length-prefixed, so that no two lists of
// fields have the same encoding.
func fields(values ...string) Hash {
	h := sha256.New()
	var n [4]byte
	for _, v := range values {
		binary.BigEndian.PutUint32(n[:], uint32(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	var out Hash
	h.Sum(out[:0])
	return out
}
