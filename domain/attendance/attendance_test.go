package attendance

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/google/go-cmp/cmp"
)

var (
	monToFri = []int{1, 2, 3, 4, 5}
	everyDay = []int{1, 2, 3, 4, 5, 6, 7}
)

func schedule(tz string, grace int, workdays []int) employee.Schedule {
	return employee.Schedule{Timezone: tz, WorkStart: 8 * 60, WorkEnd: 17 * 60, GraceMinutes: grace, Workdays: workdays}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func date(y int, m time.Month, d int) calendar.Date { return calendar.Date{Year: y, Month: m, Day: d} }

func TestCheckIn(t *testing.T) {
	t.Parallel()
	istanbul := schedule("Europe/Istanbul", 5, monToFri)
	istanbulNoGrace := schedule("Europe/Istanbul", 0, monToFri)
	newYork := schedule("America/New_York", 0, everyDay) // the DST days of 2024 are Sundays
	kiritimati := schedule("Pacific/Kiritimati", 0, monToFri)
	pagoPago := schedule("Pacific/Pago_Pago", 0, monToFri)
	dec2 := date(2024, time.December, 2) // a Monday

	tests := []struct {
		name     string
		state    State
		schedule employee.Schedule
		holidays calendar.Holidays
		now      time.Time
		want     CheckedIn
	}{
		{
			name: "within grace", schedule: istanbul, now: utc("2024-12-02T05:05:59Z"), // 08:05:59 local
			want: CheckedIn{At: utc("2024-12-02T05:05:59Z"), LocalDate: dec2, Workday: true, ScheduledStart: utc("2024-12-02T05:00:00Z")},
		},
		{
			name: "first minute past grace", schedule: istanbul, now: utc("2024-12-02T05:06:00Z"),
			want: CheckedIn{At: utc("2024-12-02T05:06:00Z"), LocalDate: dec2, Workday: true, Late: true, LateMinutes: 6, ScheduledStart: utc("2024-12-02T05:00:00Z")},
		},
		{
			name: "no grace, under a minute late", schedule: istanbulNoGrace, now: utc("2024-12-02T05:00:59Z"),
			want: CheckedIn{At: utc("2024-12-02T05:00:59Z"), LocalDate: dec2, Workday: true, ScheduledStart: utc("2024-12-02T05:00:00Z")},
		},
		{
			name: "no grace, one minute late", schedule: istanbulNoGrace, now: utc("2024-12-02T05:01:00Z"),
			want: CheckedIn{At: utc("2024-12-02T05:01:00Z"), LocalDate: dec2, Workday: true, Late: true, LateMinutes: 1, ScheduledStart: utc("2024-12-02T05:00:00Z")},
		},
		{
			name: "early", schedule: istanbulNoGrace, now: utc("2024-12-02T04:45:00Z"),
			want: CheckedIn{At: utc("2024-12-02T04:45:00Z"), LocalDate: dec2, Workday: true, ScheduledStart: utc("2024-12-02T05:00:00Z")},
		},
		{
			name: "saturday is recorded, never late", schedule: istanbulNoGrace, now: utc("2024-12-07T10:00:00Z"),
			want: CheckedIn{At: utc("2024-12-07T10:00:00Z"), LocalDate: date(2024, time.December, 7)},
		},
		{
			name: "holiday is recorded, never late", schedule: istanbulNoGrace, holidays: calendar.Holidays{dec2: "Founders' Day"}, now: utc("2024-12-02T09:00:00Z"),
			want: CheckedIn{At: utc("2024-12-02T09:00:00Z"), LocalDate: dec2},
		},
		{
			name: "second check-in of the day is never late", schedule: istanbulNoGrace, state: State{LastCheckInDate: dec2}, now: utc("2024-12-02T11:00:00Z"),
			want: CheckedIn{At: utc("2024-12-02T11:00:00Z"), LocalDate: dec2, Workday: true, ScheduledStart: utc("2024-12-02T05:00:00Z")},
		},
		{
			name: "first check-in of the next day can be late", schedule: istanbulNoGrace, state: State{LastCheckInDate: date(2024, time.November, 29)}, now: utc("2024-12-02T05:30:00Z"),
			want: CheckedIn{At: utc("2024-12-02T05:30:00Z"), LocalDate: dec2, Workday: true, Late: true, LateMinutes: 30, ScheduledStart: utc("2024-12-02T05:00:00Z")},
		},
		{
			name: "istanbul keeps +03 after europe falls back", schedule: istanbulNoGrace, now: utc("2024-10-28T05:20:00Z"),
			want: CheckedIn{At: utc("2024-10-28T05:20:00Z"), LocalDate: date(2024, time.October, 28), Workday: true, Late: true, LateMinutes: 20, ScheduledStart: utc("2024-10-28T05:00:00Z")},
		},
		{
			name: "new york day before spring forward (EST)", schedule: newYork, now: utc("2024-03-09T13:10:00Z"),
			want: CheckedIn{At: utc("2024-03-09T13:10:00Z"), LocalDate: date(2024, time.March, 9), Workday: true, Late: true, LateMinutes: 10, ScheduledStart: utc("2024-03-09T13:00:00Z")},
		},
		{
			name: "new york spring forward day (EDT)", schedule: newYork, now: utc("2024-03-10T12:10:00Z"),
			want: CheckedIn{At: utc("2024-03-10T12:10:00Z"), LocalDate: date(2024, time.March, 10), Workday: true, Late: true, LateMinutes: 10, ScheduledStart: utc("2024-03-10T12:00:00Z")},
		},
		{
			name: "new york fall back day (EST): 07:30 local is early", schedule: newYork, now: utc("2024-11-03T12:30:00Z"),
			want: CheckedIn{At: utc("2024-11-03T12:30:00Z"), LocalDate: date(2024, time.November, 3), Workday: true, ScheduledStart: utc("2024-11-03T13:00:00Z")},
		},
		{
			name: "kiritimati: sunday in UTC, monday locally", schedule: kiritimati, now: utc("2024-12-01T18:30:00Z"),
			want: CheckedIn{At: utc("2024-12-01T18:30:00Z"), LocalDate: dec2, Workday: true, Late: true, LateMinutes: 30, ScheduledStart: utc("2024-12-01T18:00:00Z")},
		},
		{
			name: "kiritimati: sunday night locally", schedule: kiritimati, now: utc("2024-12-01T09:00:00Z"),
			want: CheckedIn{At: utc("2024-12-01T09:00:00Z"), LocalDate: date(2024, time.December, 1)},
		},
		{
			name: "pago pago: tuesday in UTC, monday locally", schedule: pagoPago, now: utc("2024-12-03T00:30:00Z"),
			want: CheckedIn{At: utc("2024-12-03T00:30:00Z"), LocalDate: dec2, Workday: true, Late: true, LateMinutes: 330, ScheduledStart: utc("2024-12-02T19:00:00Z")},
		},
		{
			name: "pago pago: monday in UTC, sunday locally", schedule: pagoPago, now: utc("2024-12-02T05:00:00Z"),
			want: CheckedIn{At: utc("2024-12-02T05:00:00Z"), LocalDate: date(2024, time.December, 1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events, err := Decide(tt.state, CheckIn{EmployeeID: "e1", Schedule: tt.schedule, Holidays: tt.holidays}, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.EmployeeID, want.Timezone = "e1", tt.schedule.Timezone
			want.ShiftEnd = tt.schedule.EndOn(want.LocalDate).UTC()
			if diff := cmp.Diff([]any{want}, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckInRefusals(t *testing.T) {
	t.Parallel()
	open := Replay([]any{CheckedIn{EmployeeID: "e1", At: utc("2024-12-02T05:00:00Z"), LocalDate: date(2024, 12, 2)}})
	now := utc("2024-12-02T06:00:00Z")
	if _, err := Decide(open, CheckIn{EmployeeID: "e1", Schedule: schedule("Europe/Istanbul", 0, monToFri), Rules: rules}, now); !errors.Is(err, ErrAlreadyCheckedIn) {
		t.Errorf("second check-in: got %v, want ErrAlreadyCheckedIn", err)
	}
	var ve *employee.ValidationError
	_, err := Decide(State{}, CheckIn{EmployeeID: "e1", Schedule: schedule("Nowhere/City", 0, monToFri)}, now)
	if !errors.As(err, &ve) || ve.Fields["schedule.timezone"] == "" {
		t.Errorf("unknown zone: got %v, want a validation error on schedule.timezone", err)
	}
	_, err = Decide(State{}, CheckIn{Schedule: schedule("Europe/Istanbul", 0, monToFri)}, now)
	if !errors.As(err, &ve) || ve.Fields["employee_id"] == "" {
		t.Errorf("no employee: got %v, want a validation error on employee_id", err)
	}
}

func TestCheckOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      CheckedIn
		now     time.Time
		want    CheckedOut
		wantErr error
	}{
		{
			name: "same day", in: CheckedIn{At: utc("2024-12-02T05:00:00Z"), LocalDate: date(2024, 12, 2)}, now: utc("2024-12-02T14:30:59Z"),
			want: CheckedOut{At: utc("2024-12-02T14:30:59Z"), LocalDate: date(2024, 12, 2), CheckedInAt: utc("2024-12-02T05:00:00Z"), WorkedMinutes: 570},
		},
		{
			name: "after midnight counts to the check-in's day", in: CheckedIn{At: utc("2024-12-02T17:00:00Z"), LocalDate: date(2024, 12, 2)}, now: utc("2024-12-02T23:00:00Z"), // 20:00 to 02:00 Istanbul
			want: CheckedOut{At: utc("2024-12-02T23:00:00Z"), LocalDate: date(2024, 12, 2), CheckedInAt: utc("2024-12-02T17:00:00Z"), WorkedMinutes: 360},
		},
		{
			name: "night across new york fall back is 9 hours, not 8", in: CheckedIn{At: utc("2024-11-03T02:00:00Z"), LocalDate: date(2024, 11, 2)}, now: utc("2024-11-03T11:00:00Z"), // 22:00 EDT to 06:00 EST
			want: CheckedOut{At: utc("2024-11-03T11:00:00Z"), LocalDate: date(2024, 11, 2), CheckedInAt: utc("2024-11-03T02:00:00Z"), WorkedMinutes: 540},
		},
		{
			name: "clock stepped back", in: CheckedIn{At: utc("2024-12-02T05:00:00Z"), LocalDate: date(2024, 12, 2)}, now: utc("2024-12-02T04:59:00Z"),
			want: CheckedOut{At: utc("2024-12-02T04:59:00Z"), LocalDate: date(2024, 12, 2), CheckedInAt: utc("2024-12-02T05:00:00Z")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.in.EmployeeID = "e1"
			events, err := Decide(Replay([]any{tt.in}), CheckOut{EmployeeID: "e1", Rules: rules}, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.EmployeeID = "e1"
			if diff := cmp.Diff([]any{tt.want}, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckOutWithoutCheckIn(t *testing.T) {
	t.Parallel()
	closed := Replay([]any{
		CheckedIn{EmployeeID: "e1", At: utc("2024-12-02T05:00:00Z"), LocalDate: date(2024, 12, 2)},
		CheckedOut{EmployeeID: "e1", At: utc("2024-12-02T14:00:00Z"), LocalDate: date(2024, 12, 2)},
	})
	for name, s := range map[string]State{"never checked in": {}, "already checked out": closed} {
		if _, err := Decide(s, CheckOut{EmployeeID: "e1", Rules: rules}, utc("2024-12-02T15:00:00Z")); !errors.Is(err, ErrNotCheckedIn) {
			t.Errorf("%s: got %v, want ErrNotCheckedIn", name, err)
		}
	}
}

// TestDay runs a whole day through Decide and Apply, as the command path does.
func TestDay(t *testing.T) {
	t.Parallel()
	sched := schedule("Europe/Istanbul", 5, monToFri)
	var s State
	step := func(cmd Command, now string) any {
		t.Helper()
		events, err := Decide(s, cmd, utc(now))
		if err != nil {
			t.Fatalf("%T at %s: %v", cmd, now, err)
		}
		for _, ev := range events {
			s.Apply(ev)
		}
		return events[0]
	}
	in := CheckIn{EmployeeID: "e1", Schedule: sched, Rules: rules}
	out := CheckOut{EmployeeID: "e1", Rules: rules}

	if ev := step(in, "2024-12-02T05:17:00Z").(CheckedIn); !ev.Late || ev.LateMinutes != 17 {
		t.Errorf("morning check-in: got late=%v minutes=%d, want late 17", ev.Late, ev.LateMinutes)
	}
	if s.Open == nil {
		t.Fatal("no open check-in after CheckedIn")
	}
	step(out, "2024-12-02T09:00:00Z")
	if s.Open != nil {
		t.Fatal("check-in still open after CheckedOut")
	}
	if ev := step(in, "2024-12-02T10:00:00Z").(CheckedIn); ev.Late {
		t.Error("back from lunch counted as late")
	}
	if ev := step(out, "2024-12-02T14:00:00Z").(CheckedOut); ev.WorkedMinutes != 240 {
		t.Errorf("afternoon: got %d minutes, want 240", ev.WorkedMinutes)
	}
	if ev := step(in, "2024-12-03T05:10:00Z").(CheckedIn); !ev.Late || ev.LateMinutes != 10 {
		t.Errorf("next morning: got late=%v minutes=%d, want late 10", ev.Late, ev.LateMinutes)
	}
}

func TestWireFormat(t *testing.T) {
	t.Parallel()
	events, err := Decide(State{}, CheckIn{EmployeeID: "e1", Schedule: schedule("Europe/Istanbul", 0, monToFri)}, utc("2024-12-07T10:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(events[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"employee_id":"e1","at":"2024-12-07T10:00:00Z","local_date":"2024-12-07","timezone":"Europe/Istanbul","workday":false,"late":false,"late_minutes":0,"shift_end":"2024-12-07T14:00:00Z"}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	var back CheckedIn
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(events[0], back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func nightShift(tz string, workdays []int) employee.Schedule {
	return employee.Schedule{Timezone: tz, WorkStart: 22 * 60, WorkEnd: 6 * 60, Workdays: workdays}
}

var rules = Rules{EarlyCheckIn: 120 * time.Minute, AutoCheckoutAfter: 4 * time.Hour}

// TestNightShift checks in on night shifts, on ordinary nights and on the
// nights the clocks change.
func TestNightShift(t *testing.T) {
	t.Parallel()
	berlin := nightShift("Europe/Berlin", everyDay)
	berlinWeekdays := nightShift("Europe/Berlin", monToFri)
	newYork := nightShift("America/New_York", everyDay)
	earlyMorning := employee.Schedule{Timezone: "Europe/Berlin", WorkStart: 30, WorkEnd: 8 * 60, Workdays: monToFri} // 00:30-08:00

	tests := []struct {
		name     string
		schedule employee.Schedule
		state    State
		now      time.Time
		want     CheckedIn
	}{
		{
			name: "on time, before midnight", schedule: berlin, now: utc("2025-03-03T20:55:00Z"), // 21:55 CET monday
			want: CheckedIn{LocalDate: date(2025, 3, 3), Workday: true, ScheduledStart: utc("2025-03-03T21:00:00Z"), ShiftEnd: utc("2025-03-04T05:00:00Z")},
		},
		{
			name: "early window opens two hours before", schedule: berlin, now: utc("2025-03-03T19:00:00Z"), // 20:00 CET
			want: CheckedIn{LocalDate: date(2025, 3, 3), Workday: true, ScheduledStart: utc("2025-03-03T21:00:00Z"), ShiftEnd: utc("2025-03-04T05:00:00Z")},
		},
		{
			name: "before the early window is the calendar date", schedule: berlin, now: utc("2025-03-03T18:59:00Z"), // 19:59 CET
			want: CheckedIn{LocalDate: date(2025, 3, 3), Workday: true, ScheduledStart: utc("2025-03-03T21:00:00Z"), ShiftEnd: utc("2025-03-04T05:00:00Z")},
		},
		{
			name: "late after midnight keeps the shift's date", schedule: berlin, now: utc("2025-03-03T23:30:00Z"), // 00:30 CET tuesday
			want: CheckedIn{LocalDate: date(2025, 3, 3), Workday: true, Late: true, LateMinutes: 150, ScheduledStart: utc("2025-03-03T21:00:00Z"), ShiftEnd: utc("2025-03-04T05:00:00Z")},
		},
		{
			name: "after the shift's end is the calendar date", schedule: berlin, now: utc("2025-03-04T09:00:00Z"), // 10:00 CET tuesday
			want: CheckedIn{LocalDate: date(2025, 3, 4), Workday: true, ScheduledStart: utc("2025-03-04T21:00:00Z"), ShiftEnd: utc("2025-03-05T05:00:00Z")},
		},
		{
			name: "the shift's weekday decides: friday night into saturday", schedule: berlinWeekdays, now: utc("2025-03-08T00:10:00Z"), // 01:10 CET saturday
			want: CheckedIn{LocalDate: date(2025, 3, 7), Workday: true, Late: true, LateMinutes: 190, ScheduledStart: utc("2025-03-07T21:00:00Z"), ShiftEnd: utc("2025-03-08T05:00:00Z")},
		},
		{
			name: "sunday night of a monday-to-friday schedule is no workday", schedule: berlinWeekdays, now: utc("2025-03-10T00:10:00Z"), // 01:10 CET monday
			want: CheckedIn{LocalDate: date(2025, 3, 9), ShiftEnd: utc("2025-03-10T05:00:00Z")},
		},
		{
			name: "only the night's first check-in is late", schedule: berlin, state: State{LastCheckInDate: date(2025, 3, 3)}, now: utc("2025-03-04T02:00:00Z"), // 03:00 CET, after a break
			want: CheckedIn{LocalDate: date(2025, 3, 3), Workday: true, ScheduledStart: utc("2025-03-03T21:00:00Z"), ShiftEnd: utc("2025-03-04T05:00:00Z")},
		},
		{
			name: "berlin spring forward: 03:30 CEST is 5h30 into a 7h night", schedule: berlin, now: utc("2025-03-30T01:30:00Z"),
			want: CheckedIn{LocalDate: date(2025, 3, 29), Workday: true, Late: true, LateMinutes: 270, ScheduledStart: utc("2025-03-29T21:00:00Z"), ShiftEnd: utc("2025-03-30T04:00:00Z")},
		},
		{
			name: "berlin spring forward: 06:30 CEST is past the shorter night", schedule: berlin, now: utc("2025-03-30T04:30:00Z"),
			want: CheckedIn{LocalDate: date(2025, 3, 30), Workday: true, ScheduledStart: utc("2025-03-30T20:00:00Z"), ShiftEnd: utc("2025-03-31T04:00:00Z")},
		},
		{
			name: "berlin fall back: the second 02:30 (CET) is still the night", schedule: berlin, now: utc("2025-10-26T01:30:00Z"),
			want: CheckedIn{LocalDate: date(2025, 10, 25), Workday: true, Late: true, LateMinutes: 330, ScheduledStart: utc("2025-10-25T20:00:00Z"), ShiftEnd: utc("2025-10-26T05:00:00Z")},
		},
		{
			name: "berlin fall back: 05:30 CET is inside the longer night", schedule: berlin, now: utc("2025-10-26T04:30:00Z"),
			want: CheckedIn{LocalDate: date(2025, 10, 25), Workday: true, Late: true, LateMinutes: 510, ScheduledStart: utc("2025-10-25T20:00:00Z"), ShiftEnd: utc("2025-10-26T05:00:00Z")},
		},
		{
			name: "new york spring forward night", schedule: newYork, now: utc("2024-03-10T03:05:00Z"), // 22:05 EST saturday
			want: CheckedIn{LocalDate: date(2024, 3, 9), Workday: true, Late: true, LateMinutes: 5, ScheduledStart: utc("2024-03-10T03:00:00Z"), ShiftEnd: utc("2024-03-10T10:00:00Z")},
		},
		{
			name: "new york fall back night: 05:30 EST is still the night", schedule: newYork, now: utc("2024-11-03T10:30:00Z"),
			want: CheckedIn{LocalDate: date(2024, 11, 2), Workday: true, Late: true, LateMinutes: 510, ScheduledStart: utc("2024-11-03T02:00:00Z"), ShiftEnd: utc("2024-11-03T11:00:00Z")},
		},
		{
			name: "early check-in before midnight for a shift starting after it", schedule: earlyMorning, now: utc("2025-03-03T22:45:00Z"), // 23:45 CET monday
			want: CheckedIn{LocalDate: date(2025, 3, 4), Workday: true, ScheduledStart: utc("2025-03-03T23:30:00Z"), ShiftEnd: utc("2025-03-04T07:00:00Z")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events, err := Decide(tt.state, CheckIn{EmployeeID: "e1", Schedule: tt.schedule, Rules: rules}, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.EmployeeID, want.Timezone, want.At = "e1", tt.schedule.Timezone, tt.now
			if diff := cmp.Diff([]any{want}, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNightWithBreaks runs a night with a break through Decide and Apply:
// both halves count to the night's date, only the first can be late.
func TestNightWithBreaks(t *testing.T) {
	t.Parallel()
	var s State
	step := func(cmd Command, now string) any {
		t.Helper()
		events, err := Decide(s, cmd, utc(now))
		if err != nil {
			t.Fatalf("%T at %s: %v", cmd, now, err)
		}
		for _, ev := range events {
			s.Apply(ev)
		}
		return events[len(events)-1]
	}
	in := CheckIn{EmployeeID: "e1", Schedule: nightShift("Europe/Berlin", everyDay), Rules: rules}
	out := CheckOut{EmployeeID: "e1", Rules: rules}
	night := date(2025, 3, 29) // the clocks go forward at 02:00

	first := step(in, "2025-03-29T21:10:00Z").(CheckedIn) // 22:10 CET
	if first.LocalDate != night || first.LateMinutes != 10 {
		t.Errorf("first check-in: got %s late %d, want %s late 10", first.LocalDate, first.LateMinutes, night)
	}
	worked := step(out, "2025-03-29T23:40:00Z").(CheckedOut).WorkedMinutes // 00:40 CET
	second := step(in, "2025-03-30T00:10:00Z").(CheckedIn)                 // 01:10 CET, after the break
	if second.LocalDate != night || second.Late {
		t.Errorf("after the break: got %s late %v, want %s and not late", second.LocalDate, second.Late, night)
	}
	last := step(out, "2025-03-30T04:00:00Z").(CheckedOut) // 06:00 CEST
	if last.LocalDate != night {
		t.Errorf("check-out: got %s, want %s", last.LocalDate, night)
	}
	if got := worked + last.WorkedMinutes; got != 150+230 {
		t.Errorf("worked: got %d minutes, want %d", got, 150+230)
	}
}

func TestForgottenCheckOut(t *testing.T) {
	t.Parallel()
	day := schedule("Europe/Istanbul", 0, monToFri) // 08:00-17:00, 05:00Z-14:00Z
	openDay := CheckedIn{EmployeeID: "e1", At: utc("2024-12-02T05:00:00Z"), LocalDate: date(2024, 12, 2), ShiftEnd: utc("2024-12-02T14:00:00Z")}
	openAfterEnd := CheckedIn{EmployeeID: "e1", At: utc("2024-12-02T15:00:00Z"), LocalDate: date(2024, 12, 2), ShiftEnd: utc("2024-12-02T14:00:00Z")}
	openNight := CheckedIn{EmployeeID: "e1", At: utc("2025-10-25T20:00:00Z"), LocalDate: date(2025, 10, 25), ShiftEnd: utc("2025-10-26T05:00:00Z")}
	beforeShiftEnds := CheckedIn{EmployeeID: "e1", At: utc("2024-12-02T05:00:00Z"), LocalDate: date(2024, 12, 2)} // recorded without a shift end

	closed := func(in CheckedIn, at string, minutes int) AutoCheckedOut {
		return AutoCheckedOut{EmployeeID: "e1", At: utc(at), LocalDate: in.LocalDate, CheckedInAt: in.At, WorkedMinutes: minutes}
	}
	tests := []struct {
		name string
		open CheckedIn
		now  string
		want []any
	}{
		{name: "not yet due", open: openDay, now: "2024-12-02T17:59:59Z"},
		{name: "due four hours after the shift's end, closed at the end", open: openDay, now: "2024-12-02T18:00:00Z", want: []any{closed(openDay, "2024-12-02T14:00:00Z", 540)}},
		{name: "a check-in after the shift's end closes at itself", open: openAfterEnd, now: "2024-12-02T19:00:00Z", want: []any{closed(openAfterEnd, "2024-12-02T15:00:00Z", 0)}},
		{name: "a check-in after the shift's end is due four hours after itself", open: openAfterEnd, now: "2024-12-02T18:59:00Z"},
		{name: "the long night the clocks go back counts 9 hours", open: openNight, now: "2025-10-26T09:00:00Z", want: []any{closed(openNight, "2025-10-26T05:00:00Z", 540)}},
		{name: "an old check-in without a shift end is never closed", open: beforeShiftEnds, now: "2024-12-09T09:00:00Z"},
		{name: "days later", open: openDay, now: "2024-12-09T05:00:00Z", want: []any{closed(openDay, "2024-12-02T14:00:00Z", 540)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events, err := Decide(Replay([]any{tt.open}), CloseForgotten{EmployeeID: "e1", Rules: rules}, utc(tt.now))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
	if events, err := Decide(State{}, CloseForgotten{EmployeeID: "e1", Rules: rules}, utc("2024-12-02T18:00:00Z")); err != nil || len(events) != 0 {
		t.Errorf("nothing open: got %v, %v; want no events", events, err)
	}

	// A check-in meeting a check-in past due closes it first; one not yet due is a conflict.
	if _, err := Decide(Replay([]any{openDay}), CheckIn{EmployeeID: "e1", Schedule: day, Rules: rules}, utc("2024-12-02T17:00:00Z")); !errors.Is(err, ErrAlreadyCheckedIn) {
		t.Errorf("check-in before due: got %v, want ErrAlreadyCheckedIn", err)
	}
	events, err := Decide(Replay([]any{openDay}), CheckIn{EmployeeID: "e1", Schedule: day, Rules: rules}, utc("2024-12-03T05:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || !cmp.Equal(events[0], closed(openDay, "2024-12-02T14:00:00Z", 540)) {
		t.Fatalf("check-in the next morning: got %v, want the old check-in closed first", events)
	}
	if in, ok := events[1].(CheckedIn); !ok || in.LocalDate != date(2024, 12, 3) || in.Late {
		t.Errorf("check-in the next morning: got %+v, want an on-time check-in on 2024-12-03", events[1])
	}
	if s := Replay([]any{openDay, events[0]}); s.Open != nil {
		t.Error("check-in still open after AutoCheckedOut")
	}

	// A check-out past due is refused whether or not the system closed it yet,
	// so the day comes out the same either way; before, it is a check-out.
	if _, err := Decide(Replay([]any{openDay}), CheckOut{EmployeeID: "e1", Rules: rules}, utc("2024-12-02T18:00:00Z")); !errors.Is(err, ErrCheckInExpired) {
		t.Errorf("check-out past due: got %v, want ErrCheckInExpired", err)
	}
	if _, err := Decide(Replay([]any{openDay}), CheckOut{EmployeeID: "e1", Rules: rules}, utc("2024-12-02T17:59:59Z")); err != nil {
		t.Errorf("check-out before due: got %v, want it recorded", err)
	}
}
