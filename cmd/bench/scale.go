package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/backlog"
	appconfig "github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/migrations"
	"github.com/acme/employee-tracking/projections"
)

// The scale benchmark measures how the cost of a few operations grows with
// the data: each at a small and a large size, and the ratio of the two.
var (
	scaleReportEmployees = [2]int{1000, 10_000}
	scaleLeaveYears      = [2]int{1, 10}
	scaleRebuildEvents   = [2]int{1_000_000, 5_000_000}
	scaleSeedEmployees   = [2]int{200, 2000}
	scaleParts           = []string{"report", "leave", "rebuild", "seed"}
)

// scaleReportTarget is the monthly report's p95 at 10,000 employees.
const scaleReportTarget = 250 * time.Millisecond

type scaleBench struct {
	dbURL    string
	keep     bool
	calls    int
	duration time.Duration
	months   int
	bus      serverBus
	log      func(format string, args ...any)
}

// scaleRow is one operation measured at both sizes.
type scaleRow struct {
	what       string
	sizes      [2]string
	sizeRatio  float64
	figures    [2]string
	costRatio  float64 // of the large size's cost to the small one's: of the medians, for latencies
	target     string
	costDetail string
}

// runScaleBench measures each part of scaleParts (or those -only names) at
// both its sizes and prints the figures and their ratios.
func runScaleBench(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench scale", flag.ContinueOnError)
	b := &scaleBench{}
	fs.IntVar(&b.calls, "calls", 50, "report: requests timed at each size, one at a time")
	fs.DurationVar(&b.duration, "duration", 5*time.Second, "leave: measured time of each balance")
	fs.IntVar(&b.months, "months", 1, "seed: months of history seed-demo records")
	only := fs.String("only", strings.Join(scaleParts, ","), "the parts to run, of "+strings.Join(scaleParts, ","))
	fs.BoolVar(&b.keep, "keep", false, "keep the benchmark's databases")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (the API of the report and leave parts) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if b.calls <= 0 || b.duration <= 0 || b.months <= 0 {
		return errors.New("-calls, -duration and -months must be positive")
	}
	parts := strings.Split(*only, ",")
	for _, p := range parts {
		if !slices.Contains(scaleParts, p) {
			return fmt.Errorf("-only: unknown part %q, want some of %s", p, strings.Join(scaleParts, ","))
		}
	}
	dbURL, drop, err := openDatabase(ctx, getenv, b.keep)
	if err != nil {
		return err
	}
	defer drop()
	b.dbURL = dbURL
	b.bus = serverBus{redisURL: redisURL(getenv), prefix: "etbench." + uuid.NewString()[:8] + "."}
	defer dropStreams(b.bus.redisURL, b.bus.prefix)
	start := time.Now()
	b.log = func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "scale [%5.1fs]: %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	var rows []scaleRow
	for _, p := range scaleParts {
		if !slices.Contains(parts, p) {
			continue
		}
		var r scaleRow
		var err error
		switch p {
		case "report":
			r, err = b.report(ctx)
		case "leave":
			r, err = b.leave(ctx)
		case "rebuild":
			r, err = b.rebuild(ctx)
		case "seed":
			r, err = b.seed(ctx)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		rows = append(rows, r)
	}
	fmt.Fprintf(stdout, "command:  go run ./cmd/bench scale -calls %d -duration %s -months %d -only %s\n", b.calls, b.duration, b.months, *only)
	fmt.Fprintf(stdout, "machine:  %d cores (%s), %s, same host\n", runtime.NumCPU(), cpuModel(), runtime.Version())
	fmt.Fprintf(stdout, "load:     %s (1, 5, 15 min averages at the end)\n", loadAverage())
	printScale(stdout, rows)
	return nil
}

func printScale(w io.Writer, rows []scaleRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "operation\tsmall\tlarge\tsize ratio\tsmall\tlarge\tcost ratio\tgrowth\ttarget\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0fx\t%s\t%s\t%.2fx\t%s\t%s\t\n", r.what, r.sizes[0], r.sizes[1], r.sizeRatio,
			r.figures[0], r.figures[1], r.costRatio, growth(r.costRatio, r.sizeRatio), r.target)
	}
	tw.Flush()
	fmt.Fprintln(w, "cost ratio: of the large size's figure to the small one's, of the medians for latencies; growth: linear when within a quarter of the size ratio")
	for _, r := range rows {
		if r.costDetail != "" {
			fmt.Fprintf(w, "%s: %s\n", r.what, r.costDetail)
		}
	}
}

