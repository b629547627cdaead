package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRecordHashIsSHA256OfTheLengthPrefixedFields(t *testing.T) {
	t.Parallel()
	r := Record{Position: 42, TxID: 7, StreamID: "leave-x", Version: 3, Type: "leave.approved",
		Data: `{"days": 2}`, Metadata: `{}`, RecordedAt: "2026-01-02T03:04:05.123456Z"}
	var want bytes.Buffer
	for _, f := range []string{"42", "leave-x", "3", "leave.approved", `{"days": 2}`, `{}`, "2026-01-02T03:04:05.123456Z"} {
		_ = binary.Write(&want, binary.BigEndian, uint32(len(f)))
		want.WriteString(f)
	}
	if got := r.Hash(); got != Hash(sha256.Sum256(want.Bytes())) {
		t.Errorf("hash: got %s, want SHA-256 of the canonical form", got)
	}
	moved := r
	moved.TxID = 8 // the commit's id is not part of what an event is
	if moved.Hash() != r.Hash() {
		t.Error("the hash depends on tx_id")
	}
	if got := FormatRecordedAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))); got != "2026-01-02T02:04:05.000000Z" {
		t.Errorf("recorded_at: got %s", got)
	}
}

// recorded_at is written digit by digit; it must read as time.Format writes
// RecordedAtLayout, in any zone, at any microsecond, and at the years the
// layout cannot show.
func TestFormatRecordedAtIsTheLayout(t *testing.T) {
	t.Parallel()
	times := []time.Time{
		time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2027, 1, 1, 0, 30, 0, 1_000, time.FixedZone("+01", 3600)),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 123_456_000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC),
		{},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		times = append(times, time.Unix(r.Int64N(1<<35), r.Int64N(1e9)).In(time.FixedZone("z", r.IntN(50_000)-25_000)))
	}
	for _, at := range times {
		if got, want := FormatRecordedAt(at), at.UTC().Format(RecordedAtLayout); got != want {
			t.Fatalf("FormatRecordedAt(%v) = %s, want %s", at, got, want)
		}
	}
}

// An event read as Postgres sends it hashes as its record does.
func TestHashStoredIsTheRecordsHash(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 4, 4, 5, 123_456_789, time.FixedZone("+01", 3600))
	r := Record{Position: 42, TxID: 7, StreamID: "leave-x", Version: 3, Type: "leave.approved", Data: `{"days": 2}`, Metadata: `{}`,
		RecordedAt: FormatRecordedAt(at)}
	if got := HashStored(42, []byte("leave-x"), 3, []byte("leave.approved"), []byte(`{"days": 2}`), []byte(`{}`), at); got != r.Hash() {
		t.Errorf("HashStored = %s, want the record's hash %s", got, r.Hash())
	}
}

// chain makes seals of sizes events each, positions interleaved across
// transactions as the feed has them.
func chain(sizes ...int) ([]Seal, []Record) {
	var seals []Seal
	var all []Record
	tx, pos := uint64(100), int64(0)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, n := range sizes {
		var events []Record
		for range n {
			tx++
			pos += 2
			// Every other transaction took its position before the previous one.
			p := pos
			if tx%2 == 0 {
				p = pos - 3
			}
			events = append(events, Record{Position: p, TxID: tx, StreamID: fmt.Sprintf("attendance-%d", tx%5), Version: int64(tx),
				Type: "attendance.checked_in", Data: fmt.Sprintf(`{"late": %v, "minute": %d}`, tx%3 == 0, tx), Metadata: `{"actor": "a"}`,
				RecordedAt: FormatRecordedAt(at.Add(time.Duration(tx) * time.Millisecond))})
		}
		var prev *Seal
		if len(seals) > 0 {
			prev = &seals[len(seals)-1]
		}
		hashed := make([]Hashed, len(events))
		for i, e := range events {
			hashed[i] = Hashed{Cursor: e.Cursor(), Hash: e.Hash()}
		}
		seals = append(seals, Next(prev, hashed, at))
		all = append(all, events...)
	}
	return seals, all
}

func TestAPackChecksAndAnyEditedByteFailsNamingThePlace(t *testing.T) {
	t.Parallel()
	seals, events := chain(3, 1, 8, 5)
	pack, err := json.Marshal(Pack{Format: PackFormat, Seals: seals, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	r, err := CheckPack(pack)
	if err != nil || !r.OK || r.Seals != 4 || r.Events != 17 {
		t.Fatalf("untouched pack: got %+v, %v; want ok with 4 seals and 17 events", r, err)
	}
	target := events[9] // the 6th event of seal 3
	cases := []struct {
		name, old, new string
		seal           int64
		position       *int64
	}{
		{"an event's data", fmt.Sprintf(`"minute\": %d}`, target.TxID), fmt.Sprintf(`"minute\": %d}`, target.TxID+1), 3, &target.Position},
		{"an event's recorded_at", `"` + target.RecordedAt + `"`, `"` + strings.Replace(target.RecordedAt, ".", ".9", 1)[:len(target.RecordedAt)] + `Z"`, 3, &target.Position},
		{"a seal's root", `"root":"` + seals[1].Root.String(), `"root":"` + flip(seals[1].Root.String()), 2, nil},
		{"a seal's prev_hash", `"prev_hash":"` + seals[3].PrevHash.String(), `"prev_hash":"` + flip(seals[3].PrevHash.String()), 4, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if bytes.Count(pack, []byte(c.old)) != 1 {
				t.Fatalf("%q occurs %d times in the pack", c.old, bytes.Count(pack, []byte(c.old)))
			}
			edited := bytes.Replace(pack, []byte(c.old), []byte(c.new), 1)
			r, err := CheckPack(edited)
			if err != nil {
				t.Fatal(err)
			}
			if r.OK || r.Failure == nil || r.Failure.Seal != c.seal {
				t.Fatalf("got %+v (failure %v), want a failure of seal %d", r, r.Failure, c.seal)
			}
			if c.position != nil && (r.Failure.Position == nil || *r.Failure.Position != *c.position) {
				t.Fatalf("got %v, want position %d named", r.Failure, *c.position)
			}
		})
	}
	t.Run("a seal left out", func(t *testing.T) {
		short, err := json.Marshal(Pack{Format: PackFormat, Seals: []Seal{seals[0], seals[2], seals[3]}, Events: events})
		if err != nil {
			t.Fatal(err)
		}
		r, err := CheckPack(short)
		if err != nil || r.OK || r.Failure.Seal != 3 || r.Failure.Reason != "seal 2 is missing" {
			t.Fatalf("got %+v, %v; want seal 2 named missing", r, err)
		}
	})
	t.Run("a byte that breaks the JSON", func(t *testing.T) {
		i := bytes.Index(pack, []byte(`"events"`))
		edited := append(append(append([]byte{}, pack[:i]...), '\''), pack[i+1:]...)
		if _, err := CheckPack(edited); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("byte %d", i+1)) {
			t.Fatalf("got %v, want an error naming byte %d", err, i+1)
		}
	})
}

