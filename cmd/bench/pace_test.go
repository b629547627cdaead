package main

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestPacerDueGoesByElapsedTime(t *testing.T) {
	p := pacer{rate: 5000, duration: 2 * time.Second}
	for _, c := range []struct {
		elapsed time.Duration
		want    int
	}{
		{-time.Millisecond, 0},
		{0, 1},
		{199 * time.Microsecond, 1},
		{200 * time.Microsecond, 2},
		// A wake-up 10 ms late finds 50 more calls due, not one.
		{10*time.Millisecond + 200*time.Microsecond, 52},
		{2 * time.Second, 10000},
		{time.Hour, 10000},
	} {
		if got := p.due(c.elapsed); got != c.want {
			t.Errorf("due(%s) = %d, want %d", c.elapsed, got, c.want)
		}
	}
}

// Calls slower than their interval still go at the rate: the pacer keeps
// that many in flight rather than waiting for each.
func TestPacerKeepsTheRateWithSlowCalls(t *testing.T) {
	p := pacer{rate: 2000, duration: 250 * time.Millisecond, inFlight: 1000}
	var mu sync.Mutex
	seen := map[int]int{}
	took := p.run(context.Background(), func(n int) {
		time.Sleep(20 * time.Millisecond) // 40 intervals
		mu.Lock()
		defer mu.Unlock()
		seen[n]++
	})
	if len(seen) != 500 {
		t.Fatalf("%d calls, want 500", len(seen))
	}
	for n, k := range seen {
		if k != 1 {
			t.Errorf("call %d made %d times", n, k)
		}
	}
	// 250 ms of schedule and the last call's 20 ms; a loaded host adds some.
	if took < 250*time.Millisecond || took > time.Second {
		t.Errorf("the run took %s, want about 270ms", took)
	}
}
