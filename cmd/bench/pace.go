package main

import (
	"context"
	"sync"
	"time"
)

// pacer offers calls at a rate as independent clients would: the n-th call is
// due at n/rate after the start, whatever the calls before it took. A wake-up
// that comes late starts every call due meanwhile, so a late tick costs no
// call (a ticker drops the ticks it could not deliver, which held the lag
// bench at half the rate asked).
type pacer struct {
	rate     int
	duration time.Duration
	// inFlight bounds the calls running at once; when they are all running,
	// the schedule waits, and the rate achieved says so.
	inFlight int
}

// total is the number of calls of a run: those due before its duration ends.
func (p pacer) total() int {
	return int(p.duration * time.Duration(p.rate) / time.Second)
}

// due is how many calls are due elapsed after the start: the n-th at
// n/rate, n from 0.
func (p pacer) due(elapsed time.Duration) int {
	if elapsed < 0 {
		return 0
	}
	return min(int(elapsed*time.Duration(p.rate)/time.Second)+1, p.total())
}

// run calls call(n), each in a goroutine of its own, for every n of the run
// when it comes due, and returns once all have returned, or once ctx ends
// and the calls started have returned. It returns how long the run took,
// until the last call returned.
func (p pacer) run(ctx context.Context, call func(n int)) time.Duration {
	slots := make(chan struct{}, max(p.inFlight, 1))
	var wg sync.WaitGroup
	start := time.Now()
	// Waking at most every millisecond is enough: a wake-up starts what
	// came due since the last.
	wake := max(time.Second/time.Duration(max(p.rate, 1)), time.Millisecond)
	for n, total := 0, p.total(); n < total && ctx.Err() == nil; {
		for due := p.due(time.Since(start)); n < due; n++ {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				wg.Wait()
				return time.Since(start)
			}
			wg.Add(1)
			go func(n int) {
				defer func() { <-slots; wg.Done() }()
				call(n)
			}(n)
		}
		time.Sleep(min(wake, time.Until(start.Add(time.Duration(n)*time.Second/time.Duration(p.rate)))))
	}
	wg.Wait()
	return time.Since(start)
}
