package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"text/tabwriter"
	"time"
)

// stats is what one path of one scenario measured.
type stats struct {
	events    int
	elapsed   time.Duration
	latencies []time.Duration // one per operation (append, insert or page read)
}

func (s stats) rate() float64 { return float64(s.events) / s.elapsed.Seconds() }

func (s stats) percentile(p int) time.Duration {
	if len(s.latencies) == 0 {
		return 0
	}
	sorted := slices.Clone(s.latencies)
	slices.Sort(sorted)
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

// op performs one operation for worker and returns how many events it wrote.
type op func(ctx context.Context, worker int) (int, error)

// measure runs op on workers goroutines, first for a short unmeasured warm-up
// (connections, prepared statements, caches), then for d.
func measure(ctx context.Context, workers int, d time.Duration, fn op) (stats, error) {
	if _, err := runFor(ctx, workers, min(2*time.Second, d/5), fn); err != nil {
		return stats{}, err
	}
	return runFor(ctx, workers, d, fn)
}

// compare measures two operations for d each, alternating between them in
// one-second slices (in turns, so neither always goes first) so that a change
// in the machine's other load affects both alike.
func compare(ctx context.Context, workers int, d time.Duration, a, b op) (stats, stats, error) {
	warmup := min(2*time.Second, d/5)
	for _, fn := range []op{a, b} {
		if _, err := runFor(ctx, workers, warmup, fn); err != nil {
			return stats{}, stats{}, err
		}
	}
	slices := max(1, int(d/time.Second))
	var sa, sb stats
	for i := range slices {
		first, second, fa, fb := &sa, &sb, a, b
		if i%2 == 1 {
			first, second, fa, fb = &sb, &sa, b, a
		}
		for _, run := range []struct {
			into *stats
			fn   op
		}{{first, fa}, {second, fb}} {
			s, err := runFor(ctx, workers, d/time.Duration(slices), run.fn)
			if err != nil {
				return stats{}, stats{}, err
			}
			run.into.events += s.events
			run.into.elapsed += s.elapsed
			run.into.latencies = append(run.into.latencies, s.latencies...)
		}
	}
	return sa, sb, nil
}

func runFor(ctx context.Context, workers int, d time.Duration, fn op) (stats, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total stats
		first error
	)
	start := time.Now()
	end := start.Add(d)
	for w := range workers {
		wg.Go(func() {
			var events int
			var lat []time.Duration
			var err error
			for time.Now().Before(end) && ctx.Err() == nil {
				t0 := time.Now()
				var n int
				if n, err = fn(ctx, w); err != nil {
					break
				}
				lat = append(lat, time.Since(t0))
				events += n
			}
			mu.Lock()
			defer mu.Unlock()
			total.events += events
			total.latencies = append(total.latencies, lat...)
			if err != nil && first == nil {
				first = fmt.Errorf("worker %d: %w", w, err)
			}
		})
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	if first == nil {
		first = ctx.Err()
	}
	return total, first
}

// row is one line of the report.
type row struct {
	scenario string
	path     string
	stats    stats
	ratio    string // store against baseline, on store rows
	target   string // the goal and whether it was met, on store rows
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "scenario\tpath\tevents/s\tp50\tp99\tstore/baseline\ttarget\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t\n", r.scenario, r.path, r.stats.rate(),
			round(r.stats.percentile(50)), round(r.stats.percentile(99)), r.ratio, r.target)
	}
	tw.Flush()
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= 100*time.Microsecond:
		return d.Round(time.Microsecond)
	default:
		return d
	}
}

// verdict formats a target and whether got reached it.
func verdict(goal string, met bool) string {
	if met {
		return goal + ": met"
	}
	return goal + ": MISSED"
}
