package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/cmd/internal/startup"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/eventstore"
	apihttp "github.com/acme/employee-tracking/http"
	appconfig "github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/migrations"
	"github.com/acme/employee-tracking/projections"
)

// The HTTP benchmark runs the real server binary against its own database and
// drives it as clients would.
const (
	httpEmployees   = 1000
	httpConnections = 64
	steadyRate      = 1000 // requests per second
	reportRequests  = 200
	wsSessions      = 10_000
	benchAdmin      = "bench-admin@example.com"
	benchPassword   = "bench password"
)

// httpScenarios measures (e) check-in/check-out throughput at 64 connections
// beside the plain-INSERT baseline of scenario (a), (f) latency at a steady
// 1,000 requests/s, (g) the monthly report over 1,000 employees' month, and
// the server's resident memory idle and with 10,000 WebSocket sessions. (e)
// and (f) are measured again on the API alone, without the pipeline.
func (b *bench) httpScenarios(ctx context.Context, dbURL string) ([]row, []string, error) {
	raiseFileLimit()
	start := time.Now()
	logf := func(format string, args ...any) { stamp(b.log, start, format, args...) }
	httpURL, dropDB, err := scratchDatabase(ctx, dbURL, "_http", b.cfg.keep)
	if err != nil {
		return nil, nil, err
	}
	defer dropDB()
	pool, err := pgxpool.New(ctx, httpURL)
	if err != nil {
		return nil, nil, err
	}
	defer pool.Close()
	bus := serverBus{redisURL: b.redisURL, prefix: "etbench." + uuid.NewString()[:8] + "."}
	defer dropStreams(b.redisURL, bus.prefix)
	// The server logs every request at the default level: to a file, which
	// the run names, rather than among the benchmark's progress.
	serverLog, err := os.CreateTemp("", "et-bench-server-*.log")
	if err != nil {
		return nil, nil, err
	}
	defer serverLog.Close()
	logf("server log in %s", serverLog.Name())
	srv, err := startServer(ctx, httpURL, bus, serverLog, b.log)
	if err != nil {
		return nil, nil, err
	}
	defer srv.stop()
	idleRSS, err := srv.rss()
	if err != nil {
		return nil, nil, err
	}

	c := newClient(srv.base)
	admin, err := c.login(ctx, benchAdmin, benchPassword)
	if err != nil {
		return nil, nil, err
	}
	logf("registering %d employees", httpEmployees)
	tokens, ids, err := c.registerEmployees(ctx, admin, httpEmployees)
	if err != nil {
		return nil, nil, err
	}
	month, days, err := fillMonth(ctx, httpURL, ids, logf)
	if err != nil {
		return nil, nil, err
	}

	// The report first: every read model and saga catches up with the month
	// before the report is timed and before the HTTP load starts, so that
	// none of them competes for the CPU.
	logf("waiting for the read models and sagas, then the monthly report")
	path, err := c.waitForReport(ctx, admin, month, days*httpEmployees, logf)
	if err != nil {
		return nil, nil, fmt.Errorf("monthly report: %w", err)
	}
	// Every consumer has read some of the month now: drain sees them all.
	caught, err := drain(ctx, pool, 0)
	if err != nil {
		return nil, nil, err
	}
	logf("read models and sagas: %s", caught)
	report, err := c.timeGets(ctx, admin, path, reportRequests)
	if err != nil {
		return nil, nil, fmt.Errorf("monthly report: %w", err)
	}

	logf("baseline (a) single-row INSERTs")
	base, err := measure(ctx, writers, b.cfg.duration, b.baselineOp(appendScenario{key: "h", workers: writers, batch: 1}))
	if err != nil {
		return nil, nil, fmt.Errorf("baseline: %w", err)
	}
	logf("check-in/check-out at 64 connections, then until the read models have caught up")
	att := newAttendanceDriver(c, tokens)
	closed, closedDrain, err := loadUntilCaughtUp(ctx, pool, b.cfg.duration, func(ctx context.Context, w int) (int, error) {
		return 1, att.next(ctx, w, httpConnections)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("check-ins: %w", err)
	}
	done := closed
	done.elapsed += closedDrain.took
	logf("steady %d requests/s", steadyRate)
	from, err := headPosition(ctx, pool)
	if err != nil {
		return nil, nil, err
	}
	steady := att.steady(ctx, steadyRate, b.cfg.duration)
	steadyDrain, err := drain(ctx, pool, from)
	if err != nil {
		return nil, nil, fmt.Errorf("steady requests: %w", err)
	}

	logf("opening %d WebSocket sessions", wsSessions)
	conns, err := c.openSessions(ctx, tokens, wsSessions)
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
	}()
	if err != nil {
		return nil, nil, fmt.Errorf("websocket sessions: %w", err)
	}
	time.Sleep(2 * time.Second) // let the sessions settle: buffers, goroutines
	wsRSS, err := srv.rss()
	if err != nil {
		return nil, nil, err
	}
	for _, conn := range conns {
		conn.Close()
	}
	srv.stop()

	// The same load on the API alone: the server above also runs the relay,
	// the projectors and the sagas, on the same cores and database.
	logf("API without the pipeline: check-in/check-out at 64 connections, then steady %d requests/s", steadyRate)
	apiBase, stopAPI, err := serveAPIOnly(ctx, httpURL, bus, serverLog)
	if err != nil {
		return nil, nil, fmt.Errorf("API without the pipeline: %w", err)
	}
	defer stopAPI()
	alone := att.via(newClient(apiBase))
	closedAlone, err := measure(ctx, httpConnections, b.cfg.duration, func(ctx context.Context, w int) (int, error) {
		return 1, alone.next(ctx, w, httpConnections)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("check-ins without the pipeline: %w", err)
	}
	steadyAlone := alone.steady(ctx, steadyRate, b.cfg.duration)
	logf("done")

	rows := []row{
		{scenario: "(e) HTTP check-in/out, 64 conns", path: "http, read models caught up", stats: done,
			ratio: fmt.Sprintf("%.2fx", done.rate()/base.rate()), target: verdict(">= 0.6x baseline", done.rate() >= 0.6*base.rate())},
		{scenario: "", path: "http, answered", stats: closed, ratio: fmt.Sprintf("%.2fx", closed.rate()/base.rate())},
		{scenario: "", path: "baseline (a)", stats: base},
		{scenario: "", path: "no pipeline", stats: closedAlone, ratio: fmt.Sprintf("%.2fx", closedAlone.rate()/base.rate())},
		{scenario: fmt.Sprintf("(f) HTTP steady %d req/s", steadyRate), path: "http", stats: steady.stats,
			target: verdict("p99 <= 20ms", steady.percentile(99) <= 20*time.Millisecond)},
		{scenario: "", path: "no pipeline", stats: steadyAlone.stats},
		{scenario: fmt.Sprintf("(g) monthly report, %d employees", httpEmployees), path: "http", stats: report,
			target: verdict(fmt.Sprintf("p95 %s <= 50ms", round(report.percentile(95))), report.percentile(95) <= 50*time.Millisecond)},
	}
	notes := []string{
		"server:   " + bus.describe(),
		fmt.Sprintf("(e) read models after the load: %s; \"read models caught up\" is %d requests over %s of load and %s of catching up, \"answered\" over the load alone",
			closedDrain, closed.events, closed.elapsed.Round(time.Millisecond), closedDrain.took.Round(time.Millisecond)),
		fmt.Sprintf("(f) read models after %s of steady requests: %s", steady.elapsed.Round(time.Millisecond), steadyDrain),
		fmt.Sprintf("server RSS idle: %.1f MB (target <= 60 MB: %s)", mb(idleRSS), metOrMissed(idleRSS <= 60<<20)),
		fmt.Sprintf("server RSS with %d WebSocket sessions: %.1f MB (target <= 300 MB: %s)", len(conns), mb(wsRSS), metOrMissed(wsRSS <= 300<<20)),
		fmt.Sprintf("(e) and (f): %d employees, each request one authenticated POST /api/attendance/; (g) rows carry %d check-ins of %s", httpEmployees, days*httpEmployees, month),
		"(e) and (f) \"http\": the server binary with its projection pipeline; \"no pipeline\": the same API served in the benchmark's process with no relay, projectors or sagas, whose work is left undone",
		fmt.Sprintf("(f) failed requests: %s with the pipeline, %s without", steady.failures(), steadyAlone.failures()),
	}
	return rows, notes, nil
}

// stamp logs a step with the time since the benchmark started.
func stamp(w io.Writer, start time.Time, format string, args ...any) {
	fmt.Fprintf(w, "http [%5.1fs]: %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

func metOrMissed(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// raiseFileLimit lifts the soft limit on open files to the hard one: 10,000
// sessions need as many sockets here and in the server, which inherits it.
func raiseFileLimit() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// scratchDatabase creates a fresh database named after the one of base with
// suffix, and returns its URL and a function that drops it unless keep.
func scratchDatabase(ctx context.Context, base, suffix string, keep bool) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	name := strings.TrimPrefix(u.Path, "/") + suffix
	u.Path = "/" + name
	admin := *u
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return "", nil, err
	}
	drop := func() error {
		_, err := conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	}
	if err := drop(); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	if err := migrations.EnsureDatabase(ctx, u.String()); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	return u.String(), func() {
		defer conn.Close(context.WithoutCancel(ctx))
		if !keep {
			if err := drop(); err != nil {
				fmt.Fprintln(os.Stderr, "bench: drop", name, err)
			}
		}
	}, nil
}

// server is the server binary running as a child process.
type server struct {
	cmd  *exec.Cmd
	dir  string
	base string
	log  *os.File
}

// startServer builds and starts the server binary on dbURL, configured by
// serverEnv and then env (KEY=value), which overrides it.
func startServer(ctx context.Context, dbURL string, bus serverBus, serverLog *os.File, log io.Writer, env ...string) (*server, error) {
	dir, err := os.MkdirTemp("", "et-bench-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "server")
	fmt.Fprintln(log, "http: building ./cmd/server...")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/server")
	build.Stdout, build.Stderr = log, log
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("build server: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), serverEnv(dbURL, bus, addr)...), env...)
	s := &server{cmd: cmd, dir: dir, base: "http://" + addr, log: serverLog}
	if err := s.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.waitReady(60 * time.Second); err != nil {
		s.stop()
		return nil, err
	}
	time.Sleep(time.Second) // settle before the idle measurement
	return s, nil
}

func (s *server) start() error {
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	return s.cmd.Start()
}

// waitReady waits until /readyz answers 200.
func (s *server) waitReady(patience time.Duration) error {
	deadline := time.Now().Add(patience)
	for {
		res, err := http.Get(s.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready after %s: %v", patience, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill ends the server with SIGKILL, as a crash would, and returns the same
// binary with the same settings, not yet started.
func (s *server) kill() (*server, error) {
	if err := s.cmd.Process.Kill(); err != nil {
		return nil, err
	}
	_ = s.cmd.Wait() // killed: the error says so
	next := exec.Command(s.cmd.Path)
	next.Env = s.cmd.Env
	return &server{cmd: next, dir: s.dir, base: s.base, log: s.log}, nil
}

// serverBus is the Redis the benchmarked server's bus runs on, under a
// prefix of its own.
type serverBus struct{ redisURL, prefix string }

// setupSettings are the settings the server runs with that differ from the
// defaults `make run` uses, and why. None changes a measured request: no
// check-in hashes a password or outlives a token.
var setupSettings = []string{
	"BCRYPT_COST=4",       // the 1,000 registrations and logins of the setup
	"ACCESS_TOKEN_TTL=2h", // the setup's tokens last the whole run
}

// describe says what the server ran with, for the report.
func (b serverBus) describe() string {
	yield := cmp.Or(os.Getenv("PIPELINE_YIELD"), "1s, the default")
	alone := cmp.Or(os.Getenv("PIPELINE_HANDOVER_ALONE"), "true, the default")
	return fmt.Sprintf("the server binary as `make run` starts it: Redis bus at %s (REDIS_PREFIX=%s), LOG_LEVEL=info, PIPELINE_YIELD=%s, PIPELINE_HANDOVER_ALONE=%s, default pools and settings; "+
		"for the setup only: %s (registrations and logins; no measured request hashes a password)",
		redact(b.redisURL), b.prefix, yield, alone, strings.Join(setupSettings, " "))
}

// serverEnv is the server's configuration, as KEY=value pairs: the defaults
// of `make run` but for its own database, bus prefix, address and
// credentials, and setupSettings.
func serverEnv(dbURL string, bus serverBus, addr string) []string {
	return append([]string{
		"DATABASE_URL=" + dbURL, "REDIS_URL=" + bus.redisURL, "REDIS_PREFIX=" + bus.prefix, "HTTP_ADDR=" + addr,
		"JWT_SECRET=bench-secret", "ADMIN_EMAIL=" + benchAdmin, "ADMIN_PASSWORD=" + benchPassword,
	}, setupSettings...)
}

// serveAPIOnly serves the API of the server binary, opened as the server
// opens it (cmd/internal/startup: its pool and store) and with its
// configuration (and settings, KEY=value pairs), in this process and without
// the projection pipeline. It returns the base URL and a function that stops
// it.
func serveAPIOnly(ctx context.Context, dbURL string, bus serverBus, log io.Writer, settings ...string) (string, func(), error) {
	env := map[string]string{}
	for _, kv := range append(serverEnv(dbURL, bus, "127.0.0.1:0"), settings...) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	cfg, err := appconfig.Load(func(k string) string { return env[k] })
	if err != nil {
		return "", nil, err
	}
	sys, err := startup.Open(ctx, cfg, startup.NewLogger(log, cfg))
	if err != nil {
		return "", nil, err
	}
	application, creds := startup.Application(cfg, sys.Pool, sys.Store, sys.Keys, time.Now)
	// As the server does at start, for a database no server opened before.
	if _, err := application.Commands.CreateAdmin.Ensure(ctx, command.CreateAdmin{
		Email: cfg.AdminEmail, Password: cfg.AdminPassword, FullName: "Administrator",
	}); err != nil {
		sys.Close()
		return "", nil, err
	}
	api := apihttp.New(apihttp.Deps{
		Settings: startup.APISettings(cfg, sys.Keys), Logger: sys.Logger, Pool: sys.Pool, App: application, Status: projections.NewMonitor(sys.Pool).Status, Credentials: creds,
		Bus: sys.Bus.Ping, Registry: prometheus.NewRegistry(), Now: time.Now,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sys.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		_ = srv.Shutdown(context.WithoutCancel(ctx))
		sys.Close()
	}, nil
}

func (s *server) stop() {
	if s.cmd.ProcessState != nil { // stopped already
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(s.dir)
}

// rss is the server's resident memory from /proc.
func (s *server) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read server memory: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// client speaks the API over a pool of keep-alive connections.
type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	tr := &http.Transport{MaxIdleConns: 2 * httpConnections, MaxIdleConnsPerHost: 2 * httpConnections, IdleConnTimeout: time.Minute}
	return &client{base: base, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// do sends a JSON request and decodes a JSON answer into out unless nil; a
// status other than want is an error.
func (c *client) do(ctx context.Context, method, path, token string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (c *client) login(ctx context.Context, email, password string) (string, error) {
	var pair apihttp.TokenPair
	err := c.do(ctx, "POST", "/api/auth/login/", "", map[string]string{"email": email, "password": password}, http.StatusOK, &pair)
	return pair.AccessToken, err
}

// registerEmployees registers n employees hired a year ago on the default
// schedule and logs each in.
func (c *client) registerEmployees(ctx context.Context, admin string, n int) (tokens, ids []string, err error) {
	tokens, ids = make([]string, n), make([]string, n)
	hired := time.Now().AddDate(-1, 0, 0).Format(time.DateOnly)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				email := fmt.Sprintf("employee-%04d@example.com", i)
				var e apihttp.EmployeeJSON
				if err := c.do(ctx, "POST", "/api/employees/", admin, map[string]any{
					"email": email, "password": benchPassword, "full_name": fmt.Sprintf("Employee %04d", i), "role": "employee", "hire_date": hired,
				}, http.StatusCreated, &e); err != nil {
					errs <- err
					return
				}
				tok, err := c.login(ctx, email, benchPassword)
				if err != nil {
					errs <- err
					return
				}
				tokens[i], ids[i] = tok, e.ID
			}
		})
	}
	wg.Wait()
	close(errs)
	return tokens, ids, <-errs
}

// fillMonth records last month's attendance of every employee straight into
// the event store (check-in at 08:00-08:14, check-out at 17:00 on each
// workday), decided by the domain with the clock of those days. It returns
// the month and its workdays.
func fillMonth(ctx context.Context, dbURL string, ids []string, logf func(string, ...any)) (calendar.Date, int, error) {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return calendar.Date{}, 0, err
	}
	defer pool.Close()
	codec, _, _, err := eventcodec.Open(ctx, pool, nil)
	if err != nil {
		return calendar.Date{}, 0, err
	}
	store := eventstore.New(pool, codec)
	cfg, err := appconfig.Load(func(string) string { return "" })
	if err != nil {
		return calendar.Date{}, 0, err
	}
	sched := cfg.DefaultSchedule()
	loc, err := sched.Location()
	if err != nil {
		return calendar.Date{}, 0, err
	}
	now := time.Now().In(loc)
	first := calendar.Date{Year: now.Year(), Month: now.Month(), Day: 1}.AddDays(-1)
	first.Day = 1
	var workdays []calendar.Date
	for d := first; d.Month == first.Month; d = d.AddDays(1) {
		if sched.IsWorkday(d) {
			workdays = append(workdays, d)
		}
	}
	logf("recording %d workdays of %04d-%02d for %d employees", len(workdays), first.Year, first.Month, len(ids))
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(ids); i = int(next.Add(1)) - 1 {
				if err := recordMonth(ctx, store, ids[i], sched, workdays, i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return first, len(workdays), <-errs
}

func recordMonth(ctx context.Context, store *eventstore.Store, id string, sched employee.Schedule, days []calendar.Date, seed int) error {
	var state attendance.State
	var data []eventstore.EventData
	for i, d := range days {
		in := sched.StartOn(d).Add(time.Duration((seed+i)%15) * time.Minute)
		out := sched.StartOn(d).Add(9 * time.Hour)
		for _, step := range []struct {
			cmd attendance.Command
			at  time.Time
		}{{attendance.CheckIn{EmployeeID: id, Schedule: sched, Rules: attendance.DefaultRules()}, in}, {attendance.CheckOut{EmployeeID: id, Rules: attendance.DefaultRules()}, out}} {
			events, err := attendance.Decide(state, step.cmd, step.at)
			if err != nil {
				return err
			}
			for _, ev := range events {
				state.Apply(ev)
				data = append(data, eventstore.EventData{ID: uuidFor(id, len(data)), Payload: ev.(eventstore.Payload), Metadata: eventstore.Metadata{Actor: "bench"}})
			}
		}
	}
	_, err := store.Append(ctx, attendance.Stream(id), eventstore.NoStream, data...)
	return err
}

// uuidFor is the id of the n-th recorded event of an employee, so a rerun
// against a kept database appends nothing twice.
func uuidFor(employeeID string, n int) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("bench-month/"+employeeID+"/"+strconv.Itoa(n)))
}

// attendanceDriver checks employees in and out, each employee alternating.
type attendanceDriver struct {
	c      *client
	tokens []string
	in     []bool
	locks  []sync.Mutex
	cursor []int // per worker: the next of its employees
}

func newAttendanceDriver(c *client, tokens []string) *attendanceDriver {
	return &attendanceDriver{c: c, tokens: tokens, in: make([]bool, len(tokens)), locks: make([]sync.Mutex, len(tokens)), cursor: make([]int, httpConnections)}
}

// via returns a driver that goes on with the same employees, in the same
// state, through c.
func (d *attendanceDriver) via(c *client) *attendanceDriver {
	return &attendanceDriver{c: c, tokens: d.tokens, in: d.in, locks: d.locks, cursor: make([]int, httpConnections)}
}

// next sends worker w's next request; worker w owns employees w, w+n, w+2n...
func (d *attendanceDriver) next(ctx context.Context, w, n int) error {
	i := w + d.cursor[w]*n
	if i >= len(d.tokens) {
		d.cursor[w], i = 0, w
	}
	d.cursor[w]++
	return d.toggle(ctx, i)
}

func (d *attendanceDriver) toggle(ctx context.Context, i int) error {
	d.locks[i].Lock()
	defer d.locks[i].Unlock()
	typ := "check-in"
	if d.in[i] {
		typ = "check-out"
	}
	if err := d.c.do(ctx, "POST", "/api/attendance/", d.tokens[i], map[string]string{"type": typ}, http.StatusCreated, nil); err != nil {
		return err
	}
	d.in[i] = !d.in[i]
	return nil
}

// steadyStats are the latencies of an open-loop run and its failed requests.
type steadyStats struct {
	stats
	failed int
	first  error
}

func (s steadyStats) failures() string {
	if s.failed == 0 {
		return "none"
	}
	return fmt.Sprintf("%d of %d (first: %v)", s.failed, s.events, s.first)
}

// steady sends rate requests a second for d whatever the answers' pace, on
// at most 4x64 connections, and measures each from the moment it was due, so
// queueing counts. A failed request is counted, and its latency too.
func (d *attendanceDriver) steady(ctx context.Context, rate int, dur time.Duration) steadyStats {
	interval := time.Second / time.Duration(rate)
	jobs := make(chan time.Time, rate)
	var (
		mu  sync.Mutex
		st  steadyStats
		wg  sync.WaitGroup
		seq atomic.Int64
	)
	for range 4 * httpConnections {
		wg.Go(func() {
			for due := range jobs {
				err := d.toggle(ctx, int(seq.Add(1))%len(d.tokens))
				lat := time.Since(due)
				mu.Lock()
				if err != nil {
					st.failed++
					if st.first == nil {
						st.first = err
					}
				}
				st.latencies = append(st.latencies, lat)
				st.events++
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= dur || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Until(due))
		jobs <- due
	}
	close(jobs)
	wg.Wait()
	st.elapsed = time.Since(start)
	return st
}

// waitForReport waits until the monthly report of month counts every
// recorded check-in, wantDays, and returns its path.
func (c *client) waitForReport(ctx context.Context, admin string, month calendar.Date, wantDays int, logf func(string, ...any)) (string, error) {
	path := fmt.Sprintf("/api/reports/monthly-work/?year=%d&month=%d", month.Year, int(month.Month))
	const patience = 20 * time.Minute
	deadline := time.Now().Add(patience)
	lastLog := time.Now()
	for {
		var r apihttp.MonthlyReportJSON
		if err := c.do(ctx, "GET", path, admin, nil, http.StatusOK, &r); err != nil {
			return "", err
		}
		got := 0
		for _, e := range r.Employees {
			got += e.DaysWorked
		}
		if got >= wantDays {
			return path, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the report counts %d of %d days after %s", got, wantDays, patience)
		}
		if time.Since(lastLog) > 30*time.Second {
			logf("the report counts %d of %d days", got, wantDays)
			lastLog = time.Now()
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// timeGets times calls GETs of path, one at a time.
func (c *client) timeGets(ctx context.Context, token, path string, calls int) (stats, error) {
	var st stats
	start := time.Now()
	for range calls {
		t0 := time.Now()
		if err := c.do(ctx, "GET", path, token, nil, http.StatusOK, nil); err != nil {
			return stats{}, err
		}
		st.latencies = append(st.latencies, time.Since(t0))
		st.events++
	}
	st.elapsed = time.Since(start)
	return st, nil
}

// openSessions opens n WebSocket sessions spread over the users' tokens.
func (c *client) openSessions(ctx context.Context, tokens []string, n int) ([]*websocket.Conn, error) {
	wsBase := "ws" + strings.TrimPrefix(c.base, "http") + "/ws/notifications?token="
	conns := make([]*websocket.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	dialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 256, WriteBufferSize: 256}
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				conn, _, err := dialer.DialContext(ctx, wsBase+tokens[i%len(tokens)], nil)
				if err != nil {
					errs <- fmt.Errorf("session %d: %w", i, err)
					return
				}
				conns[i] = conn
			}
		})
	}
	wg.Wait()
	close(errs)
	open := conns[:0]
	for _, conn := range conns {
		if conn != nil {
			open = append(open, conn)
		}
	}
	return open, <-errs
}

// caughtUp is how far the read models were behind at the end of a load, and
// how long they took to catch up.
type caughtUp struct {
	behind  int64  // events the slowest consumer had not handled
	slowest string // that consumer
	took    time.Duration
}

func (c caughtUp) String() string {
	if c.behind == 0 {
		return "caught up at the end"
	}
	return fmt.Sprintf("%d events behind (slowest: %s), caught up %s later", c.behind, c.slowest, c.took.Round(time.Millisecond))
}

// loadUntilCaughtUp runs the closed-loop load fn for d after a warm-up, and
// then waits until every consumer has handled what the load appended: the
// work a request starts is done only then.
func loadUntilCaughtUp(ctx context.Context, pool *pgxpool.Pool, d time.Duration, fn op) (stats, caughtUp, error) {
	if _, err := runFor(ctx, httpConnections, min(2*time.Second, d/5), fn); err != nil {
		return stats{}, caughtUp{}, err
	}
	if _, err := drain(ctx, pool, 0); err != nil { // the warm-up's share is not the load's
		return stats{}, caughtUp{}, err
	}
	from, err := headPosition(ctx, pool)
	if err != nil {
		return stats{}, caughtUp{}, err
	}
	load, err := runFor(ctx, httpConnections, d, fn)
	if err != nil {
		return stats{}, caughtUp{}, err
	}
	c, err := drain(ctx, pool, from)
	return load, c, err
}

func headPosition(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	var head int64
	err := pool.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&head)
	return head, err
}

// backlogSQL finds the consumer furthest behind on the streams appended to
// after position $1: for each consumer (projection or saga) and each such
// stream of a category it handles, the versions it has not handled yet.
const backlogSQL = `
WITH heads AS (SELECT stream_id, max(version) AS version FROM events WHERE position > $1 GROUP BY stream_id),
readers AS (SELECT DISTINCT projection, split_part(stream_id, '-', 1) AS category FROM projection_versions)
SELECT r.projection, sum(h.version - coalesce(v.version, 0))::bigint AS behind
FROM heads h
JOIN readers r ON r.category = split_part(h.stream_id, '-', 1)
LEFT JOIN projection_versions v ON v.projection = r.projection AND v.stream_id = h.stream_id
GROUP BY r.projection ORDER BY behind DESC LIMIT 1`

// behind is how many events the consumer furthest behind has not handled on
// the streams appended to after position from, and its name.
func behind(ctx context.Context, pool *pgxpool.Pool, from int64) (int64, string, error) {
	var name string
	var n int64
	err := pool.QueryRow(ctx, backlogSQL, from).Scan(&name, &n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("read models' backlog: %w", err)
	}
	return n, name, nil
}

// drain waits until every consumer has handled the events appended after
// position from, and reports how far behind the slowest one was at the call.
func drain(ctx context.Context, pool *pgxpool.Pool, from int64) (caughtUp, error) {
	const patience = 10 * time.Minute
	start := time.Now()
	var c caughtUp
	for first := true; ; first = false {
		n, name, err := behind(ctx, pool, from)
		if err != nil {
			return c, err
		}
		if first {
			c.behind, c.slowest = n, name
		}
		if n == 0 {
			c.took = time.Since(start)
			return c, nil
		}
		if time.Since(start) > patience {
			return c, fmt.Errorf("read models still %d events behind (%s) after %s", n, name, patience)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dropStreams deletes the Redis streams and keys under prefix.
func dropStreams(redisURL, prefix string) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx := context.Background()
	if keys, err := c.Keys(ctx, prefix+"*").Result(); err == nil && len(keys) > 0 {
		c.Del(ctx, keys...)
	}
}
