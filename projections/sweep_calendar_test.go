package projections

import (
	"context"
	"testing"
	"time"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// TestHolidayCalendarsOfTheSweepAndTheReport: two employees in one time
// zone keep different holiday calendars. A holiday of Berlin's calendar
// excuses the Berlin employee alone from the daily sweep and from the
// monthly report's expected hours; one of the default calendar (recorded
// as before there were calendars), the other.
func TestHolidayCalendarsOfTheSweepAndTheReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	clock := newTestClock()
	p := e.pipeline(testSettings(), clock.now)
	e.start(p)

	berlinTime := schedule("Europe/Berlin")
	manager := e.register("Mehmet Demir", employee.RoleManager, "", berlinTime, "2024-01-01")
	home := e.register("Hanna Default", employee.RoleEmployee, manager, berlinTime, "2024-01-01")
	berlin := pipelinetest.Register(t, e.store, employee.Register{
		FullName: "Bernd Berlin", Role: employee.RoleEmployee, ManagerID: manager, HireDate: date("2024-01-01"),
		Schedule: berlinTime, HolidayCalendar: "berlin",
	})
	e.declareHolidayIn("berlin", "2024-03-08", "Internationaler Frauentag")
	// The default calendar's holiday as recorded before calendars per place:
	// without one.
	e.update(holiday.Stream(holiday.Default, 2024), func([]any) ([]any, error) {
		return []any{holiday.Declared{Date: date("2024-03-11"), Name: "Company Day"}}, nil
	})
	pipelinetest.Eventually(t, "caught up", e.caughtUp)

	absences := func() map[string][]string {
		out := map[string][]string{}
		for _, n := range e.inbox(manager) {
			if n.Type == notification.TypeAbsence {
				id := n.Data["employee_id"].(string)
				out[id] = append(out[id], n.Data["date"].(string))
			}
		}
		return out
	}
	// Friday 8 and Monday 11 March 2024, 10:00 in Berlin (CET).
	for _, at := range []time.Time{time.Date(2024, 3, 8, 9, 0, 0, 0, time.UTC), time.Date(2024, 3, 11, 9, 0, 0, 0, time.UTC)} {
		pipelinetest.Eventually(t, "caught up", e.caughtUp)
		clock.set(at)
		if err := p.sweep().Once(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	got := absences()
	if len(got[home]) != 1 || got[home][0] != "2024-03-08" {
		t.Errorf("absences of the default calendar's employee = %v, want only 2024-03-08", got[home])
	}
	if len(got[berlin]) != 1 || got[berlin][0] != "2024-03-11" {
		t.Errorf("absences of the Berlin employee = %v, want only 2024-03-11", got[berlin])
	}

	// March 2024 has 21 weekdays, each employee's calendar one holiday.
	q := readmodel.NewQueries(e.pool)
	report, err := q.MonthlyWork(context.Background(), 2024, 3, query.ReportFilter{ManagerID: manager}, date("2024-03-31"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range report.Employees {
		if r.ExpectedMinutes != 20*540 {
			t.Errorf("%s: expected minutes %d, want 20 days of 9 hours", r.FullName, r.ExpectedMinutes)
		}
	}
	if len(report.Employees) != 2 {
		t.Errorf("report rows = %d, want 2", len(report.Employees))
	}
	hols, err := q.Holidays(context.Background(), "berlin", 2024)
	if err != nil || len(hols) != 1 || hols[0].Date != date("2024-03-08") {
		t.Errorf("Berlin's holidays = %v, %v; want 2024-03-08 alone", hols, err)
	}
	if got := e.count(`SELECT count(*) FROM employees WHERE holiday_calendar = $1`, "berlin"); got != 1 {
		t.Errorf("employees of Berlin's calendar in the directory = %d, want 1", got)
	}
	if got := e.count(`SELECT count(*) FROM employees WHERE holiday_calendar = $1`, holiday.Default); got != 2 {
		t.Errorf("employees of the default calendar in the directory = %d, want 2", got)
	}
}
