package attendance

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
)

const emp = "e1"

// punches builds a stream through Decide: each step is a check-in ("in") or
// a check-out ("out") at its time, or the system closing what is due ("close").
func punches(t *testing.T, s employee.Schedule, steps ...string) []any {
	t.Helper()
	rules := Rules{EarlyCheckIn: 2 * time.Hour, AutoCheckoutAfter: 4 * time.Hour}
	var history []any
	for _, step := range steps {
		kind, at, _ := strings.Cut(step, " ")
		var cmd Command
		switch kind {
		case "in":
			cmd = CheckIn{EmployeeID: emp, Schedule: s, Rules: rules}
		case "out":
			cmd = CheckOut{EmployeeID: emp, Rules: rules}
		case "close":
			cmd = CloseForgotten{EmployeeID: emp, Rules: rules}
		}
		events, err := Decide(Replay(history), cmd, utc(at))
		if err != nil || len(events) == 0 {
			t.Fatalf("%s: got %v, %v; want events", step, events, err)
		}
		history = append(history, events...)
	}
	return history
}

// file and approve run a correction through DecideCorrection on history.
func file(t *testing.T, history []any, s employee.Schedule, d calendar.Date, in, out string) []any {
	t.Helper()
	events, err := DecideCorrection(ReplayRecord(history), request(s, d, in, out), utc("2024-12-10T12:00:00Z"))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	return append(history, events...)
}

func request(s employee.Schedule, d calendar.Date, in, out string) RequestCorrection {
	c := RequestCorrection{CorrectionID: "c1", EmployeeID: emp, Date: d, Reason: "the reader was down", By: emp, Schedule: s, Rules: DefaultRules()}
	if in != "" {
		c.CheckIn = utc(in)
	}
	if out != "" {
		c.CheckOut = utc(out)
	}
	return c
}

func approve(history []any, s employee.Schedule) ([]any, error) {
	return DecideCorrection(ReplayRecord(history), ApproveCorrection{CorrectionID: "c1", By: "m1", Schedule: s}, utc("2024-12-11T09:00:00Z"))
}

