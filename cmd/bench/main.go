// Command bench measures the event store against plain Postgres.
//
//	go run ./cmd/bench append   # (a)-(c): appends vs single INSERTs
//	go run ./cmd/bench feed     # (d): reading and decoding the global feed
//	go run ./cmd/bench http     # (e)-(g): the API through the server binary, and its memory
//	go run ./cmd/bench append -sealer   # the same with the audit sealer running
//	go run ./cmd/bench seal     # the sealer on a backlog
//	go run ./cmd/bench leave    # a balance and a ledger of ten years of leave
//	go run ./cmd/bench import   # (h): files of 10,000 employees through the API
//	go run ./cmd/bench overhead # append, feed and rebuild with and without sealing and encryption, in rounds
//	go run ./cmd/bench recover  # read models caught up after kill -9 of the server and a restart
//	go run ./cmd/bench scale    # how the cost of the report, a balance, a rebuild and seed-demo grows
//	go run ./cmd/bench all
//
// It uses BENCH_DATABASE_URL, which must name a scratch database (events can
// not be deleted), or else creates a fresh database on the local server,
// BENCH_DATABASE_NAME or et_bench, and drops it afterwards unless -keep is
// given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/eventstore/seal"
	"github.com/acme/employee-tracking/migrations"
)

const defaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	duration   time.Duration
	events     int
	keep       bool
	cpuProfile string
	sealer     bool
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: bench append|feed|http|core (the three) [-duration 10s] [-events 1000000] [-keep], bench lag|push|relay|rebuild|catchup|seal|leave|import|overhead|scale|recover [-h for flags], or bench all")
	}
	sub := args[0]
	if _, ok := pipelineBenches[sub]; ok {
		return runPipelineBench(ctx, sub, args[1:], getenv, stdout)
	}
	if sub == "all" {
		return runAll(ctx, args[1:], getenv, stdout)
	}
	if sub == "leave" {
		return runLeaveBench(ctx, args[1:], getenv, stdout)
	}
	if sub == "recover" {
		return runRecoverBench(ctx, args[1:], getenv, stdout)
	}
	if sub == "scale" {
		return runScaleBench(ctx, args[1:], getenv, stdout)
	}
	if sub == "import" {
		return runImportBench(ctx, args[1:], getenv, stdout)
	}
	if sub == "overhead" {
		return runOverheadBench(ctx, args[1:], getenv, stdout)
	}
	if sub != "append" && sub != "feed" && sub != "http" && sub != "core" {
		return fmt.Errorf("unknown benchmark %q, want append, feed, http, core, lag, push, relay, rebuild, catchup, seal, leave, import, overhead, scale, recover or all", sub)
	}
	fs := flag.NewFlagSet("bench "+sub, flag.ContinueOnError)
	var cfg config
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured time of each append scenario, per path")
	fs.IntVar(&cfg.events, "events", 1_000_000, "number of events in the feed scenario")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the benchmark's database")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the benchmark client to this file")
	fs.BoolVar(&cfg.sealer, "sealer", false, "run the audit sealer beside the appends, as every server does (SEAL_INTERVAL=1s)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if cfg.duration <= 0 || cfg.events <= 0 {
		return errors.New("-duration and -events must be positive")
	}

	dbURL, drop, err := openDatabase(ctx, getenv, cfg.keep)
	if err != nil {
		return err
	}
	defer drop()
	poolCfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	poolCfg.MaxConns = writers + 4
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, baselineDDL); err != nil {
		return fmt.Errorf("create baseline table: %w", err)
	}
	codec, err := eventstore.NewCodec(benchEvent{})
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, pool: pool, store: eventstore.New(pool, codec), redisURL: redisURL(getenv), log: os.Stderr}
	stopProfile, err := startCPUProfile(cfg.cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()

	if cfg.sealer {
		sctx, stopSealer := context.WithCancel(ctx)
		sealed := make(chan struct{})
		go func() {
			defer close(sealed)
			seal.NewSealer(pool, time.Second, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))).Run(sctx)
		}()
		defer func() {
			stopSealer()
			<-sealed
		}()
	}

	var rows []row
	if sub == "append" || sub == "core" {
		r, err := b.appendScenarios(ctx)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	if sub == "feed" || sub == "core" {
		r, err := b.feedScenario(ctx)
		if err != nil {
			return err
		}
		rows = append(rows, r...)
	}
	var notes []string
	if sub == "http" || sub == "core" {
		r, n, err := b.httpScenarios(ctx, dbURL)
		if err != nil {
			return err
		}
		rows, notes = append(rows, r...), n
	}

	var pgVersion, fsync, syncCommit string
	if err := pool.QueryRow(ctx, "SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')").
		Scan(&pgVersion, &fsync, &syncCommit); err != nil {
		return err
	}
	command := fmt.Sprintf("go run ./cmd/bench %s -duration %s -events %d", sub, cfg.duration, cfg.events)
	if cfg.keep {
		command += " -keep"
	}
	if cfg.sealer {
		command += " -sealer"
	}
	if u := getenv("BENCH_DATABASE_URL"); u != "" {
		command = "BENCH_DATABASE_URL=" + redact(u) + " " + command
	}
	fmt.Fprintf(stdout, "command:  %s\n", command)
	fmt.Fprintf(stdout, "machine:  %d cores (%s), %s %s/%s, PostgreSQL %s (fsync=%s, synchronous_commit=%s), same host\n",
		runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH, pgVersion, fsync, syncCommit)
	// Other work on the host skews every figure; say how busy it was.
	fmt.Fprintf(stdout, "load:     %s (1, 5, 15 min averages at the end)\n", loadAverage())
	printTable(stdout, rows)
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	return nil
}

