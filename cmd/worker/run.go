package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/acme/employee-tracking/cmd/internal/startup"
	"github.com/acme/employee-tracking/eventstore/seal"
	"github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/projections"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// shutdownTimeout bounds draining the health endpoints at exit.
const shutdownTimeout = 5 * time.Second

// run is the whole program; main only calls it, tests call it too.
func run(ctx context.Context, getenv func(string) string, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stdout)
	healthcheck := fs.Bool("healthcheck", false, "check /healthz of the worker on WORKER_HTTP_ADDR and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	addr := cfg.WorkerHTTPAddr
	if *healthcheck {
		return startup.CheckHealth(ctx, addr)
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := startup.NewLogger(stdout, cfg)
	sys, err := startup.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer sys.Close()

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), seal.New(sys.Pool).Collector())
	queries := readmodel.NewQueries(sys.Pool)
	pipeline, err := projections.New(projections.Deps{
		LeavePolicy: cfg.LeavePolicy(), DailyCheckAt: cfg.DailyCheck(), Attendance: cfg.AttendanceRules(), Approvals: cfg.ApprovalTiming(), Pool: sys.PipelinePool, Store: sys.Store, Bus: sys.Bus, Queries: queries, Logger: log, Now: time.Now, Registry: registry,
		HandOverAlone: cfg.PipelineHandOverAlone,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           routes(sys, projections.NewMonitor(sys.Pool), registry),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()

	// The pipeline outlives ctx until the health endpoints are down, so that
	// an orchestrator stops routing probes before the work stops.
	pipeCtx, stopPipeline := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPipeline()
	pipeDone := make(chan struct{})
	go func() {
		defer close(pipeDone)
		if err := pipeline.Run(pipeCtx); err != nil && !errors.Is(err, context.Canceled) {
			errc <- fmt.Errorf("pipeline: %w", err)
		}
	}()
	sealerDone := make(chan struct{})
	go func() {
		defer close(sealerDone)
		sys.Sealer().Run(pipeCtx)
	}()
	log.Info("worker running", "addr", ln.Addr().String())

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		log.Error("stopping", "err", runErr)
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("drain requests: %w", err))
	}
	stopPipeline()
	<-pipeDone
	<-sealerDone
	return runErr
}

// health is the body of /healthz and /readyz, as the API answers them.
type health struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// routes serves the worker's operations endpoints.
func routes(sys *startup.App, monitor *projections.Monitor, registry *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeHealth(w, http.StatusOK, health{Status: "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		checks, ready := projections.Readiness(r.Context(), sys.Logger, sys.Pool.Ping, sys.Bus.Ping, monitor.Status)
		if !ready {
			writeHealth(w, http.StatusServiceUnavailable, health{Status: "unavailable", Checks: checks})
			return
		}
		writeHealth(w, http.StatusOK, health{Status: "ok", Checks: checks})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
	return mux
}

func writeHealth(w http.ResponseWriter, status int, h health) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(h) // the client went away; nothing to do
}
