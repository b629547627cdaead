package app_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/acme/employee-tracking/app"
	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/credentials"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/internal/testdb"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// clock is a settable clock for the commands.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newApp is the application on a fresh database, on a clock at Monday
// 2 December 2024, 07:00 UTC.
func newApp(t *testing.T) (app.Application, *eventstore.Store, *clock) {
	t.Helper()
	pool := testdb.New(t)
	codec, keys, _, err := eventcodec.Open(context.Background(), pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool, codec)
	c := &clock{t: time.Date(2024, 12, 2, 7, 0, 0, 0, time.UTC)}
	a := app.New(app.Deps{
		Store: store, Credentials: credentials.New(pool), PasswordCost: bcrypt.MinCost, Keys: keys, ErasableReadModels: readmodel.NewQueries(pool),
		LeavePolicy: leave.DefaultPolicy(), Now: c.now,
		DefaultSchedule: employee.Schedule{Timezone: "UTC", WorkStart: 8 * 60, WorkEnd: 17 * 60, Workdays: []int{1, 2, 3, 4, 5}},
	})
	return a, store, c
}

const password = "a long password"

// TestCommandsAskThePolicy runs commands as etctl or a saga would, without
// the HTTP layer's route checks: each asks the one policy itself.
func TestCommandsAskThePolicy(t *testing.T) {
	t.Parallel()
	a, _, _ := newApp(t)
	ctx := t.Context()
	cmds := a.Commands
	admin, err := cmds.CreateAdmin.Handle(ctx, command.CreateAdmin{Email: "admin@example.com", Password: password, FullName: "Admin"})
	if err != nil {
		t.Fatal(err)
	}
	register := func(actor employee.Employee, email string, role employee.Role, managerID string) (employee.Employee, error) {
		return cmds.RegisterEmployee.Handle(ctx, command.RegisterEmployee{
			Actor: actor, Email: email, Password: password, FullName: email, Role: role, ManagerID: managerID,
			HireDate: calendar.Date{Year: 2024, Month: 1, Day: 1},
		})
	}
	must := func(e employee.Employee, err error) employee.Employee {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	mgr := must(register(admin, "mgr@example.com", employee.RoleManager, ""))
	otherMgr := must(register(admin, "other@example.com", employee.RoleManager, ""))
	emp := must(register(admin, "emp@example.com", employee.RoleEmployee, mgr.EmployeeID))
	auditor := must(register(admin, "auditor@example.com", employee.RoleAuditor, ""))

	// A manager registers into their own team, never a manager.
	recruit := must(register(mgr, "recruit@example.com", employee.RoleEmployee, ""))
	if recruit.ManagerID != mgr.EmployeeID {
		t.Errorf("recruit's manager = %q, want the manager who registered them, %q", recruit.ManagerID, mgr.EmployeeID)
	}
	if _, err := register(mgr, "boss@example.com", employee.RoleManager, mgr.EmployeeID); !errors.Is(err, command.ErrForbidden) {
		t.Errorf("manager registers a manager: %v, want ErrForbidden", err)
	}
	if _, err := register(emp, "friend@example.com", employee.RoleEmployee, ""); !errors.Is(err, command.ErrForbidden) {
		t.Errorf("employee registers someone: %v, want ErrForbidden", err)
	}

	r, err := cmds.RequestLeave.Handle(ctx, command.RequestLeave{
		Actor: emp, Start: calendar.Date{Year: 2024, Month: 12, Day: 9}, End: calendar.Date{Year: 2024, Month: 12, Day: 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	decide := func(actor employee.Employee) (leave.RequestState, error) {
		return cmds.DecideLeave.Handle(ctx, command.DecideLeave{Actor: actor, RequestID: r.ID, Approve: true})
	}
	refusals := []struct {
		name string
		err  error
		want errkind.Kind
	}{
		{"another team's manager decides", second(decide(otherMgr)), errkind.NotFound},
		{"the employee decides their own", second(decide(emp)), errkind.Forbidden},
		{"an auditor decides", second(decide(auditor)), errkind.Forbidden},
		{"an auditor checks in", second(cmds.RecordAttendance.Handle(ctx, command.RecordAttendance{Actor: auditor, CheckIn: true})), errkind.Forbidden},
		{"a manager sets another team's entitlement", second(cmds.SetEntitlement.Handle(ctx, command.SetEntitlement{
			Actor: otherMgr, EmployeeID: emp.EmployeeID, Year: 2024, Amount: leave.MinutesPerDay})), errkind.NotFound},
		{"a manager changes a report", second(cmds.ChangeEmployee.Handle(ctx, command.ChangeEmployee{
			Actor: mgr, EmployeeID: emp.EmployeeID, Active: new(bool)})), errkind.Forbidden},
		{"an admin gives themselves another role", second(cmds.ChangeEmployee.Handle(ctx, command.ChangeEmployee{
			Actor: admin, EmployeeID: admin.EmployeeID, Role: ptr(employee.RoleEmployee)})), errkind.Forbidden},
		{"a manager resets a password", cmds.ResetPassword.Handle(ctx, command.ResetPassword{
			Actor: mgr, EmployeeID: emp.EmployeeID, NewPassword: password}), errkind.Forbidden},
		{"a manager declares a holiday", second(cmds.DeclareHoliday.Handle(ctx, command.DeclareHoliday{
			Actor: mgr, Date: calendar.Date{Year: 2024, Month: 12, Day: 31}, Name: "H"})), errkind.Forbidden},
	}
	for _, tt := range refusals {
		if got := errkind.Of(tt.err); got != tt.want {
			t.Errorf("%s: %v (kind %q), want kind %q", tt.name, tt.err, got, tt.want)
		}
	}

	approved, err := decide(mgr)
	if err != nil {
		t.Fatalf("manager approves their report's request: %v", err)
	}
	if approved.Status != leave.StatusApproved || approved.DecidedBy != mgr.EmployeeID {
		t.Errorf("decided request = %+v, want approved by the manager", approved)
	}
	if _, err := decide(mgr); !errors.Is(err, leave.ErrNotPending) {
		t.Errorf("second approval: %v, want ErrNotPending", err)
	}
}

// TestRecordAttendanceAtLength checks in and out thousands of times, as
// years of work do, and each answer is the command's own effect.
func TestRecordAttendanceAtLength(t *testing.T) {
	t.Parallel()
	a, store, c := newApp(t)
	ctx := t.Context()
	admin, err := a.Commands.CreateAdmin.Handle(ctx, command.CreateAdmin{Email: "admin@example.com", Password: password, FullName: "Admin"})
	if err != nil {
		t.Fatal(err)
	}
	const days = 1500
	record := a.Commands.RecordAttendance
	for day := range days {
		in, err := record.Handle(ctx, command.RecordAttendance{Actor: admin, CheckIn: true})
		if err != nil {
			t.Fatalf("day %d: check in: %v", day, err)
		}
		if _, ok := in.Event.(attendance.CheckedIn); !ok {
			t.Fatalf("day %d: check-in decided %T", day, in.Event)
		}
		c.advance(8 * time.Hour)
		if _, err := record.Handle(ctx, command.RecordAttendance{Actor: admin, CheckIn: false}); err != nil {
			t.Fatalf("day %d: check out: %v", day, err)
		}
		c.advance(16 * time.Hour)
	}
	if _, err := record.Handle(ctx, command.RecordAttendance{Actor: admin, CheckIn: false}); !errors.Is(err, attendance.ErrNotCheckedIn) {
		t.Errorf("check-out without a check-in: %v, want ErrNotCheckedIn", err)
	}
	events, err := store.Load(ctx, attendance.Stream(admin.EmployeeID))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(events), 2*days; got != want {
		t.Errorf("attendance events = %d, want %d", got, want)
	}
	for _, e := range events {
		if e.Metadata.Actor != admin.EmployeeID {
			t.Fatalf("event %d recorded as %q's, want the admin's %q", e.Version, e.Metadata.Actor, admin.EmployeeID)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func ptr[T any](v T) *T { return &v }

// TestCorrectionAtLength files and approves a correction on an attendance
// stream of ten years of check-ins and check-outs, the longest an employee's
// grows: a correction folds it whole, day by day, and stays quick.
func TestCorrectionAtLength(t *testing.T) {
	t.Parallel()
	a, store, _ := newApp(t)
	ctx := t.Context()
	admin, err := a.Commands.CreateAdmin.Handle(ctx, command.CreateAdmin{Email: "admin@example.com", Password: password, FullName: "Admin"})
	if err != nil {
		t.Fatal(err)
	}
	// 2,600 days from 2015, a check-in at 08:00 and a check-out at 17:00 UTC
	// each, appended a few hundred at a time.
	const events = 5200
	first := calendar.Date{Year: 2015, Month: time.January, Day: 1}
	schedule := employee.Schedule{Timezone: "UTC", WorkStart: 8 * 60, WorkEnd: 17 * 60, Workdays: []int{1, 2, 3, 4, 5, 6, 7}}
	emp, err := a.Commands.RegisterEmployee.Handle(ctx, command.RegisterEmployee{Actor: admin, Email: "long@example.com", Password: password,
		FullName: "Long Timer", Role: employee.RoleEmployee, HireDate: first, Schedule: &command.SchedulePatch{Workdays: schedule.Workdays}})
	if err != nil {
		t.Fatal(err)
	}
	id := emp.EmployeeID
	var batch []eventstore.EventData
	for i := range events / 2 {
		d := first.AddDays(i)
		in, out := schedule.StartOn(d), schedule.EndOn(d)
		for _, ev := range []eventstore.Payload{
			attendance.CheckedIn{EmployeeID: id, At: in, LocalDate: d, Timezone: "UTC", Workday: true, ScheduledStart: in, ShiftEnd: out},
			attendance.CheckedOut{EmployeeID: id, At: out, LocalDate: d, CheckedInAt: in, WorkedMinutes: 540},
		} {
			batch = append(batch, eventstore.EventData{ID: uuid.New(), Payload: ev, Metadata: eventstore.Metadata{Actor: id}})
		}
		if len(batch) == 520 {
			if _, err := store.Append(ctx, attendance.Stream(id), int64(2*(i+1)-len(batch)), batch...); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	// A day in the middle of the history: its check-out moves to 18:30.
	day := first.AddDays(1300)
	out := day.In(time.UTC).Add(18*time.Hour + 30*time.Minute)
	start := time.Now()
	filed, err := a.Commands.RequestCorrection.Handle(ctx, command.RequestCorrection{Actor: emp, Date: day, CheckOut: out, Reason: "stayed late"})
	if err != nil {
		t.Fatal(err)
	}
	decided, err := a.Commands.DecideCorrection.Handle(ctx, command.DecideCorrection{Actor: admin, CorrectionID: filed.ID, Approve: true})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("a correction filed and approved on %d events in %s", events, took.Round(time.Millisecond))
	if decided.Status != attendance.Approved {
		t.Errorf("decided: got %+v, want approved", decided)
	}
	after, err := store.LoadFrom(ctx, attendance.Stream(id), events)
	if err != nil || len(after) != 2 {
		t.Fatalf("after the history: %d events, %v; want the request and the approval", len(after), err)
	}
	if ev := after[1].Payload.(attendance.CorrectionApproved); ev.Date != day || ev.PreviousWorkedMinutes != 540 || ev.WorkedMinutes != 630 {
		t.Errorf("approval: got %+v, want %s from 540 to 630 minutes", ev, day)
	}
	if took > 5*time.Second {
		t.Errorf("a correction on ten years took %s, want well under a second on a quiet machine", took)
	}
}