// allOrder is the order in which "all" runs the benchmarks ("core" is
// append, feed and http): the latency ones first, on a quiet machine, since
// the others leave millions of rows for autovacuum behind them.
var allOrder = []string{"lag", "push", "leave", "core", "overhead", "relay", "catchup", "rebuild", "seal", "import", "recover"}

// runAll runs every benchmark with its defaults, one after another, each on a
// database of its own: what docs/benchmarks.md reports.
func runAll(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 {
		return errors.New("bench all takes no flags: it runs every benchmark with its defaults")
	}
	start := time.Now()
	section := func(name string) {
		fmt.Fprintf(stdout, "\n== %s (at %s)\n", name, time.Since(start).Round(time.Second))
	}
	for _, name := range allOrder {
		section(name)
		var err error
		switch name {
		case "core", "import":
			err = run(ctx, []string{name}, getenv, stdout)
		case "leave":
			err = runLeaveBench(ctx, nil, getenv, stdout)
		case "overhead":
			err = runOverheadBench(ctx, nil, getenv, stdout)
		case "recover":
			err = runRecoverBench(ctx, nil, getenv, stdout)
		default:
			err = runPipelineBench(ctx, name, nil, getenv, stdout)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	fmt.Fprintf(stdout, "\nall benchmarks in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// openDatabase returns the URL to benchmark and a function that cleans up:
// BENCH_DATABASE_URL when set, or else a fresh database on the local server
// named BENCH_DATABASE_NAME (default et_bench), so that benchmarks run at the
// same time on one server each use their own.
func openDatabase(ctx context.Context, getenv func(string) string, keep bool) (string, func(), error) {
	return openNamedDatabase(ctx, getenv("BENCH_DATABASE_URL"), benchDatabaseName(getenv), keep)
}

// benchDatabaseName is BENCH_DATABASE_NAME, or et_bench.
func benchDatabaseName(getenv func(string) string) string {
	if name := getenv("BENCH_DATABASE_NAME"); name != "" {
		return name
	}
	return "et_bench"
}

// openNamedDatabase is openDatabase of a database named name on the local
// server when benchURL is empty.
func openNamedDatabase(ctx context.Context, benchURL, name string, keep bool) (string, func(), error) {
	if benchURL != "" {
		return benchURL, func() {}, migrations.EnsureDatabase(ctx, benchURL)
	}
	admin, err := pgx.Connect(ctx, defaultServerURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", defaultServerURL, err)
	}
	ident := pgx.Identifier{name}.Sanitize()
	dropDB := func() error {
		_, err := admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
		return err
	}
	if err := dropDB(); err != nil {
		return "", nil, err
	}
	// Flush what earlier runs left in shared buffers, so that their writes
	// do not land in this run's figures. Best effort: it takes a role with
	// the right to run CHECKPOINT.
	if _, err := admin.Exec(ctx, "CHECKPOINT"); err != nil {
		fmt.Fprintln(os.Stderr, "bench: CHECKPOINT before the run:", err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return "", nil, err
	}
	u, _ := url.Parse(defaultServerURL)
	u.Path = "/" + name
	return u.String(), func() {
		defer admin.Close(context.WithoutCancel(ctx))
		if keep {
			return
		}
		if err := dropDB(); err != nil {
			fmt.Fprintln(os.Stderr, "bench: drop "+name+":", err)
			fmt.Fprintln(os.Stderr, "bench: drop", name+":", err)
		}
	}, nil
}

// redisURL is the Redis of the benchmarks: BENCH_REDIS_URL, or the local one
// that `make run` uses.
func redisURL(getenv func(string) string) string {
	if u := getenv("BENCH_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable url>"
	}
	return u.Redacted()
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "cpu unknown"
	}
	for line := range strings.Lines(string(b)) {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimLeft(name, " \t:"))
		}
	}
	return "cpu unknown"
}

// startCPUProfile writes a CPU profile of this process to path, when given,
// until the returned function is called.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
