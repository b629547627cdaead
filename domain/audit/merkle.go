package audit

import "crypto/sha256"

// Tree is the Merkle tree of a seal's event hashes, as RFC 6962 defines it:
// one leaf is its own root; n > 1 leaves split at k, the largest power of two
// below n, and the root is SHA-256(0x01 || root(leaves[:k]) || root(leaves[k:])).
// No leaf is duplicated, so no two lists of leaves share a root (Bitcoin's
// duplicated odd leaf does not have that property). Built bottom-up, that is
// pairing each level's nodes and lifting an unpaired last node as it is.
type Tree struct{ levels [][]Hash }

// NewTree builds the tree of leaves.
func NewTree(leaves []Hash) Tree {
	levels := [][]Hash{leaves}
	for level := leaves; len(level) > 1; {
		up := make([]Hash, 0, (len(level)+1)/2)
		for i := 0; i+1 < len(level); i += 2 {
			up = append(up, node(level[i], level[i+1]))
		}
		if len(level)%2 == 1 {
			up = append(up, level[len(level)-1])
		}
		levels = append(levels, up)
		level = up
	}
	return Tree{levels: levels}
}

// Root is the tree's root; the zero hash for no leaves.
func (t Tree) Root() Hash {
	top := t.levels[len(t.levels)-1]
	if len(top) == 0 {
		return Hash{}
	}
	return top[0]
}

// Root is the Merkle root of leaves.
func Root(leaves []Hash) Hash { return NewTree(leaves).Root() }

// Step is one step of a Merkle path: the sibling's hash, and whether it
// stands left of the node computed so far.
type Step struct {
	Left bool `json:"left"`
	Hash Hash `json:"hash"`
}

// Path is the Merkle path from leaf i (0 ≤ i < the number of leaves) up to
// the root.
func (t Tree) Path(i int) []Step {
	path := []Step{}
	for _, level := range t.levels[:len(t.levels)-1] {
		if sibling := i ^ 1; sibling < len(level) {
			path = append(path, Step{Left: sibling < i, Hash: level[sibling]})
		}
		i /= 2
	}
	return path
}

// RootOfPath is the root that leaf and its path lead to: the seal's root
// when the path proves the leaf.
func RootOfPath(leaf Hash, path []Step) Hash {
	h := leaf
	for _, s := range path {
		if s.Left {
			h = node(s.Hash, h)
		} else {
			h = node(h, s.Hash)
		}
	}
	return h
}

// node is an inner node's hash. Its input is 65 bytes starting with 0x01,
// where an event's canonical form starts with a zero byte (the high byte of
// a length).
func node(left, right Hash) Hash {
	var b [1 + 2*len(Hash{})]byte
	b[0] = 1
	copy(b[1:], left[:])
	copy(b[1+len(left):], right[:])
	return sha256.Sum256(b[:])
}
