package projections

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// readyTimeout bounds the checks of one readiness probe.
const readyTimeout = 2 * time.Second

// Readiness is what /readyz reports, in the API and the worker alike: ready
// when the database and the bus answer and no consumer is stalled. A failed
// check says which dependency is down, never the error, which names hosts,
// ports and users to whoever asks; the error goes to the log. bus may be nil.
func Readiness(ctx context.Context, log *slog.Logger, database, bus func(context.Context) error,
	status func(context.Context) (ProjectionStatus, error)) (checks map[string]string, ready bool) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	checks = map[string]string{"database": "ok", "bus": "ok", "projections": "ok"}
	ready = true
	fail := func(check, what string, err error) {
		checks[check], ready = what, false
		log.WarnContext(ctx, "not ready", "check", check, "err", err)
	}
	if err := database(ctx); err != nil {
		fail("database", "unreachable", err)
	}
	if bus != nil {
		if err := bus(ctx); err != nil {
			fail("bus", "unreachable", err)
		}
	}
	if st, err := status(ctx); err != nil {
		fail("projections", "unknown: their status could not be read", err)
	} else if stalled := st.Stalled(); len(stalled) > 0 {
		checks["projections"], ready = "stalled: "+strings.Join(stalled, ", "), false
	}
	return checks, ready
}
