package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/audit"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/eventstore/seal"
	"github.com/acme/employee-tracking/internal/testdb"
)

// plainStore writes what the program stored before personal fields were
// sealed: each event's JSON as json.Marshal writes it, names and reasons in
// the clear, notifications without their subject. It returns the payloads by
// stream and version, and the personal texts written.
func plainStore(t *testing.T, pool *pgxpool.Pool, employees int) (map[string][]eventstore.Payload, []string) {
	t.Helper()
	ctx := context.Background()
	streams := map[string][]eventstore.Payload{}
	// The events go in each employee's turn, as a company's history has
	// them: a run stopped midway has rewritten whole employees, whose texts
	// are gone from the store. (In the order of a map's streams, the
	// manager's notifications, which name every employee, could come first.)
	type stored struct {
		stream string
		index  int // in streams[stream]: version index+1
	}
	var order []stored
	var texts []string
	at := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	mgr := uuid.NewString()
	day := calendar.Date{Year: 2025, Month: time.March, Day: 10}
	for i := range employees {
		id := uuid.NewString()
		name, reason, note := fmt.Sprintf("Ayşe Plain %04d.", i), fmt.Sprintf("plain reason %04d.", i), fmt.Sprintf("plain note %04d.", i)
		texts = append(texts, name, reason, note)
		req := uuid.NewString()
		streams[employee.Stream(id)] = []eventstore.Payload{employee.Registered{
			EmployeeID: id, Email: fmt.Sprintf("plain%d@example.com", i), FullName: name, Role: employee.RoleEmployee, ManagerID: mgr,
			Position: "Engineer", HireDate: day, Schedule: employee.Schedule{Timezone: "UTC", WorkStart: 480, WorkEnd: 1020, Workdays: []int{1, 2, 3, 4, 5}},
		}}
		streams[leave.Stream(id)] = []eventstore.Payload{
			leave.Granted{EmployeeID: id, Year: 2025, Amount: 15 * 480, Reason: "annual leave"},
			leave.EntitlementSet{EmployeeID: id, Year: 2025, Amount: 20 * 480, Previous: 15 * 480, Reason: reason, SetBy: mgr},
			leave.Requested{RequestID: req, EmployeeID: id, StartDate: day, EndDate: day, Days: 1, Dates: []calendar.Date{day}, Amount: 480, Year: 2025, Reason: reason, RequestedAt: at},
			leave.Approved{RequestID: req, EmployeeID: id, Year: 2025, Amount: 480, DecidedBy: mgr, Note: note, DecidedAt: at},
		}
		streams[attendance.Stream(id)] = []eventstore.Payload{attendance.CheckedIn{EmployeeID: id, At: at, LocalDate: day, Timezone: "UTC", Workday: true}}
		msg, data := notification.LeaveRequested(name, id, req, day, day, 1)
		streams[notification.Stream(mgr)] = append(streams[notification.Stream(mgr)], notification.Raised{
			NotificationID: uuid.NewString(), RecipientID: mgr, Type: notification.TypeLeaveRequested, Message: msg, Data: data,
			CauseEventID: uuid.NewString(), RaisedAt: at,
		})
		for _, s := range []string{employee.Stream(id), leave.Stream(id), attendance.Stream(id)} {
			for v := range streams[s] {
				order = append(order, stored{s, v})
			}
		}
		order = append(order, stored{notification.Stream(mgr), i})
	}
	var batch pgx.Batch
	for _, o := range order {
		p := streams[o.stream][o.index]
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		batch.Queue(`INSERT INTO events (event_id, stream_id, version, type, schema_version, data, metadata)
			VALUES ($1, $2, $3, $4, 1, $5, '{"actor":"test"}')`, uuid.New(), o.stream, o.index+1, p.EventName(), data)
	}
	if err := pool.SendBatch(ctx, &batch).Close(); err != nil {
		t.Fatal(err)
	}
	return streams, texts
}

// errKilled stops a run of the migration midway, as a kill would.
var errKilled = errors.New("killed")

