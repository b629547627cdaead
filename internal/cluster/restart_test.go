package cluster

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/internal/testenv"
)

// TestKilledServerRestartedConverges kills a server with SIGKILL in the
// middle of check-ins and starts it again: every check-in it acknowledged is
// in the store, and reaches the attendance read model within 5 s of the
// restart, with no further event to help it along. Messages the killed
// process had read and not acknowledged are read again by the restarted one
// at once, under its former consumer names, rather than claimed after 30 s.
//
// It runs before the parallel tests of the package, and with small pools:
// the servers of TestSeveralInstances beside its own would take more
// connections than Postgres allows by default.
func TestKilledServerRestartedConverges(t *testing.T) {
	const (
		staff       = 1000
		concurrency = 16
		convergeIn  = 5 * time.Second
	)
	bin := buildBinaries(t)
	dbURL := testdb.URL(t)
	small, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := small.Query()
	q.Set("pool_max_conns", "8")
	small.RawQuery = q.Encode()
	env := []string{
		"DATABASE_URL=" + small.String(),
		"REDIS_URL=redis://127.0.0.1:6379/0",
		"REDIS_PREFIX=test." + testenv.RandomHex(6) + ".",
		"JWT_SECRET=restart-" + testenv.RandomHex(8),
		"BCRYPT_COST=4",
		"LOG_LEVEL=warn",
	}
	a := startServer(t, bin, "server", env, "ADMIN_EMAIL="+adminEmail, "ADMIN_PASSWORD="+adminPassword)
	admin := a.login(t, adminEmail, adminPassword)
	mgr := a.register(t, admin, "manager", "")
	users := make([]user, staff)
	parallel(staff, concurrency, func(i int) { users[i] = a.register(t, admin, "employee", mgr.ID) })
	if t.Failed() {
		t.FailNow()
	}

	// Check everyone in; kill the server once half the check-ins are
	// acknowledged, while the others are still being sent.
	var mu sync.Mutex
	var acked []string
	killed := make(chan struct{})
	var killOnce sync.Once
	parallel(staff, concurrency, func(i int) {
		select {
		case <-killed:
			return
		default:
		}
		if !checkIn(a.base, users[i].token) {
			return // sent to a server being killed
		}
		mu.Lock()
		acked = append(acked, users[i].ID)
		half := len(acked) == staff/2
		mu.Unlock()
		if half {
			killOnce.Do(func() {
				a.proc.kill(t)
				close(killed)
			})
		}
	})
	t.Logf("killed the server with %d check-ins acknowledged", len(acked))

	pool, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := pool.QueryRow(t.Context(), sql, acked).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count(`SELECT count(DISTINCT stream_id) FROM events WHERE type = 'attendance.checked_in' AND stream_id = ANY (SELECT 'attendance-' || unnest($1::text[]))`); got != len(acked) {
		t.Fatalf("acknowledged check-ins in the store: %d, want %d", got, len(acked))
	}

	restarted := time.Now()
	b := startServer(t, bin, "server-restarted", env)
	ready := time.Since(restarted)
	projected := func() int {
		return count(`SELECT count(*) FROM attendance_days WHERE employee_id = ANY ($1::uuid[]) AND check_in IS NOT NULL`)
	}
	for projected() < len(acked) {
		if time.Since(restarted) > time.Minute {
			t.Fatalf("%d of %d acknowledged check-ins in the attendance read model a minute after the restart", projected(), len(acked))
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(restarted)
	t.Logf("every acknowledged check-in in the attendance read model %s after the restart (ready after %s)",
		took.Round(time.Millisecond), ready.Round(time.Millisecond))
	if took > convergeIn {
		t.Errorf("the attendance read model converged %s after the restart, want at most %s", took.Round(time.Millisecond), convergeIn)
	}
	b.proc.terminate(t)
}

// parallel runs do(i) for each i below n, on workers goroutines.
func parallel(n, workers int, do func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				do(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// checkIn checks the token's user in on base; it reports whether the server
// acknowledged it, and fails on nothing: the server may be dying.
func checkIn(base, token string) bool {
	req, err := http.NewRequestWithContext(context.Background(), "POST", base+"/api/attendance/", bytes.NewReader([]byte(`{"type":"check-in"}`)))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusCreated
}