func TestApproveCorrection(t *testing.T) {
	t.Parallel()
	day := schedule("UTC", 5, monToFri) // 08:00-17:00
	night := nightShift("UTC", monToFri)
	dec2, dec3 := date(2024, time.December, 2), date(2024, time.December, 3) // Monday, Tuesday
	tests := []struct {
		name     string
		schedule employee.Schedule
		punches  []string
		date     calendar.Date
		in, out  string
		want     CorrectionApproved
	}{
		{
			name: "check-in only: lateness goes", schedule: day, date: dec2,
			punches: []string{"in 2024-12-02T09:30:00Z", "out 2024-12-02T17:00:00Z"},
			in:      "2024-12-02T08:00:00Z",
			want:    CorrectionApproved{CheckIn: utc("2024-12-02T08:00:00Z"), Workday: true, WorkedMinutes: 540, PreviousWorkedMinutes: 450, PreviousLateMinutes: 90},
		},
		{
			name: "check-in later than punched: late from the corrected time", schedule: day, date: dec2,
			punches: []string{"in 2024-12-02T07:50:00Z", "out 2024-12-02T17:00:00Z"},
			in:      "2024-12-02T08:20:00Z",
			want:    CorrectionApproved{CheckIn: utc("2024-12-02T08:20:00Z"), Workday: true, WorkedMinutes: 520, LateMinutes: 20, PreviousWorkedMinutes: 550},
		},
		{
			name: "check-out only: lateness stays", schedule: day, date: dec2,
			punches: []string{"in 2024-12-02T08:30:00Z", "out 2024-12-02T12:00:00Z"},
			out:     "2024-12-02T17:30:00Z",
			want:    CorrectionApproved{CheckOut: utc("2024-12-02T17:30:00Z"), Workday: true, WorkedMinutes: 540, LateMinutes: 30, PreviousWorkedMinutes: 210, PreviousLateMinutes: 30},
		},
		{
			name: "both", schedule: day, date: dec2,
			punches: []string{"in 2024-12-02T09:00:00Z", "out 2024-12-02T12:00:00Z"},
			in:      "2024-12-02T08:00:00Z", out: "2024-12-02T17:00:00Z",
			want: CorrectionApproved{CheckIn: utc("2024-12-02T08:00:00Z"), CheckOut: utc("2024-12-02T17:00:00Z"), Workday: true, WorkedMinutes: 540,
				PreviousWorkedMinutes: 180, PreviousLateMinutes: 60},
		},
		{
			name: "a day that needed review: the system's check-out replaced", schedule: day, date: dec2,
			punches: []string{"in 2024-12-02T08:00:00Z", "close 2024-12-02T21:00:00Z"},
			out:     "2024-12-02T18:15:00Z",
			want:    CorrectionApproved{CheckOut: utc("2024-12-02T18:15:00Z"), Workday: true, WorkedMinutes: 615, PreviousWorkedMinutes: 540},
		},
		{
			name: "overnight shift: check-out on the next calendar day", schedule: night, date: dec2,
			punches: []string{"in 2024-12-02T22:30:00Z", "close 2024-12-03T10:00:00Z"},
			in:      "2024-12-02T22:00:00Z", out: "2024-12-03T06:15:00Z",
			want: CorrectionApproved{CheckIn: utc("2024-12-02T22:00:00Z"), CheckOut: utc("2024-12-03T06:15:00Z"), Workday: true, WorkedMinutes: 495,
				PreviousWorkedMinutes: 450, PreviousLateMinutes: 30},
		},
		{
			name: "overnight shift: a check-in after midnight corrects the night before", schedule: night, date: dec2,
			punches: []string{"in 2024-12-03T01:00:00Z", "out 2024-12-03T06:00:00Z"},
			in:      "2024-12-03T00:10:00Z",
			want:    CorrectionApproved{CheckIn: utc("2024-12-03T00:10:00Z"), Workday: true, WorkedMinutes: 350, LateMinutes: 130, PreviousWorkedMinutes: 300, PreviousLateMinutes: 180},
		},
		{
			name: "a day with breaks: first check-in and last check-out replaced, the break kept", schedule: day, date: dec2,
			punches: []string{"in 2024-12-02T08:30:00Z", "out 2024-12-02T12:00:00Z", "in 2024-12-02T13:00:00Z", "out 2024-12-02T16:00:00Z"},
			in:      "2024-12-02T08:00:00Z", out: "2024-12-02T17:00:00Z",
			want: CorrectionApproved{CheckIn: utc("2024-12-02T08:00:00Z"), CheckOut: utc("2024-12-02T17:00:00Z"), Workday: true, WorkedMinutes: 480,
				PreviousWorkedMinutes: 390, PreviousLateMinutes: 30},
		},
		{
			name: "a day without a check-in is made, late past grace", schedule: day, date: dec3,
			punches: []string{"in 2024-12-02T08:00:00Z", "out 2024-12-02T17:00:00Z"},
			in:      "2024-12-03T08:10:00Z", out: "2024-12-03T17:00:00Z",
			want: CorrectionApproved{CheckIn: utc("2024-12-03T08:10:00Z"), CheckOut: utc("2024-12-03T17:00:00Z"), NewDay: true, Workday: true,
				WorkedMinutes: 530, LateMinutes: 10},
		},
		{
			name: "the open check-in closed by the correction", schedule: day, date: dec2,
			punches: []string{"in 2024-12-02T08:00:00Z"},
			out:     "2024-12-02T17:00:00Z",
			want:    CorrectionApproved{CheckOut: utc("2024-12-02T17:00:00Z"), Workday: true, WorkedMinutes: 540},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			history := file(t, punches(t, tt.schedule, tt.punches...), tt.schedule, tt.date, tt.in, tt.out)
			got, err := approve(history, tt.schedule)
			if err != nil {
				t.Fatalf("approve: %v", err)
			}
			want := tt.want
			want.CorrectionID, want.EmployeeID, want.Date, want.DecidedBy, want.DecidedAt = "c1", emp, tt.date, "m1", utc("2024-12-11T09:00:00Z")
			if diff := cmp.Diff([]any{want}, got); diff != "" {
				t.Fatalf("approval (-want +got):\n%s", diff)
			}
			// Folded, the day shows the corrected figures, no longer needs
			// review, and the punches stay in the history before it.
			r := ReplayRecord(append(history, got...))
			d := r.Day(tt.date)
			if d.WorkedMinutes() != want.WorkedMinutes || d.LateMinutes != want.LateMinutes || d.NeedsReview || !d.Corrected || d.Open() {
				t.Errorf("day after: got %+v, want %d worked, %d late, corrected, reviewed, closed", d, want.WorkedMinutes, want.LateMinutes)
			}
			if c, _ := r.Correction("c1"); c.Status != Approved || c.DecidedBy != "m1" {
				t.Errorf("correction after: got %+v, want approved by m1", c)
			}
			if r.Open != nil {
				t.Errorf("open check-in after: got %+v, want none", r.Open)
			}
		})
	}
}