// TestEncryptPersonal: on a store written before personal fields were
// sealed, the migration seals every one of them, resumes after a kill
// midway, reads back every event as it was, and refuses to break seals
// unless it keeps them in a pack, which then still checks offline.
func TestEncryptPersonal(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.URL(t)}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	pool, store, _, err := openStore(ctx, getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	const employees = 400
	streams, texts := plainStore(t, pool, employees)
	if n := plainTexts(t, pool, texts); n == 0 {
		t.Fatal("the plain store holds no personal text: the test would prove nothing")
	}
	sealer := seal.NewSealer(pool, time.Second, slog.New(slog.DiscardHandler))
	for sealed := 0; sealed < employees*7; {
		n, err := sealer.CatchUp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sealed += n
	}
	if _, err := pool.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, status, body) VALUES ($1, 'k', '\x00', 201, $2)`,
		uuid.New(), []byte(`{"full_name":"`+texts[0]+`"}`)); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := run(ctx, getenv, &out, []string{"encrypt-personal"}); err == nil || !strings.Contains(err.Error(), "-export-seals-to") {
		t.Fatalf("with seals and no pack: %v, want a refusal naming -export-seals-to", err)
	}
	if n := plainTexts(t, pool, texts); n == 0 {
		t.Fatal("the refused run rewrote events")
	}

	// A run killed after its second batch.
	pack := filepath.Join(t.TempDir(), "before.json")
	m := personalMigration{pool: pool, codec: store.Codec(), batch: 100, out: &out}
	killedAt := 0
	m.afterBatch = func(rewritten int) {
		if killedAt == 0 && rewritten >= 200 {
			killedAt = rewritten
			panic(errKilled)
		}
	}
	func() {
		defer func() {
			if r := recover(); r != errKilled {
				t.Fatalf("the run was not killed: %v", r)
			}
		}()
		_ = m.run(ctx, pack)
	}()
	left := plainTexts(t, pool, texts)
	if killedAt == 0 || left == 0 || left == len(texts) {
		t.Fatalf("killed after %d rewrites, %d of %d texts left in the clear; want a run stopped midway", killedAt, left, len(texts))
	}
	b, err := os.ReadFile(pack)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := audit.CheckPack(b); err != nil || r.Failure != nil || r.Events != employees*7 {
		t.Errorf("the pack of the chain before the rewrite: %+v, %v; want it to check, with %d events", r, err, employees*7)
	}

	// The rerun finishes; a third run finds nothing to do.
	out.Reset()
	if err := run(ctx, getenv, &out, []string{"encrypt-personal", "-batch", "100"}); err != nil {
		t.Fatal(err)
	}
	if n := plainTexts(t, pool, texts); n != 0 {
		t.Errorf("%d personal texts still in the clear after the rerun", n)
	}
	out.Reset()
	if err := run(ctx, getenv, &out, []string{"encrypt-personal"}); err != nil || !strings.Contains(out.String(), "nothing to seal") {
		t.Errorf("a third run: %v, %q; want nothing rewritten", err, out.String())
	}
	var records int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys`).Scan(&records); err != nil || records != 0 {
		t.Errorf("idempotency records after the migration: %d, %v", records, err)
	}

	// Every event reads as it was written; notifications now name their subject.
	for stream, want := range streams {
		got, err := store.Load(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		payloads := make([]eventstore.Payload, len(got))
		for i, e := range got {
			payloads[i] = e.Payload
			if r, ok := e.Payload.(notification.Raised); ok {
				if r.SubjectID != r.Data["employee_id"] {
					t.Errorf("notification %s: subject %q, want the employee its data names", r.NotificationID, r.SubjectID)
				}
				r.SubjectID = ""
				payloads[i] = r
			}
		}
		if diff := cmp.Diff(want, payloads); diff != "" {
			t.Fatalf("%s after the migration (-want +got):\n%s", stream, diff)
		}
	}

	// The sealer starts a new chain over the rewritten store, which verifies.
	for sealed := 0; sealed < employees*7; {
		n, err := sealer.CatchUp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sealed += n
	}
	if r, err := seal.New(pool).Verify(ctx, 1, 0); err != nil || r.Failure != nil || r.Events != employees*7 {
		t.Errorf("the new chain: %+v, %v", r, err)
	}
}

// plainTexts counts the texts found in the clear in the stored events.
func plainTexts(t *testing.T, pool *pgxpool.Pool, texts []string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM unnest($1::text[]) x
		WHERE EXISTS (SELECT 1 FROM events WHERE strpos(data::text, x) > 0)`, texts).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
