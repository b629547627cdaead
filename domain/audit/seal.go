package audit

import (
	"cmp"
	"errors"
	"strconv"
	"time"
)

var errBadHash = errors.New("not a hex SHA-256 hash")

// Cursor is a place in the gap-free feed, ordered by (TxID, Position).
type Cursor struct {
	TxID     uint64 `json:"tx_id"`
	Position int64  `json:"position"`
}

// Compare orders cursors as the feed does.
func (c Cursor) Compare(d Cursor) int {
	return cmp.Or(cmp.Compare(c.TxID, d.TxID), cmp.Compare(c.Position, d.Position))
}

// Seal seals the events of the feed after After up to and including Through,
// in feed order: positions interleave across transactions, so the cursors,
// not the positions, say which events a seal holds. Positions and Leaves list
// its events and their hashes in feed order, so that a check names the first
// event that no longer matches.
type Seal struct {
	Seq          int64     `json:"seq"`
	After        Cursor    `json:"after"`
	Through      Cursor    `json:"through"`
	FromPosition int64     `json:"from_position"` // the lowest position sealed
	ToPosition   int64     `json:"to_position"`   // the highest
	Count        int       `json:"count"`
	Root         Hash      `json:"root"`
	PrevHash     Hash      `json:"prev_hash"`
	Hash         Hash      `json:"hash"`
	SealedAt     time.Time `json:"sealed_at"`
	Positions    []int64   `json:"positions"`
	Leaves       []Hash    `json:"leaves"`
}

// ChainHash is what s's Hash must be: SHA-256 over its seq, the previous
// seal's hash (zero for the first seal), its cursor range, its count and its
// root, length-prefixed as in Record.Hash (numbers in decimal, hashes in hex).
func (s Seal) ChainHash() Hash {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	return fields(
		i(s.Seq), s.PrevHash.String(),
		u(s.After.TxID), i(s.After.Position), u(s.Through.TxID), i(s.Through.Position),
		strconv.Itoa(s.Count), s.Root.String(),
	)
}

// Next is the seal of events (in feed order, at least one) after prev (nil
// for the first seal), sealed at now.
func Next(prev *Seal, events []Hashed, now time.Time) Seal {
	first := events[0].Cursor.Position
	s := Seal{Seq: 1, Count: len(events), SealedAt: now, FromPosition: first, ToPosition: first}
	if prev != nil {
		s.Seq, s.After, s.PrevHash = prev.Seq+1, prev.Through, prev.Hash
	}
	s.Through = events[len(events)-1].Cursor
	s.Positions = make([]int64, len(events))
	s.Leaves = make([]Hash, len(events))
	for i, e := range events {
		p := e.Cursor.Position
		s.Positions[i], s.Leaves[i] = p, e.Hash
		s.FromPosition, s.ToPosition = min(s.FromPosition, p), max(s.ToPosition, p)
	}
	s.Root = Root(s.Leaves)
	s.Hash = s.ChainHash()
	return s
}

// Failure names what first fails a check: the seal, and the event where the
// failure is one event's.
type Failure struct {
	Seal     int64  `json:"seal"`
	Position *int64 `json:"position"`
	Reason   string `json:"reason"`
}

func (f *Failure) Error() string {
	if f.Position != nil {
		return "seal " + strconv.FormatInt(f.Seal, 10) + ", position " + strconv.FormatInt(*f.Position, 10) + ": " + f.Reason
	}
	return "seal " + strconv.FormatInt(f.Seal, 10) + ": " + f.Reason
}

func fail(seal int64, reason string) *Failure { return &Failure{Seal: seal, Reason: reason} }

func failAt(seal, position int64, reason string) *Failure {
	return &Failure{Seal: seal, Position: &position, Reason: reason}
}

// CheckFrom is Check of seal s in a check that starts at seal first: with no
// seal before it at hand, s must be first itself, and seal 1 must start the
// chain. A seal removed from the chain is named.
func CheckFrom(first int64, prev *Seal, s Seal, events []Record) *Failure {
	if prev == nil {
		if s.Seq != first {
			return fail(s.Seq, "seal "+strconv.FormatInt(first, 10)+" is missing")
		}
		// A later seal's link is for the auditor to compare with a hash kept
		// from before.
		if s.Seq == 1 && (s.PrevHash != (Hash{}) || s.After != (Cursor{})) {
			return fail(s.Seq, "the first seal does not start the chain")
		}
	}
	return Check(prev, s, events)
}

// Check checks seal s against the events now found in its cursor range (in
// feed order) and against prev, the seal before it (nil when it is not at
// hand: the first seal of a pack that starts later, whose link the auditor
// compares with a hash published earlier). It returns nil when all match.
func Check(prev *Seal, s Seal, events []Record) *Failure {
	if prev != nil {
		if s.Seq != prev.Seq+1 {
			return fail(s.Seq, "seal "+strconv.FormatInt(prev.Seq+1, 10)+" is missing")
		}
		if s.PrevHash != prev.Hash {
			return fail(s.Seq, "prev_hash is not the previous seal's hash")
		}
		if s.After != prev.Through {
			return fail(s.Seq, "its range does not start where the previous seal's ends")
		}
	}
	if s.ChainHash() != s.Hash {
		return fail(s.Seq, "hash does not cover its prev_hash, range, count and root")
	}
	if len(s.Positions) != s.Count || len(s.Leaves) != s.Count || Root(s.Leaves) != s.Root {
		return fail(s.Seq, "its list of events does not match its root")
	}
	sealed := make(map[int64]bool, len(s.Positions))
	for _, p := range s.Positions {
		sealed[p] = true
	}
	for i, j := 0, 0; i < len(s.Positions) || j < len(events); {
		switch {
		case j < len(events) && (events[j].Cursor().Compare(s.After) <= 0 || events[j].Cursor().Compare(s.Through) > 0):
			return failAt(s.Seq, events[j].Position, "event outside the seal's range")
		case j < len(events) && (i == len(s.Positions) || !sealed[events[j].Position]):
			return failAt(s.Seq, events[j].Position, "event inserted: the seal does not hold it")
		case i < len(s.Positions) && (j == len(events) || events[j].Position != s.Positions[i]):
			return failAt(s.Seq, s.Positions[i], "event removed or moved: the seal holds it here, the store does not")
		case events[j].Hash() != s.Leaves[i]:
			return failAt(s.Seq, s.Positions[i], "event changed: its hash does not match the seal's")
		}
		i++
		j++
	}
	return nil
}
