package audit

import "github.com/acme/employee-tracking/domain/errkind"

var (
	// ErrNoEvent: no event is stored at the position asked about.
	ErrNoEvent = errkind.New(errkind.NotFound, "no event at this position")
	// ErrNotSealed: the event is in no seal yet; seals follow the feed
	// within SEAL_INTERVAL.
	ErrNotSealed = errkind.New(errkind.NotFound, "the event is not sealed yet")
)

// Proof proves that Event is in Seal: Event's hash, Hash, leads along Path
// to the seal's root. Index is its place among the seal's events.
type Proof struct {
	Event Record
	Seal  Seal
	Index int
	Hash  Hash
	Path  []Step
}

// Prove is the proof of the event at index i of seal, whose list of
// leaves is given.
func Prove(event Record, seal Seal, i int) Proof {
	return Proof{Event: event, Seal: seal, Index: i, Hash: event.Hash(), Path: NewTree(seal.Leaves).Path(i)}
}

// Valid says whether the proof leads to its seal's root.
func (p Proof) Valid() bool { return RootOfPath(p.Hash, p.Path) == p.Seal.Root }
