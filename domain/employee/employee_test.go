package employee

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/google/go-cmp/cmp"
)

var now = time.Date(2024, time.December, 2, 5, 30, 0, 0, time.UTC) // 08:30 in Istanbul

func istanbul() Schedule {
	return Schedule{Timezone: "Europe/Istanbul", WorkStart: 8 * 60, WorkEnd: 17 * 60, GraceMinutes: 5, Workdays: []int{1, 2, 3, 4, 5}}
}

func validRegister() Register {
	return Register{
		EmployeeID: "e1", Email: "ayse@example.com", FullName: "Ayşe Yılmaz", Role: RoleEmployee,
		ManagerID: "m1", Position: "Engineer", HireDate: calendar.Date{Year: 2024, Month: time.March, Day: 1}, Schedule: istanbul(),
	}
}

func registered(t *testing.T) Employee {
	t.Helper()
	events, err := Decide(Employee{}, validRegister(), now)
	if err != nil {
		t.Fatal(err)
	}
	return Replay(events)
}

func ptr[T any](v T) *T { return &v }

func TestRegister(t *testing.T) {
	t.Parallel()
	events, err := Decide(Employee{}, validRegister(), now)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{Registered{
		EmployeeID: "e1", Email: "ayse@example.com", FullName: "Ayşe Yılmaz", Role: RoleEmployee, ManagerID: "m1",
		Position: "Engineer", HireDate: calendar.Date{Year: 2024, Month: time.March, Day: 1}, Schedule: istanbul(),
	}}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	got := Replay(events)
	if !got.Exists || !got.Active || got.Email != "ayse@example.com" || got.ManagerID != "m1" || got.HolidayCalendar != holiday.Default {
		t.Errorf("state after registration = %+v", got)
	}
}

func TestHolidayCalendar(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		calendar  string
		recorded  string
		wantField bool
	}{
		{name: "none is the default", calendar: "", recorded: ""},
		{name: "the default is recorded as none", calendar: holiday.Default, recorded: ""},
		{name: "a place's", calendar: "berlin", recorded: "berlin"},
		{name: "a code no calendar could have", calendar: "Berlin-Mitte", wantField: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := validRegister()
			cmd.HolidayCalendar = tt.calendar
			events, err := Decide(Employee{}, cmd, now)
			var ve *ValidationError
			if tt.wantField {
				if !errors.As(err, &ve) || ve.Fields["holiday_calendar"] == "" {
					t.Fatalf("got error %v, want a validation error on holiday_calendar", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := events[0].(Registered).HolidayCalendar; got != tt.recorded {
				t.Errorf("recorded calendar %q, want %q", got, tt.recorded)
			}
			if got, want := Replay(events).HolidayCalendar, holiday.CalendarCode(tt.recorded); got != want {
				t.Errorf("state's calendar %q, want %q", got, want)
			}
		})
	}

	e := registered(t)
	events, err := Decide(e, Change{HolidayCalendar: ptr("berlin")}, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{HolidayCalendarChanged{EmployeeID: "e1", HolidayCalendar: "berlin"}}, events); diff != "" {
		t.Errorf("change (-want +got):\n%s", diff)
	}
	e.Apply(events[0])
	if events, err := Decide(e, Change{HolidayCalendar: ptr("berlin")}, now); err != nil || len(events) != 0 {
		t.Errorf("the same calendar again = %v, %v; want nothing", events, err)
	}
	if _, err := Decide(e, Change{HolidayCalendar: ptr("Bad!")}, now); err == nil {
		t.Error("a change to a malformed calendar code is accepted")
	}
}

func TestRegisterDefaultsHireDateToLocalDay(t *testing.T) {
	t.Parallel()
	cmd := validRegister()
	cmd.HireDate = calendar.Date{}
	cmd.Schedule.Timezone = "Pacific/Kiritimati"
	// 2024-12-01 12:00 UTC is already 2024-12-02 in Kiritimati (UTC+14).
	events, err := Decide(Employee{}, cmd, time.Date(2024, time.December, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := events[0].(Registered).HireDate, (calendar.Date{Year: 2024, Month: time.December, Day: 2}); got != want {
		t.Errorf("got hire date %v, want %v", got, want)
	}
}

func TestRegisterRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		state      Employee
		edit       func(*Register)
		wantErr    error
		wantFields []string
	}{
		{name: "already registered", state: Employee{Exists: true}, edit: func(*Register) {}, wantErr: ErrAlreadyRegistered},
		{name: "self managed", edit: func(r *Register) { r.ManagerID = r.EmployeeID }, wantErr: ErrSelfManaged},
		{name: "missing id", edit: func(r *Register) { r.EmployeeID = "" }, wantFields: []string{"employee_id"}},
		{name: "bad email", edit: func(r *Register) { r.Email = "not-an-email" }, wantFields: []string{"email"}},
		{name: "display-name email", edit: func(r *Register) { r.Email = "Ayşe <ayse@example.com>" }, wantFields: []string{"email"}},
		{name: "email without domain dot", edit: func(r *Register) { r.Email = "ayse@localhost" }, wantFields: []string{"email"}},
		{name: "blank name", edit: func(r *Register) { r.FullName = "   " }, wantFields: []string{"full_name"}},
		{name: "long name", edit: func(r *Register) { r.FullName = strings.Repeat("a", 201) }, wantFields: []string{"full_name"}},
		{name: "unknown role", edit: func(r *Register) { r.Role = "boss" }, wantFields: []string{"role"}},
		{name: "bad hire date", edit: func(r *Register) { r.HireDate = calendar.Date{Year: 2024, Month: 2, Day: 30} }, wantFields: []string{"hire_date"}},
		{name: "bad schedule", edit: func(r *Register) {
			r.Schedule = Schedule{Timezone: "Mars/Olympus", WorkStart: 9 * 60, WorkEnd: 9 * 60, GraceMinutes: -1}
		},
			wantFields: []string{"schedule.timezone", "schedule.work_end", "schedule.grace_minutes", "schedule.workdays"}},
		{name: "every field at once", edit: func(r *Register) { *r = Register{EmployeeID: "x", Schedule: istanbul()} },
			wantFields: []string{"email", "full_name", "role"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := validRegister()
			tt.edit(&cmd)
			events, err := Decide(tt.state, cmd, now)
			if events != nil {
				t.Errorf("got events %v, want none", events)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got error %v, want %v", err, tt.wantErr)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got error %v, want *ValidationError", err)
			}
			if len(ve.Fields) != len(tt.wantFields) {
				t.Errorf("got fields %v, want exactly %v", ve.Fields, tt.wantFields)
			}
			for _, f := range tt.wantFields {
				if ve.Fields[f] == "" {
					t.Errorf("field %q not reported in %v", f, ve.Fields)
				}
			}
		})
	}
}

