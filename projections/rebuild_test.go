package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// randomWorkload appends a month of random attendance, corrections, leave,
// holidays and reads of notifications for a few employees.
func (e *env) randomWorkload(rng *rand.Rand, c company, emps []string) {
	e.t.Helper()
	for _, d := range []string{"2024-12-25", "2024-12-26"} {
		e.declareHoliday(d, "Holiday "+d)
	}
	e.update(holiday.Stream(holiday.Default, 2024), func(h []any) ([]any, error) {
		return holiday.Decide(holiday.Replay(h), holiday.Withdraw{Date: date("2024-12-26")}, time.Now())
	})
	// Another place's calendar, one of its dates also the default's.
	for _, d := range []string{"2024-12-24", "2024-12-25", "2024-12-26"} {
		e.declareHolidayIn("berlin", d, "Feiertag "+d)
	}
	e.update(holiday.Stream("berlin", 2024), func(h []any) ([]any, error) {
		return holiday.Decide(holiday.Replay(h), holiday.Withdraw{Calendar: "berlin", Date: date("2024-12-24")}, time.Now())
	})
	for n, emp := range emps {
		e.leave(emp, leave.Grant{EmployeeID: emp, Year: 2024})
		for day := 2; day <= 20; day++ {
			if rng.IntN(3) == 0 {
				continue
			}
			in := time.Date(2024, 12, day, 4+rng.IntN(3), rng.IntN(60), 0, 0, time.UTC)
			// A day left open is closed by this check-in, at its shift's end.
			e.checkIn(emp, c.sched, in)
			if rng.IntN(5) == 0 { // left open: the last one stays open
				continue
			}
			e.checkOut(emp, in.Add(time.Duration(60+rng.IntN(600))*time.Minute))
			if rng.IntN(4) == 0 { // a second session on some days
				e.checkIn(emp, c.sched, in.Add(11*time.Hour))
				e.checkOut(emp, in.Add(12*time.Hour))
			}
		}
		// Corrections of days worked, left open or never checked in (the
		// 21st): approved, rejected or left pending. The manager files them,
		// so none notifies them while their inbox is read below.
		filed := time.Date(2024, 12, 24, 9, 0, 0, 0, time.UTC)
		for i, day := range []int{3, 9, 15, 21} {
			id := uuid.NewString()
			e.correct(emp, attendance.RequestCorrection{CorrectionID: id, EmployeeID: emp, Date: date(fmt.Sprintf("2024-12-%02d", day)),
				CheckIn: time.Date(2024, 12, day, 3, 30, 0, 0, time.UTC), CheckOut: time.Date(2024, 12, day, 20, 0, 0, 0, time.UTC),
				Reason: "the reader was down", By: c.manager, Schedule: c.sched, Rules: attendance.DefaultRules()}, filed)
			switch (i + rng.IntN(3)) % 3 {
			case 0:
				e.correct(emp, attendance.ApproveCorrection{CorrectionID: id, By: c.manager, Schedule: c.sched}, filed)
			case 1:
				e.correct(emp, attendance.RejectCorrection{CorrectionID: id, By: c.manager, Note: "no"}, filed)
			}
		}
		for i := range 3 {
			id := uuid.NewString()
			start := date("2024-12-02").AddDays(7 * i)
			e.leave(emp, leave.Request{RequestID: id, EmployeeID: emp, Start: start, End: start.AddDays(rng.IntN(3)),
				Reason: "rest", Workdays: c.sched.Workdays, Employment: leave.Employment{HireDate: date("2024-01-01")}})
			switch rng.IntN(4) {
			case 0:
				e.leave(emp, leave.Approve{RequestID: id, By: c.manager})
			case 1:
				e.leave(emp, leave.Reject{RequestID: id, By: c.manager, Note: "busy"})
			case 2:
				e.leave(emp, leave.Approve{RequestID: id, By: c.manager})
				e.leave(emp, leave.Cancel{RequestID: id, By: c.manager})
			}
		}
		// A request of two steps, the first decided for every other
		// employee (rng stays the days' and corrections' alone), the awaited
		// one reminded and escalated: the admin's steps, so that the chain's
		// notifications leave the manager's inbox, marked read below, alone.
		id, awaited := uuid.NewString(), 1
		e.leave(emp, leave.FileRequest{
			Request: leave.Request{RequestID: id, EmployeeID: emp, Start: date("2024-12-23"), End: date("2024-12-24"),
				Workdays: c.sched.Workdays, Employment: leave.Employment{HireDate: date("2024-01-01")}},
			Policy:    approval.Policy{Rules: []approval.Rule{{Steps: []approval.Role{approval.RoleManager, approval.RoleAdmin}}}},
			Approvers: map[approval.Role]approval.Assignment{approval.RoleManager: {ApproverID: c.admin}},
		})
		if n%2 == 0 {
			e.leave(emp, leave.DecideStep{RequestID: id, Step: 1, Approve: true, By: c.admin})
			awaited = 2
		}
		e.leave(emp, leave.Remind{RequestID: id, Step: awaited})
		e.leave(emp, leave.Escalate{RequestID: id, Step: awaited, To: c.admin})
	}
	for i, delegate := range emps[:2] {
		id := uuid.NewString()
		e.update(approval.DelegationStream(c.manager), func(h []any) ([]any, error) {
			return approval.ReplayDelegations(h).Decide(approval.Delegate{DelegationID: id, ManagerID: c.manager, DelegateID: delegate,
				Start: date("2024-12-02"), End: date("2024-12-06"), By: c.manager}, time.Now())
		})
		if i == 0 {
			e.update(approval.DelegationStream(c.manager), func(h []any) ([]any, error) {
				return approval.ReplayDelegations(h).Revoke(id, c.manager, time.Now())
			})
		}
	}
	// The sagas may still be notifying the manager: marking one read waits
	// for the inbox to settle, or it loses the race to each new one.
	pipelinetest.Eventually(e.t, "notifications settled", func() (bool, error) {
		before := len(e.inbox(c.manager))
		time.Sleep(300 * time.Millisecond)
		return before > 0 && len(e.inbox(c.manager)) == before, nil
	})
	for _, n := range e.inbox(c.manager)[:1] {
		e.update(notification.Stream(c.manager), func(h []any) ([]any, error) {
			return notification.Decide(notification.Replay(h), notification.MarkRead{NotificationID: n.NotificationID}, time.Now())
		})
	}
}

