// Package startup is what the programs share when they start: the database
// (created when missing, migrated unless MIGRATE_ON_START=false), the event
// store and the message bus. cmd/server and cmd/worker wire their own parts
// on top of it.
package startup

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/eventstore/keyring"
	"github.com/acme/employee-tracking/eventstore/seal"
	"github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/migrations"
	"github.com/acme/employee-tracking/projections/bus"
)

// App holds what every long-running program works on.
type App struct {
	Config config.Config
	Logger *slog.Logger
	// Pool serves the API and the event store.
	Pool *pgxpool.Pool
	// PipelinePool serves the projectors and sagas: apart, a backlog of
	// projection work never keeps a request waiting for a connection.
	PipelinePool *pgxpool.Pool
	Codec        *eventstore.Codec
	// Keys seal the personal fields of events; erasing destroys one.
	Keys  *keyring.Keyring
	Store *eventstore.Store
	Bus   *bus.Bus
	// stopFollowing ends the keyring's listening for erasures.
	stopFollowing context.CancelFunc
}

// The sizes of each process's connection pools: two servers and a worker
// stay well below Postgres's default max_connections of 100.
const (
	defaultMaxConns         = 16
	defaultPipelineMaxConns = 8
)

// NewLogger returns the JSON logger of the programs at cfg's level.
func NewLogger(w io.Writer, cfg config.Config) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: cfg.LogLevel}))
}

// Open creates the database when it is missing, connects, applies pending
// migrations unless cfg says not to, and opens the event store and the bus.
// Close releases them.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	redis.SetLogger(redisLog{log})
	if err := migrations.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	pool, err := openPool(ctx, cfg.DatabaseURL, defaultMaxConns)
	if err != nil {
		return nil, err
	}
	pipelinePool, err := openPool(ctx, cfg.DatabaseURL, defaultPipelineMaxConns)
	if err != nil {
		pool.Close()
		return nil, err
	}
	closePools := func() {
		pipelinePool.Close()
		pool.Close()
	}
	if cfg.MigrateOnStart {
		if err := migrations.Up(ctx, pool); err != nil {
			closePools()
			return nil, err
		}
	}
	codec, keys, storedKey, err := eventcodec.Open(ctx, pool, cfg.DataKey)
	if err != nil {
		closePools()
		return nil, err
	}
	if storedKey {
		log.Warn("DATA_KEY is not set: the keys of personal data are wrapped by a data key kept in the database itself; set DATA_KEY and run etctl rotate-data-key")
	}
	// An erasure by another process reaches this one's keyring at once.
	followCtx, stopFollowing := context.WithCancel(context.WithoutCancel(ctx))
	if err := keys.Follow(followCtx, log); err != nil {
		stopFollowing()
		closePools()
		return nil, err
	}
	b, err := bus.New(bus.Settings{URL: cfg.RedisURL, Prefix: cfg.RedisPrefix, GroupMembers: cfg.GroupMembers, Partitions: cfg.BusPartitions}, log)
	if err != nil {
		stopFollowing()
		closePools()
		return nil, err
	}
	return &App{
		Config: cfg, Logger: log, Pool: pool, PipelinePool: pipelinePool, Codec: codec, Keys: keys, Store: eventstore.New(pool, codec), Bus: b,
		stopFollowing: stopFollowing,
	}, nil
}

// openPool connects a pool of maxConns connections, unless pool_max_conns in
// url says otherwise. pgxpool's default (the number of CPUs, at least 4)
// starves the projectors and sagas, which each hold a connection while they
// apply a batch.
func openPool(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	poolCfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		poolCfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

// redisLog writes go-redis's own log lines at debug level: during a Redis
// outage it prints one per failed dial, dozens a second, on stderr, while the
// bus reports the outage once.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// Sealer returns the sealer of the audit chain, which seals every
// SEAL_INTERVAL on a connection of its own; one is active across processes.
func (a *App) Sealer() *seal.Sealer {
	return seal.NewSealer(a.PipelinePool, a.Config.SealInterval, a.Logger)
}

// Close stops listening for erasures, closes the bus, then the pools.
func (a *App) Close() error {
	a.stopFollowing()
	err := a.Bus.Close()
	a.PipelinePool.Close()
	a.Pool.Close()
	return err
}

// CheckHealth asks the program listening on addr (":8000" or "host:port")
// for /healthz on the loopback interface: the -healthcheck of container
// images that have no shell or curl.
func CheckHealth(ctx context.Context, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/healthz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %s", res.Status)
	}
	return nil
}
