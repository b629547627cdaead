package attendance

import (
	"errors"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/approval"
)

// chained files a correction of Monday's check-out along a chain of steps
// whose first step waits on m1.
func chained(t *testing.T, steps ...approval.Role) []any {
	t.Helper()
	day := schedule("UTC", 5, monToFri)
	history := punches(t, day, "in 2024-12-02T08:00:00Z", "out 2024-12-02T12:00:00Z")
	req := request(day, date(2024, time.December, 2), "", "2024-12-02T17:00:00Z")
	req.Steps, req.First = steps, approval.Assignment{ApproverID: "m1"}
	events, err := DecideCorrection(ReplayRecord(history), req, utc("2024-12-10T12:00:00Z"))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	return append(history, events...)
}

func decide(t *testing.T, history []any, cmd CorrectionCommand, at string) []any {
	t.Helper()
	events, err := DecideCorrection(ReplayRecord(history), cmd, utc(at))
	if err != nil {
		t.Fatalf("%T: %v", cmd, err)
	}
	return append(history, events...)
}

func statuses(c Correction) []approval.Status {
	out := make([]approval.Status, len(c.Approvals.Steps))
	for i, s := range c.Approvals.Steps {
		out[i] = s.Status
	}
	return out
}

func TestCorrectionChain(t *testing.T) {
	t.Parallel()
	day := schedule("UTC", 5, monToFri)
	two := []approval.Role{approval.RoleManager, approval.RoleSecondManager}

	t.Run("without steps: no chain, one manager step read from the correction", func(t *testing.T) {
		t.Parallel()
		history := chained(t)
		c, _ := ReplayRecord(history).Correction("c1")
		if c.Chained || len(c.Approvals.Steps) != 1 || c.Approvals.Steps[0].Status != approval.StatusPending {
			t.Fatalf("got %+v, want one pending step and no chain", c)
		}
		history = decide(t, history, ApproveCorrection{CorrectionID: "c1", By: "m1", Schedule: day}, "2024-12-11T09:00:00Z")
		if c, _ := ReplayRecord(history).Correction("c1"); c.Status != Approved || c.Approvals.Steps[0].DecidedBy != "m1" {
			t.Fatalf("got %+v, want approved by m1 in one step", c)
		}
	})

	t.Run("one step: its approval applies the correction", func(t *testing.T) {
		t.Parallel()
		history := chained(t, approval.RoleManager)
		history = decide(t, history, ApproveCorrection{CorrectionID: "c1", By: "m1", Schedule: day, Step: 1}, "2024-12-11T09:00:00Z")
		r := ReplayRecord(history)
		if c, _ := r.Correction("c1"); c.Status != Approved || !c.Chained || statuses(c)[0] != approval.StatusApproved {
			t.Fatalf("got %+v, want approved at its one step", c)
		}
		if !r.Day(date(2024, time.December, 2)).Corrected {
			t.Fatal("the day was not corrected")
		}
	})

	t.Run("two steps: the first opens the second, the second applies", func(t *testing.T) {
		t.Parallel()
		history := chained(t, two...)
		history = decide(t, history, ApproveCorrection{CorrectionID: "c1", By: "m1", Schedule: day, Step: 1,
			Next: approval.Assignment{ApproverID: "h1"}}, "2024-12-11T09:00:00Z")
		c, _ := ReplayRecord(history).Correction("c1")
		if c.Status != Pending || statuses(c)[0] != approval.StatusApproved || statuses(c)[1] != approval.StatusPending ||
			c.Approvals.Steps[1].ApproverID != "h1" {
			t.Fatalf("after step 1: got %+v, want pending at step 2 on h1", c)
		}
		if ReplayRecord(history).Day(date(2024, time.December, 2)).Corrected {
			t.Fatal("a step before the last applied the correction")
		}
		// A decision of the step the correction no longer waits on is refused.
		_, err := DecideCorrection(ReplayRecord(history), ApproveCorrection{CorrectionID: "c1", By: "m1", Schedule: day, Step: 1}, utc("2024-12-11T09:01:00Z"))
		if !errors.Is(err, approval.ErrStepDecided) {
			t.Fatalf("step 1 again: got %v, want ErrStepDecided", err)
		}
		history = decide(t, history, ApproveCorrection{CorrectionID: "c1", By: "h1", Schedule: day, Step: 2}, "2024-12-11T10:00:00Z")
		if c, _ := ReplayRecord(history).Correction("c1"); c.Status != Approved || statuses(c)[1] != approval.StatusApproved || c.DecidedBy != "h1" {
			t.Fatalf("after step 2: got %+v, want approved by h1", c)
		}
	})

	for step := 1; step <= 2; step++ {
		t.Run("rejected at a step: the steps not reached are skipped", func(t *testing.T) {
			t.Parallel()
			history := chained(t, two...)
			if step == 2 {
				history = decide(t, history, ApproveCorrection{CorrectionID: "c1", By: "m1", Schedule: day, Step: 1,
					Next: approval.Assignment{ApproverID: "h1"}}, "2024-12-11T09:00:00Z")
			}
			history = decide(t, history, RejectCorrection{CorrectionID: "c1", By: "x", Step: step}, "2024-12-11T11:00:00Z")
			c, _ := ReplayRecord(history).Correction("c1")
			want := []approval.Status{approval.StatusRejected, approval.StatusSkipped}
			if step == 2 {
				want = []approval.Status{approval.StatusApproved, approval.StatusRejected}
			}
			if got := statuses(c); c.Status != Rejected || got[0] != want[0] || got[1] != want[1] {
				t.Fatalf("got %v (%s), want %v rejected", got, c.Status, want)
			}
		})
	}

	t.Run("reminded and escalated once each, when owed", func(t *testing.T) {
		t.Parallel()
		history := chained(t, two...) // opened 2024-12-10T12:00
		timing := approval.Timing{RemindAfter: time.Hour, EscalateAfter: 2 * time.Hour}
		remind := RemindCorrection{CorrectionID: "c1", Step: 1, Timing: timing}
		escalate := EscalateCorrection{CorrectionID: "c1", Step: 1, To: "h1", Timing: timing}
		if events, _ := DecideCorrection(ReplayRecord(history), remind, utc("2024-12-10T12:59:00Z")); len(events) != 0 {
			t.Fatalf("reminder before it is due: %v", events)
		}
		history = decide(t, history, remind, "2024-12-10T13:00:00Z")
		history = decide(t, history, escalate, "2024-12-10T14:00:00Z")
		for _, cmd := range []CorrectionCommand{remind, escalate} {
			if events, _ := DecideCorrection(ReplayRecord(history), cmd, utc("2024-12-10T15:00:00Z")); len(events) != 0 {
				t.Fatalf("%T again: %v", cmd, events)
			}
		}
		c, _ := ReplayRecord(history).Correction("c1")
		if s := c.Approvals.Steps[0]; !s.Reminded || !s.Escalated || s.EscalatedTo != "h1" || !s.HeldBy("h1", nil, date(2024, time.December, 10)) {
			t.Fatalf("got %+v, want reminded, escalated to h1 who holds it", s)
		}
	})
}
