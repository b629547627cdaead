package projections

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// TestChaseApprovalsOnce: hundreds of steps left pending, more than one page
// of the due-time query, chased by runners of two instances at once, then by
// one restarted while the read model still shows them owed: each approver is
// reminded once after APPROVAL_REMINDER_AFTER, and each step escalated once to
// the approver's manager after APPROVAL_ESCALATE_AFTER, who is told once.
func TestChaseApprovalsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	clock := newTestClock()
	p := e.pipeline(testSettings(), clock.now)
	stop := e.start(p)

	sched := schedule("Europe/Istanbul")
	head := e.register("Ayşe Kaya", employee.RoleManager, "", sched, "2024-01-01")
	mgr := e.register("Mehmet Demir", employee.RoleManager, head, sched, "2024-01-01")
	const waiting = 520
	for range waiting {
		id := e.register("Bekleyen", employee.RoleEmployee, mgr, sched, "2024-01-01")
		e.leave(id, leave.FileRequest{
			Request:   leave.Request{RequestID: uuid.NewString(), EmployeeID: id, Start: date("2024-12-02"), End: date("2024-12-03"), Workdays: sched.Workdays, Employment: leave.Employment{HireDate: date("2024-01-01")}},
			Approvers: map[approval.Role]approval.Assignment{approval.RoleManager: {ApproverID: mgr}},
		})
	}
	filed := time.Date(2024, 11, 1, 9, 0, 0, 0, time.UTC) // e.leave's clock
	pipelinetest.Eventually(t, "requests projected", e.caughtUp)
	// The pipeline's own runner would race this test's: the read model stays
	// as it is from here on.
	stop()

	events := func(typ string) int {
		return e.count(`SELECT count(*) FROM events WHERE type = $1`, typ)
	}

	clock.set(filed.Add(48*time.Hour - time.Second))
	e.onceAll(p.chaseApprovals())
	if got := events("leave.approval_reminded"); got != 0 {
		t.Fatalf("before due: %d reminders, want 0", got)
	}
	clock.set(filed.Add(48 * time.Hour))
	e.onceAll(p.chaseApprovals(), p.chaseApprovals())
	if got := events("leave.approval_reminded"); got != waiting {
		t.Fatalf("two runners: %d reminders, want %d", got, waiting)
	}
	// Restarted, the read model still shows every step owed its reminder.
	clock.set(filed.Add(95 * time.Hour))
	e.onceAll(p.chaseApprovals())
	if got, esc := events("leave.approval_reminded"), events("leave.approval_escalated"); got != waiting || esc != 0 {
		t.Fatalf("after a restart: %d reminders and %d escalations, want %d and 0", got, esc, waiting)
	}
	clock.set(filed.Add(96 * time.Hour))
	e.onceAll(p.chaseApprovals(), p.chaseApprovals())
	e.onceAll(p.chaseApprovals())
	if got := events("leave.approval_escalated"); got != waiting {
		t.Fatalf("escalations: %d, want %d", got, waiting)
	}
	if got := events("leave.approval_reminded"); got != waiting {
		t.Fatalf("reminders after the escalations: %d, want %d", got, waiting)
	}

	e.start(p)
	pipelinetest.Eventually(t, "chases projected", e.caughtUp)
	if n, err := p.chaseApprovals().Once(context.Background()); err != nil || n != 0 {
		t.Errorf("a runner once all is projected: %d chased, %v; want 0", n, err)
	}
	told := func(user string, typ notification.Type) func() (bool, error) {
		return func() (bool, error) {
			return e.count(`SELECT count(*) FROM events WHERE stream_id = $1 AND data->>'type' = $2`,
				notification.Stream(user), string(typ)) == waiting, nil
		}
	}
	pipelinetest.Eventually(t, "the manager reminded once per step", told(mgr, notification.TypeApprovalReminder))
	pipelinetest.Eventually(t, "the manager's manager told once per step", told(head, notification.TypeApprovalEscalated))
	if got := e.count(`SELECT count(*) FROM leave_approvals WHERE reminded AND escalated AND awaited_step = 1`); got != waiting {
		t.Errorf("steps reminded and escalated in the read model: %d, want %d", got, waiting)
	}
	for _, n := range e.inbox(head) {
		if n.Type == notification.TypeApprovalEscalated && (n.Data["request_id"] == nil || n.Data["waiting_since"] != "2024-11-01T09:00:00Z") {
			t.Fatalf("escalation's data = %v", n.Data)
		}
	}
}

