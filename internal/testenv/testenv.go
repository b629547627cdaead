// Package testenv holds what the tests that start real programs share: free
// ports, random names, and a log buffer safe to write from the program while
// the test reads it.
package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net"
	"sync"
	"testing"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// RandomHex returns 2n random hex digits, for names that must not collide.
func RandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails, see crypto/rand.Read
	return hex.EncodeToString(b)
}

// LockedBuffer collects a program's log; it is safe for concurrent use.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