// growth names how a cost grew against the size: within a quarter of the
// size's ratio is linear.
func growth(cost, size float64) string {
	switch {
	case cost > 1.25*size:
		return "worse than linear"
	case cost < 0.75*size:
		return "better than linear"
	}
	return "linear"
}

// report times the monthly report (JSON, through the API) of a month of
// 1,000 and then 10,000 employees: the employees and their month are
// appended straight to the store, the read models rebuilt from it.
func (b *scaleBench) report(ctx context.Context) (scaleRow, error) {
	dbURL, dropDB, err := scratchDatabase(ctx, b.dbURL, "_report", b.keep)
	if err != nil {
		return scaleRow{}, err
	}
	defer dropDB()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return scaleRow{}, err
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool); err != nil {
		return scaleRow{}, err
	}
	codec, _, _, err := eventcodec.Open(ctx, pool, nil)
	if err != nil {
		return scaleRow{}, err
	}
	store := eventstore.New(pool, codec)
	var (
		ids []string
		got [2]stats
	)
	for i, n := range scaleReportEmployees {
		b.log("report: registering %d employees", n-len(ids))
		more, err := registerDirect(ctx, store, len(ids), n-len(ids))
		if err != nil {
			return scaleRow{}, err
		}
		month, days, err := fillMonth(ctx, dbURL, more, b.log)
		if err != nil {
			return scaleRow{}, err
		}
		ids = append(ids, more...)
		b.log("report: rebuilding the read models")
		if err := projections.Rebuild(ctx, pool, store, nil, io.Discard); err != nil {
			return scaleRow{}, err
		}
		if _, err := pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
			return scaleRow{}, err
		}
		base, stop, err := serveAPIOnly(ctx, dbURL, b.bus, io.Discard)
		if err != nil {
			return scaleRow{}, err
		}
		c := newClient(base)
		admin, err := c.login(ctx, benchAdmin, benchPassword)
		var path string
		if err == nil {
			path, err = c.waitForReport(ctx, admin, month, days*n, b.log)
		}
		if err == nil {
			b.log("report: %d calls at %d employees", b.calls, n)
			got[i], err = c.timeGets(ctx, admin, path, b.calls)
		}
		stop()
		if err != nil {
			return scaleRow{}, err
		}
	}
	p95 := [2]time.Duration{got[0].percentile(95), got[1].percentile(95)}
	return scaleRow{
		what:      "monthly report (JSON), employees",
		sizes:     [2]string{strconv.Itoa(scaleReportEmployees[0]), strconv.Itoa(scaleReportEmployees[1])},
		sizeRatio: float64(scaleReportEmployees[1]) / float64(scaleReportEmployees[0]),
		figures: [2]string{
			fmt.Sprintf("p50 %s p95 %s", round(got[0].percentile(50)), round(p95[0])),
			fmt.Sprintf("p50 %s p95 %s", round(got[1].percentile(50)), round(p95[1])),
		},
		costRatio: float64(got[1].percentile(50)) / float64(got[0].percentile(50)),
		target:    verdict(fmt.Sprintf("p95 at %d <= %s", scaleReportEmployees[1], scaleReportTarget), p95[1] <= scaleReportTarget),
		costDetail: fmt.Sprintf("%d calls at each size, one at a time, to the API served in this process without the pipeline; a month of check-ins of every employee",
			b.calls),
	}, nil
}