func TestApprovedCorrectionThenCheckIn(t *testing.T) {
	t.Parallel()
	s := schedule("UTC", 0, monToFri)
	// The correction made Tuesday's day: a check-in later that day is its
	// second, never late; the open check-in it closed lets a new one in.
	history := file(t, punches(t, s, "in 2024-12-02T08:00:00Z"), s, date(2024, time.December, 2), "", "2024-12-02T17:00:00Z")
	approved, err := approve(history, s)
	if err != nil {
		t.Fatal(err)
	}
	history = append(history, approved...)
	events, err := Decide(Replay(history), CheckIn{EmployeeID: emp, Schedule: s, Rules: DefaultRules()}, utc("2024-12-02T18:00:00Z"))
	if err != nil {
		t.Fatalf("check-in after the correction closed the open one: %v", err)
	}
	if in := events[0].(CheckedIn); in.Late {
		t.Errorf("a second check-in of the day: got late %d, want not late", in.LateMinutes)
	}

	tuesday := date(2024, time.December, 3)
	c := request(s, tuesday, "2024-12-03T09:00:00Z", "2024-12-03T17:00:00Z")
	filed, err := DecideCorrection(ReplayRecord(history), c, utc("2024-12-03T18:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	history = append(history, filed...)
	approved, err = DecideCorrection(ReplayRecord(history), ApproveCorrection{CorrectionID: "c1", By: "m1", Schedule: s}, utc("2024-12-03T18:30:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	history = append(history, approved...)
	events, err = Decide(Replay(history), CheckIn{EmployeeID: emp, Schedule: s, Rules: DefaultRules()}, utc("2024-12-03T19:00:00Z"))
	if err != nil || events[0].(CheckedIn).Late {
		t.Errorf("check-in on the made day: got %v, %v; want not late", events, err)
	}
}

func TestCorrectionRefusals(t *testing.T) {
	t.Parallel()
	s := schedule("UTC", 0, monToFri)
	dec2, dec3 := date(2024, time.December, 2), date(2024, time.December, 3)
	worked := punches(t, s, "in 2024-12-02T08:00:00Z", "out 2024-12-02T12:00:00Z", "in 2024-12-02T13:00:00Z", "out 2024-12-02T17:00:00Z",
		"in 2024-12-03T08:00:00Z", "out 2024-12-03T17:00:00Z")
	now := utc("2024-12-04T12:00:00Z")
	tests := []struct {
		name    string
		cmd     RequestCorrection
		want    error
		fields  []string
		history []any
	}{
		{name: "a future date", cmd: request(s, date(2024, time.December, 5), "2024-12-04T08:00:00Z", ""), want: ErrCorrectionInFuture},
		{name: "a future time", cmd: request(s, dec3, "", "2024-12-04T13:00:00Z"), want: ErrCorrectionInFuture},
		{name: "check-out before check-in", cmd: request(s, dec2, "2024-12-02T09:00:00Z", "2024-12-02T08:00:00Z"), want: ErrCheckOutNotAfterCheckIn},
		{name: "check-out at check-in", cmd: request(s, dec2, "2024-12-02T09:00:00Z", "2024-12-02T09:00:00Z"), want: ErrCheckOutNotAfterCheckIn},
		{name: "check-in past the first check-out", cmd: request(s, dec2, "2024-12-02T12:30:00Z", ""), want: ErrCheckInAfterCheckOut},
		{name: "check-out before the last check-in", cmd: request(s, dec2, "", "2024-12-02T12:30:00Z"), want: ErrCheckOutNotAfterCheckIn},
		{name: "check-in of another date's shift", cmd: request(s, dec2, "2024-12-03T07:00:00Z", ""), want: ErrCheckInOffDate},
		{name: "a shift of more than a day", cmd: request(s, dec2, "", "2024-12-03T13:00:01Z"), want: ErrCheckOutTooLate, history: punches(t, s, "in 2024-12-02T13:00:00Z")},
		{name: "into the next date's check-in", cmd: request(s, dec2, "", "2024-12-03T09:00:00Z"), want: ErrCorrectionOverlaps},
		{name: "a check-out only, on a date without a check-in", cmd: request(s, date(2024, time.December, 1), "", "2024-12-01T17:00:00Z"), want: ErrNoDayToCorrect},
		{name: "no time", cmd: request(s, dec2, "", ""), fields: []string{"check_in", "check_out"}},
		{name: "no reason", cmd: func() RequestCorrection { c := request(s, dec2, "2024-12-02T07:00:00Z", ""); c.Reason = " "; return c }(), fields: []string{"reason"}},
		{name: "a long reason", cmd: func() RequestCorrection {
			c := request(s, dec2, "2024-12-02T07:00:00Z", "")
			c.Reason = strings.Repeat("é", 501)
			return c
		}(), fields: []string{"reason"}},
		{name: "no date", cmd: request(s, calendar.Date{}, "2024-12-02T07:00:00Z", ""), fields: []string{"date"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			history := tt.history
			if history == nil {
				history = worked
			}
			_, err := DecideCorrection(ReplayRecord(history), tt.cmd, now)
			if tt.fields != nil {
				var ve interface{ FieldErrors() map[string]string }
				if !errors.As(err, &ve) {
					t.Fatalf("got %v, want a validation error", err)
				}
				for _, f := range tt.fields {
					if ve.FieldErrors()[f] == "" {
						t.Errorf("got %v, want %s named", ve.FieldErrors(), f)
					}
				}
				return
			}
			if !errors.Is(err, tt.want) || errkind.Of(err) != errkind.Unprocessable {
				t.Errorf("got %v, want %v (unprocessable)", err, tt.want)
			}
		})
	}
}

func TestDecideCorrectionRefusals(t *testing.T) {
	t.Parallel()
	s := schedule("UTC", 0, monToFri)
	dec2 := date(2024, time.December, 2)
	open := file(t, punches(t, s, "in 2024-12-02T08:00:00Z"), s, dec2, "2024-12-02T07:30:00Z", "")
	if _, err := approve(open, s); !errors.Is(err, ErrDayStillOpen) {
		t.Errorf("approve a check-in only on a day still open: got %v, want ErrDayStillOpen", err)
	}

	history := file(t, punches(t, s, "in 2024-12-02T08:00:00Z", "out 2024-12-02T17:00:00Z"), s, dec2, "2024-12-02T07:30:00Z", "")
	rejected, err := DecideCorrection(ReplayRecord(history), RejectCorrection{CorrectionID: "c1", By: "m1", Note: "no"}, utc("2024-12-11T09:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{CorrectionRejected{CorrectionID: "c1", EmployeeID: emp, Date: dec2, CheckIn: utc("2024-12-02T07:30:00Z"), DecidedBy: "m1", DecidedAt: utc("2024-12-11T09:00:00Z"), Note: "no"}}
	if diff := cmp.Diff(want, rejected); diff != "" {
		t.Errorf("rejection (-want +got):\n%s", diff)
	}
	history = append(history, rejected...)
	if d := ReplayRecord(history).Day(dec2); d.Corrected || d.WorkedMinutes() != 540 {
		t.Errorf("day after a rejection: got %+v, want as punched", d)
	}
	for name, cmd := range map[string]CorrectionCommand{
		"approve": ApproveCorrection{CorrectionID: "c1", By: "m1", Schedule: s},
		"reject":  RejectCorrection{CorrectionID: "c1", By: "m1"},
	} {
		if _, err := DecideCorrection(ReplayRecord(history), cmd, utc("2024-12-11T10:00:00Z")); !errors.Is(err, ErrCorrectionNotPending) || errkind.Of(err) != errkind.Conflict {
			t.Errorf("%s a decided correction: got %v, want ErrCorrectionNotPending (conflict)", name, err)
		}
	}
	if _, err := DecideCorrection(ReplayRecord(history), RejectCorrection{CorrectionID: "c2", By: "m1"}, utc("2024-12-11T10:00:00Z")); !errors.Is(err, ErrCorrectionNotFound) {
		t.Errorf("an unknown correction: got %v, want ErrCorrectionNotFound", err)
	}
	if _, err := DecideCorrection(ReplayRecord(history), RejectCorrection{CorrectionID: "c1", By: "m1", Note: strings.Repeat("x", 501)}, utc("2024-12-11T10:00:00Z")); errkind.Of(err) != errkind.Invalid {
		t.Errorf("a long note: got %v, want invalid", err)
	}

	// The day changed between filing and approval: the times are checked
	// again, against the day as it is.
	changed := file(t, punches(t, s, "in 2024-12-02T08:00:00Z"), s, dec2, "", "2024-12-02T09:00:00Z")
	for _, step := range []struct {
		cmd Command
		at  string
	}{{CheckOut{EmployeeID: emp, Rules: DefaultRules()}, "2024-12-02T10:00:00Z"}, {CheckIn{EmployeeID: emp, Schedule: s, Rules: DefaultRules()}, "2024-12-02T10:30:00Z"}} {
		events, err := Decide(Replay(changed), step.cmd, utc(step.at))
		if err != nil {
			t.Fatal(err)
		}
		changed = append(changed, events...)
	}
	if _, err := approve(changed, s); !errors.Is(err, ErrCheckOutNotAfterCheckIn) {
		t.Errorf("approve a check-out now before the last check-in: got %v, want ErrCheckOutNotAfterCheckIn", err)
	}
}
