package saga

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// autoCheckoutEvery is how often the forgotten check-outs are looked for:
// one is closed within seconds of being due.
const autoCheckoutEvery = 5 * time.Second

// autoCheckoutPage is how many due check-ins are read at a time.
const autoCheckoutPage = 500

// AutoCheckout closes forgotten check-outs. It is a due-time query that every
// instance runs: the attendance read model's open days carry the moment their
// check-in closes at, and the ones past it by AUTO_CHECKOUT_AFTER are closed
// through the application, which decides on the stream itself and derives
// the event's id from the check-in. Instances racing for one check-in, or one
// restarted mid-way, close it once.
type AutoCheckout struct {
	queries *readmodel.Queries
	close   *command.CloseForgottenCheckOutHandler
	rules   attendance.Rules
	now     func() time.Time
	n       *notifier
}

// NewAutoCheckout returns the runner; Run runs it.
func NewAutoCheckout(d Deps) *AutoCheckout {
	return &AutoCheckout{queries: d.Queries, close: d.CloseForgottenCheckOut, rules: d.Attendance, now: d.Now, n: newNotifier(d)}
}

// Run looks for due check-ins every few seconds until ctx ends.
func (a *AutoCheckout) Run(ctx context.Context) error {
	t := time.NewTicker(autoCheckoutEvery)
	defer t.Stop()
	for {
		if _, err := a.Once(ctx); err != nil && ctx.Err() == nil {
			a.n.logger.Error("auto check-out failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once closes every check-in due now, reading the due ones a page at a
// time, and says how many it closed (or found closed by another instance
// meanwhile). A read model that lags shows closed days still open: the
// decision, on the stream, closes nothing twice.
func (a *AutoCheckout) Once(ctx context.Context) (int, error) {
	by := a.now().Add(-a.rules.AutoCheckoutAfter)
	closed := 0
	var errs []error
	var after readmodel.OpenCheckIn
	for {
		due, err := a.queries.OpenCheckInsClosingBy(ctx, by, after, autoCheckoutPage)
		if err != nil {
			return closed, errors.Join(append(errs, fmt.Errorf("auto check-out: %w", err))...)
		}
		for _, open := range due {
			ok, err := a.close.Handle(ctx, command.CloseForgottenCheckOut{EmployeeID: open.EmployeeID})
			if err != nil {
				errs = append(errs, fmt.Errorf("auto check-out of %s: %w", open.EmployeeID, err))
				continue
			}
			if ok {
				closed++
			}
		}
		if len(due) < autoCheckoutPage || ctx.Err() != nil {
			return closed, errors.Join(errs...)
		}
		after = due[len(due)-1]
	}
}
