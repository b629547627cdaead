package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/cmd/internal/startup"
	"github.com/acme/employee-tracking/eventstore/seal"
	apihttp "github.com/acme/employee-tracking/http"
	"github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/projections"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// shutdownTimeout bounds draining requests and sessions at exit.
const shutdownTimeout = 15 * time.Second

// run is the whole program; main only calls it, tests call it too.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stdout)
	healthcheck := fs.Bool("healthcheck", false, "check /healthz of the server on HTTP_ADDR and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if *healthcheck {
		return startup.CheckHealth(ctx, cfg.HTTPAddr)
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := startup.NewLogger(stdout, cfg)
	if cfg.JWTSecretIsRandom {
		log.Warn("JWT_SECRET is not set: using a random key, tokens end with this process")
	}

	sys, err := startup.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer sys.Close()
	pool, store, codec, bus := sys.Pool, sys.Store, sys.Codec, sys.Bus

	now := time.Now
	application, creds := startup.Application(cfg, pool, store, sys.Keys, now)
	if cfg.AdminEmail != "" {
		created, err := application.Commands.CreateAdmin.Ensure(ctx, command.CreateAdmin{
			Email: cfg.AdminEmail, Password: cfg.AdminPassword, FullName: "Administrator",
		})
		if err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
		}
		if created {
			log.Info("created the admin from ADMIN_EMAIL", "email", cfg.AdminEmail)
		}
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), seal.New(pool).Collector())
	queries := readmodel.NewQueries(pool)
	api := apihttp.New(apihttp.Deps{
		Settings: startup.APISettings(cfg, sys.Keys), Logger: log, Pool: pool, App: application, Credentials: creds,
		Bus: bus.Ping, Status: projections.NewMonitor(pool).Status, Registry: registry, Now: now,
	})

	// The pipeline and the hub's subscription live until ctx ends.
	pipeCtx, stopPipeline := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPipeline()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Go(func() {
		if err := projections.Run(pipeCtx, projections.Deps{
			LeavePolicy: cfg.LeavePolicy(), DailyCheckAt: cfg.DailyCheck(), Attendance: cfg.AttendanceRules(), Approvals: cfg.ApprovalTiming(), Pool: sys.PipelinePool, Store: store, Bus: bus, Queries: queries, Logger: log, Now: now, Registry: registry,
			APISaturated: api.Saturated, MaxYield: cfg.PipelineYield, HandOverAlone: cfg.PipelineHandOverAlone,
		}); err != nil && !errors.Is(err, context.Canceled) {
			errc <- fmt.Errorf("pipeline: %w", err)
		}
	})
	wg.Go(func() {
		if err := projections.SubscribeNotifications(pipeCtx, bus, codec, api.Notify); err != nil && !errors.Is(err, context.Canceled) {
			errc <- fmt.Errorf("notification hub: %w", err)
		}
	})
	wg.Go(func() { sys.Sealer().Run(pipeCtx) })
	wg.Go(func() { expireIdempotencyKeys(pipeCtx, pool, cfg.IdempotencyKeyTTL, now, log) })
	wg.Go(func() { api.MaintainSessions(pipeCtx) })

	if cfg.PprofAddr != "" {
		stopProfiles, err := serveProfiles(cfg.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stopProfiles()
	}

	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	log.Info("listening", "addr", ln.Addr().String())

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		log.Error("stopping", "err", runErr)
	}

	// Stop taking work, close WebSocket sessions (Shutdown ignores hijacked
	// connections), drain requests, then stop the pipeline.
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	log.Info("shutting down")
	if err := api.CloseSessions(); err != nil {
		log.Warn("close websocket sessions", "err", err)
	}
	if err := srv.Shutdown(shutCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("drain requests: %w", err))
	}
	stopPipeline()
	wg.Wait()
	return runErr
}

// serveProfiles serves Go's profiles (/debug/pprof/) on addr, apart from the
// API so that they never reach its clients, until the returned function is
// called.
func serveProfiles(addr string, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("PPROF_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("serving profiles", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}

// idempotencyExpiryEvery is how often a server forgets expired idempotency keys.
const idempotencyExpiryEvery = 10 * time.Minute

// expireIdempotencyKeys forgets the idempotency keys older than ttl, at start
// and then every idempotencyExpiryEvery, until ctx ends. Several servers doing
// it at once only delete the same rows.
func expireIdempotencyKeys(ctx context.Context, pool *pgxpool.Pool, ttl time.Duration, now func() time.Time, log *slog.Logger) {
	t := time.NewTicker(idempotencyExpiryEvery)
	defer t.Stop()
	for {
		n, err := apihttp.ExpireIdempotencyKeys(ctx, pool, now().Add(-ttl))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("forget expired idempotency keys", "err", err)
		case n > 0:
			log.Info("forgot expired idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