// flip changes the first hex digit of h.
func flip(h string) string {
	if h[0] == '0' {
		return "1" + h[1:]
	}
	return "0" + h[1:]
}

func TestCheckNamesTheFirstEventThatNoLongerMatches(t *testing.T) {
	t.Parallel()
	seals, events := chain(6)
	s := seals[0]
	changed := append([]Record{}, events...)
	changed[4].Metadata = `{"actor": "b"}`
	changed[2].Data = `{}`
	removed := append(append([]Record{}, events[:3]...), events[4:]...)
	inserted := append(append(append([]Record{}, events[:2]...), Record{Position: 999, TxID: events[1].TxID, StreamID: "x"}), events[2:]...)
	cases := []struct {
		name     string
		events   []Record
		position int64
		reason   string
	}{
		{"changed", changed, events[2].Position, "changed"},
		{"removed", removed, events[3].Position, "removed"},
		{"inserted", inserted, 999, "inserted"},
		{"the last removed", events[:5], events[5].Position, "removed"},
	}
	for _, c := range cases {
		f := Check(nil, s, c.events)
		if f == nil || f.Position == nil || *f.Position != c.position || !strings.Contains(f.Reason, c.reason) {
			t.Errorf("%s: got %v, want position %d %s", c.name, f, c.position, c.reason)
		}
	}
	if f := Check(nil, s, events); f != nil {
		t.Errorf("untouched: got %v", f)
	}
}

// FuzzCheckPack: a pack is a file from anywhere; no byte of it panics the
// check, whose result is either ok or a failure.
func FuzzCheckPack(f *testing.F) {
	seals, events := chain(3, 1, 2)
	pack, err := json.Marshal(Pack{Format: PackFormat, Seals: seals, Events: events})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pack)
	f.Add([]byte(`{"format":"` + PackFormat + `","seals":[{"seq":1,"count":2,"positions":[1],"leaves":[]}],"events":[{"position":1}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := CheckPack(b)
		if err == nil && r.OK != (r.Failure == nil) {
			t.Fatalf("ok %v with failure %v", r.OK, r.Failure)
		}
	})
}

// A pack is one JSON document: bytes after it (a second pack appended, a
// stray edit, a NUL) make it no pack, while the whitespace an editor leaves
// at the end does not.
func TestAPackWithBytesAfterItIsRefused(t *testing.T) {
	t.Parallel()
	seals, events := chain(2, 1, 4)
	pack, err := json.Marshal(Pack{Format: PackFormat, Seals: seals, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	for _, tail := range []string{"\n", " \r\n\t"} {
		if r, err := CheckPack(append(slices.Clip(pack), tail...)); err != nil || !r.OK {
			t.Errorf("pack followed by %q: got %+v, %v; want ok", tail, r, err)
		}
	}
	for _, tail := range []string{"x", "\n{}", "\x00", string(pack), "\xff"} {
		if r, err := CheckPack(append(slices.Clip(pack), tail...)); err == nil {
			t.Errorf("pack followed by %.20q: got %+v, want an error", tail, r)
		}
	}
}

// BenchmarkRecordHash hashes an event of the size a notification has: the
// sealer hashes every event of the store once.
func BenchmarkRecordHash(b *testing.B) {
	r := Record{Position: 1234567, StreamID: "attendance-0b8f5d1e-7c1a-4a53-9a8e-3f1f0c2d9e41", Version: 12, Type: "attendance.checked_in",
		Data:     `{"at": "2026-12-07T09:17:00Z", "late": true, "workday": true, "timezone": "Europe/Istanbul", "local_date": "2026-12-07", "employee_id": "0b8f5d1e-7c1a-4a53-9a8e-3f1f0c2d9e41", "late_minutes": 17}`,
		Metadata: `{"actor": "0b8f5d1e-7c1a-4a53-9a8e-3f1f0c2d9e41", "request_id": "5a0c9f1e-2b7d-4e8a-8c6f-1d2e3f4a5b6c"}`, RecordedAt: "2026-12-07T09:17:00.123456Z"}
	b.ReportAllocs()
	for b.Loop() {
		r.Hash()
	}
}
