package main

import (
	"bytes"
	"context"
	"encoding/json"
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

	apihttp "github.com/acme/employee-tracking/http"
)

// The import benchmark posts files of employees to the server binary.
const (
	importLines         = 10_000
	importTarget        = 30 * time.Second // 10,000 lines without passwords
	importPasswordCost  = "10"             // BCRYPT_COST of `make run`
	importLinesPerTeam  = 100              // a manager, then their reports
	defaultPasswordRows = 240              // 20 to each of the import's 12 workers
)

// runImportBench measures (h) an import of 10,000 employees without
// passwords, the same file again (all existing), and the rate of lines with
// passwords at the bcrypt cost the server runs with by default.
func runImportBench(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench import", flag.ContinueOnError)
	withPasswords := fs.Int("password-lines", defaultPasswordRows, "lines of the file with passwords (bcrypt sets their pace)")
	keep := fs.Bool("keep", false, "keep the benchmark's database")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *withPasswords <= 0 {
		return errors.New("-password-lines must be positive")
	}
	dbURL, drop, err := openDatabase(ctx, getenv, *keep)
	if err != nil {
		return err
	}
	defer drop()
	start := time.Now()
	logf := func(format string, args ...any) { stamp(os.Stderr, start, format, args...) }
	serverLog, err := os.CreateTemp("", "et-bench-server-*.log")
	if err != nil {
		return err
	}
	defer serverLog.Close()
	logf("server log in %s", serverLog.Name())
	bus := serverBus{redisURL: redisURL(getenv), prefix: "etbench." + uuid.NewString()[:8] + "."}
	defer dropStreams(bus.redisURL, bus.prefix)
	// Passwords are hashed as `make run` hashes them, not at the setup's cost.
	srv, err := startServer(ctx, dbURL, bus, serverLog, os.Stderr, "BCRYPT_COST="+importPasswordCost)
	if err != nil {
		return err
	}
	defer srv.stop()
	c := newClient(srv.base)
	c.http.Timeout = 0 // the request runs as long as the import
	admin, err := c.login(ctx, benchAdmin, benchPassword)
	if err != nil {
		return err
	}

	file := importFile("e", importLines, false)
	logf("importing %d lines without passwords", importLines)
	plain, err := c.importFile(ctx, admin, file, importLines, 0)
	if err != nil {
		return err
	}
	logf("the same file again")
	again, err := c.importFile(ctx, admin, file, 0, importLines)
	if err != nil {
		return err
	}
	logf("importing %d lines with passwords", *withPasswords)
	hashed, err := c.importFile(ctx, admin, importFile("p", *withPasswords, true), *withPasswords, 0)
	if err != nil {
		return err
	}
	logf("done")

	fmt.Fprintf(stdout, "command:  go run ./cmd/bench import -password-lines %d\n", *withPasswords)
	fmt.Fprintf(stdout, "machine:  %d cores (%s), %s, same host\n", runtime.NumCPU(), cpuModel(), runtime.Version())
	fmt.Fprintf(stdout, "server:   the server binary as `make run` starts it (BCRYPT_COST=%s, the default), Redis bus at %s (REDIS_PREFIX=%s), pipeline running\n",
		importPasswordCost, redact(bus.redisURL), bus.prefix)
	fmt.Fprintf(stdout, "load:     %s (1, 5, 15 min averages at the end)\n", loadAverage())
	printTable(stdout, []row{
		{scenario: fmt.Sprintf("(h) import %d lines, no passwords", importLines), path: "http", stats: plain,
			target: verdict(fmt.Sprintf("%s <= %s", plain.elapsed.Round(100*time.Millisecond), importTarget), plain.elapsed <= importTarget)},
		{scenario: "", path: "again: all existing", stats: again},
		{scenario: fmt.Sprintf("(h) import %d lines, passwords", *withPasswords), path: "http", stats: hashed},
	})
	fmt.Fprintf(stdout, "(h) events/s are lines/s; one request each. With passwords: %.1f lines/s, so %d lines take about %s at this cost on these cores\n",
		hashed.rate(), importLines, (time.Duration(float64(importLines)/hashed.rate()) * time.Second).Round(time.Second))
	return nil
}

// importFile is a file of n employees of the team prefix: a manager, then
// their reports, importLinesPerTeam to a team; with passwords when told.
func importFile(prefix string, n int, passwords bool) []byte {
	var b bytes.Buffer
	b.WriteString("email,full_name,role,manager_email,position,hire_date,timezone,work_start,work_end,workdays,password\n")
	password := ""
	if passwords {
		password = benchPassword
	}
	for i := range n {
		team := fmt.Sprintf("%s-m%d@example.com", prefix, i/importLinesPerTeam)
		if i%importLinesPerTeam == 0 {
			fmt.Fprintf(&b, "%s,Manager %d,manager,,Lead,2024-01-01,,,,,%s\n", team, i, password)
			continue
		}
		fmt.Fprintf(&b, "%s-%d@example.com,Employee %d,,%s,Engineer,2024-01-01,Europe/Berlin,09:00,17:30,1-5,%s\n", prefix, i, i, team, password)
	}
	return b.Bytes()
}

// importFile posts file as the admin and checks what it registered.
func (c *client) importFile(ctx context.Context, admin string, file []byte, created, existing int) (stats, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/api/employees/import", bytes.NewReader(file))
	if err != nil {
		return stats{}, err
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+admin)
	t0 := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		return stats{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	took := time.Since(t0)
	if err != nil {
		return stats{}, err
	}
	var got apihttp.ImportResultJSON
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &got) != nil {
		return stats{}, fmt.Errorf("import: %d %.300s", res.StatusCode, body)
	}
	if got.Created != created || got.Existing != existing || len(got.Errors) > 0 {
		return stats{}, fmt.Errorf("import: created %d, existing %d, errors %v; want %d, %d, none", got.Created, got.Existing,
			got.Errors[:min(3, len(got.Errors))], created, existing)
	}
	lines := strings.Count(string(file), "\n") - 1
	return stats{events: lines, elapsed: took, latencies: []time.Duration{took}}, nil
}
