package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/internal/testenv"
	"github.com/acme/employee-tracking/projections"
	"github.com/acme/employee-tracking/projections/readmodel"
	"github.com/acme/employee-tracking/projections/saga"
)

const (
	adminEmail    = "admin@example.com"
	adminPassword = "admin-password"
	password      = "correct horse battery"
	employees     = 12 // the load: each checks in and out rounds times
	rounds        = 6
)

// TestSeveralInstances runs two servers and a worker on one database and one
// Redis: commands through either server land once, projection work is shared
// without applying anything twice, a notification caused on one server
// reaches a WebSocket on the other, and a worker killed mid-load loses
// nothing once it is back.
func TestSeveralInstances(t *testing.T) {
	t.Parallel()
	bin := buildBinaries(t)
	dbURL := smallPoolsURL(t)
	env := []string{
		"DATABASE_URL=" + dbURL,
		"REDIS_URL=redis://127.0.0.1:6379/0",
		"REDIS_PREFIX=test." + testenv.RandomHex(6) + ".",
		"JWT_SECRET=cluster-" + testenv.RandomHex(8),
		"BCRYPT_COST=4",
		"LOG_LEVEL=warn",
	}

	// The worker starts first so that it holds the relay when it is killed.
	workerAddr := "127.0.0.1:" + testenv.FreePort(t)
	worker := start(t, bin, "worker", env, "WORKER_HTTP_ADDR="+workerAddr)
	worker.waitReady(t, "http://"+workerAddr)
	a := startServer(t, bin, "server-a", env, "ADMIN_EMAIL="+adminEmail, "ADMIN_PASSWORD="+adminPassword)
	b := startServer(t, bin, "server-b", env)
	servers := []*client{a, b}

	admin := a.login(t, adminEmail, adminPassword)
	mgr := b.register(t, admin, "manager", "")
	staff := make([]user, employees)
	for i := range staff {
		staff[i] = servers[i%2].register(t, admin, "employee", mgr.ID)
	}

	pool, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	countEvents := func(typ string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM events WHERE type = $1`, typ).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := countEvents("employee.registered"); got != employees+2 {
		t.Errorf("employee.registered events = %d, want %d (admin, manager, staff)", got, employees+2)
	}

	t.Run("one idempotency key across servers appends once", func(t *testing.T) {
		key := "cluster-" + testenv.RandomHex(8)
		first := a.do(t, "POST", "/api/attendance/", staff[0].token, map[string]string{"type": "check-in"}, "Idempotency-Key", key)
		again := b.do(t, "POST", "/api/attendance/", staff[0].token, map[string]string{"type": "check-in"}, "Idempotency-Key", key)
		if first.status != http.StatusCreated || again.status != first.status || !bytes.Equal(first.body, again.body) {
			t.Errorf("same key on A then B = %s then %s, want the first 201 answered again", first, again)
		}
		if got := countEvents("attendance.checked_in"); got != 1 {
			t.Errorf("attendance.checked_in events = %d, want 1", got)
		}
		b.must(t, http.StatusCreated, "POST", "/api/attendance/", staff[0].token, map[string]string{"type": "check-out"})
	})

	t.Run("lateness from server B reaches a manager on server A", func(t *testing.T) {
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(a.base, "http")+"/ws/notifications?token="+mgr.token, nil)
		if err != nil {
			t.Fatalf("dial server A: %v", err)
		}
		defer conn.Close()
		eventually(t, time.Minute, "the session is open on server A", func() bool {
			return strings.Contains(string(a.must(t, http.StatusOK, "GET", "/metrics", "", nil).body), "websocket_sessions_open 1")
		})
		late := staff[1]
		b.must(t, http.StatusCreated, "POST", "/api/attendance/", late.token, map[string]string{"type": "check-in"})
		defer b.must(t, http.StatusCreated, "POST", "/api/attendance/", late.token, map[string]string{"type": "check-out"})
		sent := time.Now()
		// Within a second on an idle machine; the margin is for loaded CI runners.
		_ = conn.SetReadDeadline(sent.Add(30 * time.Second))
		for {
			var f struct {
				Type string         `json:"type"`
				Data map[string]any `json:"data"`
			}
			if err := conn.ReadJSON(&f); err != nil {
				t.Fatalf("manager's socket on A: %v, want a lateness notification", err)
			}
			if f.Type == "lateness" && f.Data["employee_id"] == late.ID {
				break
			}
		}
		t.Logf("lateness pushed %s after the check-in", time.Since(sent).Round(time.Millisecond))
	})

	// A worker killed mid-load (it holds the relay) loses nothing once it is back.
	before := countEvents("attendance.checked_in") + countEvents("attendance.checked_out")
	var wg sync.WaitGroup
	progress := make(chan struct{}, employees*rounds)
	for i, u := range staff {
		wg.Go(func() {
			for r := range rounds {
				s := servers[(i+r)%2]
				s.must(t, http.StatusCreated, "POST", "/api/attendance/", u.token, map[string]string{"type": "check-in"})
				s.must(t, http.StatusCreated, "POST", "/api/attendance/", u.token, map[string]string{"type": "check-out"})
				progress <- struct{}{}
			}
		})
	}
	for range employees * rounds / 2 {
		<-progress
	}
	// The work is shared: the worker relays and applies its part.
	for _, name := range []string{"et_relay_published_events_total", "et_consumer_handled_events_total"} {
		if got := metricSum(t, "http://"+workerAddr, name); got == 0 {
			t.Errorf("worker's %s = 0, want > 0", name)
		}
	}
	worker.kill(t)
	killedAt := time.Now()
	worker = start(t, bin, "worker", env, "WORKER_HTTP_ADDR="+workerAddr)
	wg.Wait()
	worker.waitReady(t, "http://"+workerAddr)

	sent := employees * rounds * 2
	if got := countEvents("attendance.checked_in") + countEvents("attendance.checked_out") - before; got != sent {
		t.Errorf("attendance events appended during the load = %d, want %d (one per command)", got, sent)
	}

	// Everything reaches the read models: each projection has applied every
	// stream it folds up to the stream's last version. The restarted worker
	// takes its former consumer names again and reads at once what the
	// killed one had read and not acknowledged.
	var behind []string
	eventually(t, 75*time.Second, "every event applied", func() bool {
		rows, err := pool.Query(t.Context(), `
			SELECT c.projection || ' ' || s.stream_id || ' at ' || coalesce(p.version, 0) || ' of ' || s.v
			FROM (SELECT stream_id, max(version) AS v FROM events GROUP BY stream_id) s
			JOIN (VALUES ('attendance-', $1::text), ('attendance-', $2), ('attendance-', $3),
			             ('notify-', $4), ('employee-', $5)) AS c(prefix, projection) ON starts_with(s.stream_id, c.prefix)
			LEFT JOIN projection_versions p ON p.projection = c.projection AND p.stream_id = s.stream_id
			WHERE coalesce(p.version, 0) < s.v ORDER BY 1`,
			readmodel.Attendance, readmodel.MonthlyHours, saga.Group("attendance"),
			readmodel.Notifications, readmodel.Directory)
		if err != nil {
			t.Fatal(err)
		}
		behind, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return len(behind) == 0
	}, func() string { return strings.Join(behind, "\n") })
	t.Logf("every event applied %s after the worker was killed", time.Since(killedAt).Round(time.Millisecond))

	codec, _, _, err := eventcodec.Open(t.Context(), pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	var diffs bytes.Buffer
	began := time.Now()
	n, err := projections.Verify(t.Context(), pool, eventstore.New(pool, codec), nil, &diffs, io.Discard)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	t.Logf("verified the read models in %s", time.Since(began).Round(time.Millisecond))
	if n != 0 {
		t.Errorf("read models differ from a rebuild in %d rows:\n%s", n, diffs.String())
	}
	// A notification raised after the checks above (the restarted worker's
	// daily sweep may raise one) reaches its row a moment later.
	var raised, rows, lateness, lateCheckIns int
	eventually(t, 30*time.Second, "one notification row per notification.raised event", func() bool {
		err = pool.QueryRow(t.Context(), `SELECT
			(SELECT count(*) FROM events WHERE type = 'notification.raised'),
			(SELECT count(*) FROM notifications),
			(SELECT count(*) FROM notifications WHERE type = 'lateness' AND recipient_id = $1),
			(SELECT count(*) FROM events WHERE type = 'attendance.checked_in' AND (data->>'late')::boolean)`,
			mgr.ID).Scan(&raised, &rows, &lateness, &lateCheckIns)
		if err != nil {
			t.Fatal(err)
		}
		return rows == raised
	}, func() string { return fmt.Sprintf("%d rows, %d events", rows, raised) })
	if lateness != lateCheckIns {
		t.Errorf("lateness notifications of the manager = %d, want %d, one per late check-in", lateness, lateCheckIns)
	}
	if lateCheckIns == 0 {
		t.Error("no late check-in recorded: the schedules were meant to make every first check-in late")
	}

	// Each server takes a share of the work. Which member of a group an
	// entry goes to is Redis's choice: on a busy machine one process can be
	// served the whole of a short load (server B none of it, once, in a
	// run of the whole suite), so check-ins go on until each server has
	// handled some. A server whose consumers do not read never does.
	handled := map[string]float64{}
	eventually(t, time.Minute, "each server handled events", func() bool {
		idle := false
		for _, c := range servers {
			handled[c.proc.name] = metricSum(t, c.base, "et_consumer_handled_events_total")
			idle = idle || handled[c.proc.name] == 0
		}
		if idle {
			servers[0].must(t, http.StatusCreated, "POST", "/api/attendance/", staff[2].token, map[string]string{"type": "check-in"})
			servers[1].must(t, http.StatusCreated, "POST", "/api/attendance/", staff[2].token, map[string]string{"type": "check-out"})
		}
		return !idle
	}, func() string { return fmt.Sprintf("events handled: %v", handled) })

	// SIGTERM stops each process cleanly.
	for _, p := range []*process{worker, a.proc, b.proc} {
		p.terminate(t)
	}
}

// metricSum adds up every series of a counter or gauge on base's /metrics.
func metricSum(t *testing.T, base, name string) float64 {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("metrics of %s: %v", base, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, line := range strings.Split(string(b), "\n") {
		series, value, ok := strings.Cut(line, " ")
		if !ok || (series != name && !strings.HasPrefix(series, name+"{")) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// buildBinaries builds cmd/server and cmd/worker into a temporary directory.
func buildBinaries(t *testing.T) string {
	t.Helper()
	began := time.Now()
	defer func() { t.Logf("built the binaries in %s", time.Since(began).Round(time.Millisecond)) }()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"github.com/acme/employee-tracking/cmd/server", "github.com/acme/employee-tracking/cmd/worker")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// process is a running binary whose output goes to a file shown on failure.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// start runs bin/name with env plus extra; the process is killed at cleanup
// if it still runs.
func start(t *testing.T, bin, name string, env []string, extra ...string) *process {
	t.Helper()
	exe := name
	if strings.HasPrefix(name, "server") {
		exe = "server"
	}
	logf, err := os.CreateTemp(t.TempDir(), name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, exe))
	cmd.Env = append(append([]string{"PATH=" + os.Getenv("PATH")}, env...), extra...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logf.Name(), done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("%s (pid %d) log:\n%s", name, cmd.Process.Pid, b)
		}
	})
	return p
}

func (p *process) waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready: %v", p.name, p.err)
		default:
		}
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 30s (last: %v)", p.name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends the process at once, as a crash or an OOM kill would.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	<-p.done
}

// terminate sends SIGTERM and wants a clean exit.
func (p *process) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM %s: %v", p.name, err)
		return
	}
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("%s after SIGTERM: %v, want exit status 0", p.name, p.err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%s still running 30s after SIGTERM", p.name)
	}
}

// client talks HTTP to one server.
type client struct {
	base string
	proc *process
}

func startServer(t *testing.T, bin, name string, env []string, extra ...string) *client {
	t.Helper()
	addr := "127.0.0.1:" + testenv.FreePort(t)
	p := start(t, bin, name, env, append(extra, "HTTP_ADDR="+addr)...)
	c := &client{base: "http://" + addr, proc: p}
	p.waitReady(t, c.base)
	return c
}

type response struct {
	status int
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// do sends body as JSON; headers come in name, value pairs. It may run on
// other goroutines than the test's, so it reports with Errorf.
func (c *client) do(t *testing.T, method, path, token string, body any, headers ...string) response {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Errorf("encode %v: %v", body, err)
			return response{}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, rd)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return response{}
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s %s%s: %v", method, c.base, path, err)
		return response{}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: b}
}

func (c *client) must(t *testing.T, status int, method, path, token string, body any) response {
	r := c.do(t, method, path, token, body)
	if r.status != status {
		t.Errorf("%s %s%s = %s, want %d", method, c.base, path, r, status)
	}
	return r
}

type user struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	token string
}

func (c *client) login(t *testing.T, email, pw string) string {
	t.Helper()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	r := c.must(t, http.StatusOK, "POST", "/api/auth/login/", "", map[string]string{"email": email, "password": pw})
	if err := json.Unmarshal(r.body, &out); err != nil || out.AccessToken == "" {
		t.Fatalf("login %s = %s, want a token", email, r)
	}
	return out.AccessToken
}

// register creates a user with a schedule that makes a check-in now late,
// and logs them in.
func (c *client) register(t *testing.T, adminToken, role, managerID string) user {
	t.Helper()
	body := map[string]any{
		"email": role + "-" + testenv.RandomHex(4) + "@example.com", "password": password, "full_name": "Test " + role,
		"role": role, "hire_date": "2024-01-01", "schedule": testenv.LateSchedule(),
	}
	if managerID != "" {
		body["manager_id"] = managerID
	}
	var u user
	r := c.must(t, http.StatusCreated, "POST", "/api/employees/", adminToken, body)
	if err := json.Unmarshal(r.body, &u); err != nil || u.ID == "" {
		t.Fatalf("register = %s, want an employee", r)
	}
	u.token = c.login(t, u.Email, password)
	return u
}

// eventually retries check until it reports true or within passes; explain,
// if given, says what was still wrong.
func eventually(t *testing.T, within time.Duration, what string, check func() bool, explain ...func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !check() {
		if time.Now().After(deadline) {
			var why string
			for _, e := range explain {
				why += "\n" + e()
			}
			t.Fatalf("%s: not true after %s%s", what, within, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// smallPoolsURL is a fresh database's URL whose pools (the API's and the
// pipeline's) hold 8 connections each: the packages' tests run side by side
// on one Postgres of 100 connections, and the programs' defaults would take
// 24 each.
func smallPoolsURL(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "8")
	u.RawQuery = q.Encode()
	return u.String()
}
