package saga

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Work that must happen at a moment (closing a forgotten check-out, chasing
// an approval step) is found by a due-time query that every instance runs
// every few seconds, and done through a command that decides on the stream
// and derives its event's id from the cause, so it happens once however many
// instances look.

// dueEvery is how often the due-time queries run: what is due is done within
// seconds.
const dueEvery = 5 * time.Second

// duePage is how many due items a query reads at a time.
const duePage = 500

// runEvery runs once every period until ctx ends, logging what fails.
func runEvery(ctx context.Context, period time.Duration, logger *slog.Logger, what string, once func(context.Context) (int, error)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if _, err := once(ctx); err != nil && ctx.Err() == nil {
			logger.Error(what+" failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// workOffDue hands every item that due finds to do, a page at a time (due
// gets the last item of the page before, the zero T first), and counts the
// items do did something for. An item that fails does not stop the others.
func workOffDue[T any](ctx context.Context, what string, due func(after T, limit int) ([]T, error), do func(T) (bool, error)) (int, error) {
	done := 0
	var errs []error
	var after T
	for {
		page, err := due(after, duePage)
		if err != nil {
			return done, errors.Join(append(errs, fmt.Errorf("%s: %w", what, err))...)
		}
		for _, item := range page {
			ok, err := do(item)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", what, err))
				continue
			}
			if ok {
				done++
			}
		}
		if len(page) < duePage || ctx.Err() != nil {
			return done, errors.Join(errs...)
		}
		after = page[len(page)-1]
	}
}
