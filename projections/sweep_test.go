package projections

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
)

func TestDailySweepAcrossDSTAndTimezones(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	clock := newTestClock()
	setClock := clock.set
	now := clock.now
	// Tokyo's check-in stays open for the sweep to report: the pipeline's own
	// closing of forgotten check-outs, whose tick may meet the clock moved on
	// by days, waits longer than this test's month.
	cfg := testSettings()
	cfg.attendance = attendance.Rules{EarlyCheckIn: 2 * time.Hour, AutoCheckoutAfter: 60 * 24 * time.Hour}
	p := e.pipeline(cfg, now)
	e.start(p)

	manager := e.register("Mehmet Demir", employee.RoleManager, "", schedule("Europe/Istanbul"), "2024-01-01")
	ny := e.register("Nora York", employee.RoleEmployee, manager, schedule("America/New_York"), "2024-01-01")
	tokyo := schedule("Asia/Tokyo")
	tk := e.register("Kenji Tanaka", employee.RoleEmployee, manager, tokyo, "2024-01-01")
	pipelinetest.Eventually(t, "directory", e.caughtUp)

	sweepAt := func(at time.Time) {
		t.Helper()
		// The sweep waits for the read models, here for the grant of the
		// sweep before.
		pipelinetest.Eventually(t, "caught up", e.caughtUp)
		setClock(at)
		// Two processes sweeping at once notify nobody twice.
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if err := p.sweep().Once(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	utc := func(month time.Month, day, hour, minute int) time.Time {
		return time.Date(2024, month, day, hour, minute, 0, 0, time.UTC)
	}
	names := map[string]string{ny: "ny", tk: "tokyo"}
	type note struct{ Type, Who, Date string }
	inbox := func() []note {
		var out []note
		for _, n := range e.inbox(manager) {
			if n.Type == "leave_requested" {
				continue // the leave of the "on leave" step
			}
			out = append(out, note{string(n.Type), names[n.Data["employee_id"].(string)], fmt.Sprint(n.Data["date"])})
		}
		return out
	}
	steps := []struct {
		name string
		at   time.Time
		do   func()
		want []note // new notifications of the manager
	}{
		// Friday 2024-03-08, New York on EST (UTC-5), Tokyo UTC+9.
		{name: "09:59 in New York, 23:59 in Tokyo", at: utc(3, 8, 14, 59),
			want: []note{{"absence", "tokyo", "2024-03-08"}}},
		{name: "10:00 in New York", at: utc(3, 8, 15, 0),
			want: []note{{"absence", "ny", "2024-03-08"}}},
		{name: "again the same day", at: utc(3, 8, 20, 0)},
		// Sunday 2024-03-10 is the weekend in both places (and the DST change).
		{name: "sunday", at: utc(3, 10, 16, 0)},
		// Monday 2024-03-11, New York on EDT (UTC-4): 10:00 is 14:00 UTC.
		{name: "09:59 EDT", at: utc(3, 11, 13, 59),
			want: []note{{"absence", "tokyo", "2024-03-11"}}},
		{name: "10:00 EDT", at: utc(3, 11, 14, 0),
			want: []note{{"absence", "ny", "2024-03-11"}}},
		// Tuesday 2024-03-12: Tokyo checks in at 07:55 and never checks out.
		{name: "tokyo present", at: utc(3, 12, 1, 0), do: func() {
			e.checkIn(tk, tokyo, utc(3, 11, 22, 55))
			pipelinetest.Eventually(t, "check-in projected", e.caughtUp)
		}},
		// Wednesday 2024-03-13 10:00 in Tokyo is Tuesday 21:00 in New York.
		{name: "next morning in tokyo", at: utc(3, 13, 1, 0),
			want: []note{{"absence", "tokyo", "2024-03-13"}, {"open_check_in", "tokyo", "2024-03-12"}, {"absence", "ny", "2024-03-12"}}},
		// Thursday 2024-03-14: New York has approved leave; in Tokyo it is
		// already Friday 00:00, before its sweep: Thursday's is due.
		{name: "on leave", at: utc(3, 14, 15, 0), want: []note{{"absence", "tokyo", "2024-03-14"}}, do: func() {
			e.leave(ny, leave.Grant{EmployeeID: ny, Year: 2024})
			e.leave(ny, leave.Request{RequestID: "00000000-0000-4000-8000-000000000001", EmployeeID: ny, Start: date("2024-03-14"),
				End: date("2024-03-14"), Workdays: []int{1, 2, 3, 4, 5}, Employment: leave.Employment{HireDate: date("2024-01-01")}})
			e.leave(ny, leave.Approve{RequestID: "00000000-0000-4000-8000-000000000001", By: manager})
			pipelinetest.Eventually(t, "leave projected", e.caughtUp)
		}},
		// Friday 2024-03-15 is a company holiday (Saturday 00:00 in Tokyo).
		{name: "holiday", at: utc(3, 15, 15, 0), do: func() {
			e.declareHoliday("2024-03-15", "Spring Day")
			pipelinetest.Eventually(t, "holiday projected", e.caughtUp)
		}},
	}
	var want []note
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		sweepAt(st.at)
		want = append(want, st.want...)
		if diff := cmp.Diff(want, inbox(), cmpopts.SortSlices(func(a, b note) bool { return fmt.Sprint(a) < fmt.Sprint(b) })); diff != "" {
			t.Fatalf("after %s: manager's notifications (-want +got):\n%s", st.name, diff)
		}
	}
	// The yearly grant came with the first sweep of 2024.
	for _, id := range []string{ny, tk} {
		if got := e.count(`SELECT count(*) FROM events WHERE stream_id = $1 AND type = 'leave.granted'`, leave.Stream(id)); got != 1 {
			t.Errorf("grants of %s: got %d, want 1", names[id], got)
		}
	}
}

// The sweep decides absence from read models only once they hold every event
// the store had when it looked: with the projectors stopped, someone who came
// in is never reported absent, someone who did not is, exactly once, as soon
// as the read models of their streams are up to date, even after midnight.
func TestDailySweepWaitsForLaggingReadModels(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pipelinetest.RedisURL())
	clock := newTestClock()
	setClock := clock.set
	now := clock.now
	p := e.pipeline(testSettings(), now)
	sweepAt := func(at time.Time) {
		t.Helper()
		setClock(at)
		if err := p.sweep().Once(context.Background()); err != nil {
			t.Fatal(err)
		}
		setClock(quietClock())
	}
	// In Istanbul (UTC+3), 10:30 on Monday 2024-03-11 and Tuesday 2024-03-12,
	// 23:00 on Tuesday, 00:30 on Wednesday.
	monday := time.Date(2024, 3, 11, 7, 30, 0, 0, time.UTC)
	tuesday := monday.AddDate(0, 0, 1)
	tuesdayNight := time.Date(2024, 3, 12, 20, 0, 0, 0, time.UTC)
	afterMidnight := time.Date(2024, 3, 12, 21, 30, 0, 0, time.UTC)

	istanbul := schedule("Europe/Istanbul")
	stop := e.start(p)
	manager := e.register("Mehmet Demir", employee.RoleManager, "", istanbul, "2024-01-01")
	came := e.register("Ayşe Kaya", employee.RoleEmployee, manager, istanbul, "2024-01-01")
	stayedAway := e.register("Can Öztürk", employee.RoleEmployee, manager, istanbul, "2024-01-01")
	requested := e.register("Deniz Ak", employee.RoleEmployee, manager, istanbul, "2024-01-01")
	pipelinetest.Eventually(t, "directory", e.caughtUp)
	sweepAt(monday) // nobody came on Monday; their leave years are granted
	pipelinetest.Eventually(t, "grants", e.caughtUp)
	stop()

	// Tuesday, the projectors stopped: one checks in, one asks for leave in
	// April, one does nothing.
	e.checkIn(came, istanbul, time.Date(2024, 3, 12, 5, 0, 0, 0, time.UTC))
	e.leave(requested, leave.Request{RequestID: "00000000-0000-4000-8000-000000000002", EmployeeID: requested,
		Start: date("2024-04-01"), End: date("2024-04-01"), Workdays: []int{1, 2, 3, 4, 5}, Employment: leave.Employment{HireDate: date("2024-01-01")}})
	absentTuesday := func() map[string]int {
		got := map[string]int{}
		for _, n := range e.inbox(manager) {
			if n.Type == notification.TypeAbsence && n.Data["date"] == "2024-03-12" {
				got[n.Data["employee_id"].(string)]++
			}
		}
		return got
	}
	sweptTuesday := func(emp string) int {
		return e.count(`SELECT count(*) FROM sweeps WHERE employee_id = $1 AND local_date = '2024-03-12'`, emp)
	}

	// Only the one whose streams the read models hold entirely is swept.
	sweepAt(tuesday)
	sweepAt(tuesdayNight)
	if diff := cmp.Diff(map[string]int{stayedAway: 1}, absentTuesday()); diff != "" {
		t.Errorf("absences on Tuesday with the projectors stopped (-want +got):\n%s", diff)
	}
	if swept := sweptTuesday(came) + sweptTuesday(requested); swept != 0 {
		t.Errorf("%d employees swept before their read models caught up, want 0", swept)
	}

	// The projectors catch up after midnight: Tuesday is swept before
	// Wednesday's check.
	e.start(e.pipeline(testSettings(), quietClock))
	pipelinetest.Eventually(t, "Tuesday projected", e.caughtUp)
	sweepAt(afterMidnight)
	sweepAt(afterMidnight.Add(time.Minute))
	if diff := cmp.Diff(map[string]int{stayedAway: 1, requested: 1}, absentTuesday()); diff != "" {
		t.Errorf("absences on Tuesday once the read models caught up (-want +got):\n%s", diff)
	}
	for _, emp := range []string{came, stayedAway, requested} {
		if got := sweptTuesday(emp); got != 1 {
			t.Errorf("sweeps of %s on Tuesday: got %d, want 1", emp, got)
		}
	}
}
