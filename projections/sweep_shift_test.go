package projections

import (
	"context"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
)

// A night shift's date is swept the morning after, once the shift has run:
// at 10:00 on its own date it has not begun, and nobody is absent yet.
func TestDailySweepOfANightShift(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	clock := quietClock()
	p := e.pipeline(testSettings(), func() time.Time { return clock })
	e.start(p)

	night := employee.Schedule{Timezone: "Europe/Istanbul", WorkStart: 22 * 60, WorkEnd: 6 * 60, Workdays: []int{1, 2, 3, 4, 5}}
	manager := e.register("Mehmet Demir", employee.RoleManager, "", schedule("Europe/Istanbul"), "2024-01-01")
	present := e.register("Gece Bekçisi", employee.RoleEmployee, manager, night, "2024-01-01")
	absent := e.register("Ay Işığı", employee.RoleEmployee, manager, night, "2024-01-01")
	pipelinetest.Eventually(t, "directory", e.caughtUp)

	absences := func() map[string][]string {
		out := map[string][]string{}
		for _, n := range e.inbox(manager) {
			if n.Type == "absence" {
				id := n.Data["employee_id"].(string)
				out[id] = append(out[id], n.Data["date"].(string))
			}
		}
		return out
	}
	sweepAt := func(at time.Time) {
		t.Helper()
		pipelinetest.Eventually(t, "caught up", e.caughtUp)
		clock = at
		if err := p.sweep().Once(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	// Monday 2024-12-02 10:00 in Istanbul (UTC+3): the night has not begun.
	sweepAt(time.Date(2024, 12, 2, 7, 0, 0, 0, time.UTC))
	if got := absences(); len(got) != 0 {
		t.Fatalf("monday 10:00: got absences %v, want none before the night", got)
	}
	// One comes in at 22:05 on Monday and works into Tuesday.
	e.checkIn(present, night, time.Date(2024, 12, 2, 19, 5, 0, 0, time.UTC))
	e.checkOut(present, time.Date(2024, 12, 3, 3, 0, 0, 0, time.UTC))
	// Tuesday 10:00: Monday's night is swept.
	sweepAt(time.Date(2024, 12, 3, 7, 0, 0, 0, time.UTC))
	got := absences()
	if len(got[present]) != 0 {
		t.Errorf("the one who worked monday night: got absences %v, want none", got[present])
	}
	if want := []string{"2024-12-02"}; len(got[absent]) != 1 || got[absent][0] != want[0] {
		t.Errorf("the one who did not come: got absences %v, want %v", got[absent], want)
	}
}