// TestChaseCorrectionApprovalsOnce: corrections filed along a chain and left
// pending are chased beside the leave requests, by the same runners: two at
// once, then one restarted while the read model still shows them owed. Each
// correction's approver is reminded once, and each step escalated once to the
// approver's manager, who is told once and then holds the step.
func TestChaseCorrectionApprovalsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	clock := newTestClock()
	p := e.pipeline(testSettings(), clock.now)
	stop := e.start(p)

	sched := schedule("Europe/Istanbul")
	head := e.register("Ayşe Kaya", employee.RoleManager, "", sched, "2024-01-01")
	mgr := e.register("Mehmet Demir", employee.RoleManager, head, sched, "2024-01-01")
	filed := time.Date(2024, 11, 1, 9, 0, 0, 0, time.UTC)
	const waiting = 6
	var corrections []string
	for range waiting {
		id := e.register("Düzelten", employee.RoleEmployee, mgr, sched, "2024-01-01")
		correction := uuid.NewString()
		corrections = append(corrections, correction)
		e.update(attendance.Stream(id), func(h []any) ([]any, error) {
			return attendance.DecideCorrection(attendance.ReplayRecord(h), attendance.RequestCorrection{
				CorrectionID: correction, EmployeeID: id, Date: date("2024-10-31"), By: id, Reason: "the reader was down",
				CheckIn: time.Date(2024, 10, 31, 5, 0, 0, 0, time.UTC), CheckOut: time.Date(2024, 10, 31, 14, 0, 0, 0, time.UTC),
				Schedule: sched, Rules: attendance.DefaultRules(),
				Steps: []approval.Role{approval.RoleManager, approval.RoleSecondManager}, First: approval.Assignment{ApproverID: mgr},
			}, filed)
		})
		// A request beside it, so that one runner chases both kinds.
		e.leave(id, leave.FileRequest{
			Request:   leave.Request{RequestID: uuid.NewString(), EmployeeID: id, Start: date("2024-12-02"), End: date("2024-12-02"), Workdays: sched.Workdays, Employment: leave.Employment{HireDate: date("2024-01-01")}},
			Approvers: map[approval.Role]approval.Assignment{approval.RoleManager: {ApproverID: mgr}},
		})
	}
	pipelinetest.Eventually(t, "corrections projected", e.caughtUp)
	if got := e.count(`SELECT count(*) FROM correction_approvals WHERE awaited_step = 1 AND approver_id = $1`, mgr); got != waiting {
		t.Fatalf("corrections awaiting the manager in the read model: %d, want %d", got, waiting)
	}
	stop()

	events := func(typ string) int {
		return e.count(`SELECT count(*) FROM events WHERE type = $1`, typ)
	}
	clock.set(filed.Add(48*time.Hour - time.Second))
	e.onceAll(p.chaseApprovals())
	if got := events("attendance.correction_reminded"); got != 0 {
		t.Fatalf("before due: %d reminders, want 0", got)
	}
	clock.set(filed.Add(48 * time.Hour))
	e.onceAll(p.chaseApprovals(), p.chaseApprovals())
	if got, leaves := events("attendance.correction_reminded"), events("leave.approval_reminded"); got != waiting || leaves != waiting {
		t.Fatalf("two runners: %d correction and %d leave reminders, want %d each", got, leaves, waiting)
	}
	// Restarted, the read model still shows every step owed.
	clock.set(filed.Add(96 * time.Hour))
	e.onceAll(p.chaseApprovals(), p.chaseApprovals())
	e.onceAll(p.chaseApprovals())
	if got, rem := events("attendance.correction_escalated"), events("attendance.correction_reminded"); got != waiting || rem != waiting {
		t.Fatalf("after a restart: %d escalations and %d reminders, want %d each", got, rem, waiting)
	}

	e.start(p)
	pipelinetest.Eventually(t, "chases projected", e.caughtUp)
	if n, err := p.chaseApprovals().Once(context.Background()); err != nil || n != 0 {
		t.Errorf("a runner once all is projected: %d chased, %v; want 0", n, err)
	}
	told := func(user string, typ notification.Type) func() (bool, error) {
		return func() (bool, error) {
			n := 0
			for _, r := range e.inbox(user) {
				if r.Type == typ && slices.Contains(corrections, fmt.Sprint(r.Data["correction_id"])) {
					n++
				}
			}
			return n == waiting, nil
		}
	}
	pipelinetest.Eventually(t, "the manager told of each correction once", told(mgr, notification.TypeCorrectionRequested))
	pipelinetest.Eventually(t, "the manager reminded once per correction", told(mgr, notification.TypeApprovalReminder))
	pipelinetest.Eventually(t, "the manager's manager told once per correction", told(head, notification.TypeApprovalEscalated))
	if got := e.count(`SELECT count(*) FROM correction_approvals WHERE reminded AND escalated AND escalated_to = $1`, head); got != waiting {
		t.Errorf("corrections escalated to the manager's manager in the read model: %d, want %d", got, waiting)
	}
	for _, n := range e.inbox(head) {
		if n.Type == notification.TypeApprovalEscalated && n.Data["correction_id"] != nil && n.Data["waiting_since"] != "2024-11-01T09:00:00Z" {
			t.Fatalf("escalation's data = %v", n.Data)
		}
	}

	// Whom each step was escalated to finds it in the lists, beside the
	// approver; nobody else does.
	q := readmodel.NewQueries(e.pool)
	awaiting := func(holder string) (corrections, requests int) {
		f := query.RequestFilter{Holder: &query.StepHolder{EmployeeID: holder, Today: date("2024-11-05")}, AwaitingOnly: true, Limit: 500}
		cs, _, err := q.ListCorrections(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		rs, _, err := q.ListLeaveRequests(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		return len(cs), len(rs)
	}
	for _, holder := range []string{head, mgr} {
		if cs, rs := awaiting(holder); cs != waiting || rs != waiting {
			t.Errorf("awaiting %s: %d corrections and %d requests, want %d each", holder, cs, rs, waiting)
		}
	}
	if cs, rs := awaiting(uuid.NewString()); cs != 0 || rs != 0 {
		t.Errorf("awaiting someone else: %d corrections and %d requests, want none", cs, rs)
	}
}