// registerDirect appends the registrations of n employees, numbered from
// first, hired a year ago on the default schedule, straight to the store, and
// returns their ids.
func registerDirect(ctx context.Context, store *eventstore.Store, first, n int) ([]string, error) {
	cfg, err := appconfig.Load(func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	sched := cfg.DefaultSchedule()
	now := time.Now()
	hired := calendar.Date{Year: now.Year() - 1, Month: now.Month(), Day: 1}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewSHA1(uuid.NameSpaceURL, []byte("bench-scale/employee/"+strconv.Itoa(first+i))).String()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				k := first + i
				ev := employee.Registered{
					EmployeeID: ids[i], Email: fmt.Sprintf("scale-%05d@example.com", k), FullName: fmt.Sprintf("Employee %05d", k),
					Role: employee.RoleEmployee, HireDate: hired, Schedule: sched,
				}
				if _, err := store.Append(ctx, employee.Stream(ids[i]), eventstore.NoStream,
					eventstore.EventData{ID: uuid.NewSHA1(uuid.NameSpaceURL, []byte("bench-scale/registered/"+ids[i])), Payload: ev, Metadata: eventstore.Metadata{Actor: "bench"}}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return ids, <-errs
}

// leave times this year's balance of an employee hired one year ago and of
// one hired ten years ago, each with the history leaveHistory files.
func (b *scaleBench) leave(ctx context.Context) (scaleRow, error) {
	dbURL, dropDB, err := scratchDatabase(ctx, b.dbURL, "_leave", b.keep)
	if err != nil {
		return scaleRow{}, err
	}
	defer dropDB()
	base, stop, err := serveAPIOnly(ctx, dbURL, b.bus, io.Discard, leaveSettings)
	if err != nil {
		return scaleRow{}, err
	}
	defer stop()
	c := newClient(base)
	admin, err := c.login(ctx, benchAdmin, benchPassword)
	if err != nil {
		return scaleRow{}, err
	}
	var (
		got    [2]stats
		events [2]int
	)
	for i, years := range scaleLeaveYears {
		b.log("leave: %d years of history", years)
		id, n, err := c.leaveHistory(ctx, admin, fmt.Sprintf("leave-%d-years@example.com", years), years)
		if err != nil {
			return scaleRow{}, err
		}
		events[i] = n
		path := fmt.Sprintf("/api/leave-balances/%s/", id)
		if got[i], err = measure(ctx, 1, b.duration, func(ctx context.Context, _ int) (int, error) {
			return 1, c.do(ctx, "GET", path, admin, nil, http.StatusOK, nil)
		}); err != nil {
			return scaleRow{}, err
		}
	}
	p95 := [2]time.Duration{got[0].percentile(95), got[1].percentile(95)}
	return scaleRow{
		what:      "leave balance, years of history",
		sizes:     [2]string{fmt.Sprintf("%d (%d events)", scaleLeaveYears[0], events[0]), fmt.Sprintf("%d (%d events)", scaleLeaveYears[1], events[1])},
		sizeRatio: float64(events[1]) / float64(events[0]),
		figures: [2]string{
			fmt.Sprintf("p50 %s p95 %s", round(got[0].percentile(50)), round(p95[0])),
			fmt.Sprintf("p50 %s p95 %s", round(got[1].percentile(50)), round(p95[1])),
		},
		costRatio:  float64(got[1].percentile(50)) / float64(got[0].percentile(50)),
		target:     verdict(fmt.Sprintf("p95 at %d years <= 5ms", scaleLeaveYears[1]), p95[1] <= 5*time.Millisecond),
		costDetail: fmt.Sprintf("this year's balance, %s each, one request at a time, the API in this process with %s; size ratio of the leave events", b.duration, leaveSettings),
	}, nil
}

// rebuild times rebuilding every read model over 1,000,000 and 5,000,000
// events of 2,000 employees' attendance, as bench rebuild does.
func (b *scaleBench) rebuild(ctx context.Context) (scaleRow, error) {
	var took [2]time.Duration
	for i, n := range scaleRebuildEvents {
		d, err := b.rebuildOnce(ctx, n)
		if err != nil {
			return scaleRow{}, err
		}
		took[i] = d
	}
	rate := func(i int) float64 { return float64(scaleRebuildEvents[i]) / took[i].Seconds() }
	return scaleRow{
		what:      "rebuild, events",
		sizes:     [2]string{strconv.Itoa(scaleRebuildEvents[0]), strconv.Itoa(scaleRebuildEvents[1])},
		sizeRatio: float64(scaleRebuildEvents[1]) / float64(scaleRebuildEvents[0]),
		figures: [2]string{
			fmt.Sprintf("%s (%.0f events/s)", took[0].Round(100*time.Millisecond), rate(0)),
			fmt.Sprintf("%s (%.0f events/s)", took[1].Round(100*time.Millisecond), rate(1)),
		},
		costRatio:  took[1].Seconds() / took[0].Seconds(),
		target:     verdict(">= 25000 events/s at both", rate(0) >= 25000 && rate(1) >= 25000),
		costDetail: "every read model, projections.Rebuild as etctl rebuild runs it, over check-ins and check-outs of 2,000 employees",
	}, nil
}

func (b *scaleBench) rebuildOnce(ctx context.Context, events int) (time.Duration, error) {
	dbURL, dropDB, err := scratchDatabase(ctx, b.dbURL, "_rebuild", b.keep)
	if err != nil {
		return 0, err
	}
	defer dropDB()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool); err != nil {
		return 0, err
	}
	codec, _, _, err := eventcodec.Open(ctx, pool, nil)
	if err != nil {
		return 0, err
	}
	b.log("rebuild: filling %d events", events)
	if err := backlog.Attendance(ctx, pool, events, 2000, calendar.Date{Year: 2000, Month: time.January, Day: 1}, "bench"); err != nil {
		return 0, err
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE events"); err != nil {
		return 0, err
	}
	b.log("rebuild: %d events", events)
	start := time.Now()
	if err := projections.Rebuild(ctx, pool, eventstore.New(pool, codec), nil, io.Discard); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// seed times `etctl seed-demo` (the binary, built first) at 200 and 2,000
// employees, each on a fresh database.
func (b *scaleBench) seed(ctx context.Context) (scaleRow, error) {
	dir, err := os.MkdirTemp("", "et-bench-")
	if err != nil {
		return scaleRow{}, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "etctl")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/etctl")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return scaleRow{}, fmt.Errorf("build etctl: %w", err)
	}
	var took [2]time.Duration
	for i, n := range scaleSeedEmployees {
		dbURL, dropDB, err := scratchDatabase(ctx, b.dbURL, "_seed", b.keep)
		if err != nil {
			return scaleRow{}, err
		}
		b.log("seed: seed-demo -employees %d -months %d", n, b.months)
		cmd := exec.CommandContext(ctx, bin, "seed-demo", "-employees", strconv.Itoa(n), "-months", strconv.Itoa(b.months), "-quiet")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "REDIS_URL="+b.bus.redisURL, "REDIS_PREFIX="+b.bus.prefix, "BCRYPT_COST=4")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err = cmd.Run()
		took[i] = time.Since(start)
		dropDB()
		if err != nil {
			return scaleRow{}, fmt.Errorf("seed-demo -employees %d: %w\n%s", n, err, out.String())
		}
	}
	return scaleRow{
		what:      "etctl seed-demo, employees",
		sizes:     [2]string{strconv.Itoa(scaleSeedEmployees[0]), strconv.Itoa(scaleSeedEmployees[1])},
		sizeRatio: float64(scaleSeedEmployees[1]) / float64(scaleSeedEmployees[0]),
		figures:   [2]string{took[0].Round(100 * time.Millisecond).String(), took[1].Round(100 * time.Millisecond).String()},
		costRatio: took[1].Seconds() / took[0].Seconds(),
		target:    "-",
		costDetail: fmt.Sprintf("the binary with -months %d, a fresh database each, BCRYPT_COST=4 (the registrations' hashing is not what grows)",
			b.months),
	}, nil
}
