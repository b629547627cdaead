package saga

import (
	"context"
	"fmt"
	"time"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/projections/readmodel"
)

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
	runEvery(ctx, dueEvery, a.n.logger, "auto check-out", a.Once)
	return nil
}

// Once closes every check-in due now, reading the due ones a page at a
// time, and says how many it closed (or found closed by another instance
// meanwhile). A read model that lags shows closed days still open: the
// decision, on the stream, closes nothing twice.
func (a *AutoCheckout) Once(ctx context.Context) (int, error) {
	by := a.now().Add(-a.rules.AutoCheckoutAfter)
	return workOffDue(ctx, "auto check-out",
		func(after readmodel.OpenCheckIn, limit int) ([]readmodel.OpenCheckIn, error) {
			return a.queries.OpenCheckInsClosingBy(ctx, by, after, limit)
		},
		func(open readmodel.OpenCheckIn) (bool, error) {
			closed, err := a.close.Handle(ctx, command.CloseForgottenCheckOut{EmployeeID: open.EmployeeID})
			if err != nil {
				return false, fmt.Errorf("of %s: %w", open.EmployeeID, err)
			}
			return closed, nil
		})
}
