// Package testenv holds what the tests that start real programs share: free
// ports, random names, a time zone where it is noon and a schedule late in
// it, and a log buffer safe to write from the program while the test reads it.
package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
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

// NoonZone returns a time zone (Etc/GMT-12 to Etc/GMT+11) where it is now
// between 12:00 and 13:00: a check-in now is then hours past a shift that
// starts at midnight, and far from the next one, whatever the hour of the
// test's run. A shift starting at 00:00 UTC would not do: a check-in at
// 22:00 UTC belongs to tomorrow's, two hours early (EARLY_CHECKIN_MINUTES),
// not to today's, 22 hours late.
func NoonZone() (string, *time.Location) {
	ahead := 12 - time.Now().UTC().Hour()
	// Etc/GMT-h is h hours ahead of UTC: the sign is POSIX's.
	name := fmt.Sprintf("Etc/GMT%+d", -ahead)
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("testenv: " + name + ": " + err.Error())
	}
	return name, loc
}

// LateSchedule is an employee's schedule, as the API takes it, that starts
// work at midnight in NoonZone, every day: a first check-in now is about
// twelve hours late.
func LateSchedule() map[string]any {
	zone, _ := NoonZone()
	return map[string]any{"timezone": zone, "work_start": "00:00", "work_end": "23:59", "grace_minutes": 0, "workdays": []int{1, 2, 3, 4, 5, 6, 7}}
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