func TestRebuildEqualsLive(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	e.start(e.pipeline(testSettings(), quietClock))
	c := e.company()
	emps := []string{c.emp}
	for range 3 {
		emps = append(emps, e.register("Worker", employee.RoleEmployee, c.manager, c.sched, "2024-01-01"))
	}
	e.randomWorkload(rand.New(rand.NewPCG(1, 2)), c, emps)
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	ctx := context.Background()
	for _, sql := range []string{
		`SELECT count(*) FROM attendance_days WHERE corrected`,
		`SELECT count(*) FROM attendance_corrections WHERE status = 'rejected'`,
		`SELECT count(*) FROM attendance_corrections WHERE status = 'pending'`,
	} {
		if e.count(sql) == 0 {
			t.Fatalf("%s: got 0, want the workload to hold some", sql)
		}
	}

	var out bytes.Buffer
	diffs, err := Verify(ctx, e.pool, e.store, nil, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diffs != 0 {
		t.Fatalf("verify after a random workload: got %d differences, want 0:\n%s", diffs, out.String())
	}
	if chains, delegations := e.count(`SELECT count(*) FROM leave_approvals WHERE reminded AND escalated`),
		e.count(`SELECT count(*) FROM delegations WHERE revoked`); chains != len(emps) || delegations != 1 {
		t.Fatalf("the workload's chains and revoked delegations: %d and %d, want %d and 1", chains, delegations, len(emps))
	}

	// Verify sees a live row that went wrong, and a rebuild repairs it.
	if _, err := e.pool.Exec(ctx, `UPDATE monthly_hours SET worked_minutes = worked_minutes + 1 WHERE employee_id = $1`, c.emp); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	diffs, err = Verify(ctx, e.pool, e.store, []string{readmodel.MonthlyHours}, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diffs != 1 || !strings.Contains(out.String(), "monthly_hours") || !strings.Contains(out.String(), c.emp) {
		t.Fatalf("verify of a corrupted row: got %d differences, want 1 naming monthly_hours and the employee:\n%s", diffs, out.String())
	}

	// Rebuild while events keep arriving: nothing is lost at the swap.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 10 {
			in := time.Date(2024, 12, 23, 5, i, 0, 0, time.UTC)
			e.checkIn(c.emp, c.sched, in)
			e.checkOut(c.emp, in.Add(30*time.Second))
		}
	}()
	var progress bytes.Buffer
	if err := Rebuild(ctx, e.pool, e.store, nil, &progress); err != nil {
		t.Fatal(err)
	}
	<-done
	if !strings.Contains(progress.String(), "events") {
		t.Errorf("progress: got %q, want a progress bar counting events", progress.String())
	}
	pipelinetest.Eventually(t, "caught up after the rebuild", e.caughtUp)
	out.Reset()
	if diffs, err = Verify(ctx, e.pool, e.store, nil, &out, nil); err != nil || diffs != 0 {
		t.Fatalf("verify after the rebuild: got %d differences (err %v), want 0:\n%s", diffs, err, out.String())
	}
	if got := e.count(`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild_%'`); got != 0 {
		t.Errorf("scratch schemas left: got %d, want 0", got)
	}

	if _, err := Verify(ctx, e.pool, e.store, []string{"payroll"}, &out, nil); !errors.Is(err, ErrUnknownProjection) {
		t.Errorf("verify of an unknown projection: got %v, want ErrUnknownProjection", err)
	}
}