func TestChange(t *testing.T) {
	t.Parallel()
	later := istanbul()
	later.WorkStart = 9 * 60
	reordered := istanbul()
	reordered.Workdays = []int{5, 4, 3, 2, 1}
	tests := []struct {
		name string
		cmd  Change
		want []any
	}{
		{name: "nothing", cmd: Change{}, want: nil},
		{name: "same values", cmd: Change{Schedule: &reordered, ManagerID: ptr("m1"), Role: ptr(RoleEmployee), Position: ptr(" Engineer ")}, want: nil},
		{name: "schedule", cmd: Change{Schedule: &later}, want: []any{ScheduleChanged{EmployeeID: "e1", Schedule: later}}},
		{name: "manager removed", cmd: Change{ManagerID: ptr("")}, want: []any{ManagerChanged{EmployeeID: "e1", ManagerID: "", PreviousManagerID: "m1"}}},
		{name: "every field", cmd: Change{Schedule: &later, ManagerID: ptr("m2"), Role: ptr(RoleManager), Position: ptr("Lead")}, want: []any{
			ScheduleChanged{EmployeeID: "e1", Schedule: later},
			ManagerChanged{EmployeeID: "e1", ManagerID: "m2", PreviousManagerID: "m1"},
			RoleChanged{EmployeeID: "e1", Role: RoleManager, PreviousRole: RoleEmployee},
			PositionChanged{EmployeeID: "e1", Position: "Lead"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			state := registered(t)
			got, err := Decide(state, tt.cmd, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
			for _, ev := range got {
				state.Apply(ev)
			}
			if again, err := Decide(state, tt.cmd, now); err != nil || len(again) != 0 {
				t.Errorf("repeating the change = %v, %v; want no events", again, err)
			}
		})
	}
}

func TestChangeRefusals(t *testing.T) {
	t.Parallel()
	active := Employee{EmployeeID: "e1", Exists: true, Active: true, Schedule: istanbul()}
	inactive := active
	inactive.Active = false
	tests := []struct {
		name      string
		state     Employee
		cmd       Change
		wantErr   error
		wantField string
	}{
		{name: "unknown employee", cmd: Change{Role: ptr(RoleAdmin)}, wantErr: ErrNotFound},
		{name: "inactive", state: inactive, cmd: Change{Role: ptr(RoleAdmin)}, wantErr: ErrInactive},
		{name: "self managed", state: active, cmd: Change{ManagerID: ptr("e1")}, wantErr: ErrSelfManaged},
		{name: "bad role", state: active, cmd: Change{Role: ptr(Role("root"))}, wantField: "role"},
		{name: "bad schedule", state: active, cmd: Change{Schedule: &Schedule{Timezone: "Europe/Istanbul", WorkStart: 8 * 60, WorkEnd: 17 * 60, Workdays: []int{1, 1}}}, wantField: "schedule.workdays"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events, err := Decide(tt.state, tt.cmd, now)
			if events != nil {
				t.Errorf("got events %v, want none", events)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got error %v, want %v", err, tt.wantErr)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields[tt.wantField] == "" {
				t.Fatalf("got error %v, want a validation error on %q", err, tt.wantField)
			}
		})
	}
}

func TestDeactivateReactivate(t *testing.T) {
	t.Parallel()
	if _, err := Decide(Employee{}, Deactivate{}, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("deactivate unknown: got %v, want ErrNotFound", err)
	}
	if _, err := Decide(Employee{}, Reactivate{}, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("reactivate unknown: got %v, want ErrNotFound", err)
	}

	e := registered(t)
	if events, err := Decide(e, Reactivate{}, now); err != nil || events != nil {
		t.Errorf("reactivate active = %v, %v; want no events", events, err)
	}
	events, err := Decide(e, Deactivate{Reason: "left the company"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{Deactivated{EmployeeID: "e1", Reason: "left the company"}}, events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	e.Apply(events[0])
	if e.Active {
		t.Fatal("still active after Deactivated")
	}
	if events, err := Decide(e, Deactivate{}, now); err != nil || events != nil {
		t.Errorf("deactivate inactive = %v, %v; want no events", events, err)
	}
	events, err = Decide(e, Reactivate{}, now)
	if err != nil {
		t.Fatal(err)
	}
	e.Apply(events[0])
	if !e.Active {
		t.Error("inactive after Reactivated")
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	if _, err := Decide(Employee{}, ChangePassword{}, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("change password of unknown: got %v, want ErrNotFound", err)
	}
	e := registered(t)
	// Every change is recorded, the same password again included: the
	// sessions it ended are a fact.
	for _, reset := range []bool{false, true} {
		events, err := Decide(e, ChangePassword{Reset: reset}, now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]any{PasswordChanged{EmployeeID: "e1", Reset: reset}}, events); diff != "" {
			t.Errorf("reset %v: events (-want +got):\n%s", reset, diff)
		}
	}
}

func TestParseRole(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"employee", "manager", "admin", "auditor"} {
		if r, err := ParseRole(s); err != nil || string(r) != s {
			t.Errorf("ParseRole(%q) = %q, %v", s, r, err)
		}
	}
	for _, s := range []string{"", "Admin", "superuser"} {
		if _, err := ParseRole(s); !errors.Is(err, ErrInvalidRole) {
			t.Errorf("ParseRole(%q) error = %v, want ErrInvalidRole", s, err)
		}
	}
}

func TestRegisteredWireFormat(t *testing.T) {
	t.Parallel()
	events, err := Decide(Employee{}, validRegister(), now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(events[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"employee_id":"e1","email":"ayse@example.com","full_name":"Ayşe Yılmaz","role":"employee","manager_id":"m1","position":"Engineer","hire_date":"2024-03-01",` +
		`"schedule":{"timezone":"Europe/Istanbul","work_start":"08:00","work_end":"17:00","grace_minutes":5,"workdays":[1,2,3,4,5]}}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	var back Registered
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(events[0], back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if strings.Contains(strings.ToLower(string(b)), "password") {
		t.Error("registration event mentions a password")
	}
}

func TestErase(t *testing.T) {
	t.Parallel()
	if _, err := Decide(Employee{}, Erase{Reason: "request under GDPR art. 17"}, now); !errors.Is(err, ErrNotFound) {
		t.Errorf("erase unknown: got %v, want ErrNotFound", err)
	}
	e := registered(t)
	events, err := Decide(e, Erase{Reason: "  request under GDPR art. 17 ", By: "a1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{Erased{EmployeeID: "e1", Reason: "request under GDPR art. 17", ErasedBy: "a1"}}, events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	e.Apply(events[0])
	want := Employee{EmployeeID: "e1", Role: RoleEmployee, ManagerID: "m1", HireDate: e.HireDate, Schedule: e.Schedule, HolidayCalendar: e.HolidayCalendar, Exists: true, Erased: true}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("state after Erased (-want +got):\n%s", diff)
	}
	if events, err := Decide(e, Erase{Reason: "asked again"}, now); err != nil || events != nil {
		t.Errorf("erase erased = %v, %v; want no events", events, err)
	}
	if _, err := Decide(e, Reactivate{}, now); !errors.Is(err, ErrErased) {
		t.Errorf("reactivate erased: got %v, want ErrErased", err)
	}
}

// TestEraseReasonRefusals: the reason is kept in the clear, so it may not
// repeat what is erased.
func TestEraseReasonRefusals(t *testing.T) {
	t.Parallel()
	e := registered(t) // Ayşe Yılmaz, ayse@example.com, Engineer
	for _, reason := range []string{
		"", "   ", strings.Repeat("x", 501),
		"ayşe yılmaz asked", "YILMAZ asked", "asked by mail from ayse@example.com", "ayse asked", "was an engineer",
	} {
		_, err := Decide(e, Erase{Reason: reason}, now)
		var verr *ValidationError
		if !errors.As(err, &verr) || verr.Fields["reason"] == "" {
			t.Errorf("reason %.40q: got %v, want a validation error on reason", reason, err)
		}
	}
	if _, err := Decide(e, Erase{Reason: "request under GDPR art. 17 of 2024-11-30"}, now); err != nil {
		t.Errorf("a reason naming nothing personal: %v", err)
	}
}
