package startup

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/app"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/eventstore/keyring"
	"github.com/acme/employee-tracking/eventstore/seal"
	apihttp "github.com/acme/employee-tracking/http"
	"github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/internal/credentials"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// Application builds the use cases on store and the keys of its personal
// data, and the credentials and read models in pool, with cfg's settings as
// typed values, on the clock now.
func Application(cfg config.Config, pool *pgxpool.Pool, store *eventstore.Store, keys *keyring.Keyring, now func() time.Time) (app.Application, *credentials.Store) {
	creds := credentials.New(pool)
	readModels := readmodel.NewQueries(pool)
	return app.New(app.Deps{
		Store: store, Seals: seal.New(pool), Credentials: creds, ReadModels: readModels, Keys: keys, ErasableReadModels: readModels,
		PasswordCost: cfg.PasswordCost,
		LeavePolicy:  cfg.LeavePolicy(), DefaultSchedule: cfg.DefaultSchedule(), Attendance: cfg.AttendanceRules(), Approvals: cfg.ApprovalTiming(), Now: now,
	}), creds
}

// APISettings are cfg's settings of the HTTP API; the idempotency store's
// secret derives from the data key of keys.
func APISettings(cfg config.Config, keys *keyring.Keyring) apihttp.Settings {
	return apihttp.Settings{
		JWTSecret: cfg.JWTSecret, AccessTokenTTL: cfg.AccessTokenTTL, RefreshTokenTTL: cfg.RefreshTokenTTL,
		IdempotencyKeyTTL: cfg.IdempotencyKeyTTL, IdempotencySecret: keys.Derive("idempotency"), CORSOrigins: cfg.CORSOrigins,
		PasswordCost: cfg.PasswordCost,
	}
}