// An event that arrives while a rebuild folds and that can never be applied
// is parked by the catch-up, as the live projector parks it, and the events
// after it are applied.
func TestRebuildCatchUpParksWhatItCannotApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	ctx := context.Background()
	emp := e.register("Worker", employee.RoleEmployee, "", schedule("UTC"), "2024-01-01")
	e.leave(emp, leave.Grant{EmployeeID: emp, Year: 2024})
	var progress bytes.Buffer
	r, err := fold(ctx, e.pool, e.store, []string{readmodel.Leave}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	defer r.drop(ctx)

	// After the fold: a decision on a request nobody made, then a grant.
	stream := leave.Stream(emp)
	unknown := uuid.New()
	if _, err := e.store.Append(ctx, stream, 1,
		eventstore.EventData{ID: unknown, Payload: leave.Approved{RequestID: uuid.NewString(), EmployeeID: emp, Year: 2024, DecidedBy: emp}},
		eventstore.EventData{ID: uuid.New(), Payload: leave.Granted{EmployeeID: emp, Year: 2025, Amount: leave.Days(15)}},
	); err != nil {
		t.Fatal(err)
	}
	// The live projector handled them meanwhile (and parked the first).
	if _, err := e.pool.Exec(ctx, `INSERT INTO projection_versions (projection, stream_id, version) VALUES ($1, $2, 3)`, readmodel.Leave, stream); err != nil {
		t.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error { return r.catchUp(ctx, tx, e.store) })
	if err != nil {
		t.Fatalf("catch-up: %v", err)
	}
	if got := e.count(`SELECT count(*) FROM parked_messages WHERE projection = $1 AND message_id = $2 AND version = 2`, readmodel.Leave, unknown.String()); got != 1 {
		t.Errorf("parked messages of the unknown request's decision: got %d, want 1", got)
	}
	if !strings.Contains(progress.String(), "parked leave.approved "+stream+" v2") {
		t.Errorf("progress: got %q, want the parked event reported", progress.String())
	}
	if got := e.count(`SELECT count(*) FROM `+r.schema+`.leave_balances WHERE employee_id = $1 AND year = 2025`, emp); got != 1 {
		t.Errorf("balances of 2025 in the rebuilt tables: got %d, want 1: the grant after the parked event was not applied", got)
	}
	if got := e.count(`SELECT version FROM `+r.schema+`.projection_versions WHERE projection = $1 AND stream_id = $2`, readmodel.Leave, stream); got != 3 {
		t.Errorf("rebuilt version of %s: got %d, want 3", stream, got)
	}
}

