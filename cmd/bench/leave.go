package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	apihttp "github.com/acme/employee-tracking/http"
	"github.com/acme/employee-tracking/migrations"
)

// The leave benchmark: the balance and the ledger of an employee with ten
// years of history, folded from their leave stream at every request.
const (
	leaveYears = 10
	// leaveSettings carry days over, so that every year's balance folds the
	// years before it.
	leaveSettings = "LEAVE_CARRY_OVER_MAX_DAYS=5"
)

// runLeaveBench measures GET of the balance (this year's, and one of five
// years ago on a date, as `on` asks) and of this year's ledger, one request
// at a time, against the API served in this process.
func runLeaveBench(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench leave", flag.ContinueOnError)
	duration := fs.Duration("duration", 10*time.Second, "measured time of each request")
	keep := fs.Bool("keep", false, "keep the benchmark's database")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration <= 0 {
		return errors.New("-duration must be positive")
	}
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
	logf := func(format string, args ...any) { stamp(os.Stderr, start, format, args...) }
	bus := serverBus{redisURL: redisURL(getenv), prefix: "etbench." + uuid.NewString()[:8] + "."}
	defer dropStreams(bus.redisURL, bus.prefix)
	base, stop, err := serveAPIOnly(ctx, dbURL, bus, io.Discard, leaveSettings)
	if err != nil {
		return err
	}
	defer stop()
	c := newClient(base)
	admin, err := c.login(ctx, benchAdmin, benchPassword)
	if err != nil {
		return err
	}
	logf("recording %d years of leave", leaveYears)
	id, events, err := c.leaveHistory(ctx, admin, "long-serving@example.com", leaveYears)
	if err != nil {
		return err
	}

	thisYear := time.Now().Year()
	paths := []struct{ scenario, path string }{
		// The floor: an authenticated read of the caller, on the same machine.
		{"me (no leave read)", "/api/auth/me/"},
		{"balance, this year", fmt.Sprintf("/api/leave-balances/%s/", id)},
		{"balance on a date 5 years ago", fmt.Sprintf("/api/leave-balances/%s/?on=%d-06-30", id, thisYear-5)},
		{"ledger, this year", fmt.Sprintf("/api/leave-balances/%s/ledger/", id)},
	}
	var rows []row
	for _, p := range paths {
		logf("%s", p.scenario)
		s, err := measure(ctx, 1, *duration, func(ctx context.Context, _ int) (int, error) {
			return 1, c.do(ctx, "GET", p.path, admin, nil, http.StatusOK, nil)
		})
		if err != nil {
			return fmt.Errorf("%s: %w", p.scenario, err)
		}
		p95 := s.percentile(95)
		r := row{scenario: p.scenario, path: "api", stats: s, target: "p95 " + round(p95).String()}
		if strings.Contains(p.path, "leave-balances") {
			r.target = verdict(fmt.Sprintf("p95 %s ≤ 5ms", round(p95)), p95 <= 5*time.Millisecond)
		}
		rows = append(rows, r)
	}
	var pgVersion string
	if err := pool.QueryRow(ctx, "SELECT current_setting('server_version')").Scan(&pgVersion); err != nil {
		return err
	}
	command := fmt.Sprintf("go run ./cmd/bench leave -duration %s", *duration)
	fmt.Fprintf(stdout, "command:  %s\n", command)
	fmt.Fprintf(stdout, "machine:  %d cores (%s), %s, PostgreSQL %s, same host\n", runtime.NumCPU(), cpuModel(), runtime.Version(), pgVersion)
	fmt.Fprintf(stdout, "setup:    the API in this process (no pipeline), %s; one employee hired %d years ago with %d events of leave; one request at a time\n",
		leaveSettings, leaveYears, events)
	fmt.Fprintf(stdout, "load:     %s (1, 5, 15 min averages at the end)\n", loadAverage())
	printTable(stdout, rows)
	return nil
}

// leaveHistory registers an employee with email hired years ago and files, as
// the admin, each year's leave: annual leave in pairs of days, a half day, sick
// leave, one approval cancelled and one request rejected. It returns the
// employee's id and how many events their leave stream holds.
func (c *client) leaveHistory(ctx context.Context, admin, email string, years int) (string, int, error) {
	now := time.Now()
	first := now.Year() - years
	var e apihttp.EmployeeJSON
	if err := c.do(ctx, "POST", "/api/employees/", admin, map[string]any{
		"email": email, "password": benchPassword, "full_name": "Long Serving", "role": "employee",
		"hire_date": fmt.Sprintf("%d-01-05", first),
	}, http.StatusCreated, &e); err != nil {
		return "", 0, err
	}
	file := func(body map[string]any) (string, error) {
		body["employee_id"] = e.ID
		var r apihttp.LeaveRequestJSON
		err := c.do(ctx, "POST", "/api/leave-management/", admin, body, http.StatusCreated, &r)
		return r.ID, err
	}
	decide := func(id, status string) error {
		return c.do(ctx, "POST", "/api/leave-management/"+id+"/change-status/", admin, map[string]string{"status": status}, http.StatusOK, nil)
	}
	for yr := first; yr <= now.Year(); yr++ {
		for month := 1; month <= 12; month++ {
			day := time.Date(yr, time.Month(month), 8, 0, 0, 0, 0, time.UTC)
			for day.Weekday() != time.Tuesday {
				day = day.AddDate(0, 0, 1)
			}
			if day.After(now) {
				break
			}
			var body map[string]any
			switch month % 4 {
			case 0:
				body = map[string]any{"start_date": day.Format(time.DateOnly), "end_date": day.Format(time.DateOnly), "half_day": "am"}
			case 1:
				body = map[string]any{"start_date": day.Format(time.DateOnly), "end_date": day.AddDate(0, 0, 1).Format(time.DateOnly), "leave_type": "sick"}
			default:
				body = map[string]any{"start_date": day.Format(time.DateOnly), "end_date": day.AddDate(0, 0, 1).Format(time.DateOnly)}
			}
			id, err := file(body)
			if err != nil {
				return "", 0, err
			}
			status := "approved"
			if month == 11 {
				status = "rejected"
			}
			if err := decide(id, status); err != nil {
				return "", 0, err
			}
			if month == 6 {
				if err := c.do(ctx, "POST", "/api/leave-management/"+id+"/cancel/", admin, nil, http.StatusOK, nil); err != nil {
					return "", 0, err
				}
			}
		}
	}
	var history apihttp.HistoryJSON
	if err := c.do(ctx, "GET", "/api/employees/"+e.ID+"/history/", admin, nil, http.StatusOK, &history); err != nil {
		return "", 0, err
	}
	events := 0
	for _, ev := range history.Items {
		if strings.HasPrefix(ev.StreamID, "leave-") {
			events++
		}
	}
	return e.ID, events, nil
}
