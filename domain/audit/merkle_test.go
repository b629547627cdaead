package audit

import (
	"crypto/sha256"
	"strconv"
	"testing"
)

// rfc6962Root is RFC 6962's definition, written apart from Tree: the split
// at the largest power of two below n.
func rfc6962Root(leaves []Hash) Hash {
	if len(leaves) == 1 {
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := rfc6962Root(leaves[:k]), rfc6962Root(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

func leaves(n int) []Hash {
	out := make([]Hash, n)
	for i := range out {
		out[i] = sha256.Sum256([]byte("event " + strconv.Itoa(i)))
	}
	return out
}

func TestEveryLeafIsProvedToTheRoot(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 100, 1023, 1024, 1025, 10_000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			ls := leaves(n)
			tree := NewTree(ls)
			root := tree.Root()
			if want := rfc6962Root(ls); root != want {
				t.Fatalf("root: got %s, want RFC 6962's %s", root, want)
			}
			for i, leaf := range ls {
				path := tree.Path(i)
				if got := RootOfPath(leaf, path); got != root {
					t.Fatalf("leaf %d of %d: path leads to %s, want the root %s", i, n, got, root)
				}
				if n > 1 {
					// The path proves this leaf and no other.
					other := ls[(i+1)%n]
					if RootOfPath(other, path) == root {
						t.Fatalf("leaf %d's path also proves leaf %d", i, (i+1)%n)
					}
				}
			}
		})
	}
}

func TestRootsDifferWhenLeavesDo(t *testing.T) {
	t.Parallel()
	ls := leaves(5)
	// Duplicating the odd last leaf (Bitcoin's tree) must not give the same root.
	if Root(ls) == Root(append(ls[:5:5], ls[4])) {
		t.Error("5 leaves and the same 5 with the last repeated share a root")
	}
	swapped := append([]Hash{}, ls...)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	if Root(ls) == Root(swapped) {
		t.Error("reordered leaves share a root")
	}
}