// The rate the progress bar ends with counts the time spent reading the
// store: a store read in one batch showed hundreds of thousands of events a
// second.
func TestRebuildProgressShowsARealRate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	ctx := context.Background()
	for range 20 {
		e.register("Worker", employee.RoleEmployee, "", schedule("UTC"), "2024-01-01")
	}
	var progress bytes.Buffer
	if err := Rebuild(ctx, e.pool, e.store, []string{readmodel.Directory}, &progress); err != nil {
		t.Fatal(err)
	}
	rates := regexp.MustCompile(`([0-9]+) events/s`).FindAllStringSubmatch(progress.String(), -1)
	if len(rates) == 0 {
		t.Fatalf("progress: got %q, want a rate in events/s", progress.String())
	}
	rate, err := strconv.ParseFloat(rates[len(rates)-1][1], 64)
	if err != nil {
		t.Fatal(err)
	}
	// The fold reads the store at least once: it cannot be faster than the
	// quickest read of the same events.
	quickest := time.Hour
	for range 5 {
		start := time.Now()
		if _, _, err := e.store.ReadFeed(ctx, eventstore.Cursor{}, rebuildBatch); err != nil {
			t.Fatal(err)
		}
		quickest = min(quickest, time.Since(start))
	}
	if limit := 20 / quickest.Seconds(); rate > limit {
		t.Errorf("rebuild of 20 events ended showing %.0f events/s, more than the %.0f events/s of reading them alone", rate, limit)
	}
}

// A rebuild swaps its tables in without a deadlock with a query that reads
// two of them: the query holds one while the swap would hold the other.
func TestRebuildSwapWaitsForAQueryReadingTwoOfItsTables(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	e.start(e.pipeline(testSettings(), quietClock))
	c := e.company()
	e.leave(c.emp, leave.Request{RequestID: uuid.NewString(), EmployeeID: c.emp, Start: date("2024-12-02"), End: date("2024-12-03"),
		Workdays: c.sched.Workdays, Employment: leave.Employment{HireDate: date("2024-01-01")}})
	pipelinetest.Eventually(t, "caught up", e.caughtUp)
	ctx := context.Background()
	reader, err := e.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Rollback(ctx)
	// The swap drops leave_requests before leave_approvals: the query holds
	// the second, then reads the first.
	if _, err := reader.Exec(ctx, `SELECT count(*) FROM leave_approvals`); err != nil {
		t.Fatal(err)
	}
	rebuilt := make(chan error, 1)
	go func() {
		rebuilt <- Rebuild(ctx, e.pool, e.store, []string{readmodel.Leave, readmodel.Approvals}, nil)
	}()
	time.Sleep(500 * time.Millisecond) // the rebuild reaches its swap
	if _, err := reader.Exec(ctx, `SELECT count(*) FROM leave_requests`); err != nil {
		t.Fatalf("the query reading both tables: %v", err)
	}
	if err := reader.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-rebuilt:
		if err != nil {
			t.Fatalf("rebuild: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the rebuild never swapped its tables in")
	}
	if n := e.count(`SELECT count(*) FROM leave_requests`); n != 1 {
		t.Errorf("%d leave requests after the rebuild, want 1", n)
	}
}
