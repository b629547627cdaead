package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/migrations"
)

// recoverTarget is how soon after a restart the read models must have caught
// up with the store.
const recoverTarget = 5 * time.Second

// runRecoverBench starts the server binary as the README runs it (Redis
// bus), puts a steady load of check-ins on it, kills it with SIGKILL in the
// middle of the load, starts it again and measures how long after the
// restart every read model and saga has handled every event of the store.
func runRecoverBench(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench recover", flag.ContinueOnError)
	employees := fs.Int("employees", 200, "employees checking in and out")
	rate := fs.Int("rate", steadyRate, "check-ins and check-outs per second of the load")
	conns := fs.Int("connections", 0, "instead of -rate, a closed loop on this many connections, each sending its next request when answered (at most 64)")
	killAfter := fs.Duration("kill-after", 5*time.Second, "time under load before the kill")
	runs := fs.Int("runs", 2, "kills and restarts, one after another")
	keep := fs.Bool("keep", false, "keep the benchmark's database")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *employees <= 0 || *rate <= 0 || *killAfter <= 0 || *runs <= 0 || *conns < 0 || *conns > httpConnections {
		return errors.New("-employees, -rate, -kill-after and -runs must be positive, -connections from 0 to 64")
	}
	loadName := fmt.Sprintf("%d requests/s", *rate)
	if *conns > 0 {
		loadName = fmt.Sprintf("a closed loop on %d connections", *conns)
	}
	raiseFileLimit()
	dbURL, drop, err := openDatabase(ctx, getenv, *keep)
	if err != nil {
		return err
	}
	defer drop()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool); err != nil {
		return err
	}
	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "recover [%5.1fs]: %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	bus := serverBus{redisURL: redisURL(getenv), prefix: "etbench." + uuid.NewString()[:8] + "."}
	defer dropStreams(bus.redisURL, bus.prefix)
	serverLog, err := os.CreateTemp("", "et-bench-server-*.log")
	if err != nil {
		return err
	}
	defer serverLog.Close()
	logf("server log in %s", serverLog.Name())
	srv, err := startServer(ctx, dbURL, bus, serverLog, os.Stderr)
	if err != nil {
		return err
	}
	defer func() { srv.stop() }()
	c := newClient(srv.base)
	admin, err := c.login(ctx, benchAdmin, benchPassword)
	if err != nil {
		return err
	}
	logf("registering %d employees", *employees)
	tokens, _, err := c.registerEmployees(ctx, admin, *employees)
	if err != nil {
		return err
	}
	att := newAttendanceDriver(c, tokens)
	var results []recovery
	for run := range *runs {
		if _, err := drain(ctx, pool, 0); err != nil {
			return err
		}
		from, err := headPosition(ctx, pool)
		if err != nil {
			return err
		}
		logf("run %d: %s, kill -9 after %s", run+1, loadName, *killAfter)
		loadCtx, stopLoad := context.WithCancel(ctx)
		answered := make(chan int, 1)
		go func() {
			if *conns > 0 {
				// Requests fail from the kill on: what was answered counts.
				s, _ := runFor(loadCtx, *conns, 10*(*killAfter), func(ctx context.Context, w int) (int, error) {
					return 1, att.next(ctx, w, *conns)
				})
				answered <- s.events
				return
			}
			s := att.steady(loadCtx, *rate, 10*(*killAfter))
			answered <- s.events - s.failed
		}()
		time.Sleep(*killAfter)
		next, err := srv.kill()
		stopLoad()
		requests := <-answered
		if err != nil {
			return err
		}
		srv = next
		r := recovery{requests: requests}
		r.behind, r.slowest, err = behind(ctx, pool, from)
		if err != nil {
			return err
		}
		logf("run %d: killed after %d answered requests, read models %d events behind (slowest: %s); restarting", run+1, r.requests, r.behind, r.slowest)
		restarted := time.Now()
		if err := srv.start(); err != nil {
			return err
		}
		ready := make(chan error, 1)
		go func() {
			err := srv.waitReady(10 * time.Minute)
			r.ready = time.Since(restarted)
			ready <- err
		}()
		if _, err := drain(ctx, pool, from); err != nil {
			return err
		}
		r.caughtUp = time.Since(restarted)
		if err := <-ready; err != nil {
			return err
		}
		logf("run %d: ready after %s, caught up after %s", run+1, r.ready.Round(time.Millisecond), r.caughtUp.Round(time.Millisecond))
		results = append(results, r)
	}
	fmt.Fprintf(stdout, "command:  go run ./cmd/bench recover -employees %d -rate %d -connections %d -kill-after %s -runs %d\n", *employees, *rate, *conns, *killAfter, *runs)
	fmt.Fprintf(stdout, "load:     %s of check-ins and check-outs of %d employees, through the API\n", loadName, *employees)
	fmt.Fprintf(stdout, "machine:  %d cores (%s), %s, same host\n", runtime.NumCPU(), cpuModel(), runtime.Version())
	fmt.Fprintln(stdout, "server:   "+bus.describe())
	fmt.Fprintf(stdout, "host:     load averages %s (1, 5, 15 min, at the end)\n", loadAverage())
	for i, r := range results {
		fmt.Fprintf(stdout, "run %d: killed after %d requests answered, read models %d events behind (slowest: %s); after the restart /readyz 200 in %s, "+
			"every read model and saga caught up in %s (target <= %s: %s)\n", i+1, r.requests, r.behind, r.slowest,
			r.ready.Round(time.Millisecond), r.caughtUp.Round(time.Millisecond), recoverTarget, metOrMissed(r.caughtUp <= recoverTarget))
	}
	return nil
}

// recovery is what one kill and restart measured.
type recovery struct {
	requests int           // answered before the kill
	behind   int64         // events the slowest consumer had not handled at the kill
	slowest  string        // that consumer
	ready    time.Duration // restart to the first 200 of /readyz
	caughtUp time.Duration // restart to every consumer having handled every event
}
