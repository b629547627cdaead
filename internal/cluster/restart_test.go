package cluster

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/internal/testenv"
)

// TestKilledServerRestartedConverges kills a server with SIGKILL in the
// middle of check-ins and starts it again: every check-in it acknowledged is
// in the store, and reaches the attendance read model within 5 s of the
// restart, with no further event to help it along. Messages the killed
// process had read and not acknowledged are read again by the restarted one
// at once, under its former consumer names, rather than claimed after 30 s.
//
// The tests of this file run before the parallel test of the package, and
// with small pools: the servers of TestSeveralInstances beside their own
// would take more connections than Postgres allows by default.
func TestKilledServerRestartedConverges(t *testing.T) {
	k := killMidCheckIns(t, 0)
	restarted := time.Now()
	b := startServer(t, k.bin, "server-restarted", k.env)
	ready := time.Since(restarted)
	took := k.waitProjected(t, restarted)
	t.Logf("every acknowledged check-in in the attendance read model %s after the restart (ready after %s)",
		took.Round(time.Millisecond), ready.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("the attendance read model converged %s after the restart, want at most 5s", took.Round(time.Millisecond))
	}
	b.proc.terminate(t)
}

// TestKilledServerTakenOverByAnother kills a server with SIGKILL in the
// middle of check-ins while another runs beside it, and starts it no more:
// the other takes over what the killed one had read and not acknowledged once
// its heartbeat is 5 s old, rather than claiming it after 30 s.
func TestKilledServerTakenOverByAnother(t *testing.T) {
	k := killMidCheckIns(t, 1)
	took := k.waitProjected(t, k.killedAt)
	t.Logf("every acknowledged check-in in the attendance read model %s after the kill", took.Round(time.Millisecond))
	// 5 s until the heartbeat counts as stopped, then a margin.
	if took > 10*time.Second {
		t.Errorf("the attendance read model converged %s after the kill, want at most 10s", took.Round(time.Millisecond))
	}
	k.others[0].proc.terminate(t)
}

// killed is a server killed in the middle of check-ins.
type killed struct {
	bin      string
	env      []string
	pool     *pgxpool.Pool
	acked    []string // the employees whose check-in the server acknowledged
	killedAt time.Time
	others   []*client
}

// killMidCheckIns starts a server and others beside it, checks 1,000
// employees in through the first, and kills it with SIGKILL once half the
// check-ins are acknowledged, while the others are still being sent.
func killMidCheckIns(t *testing.T, others int) *killed {
	const (
		staff       = 1000
		concurrency = 16
	)
	k := &killed{bin: buildBinaries(t)}
	dbURL := smallPoolsURL(t)
	k.env = []string{
		"DATABASE_URL=" + dbURL,
		"REDIS_URL=redis://127.0.0.1:6379/0",
		"REDIS_PREFIX=test." + testenv.RandomHex(6) + ".",
		"JWT_SECRET=restart-" + testenv.RandomHex(8),
		"BCRYPT_COST=4",
		"LOG_LEVEL=warn",
	}
	a := startServer(t, k.bin, "server", k.env, "ADMIN_EMAIL="+adminEmail, "ADMIN_PASSWORD="+adminPassword)
	for i := range others {
		k.others = append(k.others, startServer(t, k.bin, "server-beside-"+strconv.Itoa(i), k.env))
	}
	admin := a.login(t, adminEmail, adminPassword)
	mgr := a.register(t, admin, "manager", "")
	users := make([]user, staff)
	parallel(staff, concurrency, func(i int) { users[i] = a.register(t, admin, "employee", mgr.ID) })
	if t.Failed() {
		t.FailNow()
	}

	var mu sync.Mutex
	killing := make(chan struct{})
	var killOnce sync.Once
	parallel(staff, concurrency, func(i int) {
		select {
		case <-killing:
			return
		default:
		}
		if !checkIn(a.base, users[i].token) {
			return // sent to a server being killed
		}
		mu.Lock()
		k.acked = append(k.acked, users[i].ID)
		half := len(k.acked) == staff/2
		mu.Unlock()
		if half {
			killOnce.Do(func() {
				close(killing)
				a.proc.kill(t)
				k.killedAt = time.Now()
			})
		}
	})
	t.Logf("killed the server with %d check-ins acknowledged", len(k.acked))

	var err error
	k.pool, err = pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.pool.Close)
	if got := k.count(t, `SELECT count(DISTINCT stream_id) FROM events WHERE type = 'attendance.checked_in'
		AND stream_id = ANY (SELECT 'attendance-' || unnest($1::text[]))`); got != len(k.acked) {
		t.Fatalf("acknowledged check-ins in the store: %d, want %d", got, len(k.acked))
	}
	return k
}

// count runs a count query of the acknowledged employees ($1).
func (k *killed) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	if err := k.pool.QueryRow(t.Context(), sql, k.acked).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitProjected waits until every acknowledged check-in is in the attendance
// read model, and returns the time since from.
func (k *killed) waitProjected(t *testing.T, from time.Time) time.Duration {
	t.Helper()
	const sql = `SELECT count(*) FROM attendance_days WHERE employee_id = ANY ($1::uuid[]) AND check_in IS NOT NULL`
	for k.count(t, sql) < len(k.acked) {
		if time.Since(from) > time.Minute {
			t.Fatalf("%d of %d acknowledged check-ins in the attendance read model after a minute", k.count(t, sql), len(k.acked))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(from)
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
