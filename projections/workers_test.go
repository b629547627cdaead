package projections

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/pipelinetest"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// TestOnlyWorkingRolesAreWorkers: admins and auditors keep a schedule but
// no hours: the monthly report does not list them and the daily sweep does
// not report them absent, while employees and managers are both.
func TestOnlyWorkingRolesAreWorkers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, bus.MemoryURL)
	clock := newTestClock()
	setClock := clock.set
	p := e.pipeline(testSettings(), clock.now)
	e.start(p)

	sched := schedule("Europe/Istanbul")
	admin := e.register("Ada Admin", employee.RoleAdmin, "", sched, "2024-01-01")
	auditor := e.register("Otto Auditor", employee.RoleAuditor, "", sched, "2024-01-01")
	manager := e.register("Mehmet Demir", employee.RoleManager, "", sched, "2024-01-01")
	emp := e.register("Ayşe Yılmaz", employee.RoleEmployee, manager, sched, "2024-01-01")
	pipelinetest.Eventually(t, "directory", e.caughtUp)

	// Monday 2024-03-04, 10:00 in Istanbul: nobody has checked in.
	setClock(time.Date(2024, 3, 4, 7, 0, 0, 0, time.UTC))
	if err := p.sweep().Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	pipelinetest.Eventually(t, "absences notified", e.caughtUp)
	absent := map[string]bool{}
	for _, to := range []string{admin, manager} {
		for _, n := range e.inbox(to) {
			if n.Type == "absence" {
				absent[n.Data["employee_id"].(string)] = true
			}
		}
	}
	for id, want := range map[string]bool{admin: false, auditor: false, manager: true, emp: true} {
		if absent[id] != want {
			t.Errorf("absence of %s reported: %v, want %v", id, absent[id], want)
		}
	}

	report, err := readmodel.NewQueries(e.pool).MonthlyWork(context.Background(), 2024, 3, query.ReportFilter{}, date("2024-03-05"))
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, r := range report.Employees {
		listed = append(listed, r.EmployeeID)
		if r.AbsentDays != 2 {
			t.Errorf("absent days of %s (%s) = %d, want 2: Friday the 1st, Monday the 4th", r.FullName, r.EmployeeID, r.AbsentDays)
		}
	}
	if want := []string{emp, manager}; !slices.Equal(listed, want) { // by name: Ayşe, Mehmet
		t.Errorf("report rows = %v, want %v (the employee and the manager)", listed, want)
	}
}
