package leave

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var (
	now      = time.Date(2024, time.November, 20, 9, 0, 0, 0, time.UTC)
	monToFri = []int{1, 2, 3, 4, 5}
	hired    = date("2023-06-01")
	policy   = DefaultPolicy()
	// employment is of someone hired on hired, on the day of now.
	employment = Employment{HireDate: hired, Today: date("2024-11-20")}
)

// v1Balance is the annual balance of yr in the figures version 1 had.
func v1Balance(a Account, yr int) Balance {
	b := a.Balance(ReplayTypes(policy, nil), BalanceOf{Year: yr, Employment: employment})
	return Balance{Entitlement: b.Entitlement, Used: b.Used, Pending: b.Pending, Remaining: b.Remaining, Available: b.Available}
}

func date(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func granted(year, days int) Granted {
	return Granted{EmployeeID: "e1", Year: year, Amount: Days(days), Reason: "annual leave"}
}

func req(id, start, end string) Request {
	return Request{RequestID: id, EmployeeID: "e1", Start: date(start), End: date(end), Workdays: monToFri, Employment: employment}
}

// decide runs cmd against a and applies what it returns, as the command path does.
func decide(t *testing.T, a *Account, cmd Command, p Policy) []any {
	t.Helper()
	events, err := Decide(*a, cmd, p, now)
	if err != nil {
		t.Fatalf("%T: %v", cmd, err)
	}
	for _, ev := range events {
		a.Apply(ev)
	}
	return events
}

func names(events []any) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = ev.(interface{ EventName() string }).EventName()
	}
	return out
}

func TestRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cmd       Request
		wantDays  int
		wantDates []string
	}{
		// 2024-12-01 is a Sunday: Monday to Thursday remain.
		{name: "sunday to thursday", cmd: req("r1", "2024-12-01", "2024-12-05"), wantDays: 4,
			wantDates: []string{"2024-12-02", "2024-12-03", "2024-12-04", "2024-12-05"}},
		{name: "weekend not counted", cmd: req("r1", "2024-12-06", "2024-12-09"), wantDays: 2,
			wantDates: []string{"2024-12-06", "2024-12-09"}},
		{name: "holiday not counted", cmd: func() Request {
			r := req("r1", "2024-12-02", "2024-12-06")
			r.Holidays = calendar.Holidays{date("2024-12-04"): "Founders' Day"}
			return r
		}(), wantDays: 4, wantDates: []string{"2024-12-02", "2024-12-03", "2024-12-05", "2024-12-06"}},
		{name: "six-day week counts saturday", cmd: func() Request {
			r := req("r1", "2024-12-02", "2024-12-08")
			r.Workdays = []int{1, 2, 3, 4, 5, 6}
			return r
		}(), wantDays: 6, wantDates: []string{"2024-12-02", "2024-12-03", "2024-12-04", "2024-12-05", "2024-12-06", "2024-12-07"}},
		{name: "single day", cmd: req("r1", "2024-12-02", "2024-12-02"), wantDays: 1,
			wantDates: []string{"2024-12-02"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := Replay([]any{granted(2024, 15)})
			tt.cmd.Reason = "family visit"
			got, err := Decide(a, tt.cmd, policy, now)
			if err != nil {
				t.Fatal(err)
			}
			var wantDates []calendar.Date
			for _, d := range tt.wantDates {
				wantDates = append(wantDates, date(d))
			}
			want := []any{Requested{
				RequestID: "r1", EmployeeID: "e1", StartDate: tt.cmd.Start, EndDate: tt.cmd.End, Days: tt.wantDays,
				Dates: wantDates, Amount: Days(tt.wantDays), Year: 2024, Reason: "family visit", RequestedAt: now,
			}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
			a.Apply(got[0])
			wantBalance := Balance{Entitlement: Days(15), Pending: Days(tt.wantDays), Remaining: Days(15), Available: Days(15 - tt.wantDays)}
			if diff := cmp.Diff(wantBalance, v1Balance(a, 2024)); diff != "" {
				t.Errorf("balance (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequestRefusals(t *testing.T) {
	t.Parallel()
	history := []any{
		granted(2024, 15),
		Requested{RequestID: "pending", EmployeeID: "e1", StartDate: date("2024-12-09"), EndDate: date("2024-12-10"), Days: 2, Amount: Days(2), Year: 2024},
		Requested{RequestID: "approved", EmployeeID: "e1", StartDate: date("2024-12-16"), EndDate: date("2024-12-16"), Days: 1, Amount: Days(1), Year: 2024},
		Approved{RequestID: "approved", EmployeeID: "e1", Year: 2024, Amount: Days(1)},
	}
	tests := []struct {
		name      string
		cmd       Request
		wantErr   error
		wantAs    any
		wantField string
	}{
		{name: "end before start", cmd: req("r", "2024-12-05", "2024-12-02"), wantErr: ErrEndBeforeStart},
		{name: "spans years", cmd: req("r", "2024-12-30", "2025-01-02"), wantErr: ErrSpansYears},
		{name: "weekend only", cmd: req("r", "2024-12-07", "2024-12-08"), wantErr: ErrNoWorkdays},
		{name: "holiday only", cmd: func() Request {
			r := req("r", "2024-12-02", "2024-12-02")
			r.Holidays = calendar.Holidays{date("2024-12-02"): "Founders' Day"}
			return r
		}(), wantErr: ErrNoWorkdays},
		{name: "overlaps a pending request", cmd: req("r", "2024-12-10", "2024-12-11"), wantAs: &OverlapError{With: "pending"}},
		{name: "contains an approved request", cmd: req("r", "2024-12-13", "2024-12-17"), wantAs: &OverlapError{With: "approved"}},
		{name: "more than available", cmd: req("r", "2024-11-18", "2024-12-06"), // 15 days asked, 12 available
			wantAs: &InsufficientBalanceError{Requested: Days(15), Available: Days(12)}},
		{name: "reason too long", cmd: func() Request {
			r := req("r", "2024-12-02", "2024-12-02")
			r.Reason = strings.Repeat("é", 501)
			return r
		}(), wantField: "reason"},
		{name: "no start", cmd: Request{RequestID: "r", EmployeeID: "e1", End: date("2024-12-02"), Workdays: monToFri}, wantField: "start_date"},
		{name: "impossible end", cmd: Request{RequestID: "r", EmployeeID: "e1", Start: date("2024-12-02"), End: calendar.Date{Year: 2024, Month: 2, Day: 30}, Workdays: monToFri}, wantField: "end_date"},
		{name: "no id", cmd: req("", "2024-12-02", "2024-12-02"), wantField: "request_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events, err := Decide(Replay(history), tt.cmd, policy, now)
			if events != nil {
				t.Errorf("got events %v, want none", names(events))
			}
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got error %v, want %v", err, tt.wantErr)
				}
			case tt.wantField != "":
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Fields[tt.wantField] == "" {
					t.Fatalf("got error %v, want a validation error on %q", err, tt.wantField)
				}
			default:
				checkTypedError(t, err, tt.wantAs)
			}
		})
	}
}

// checkTypedError asserts err is of want's type and carries the same figures.
func checkTypedError(t *testing.T, err error, want any) {
	t.Helper()
	switch want := want.(type) {
	case *OverlapError:
		var got *OverlapError
		if !errors.As(err, &got) {
			t.Fatalf("got error %v, want %T", err, want)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
	case *InsufficientBalanceError:
		var got *InsufficientBalanceError
		if !errors.As(err, &got) {
			t.Fatalf("got error %v, want %T", err, want)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
	default:
		t.Fatalf("unexpected wanted error %T", want)
	}
}

func TestSpansYearsMessage(t *testing.T) {
	t.Parallel()
	if msg := ErrSpansYears.Error(); !strings.Contains(msg, "split it into one request per year") {
		t.Errorf("got %q, want advice to split the request", msg)
	}
}

func TestRequestAfterRejectionOrCancellationMayReuseDates(t *testing.T) {
	t.Parallel()
	a := Replay([]any{granted(2024, 15)})
	decide(t, &a, req("r1", "2024-12-02", "2024-12-03"), policy)
	decide(t, &a, Reject{RequestID: "r1", By: "m1"}, policy)
	decide(t, &a, req("r2", "2024-12-02", "2024-12-03"), policy)
	decide(t, &a, Cancel{RequestID: "r2", By: "e1"}, policy)
	decide(t, &a, req("r3", "2024-12-03", "2024-12-04"), policy)
	// Adjacent ranges do not overlap.
	decide(t, &a, req("r4", "2024-12-05", "2024-12-05"), policy)
	if _, err := Decide(a, req("r5", "2024-12-04", "2024-12-05"), policy, now); !errors.As(err, new(*OverlapError)) {
		t.Errorf("got %v, want an overlap", err)
	}
}

func TestRequestRepeatedIsNoOp(t *testing.T) {
	t.Parallel()
	a := Replay([]any{granted(2024, 15)})
	decide(t, &a, req("r1", "2024-12-02", "2024-12-03"), policy)
	events, err := Decide(a, req("r1", "2024-12-02", "2024-12-03"), policy, now)
	if err != nil || events != nil {
		t.Errorf("repeated request = %v, %v; want no events", names(events), err)
	}
}

func TestLazyGrant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		history   []any
		cmd       Request
		wantNames []string
		wantAs    any
	}{
		{name: "year not granted", cmd: req("r1", "2025-01-06", "2025-01-07"),
			wantNames: []string{"leave.granted", "leave.requested"}},
		{name: "year granted", history: []any{granted(2025, 15)}, cmd: req("r1", "2025-01-06", "2025-01-07"),
			wantNames: []string{"leave.requested"}},
		{name: "year before hiring gets no grant", cmd: req("r1", "2022-12-05", "2022-12-06"),
			wantAs: &InsufficientBalanceError{Requested: Days(2), Available: 0}},
		{name: "entitlement set before grant is kept", history: []any{EntitlementSet{EmployeeID: "e1", Year: 2025, Amount: Days(1)}},
			cmd: req("r1", "2025-01-06", "2025-01-07"), wantAs: &InsufficientBalanceError{Requested: Days(2), Available: Days(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events, err := Decide(Replay(tt.history), tt.cmd, policy, now)
			if tt.wantAs != nil {
				checkTypedError(t, err, tt.wantAs)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantNames, names(events)); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
			if len(events) == 2 {
				if diff := cmp.Diff(granted(2025, 15), events[0]); diff != "" {
					t.Errorf("grant (-want +got):\n%s", diff)
				}
			}
			a := Replay(append(tt.history, events...))
			if got, want := v1Balance(a, 2025).Available, Days(13); got != want {
				t.Errorf("available after request: got %d, want %d", got, want)
			}
		})
	}
}

func TestApprove(t *testing.T) {
	t.Parallel()
	a := Replay([]any{granted(2024, 15)})
	decide(t, &a, req("r1", "2024-12-02", "2024-12-05"), policy)
	at := time.Date(2024, time.November, 21, 10, 0, 0, 0, time.UTC)

	events := decide(t, &a, Approve{RequestID: "r1", By: "m1", Note: "enjoy", At: at}, policy)
	want := []any{Approved{RequestID: "r1", EmployeeID: "e1", Year: 2024, Amount: Days(4), Days: 4,
		Dates: []calendar.Date{date("2024-12-02"), date("2024-12-03"), date("2024-12-04"), date("2024-12-05")}, DecidedBy: "m1", Note: "enjoy", DecidedAt: at}}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	balance := Balance{Entitlement: Days(15), Used: Days(4), Remaining: Days(11), Available: Days(11)}
	if diff := cmp.Diff(balance, v1Balance(a, 2024)); diff != "" {
		t.Fatalf("balance (-want +got):\n%s", diff)
	}

	// Approving twice must not spend the days twice.
	if events, err := Decide(a, Approve{RequestID: "r1", By: "m1"}, policy, now); !errors.Is(err, ErrNotPending) || events != nil {
		t.Errorf("second approval = %v, %v; want ErrNotPending and no events", names(events), err)
	}
	if diff := cmp.Diff(balance, v1Balance(a, 2024)); diff != "" {
		t.Errorf("balance after refused approval (-want +got):\n%s", diff)
	}
	r, ok := a.Request("r1")
	if !ok || r.Status != StatusApproved || r.DecidedBy != "m1" || !r.DecidedAt.Equal(at) || r.Note != "enjoy" {
		t.Errorf("request after approval = %+v, %v", r, ok)
	}
}

func TestApproveRefusals(t *testing.T) {
	t.Parallel()
	history := []any{
		granted(2024, 15),
		Requested{RequestID: "big", EmployeeID: "e1", StartDate: date("2024-12-02"), EndDate: date("2024-12-06"), Days: 5,
			Dates: weekOf("2024-12-02"), Amount: Days(5), Year: 2024},
		// The entitlement was lowered after the request was filed.
		EntitlementSet{EmployeeID: "e1", Year: 2024, Amount: Days(4), Previous: Days(15)},
		Requested{RequestID: "gone", EmployeeID: "e1", StartDate: date("2024-12-09"), EndDate: date("2024-12-09"), Days: 1,
			Dates: []calendar.Date{date("2024-12-09")}, Amount: Days(1), Year: 2024},
		Rejected{RequestID: "gone", EmployeeID: "e1", Year: 2024, Amount: Days(1)},
	}
	tests := []struct {
		name    string
		cmd     Command
		wantErr error
		wantAs  any
	}{
		{name: "past the balance", cmd: Approve{RequestID: "big", By: "m1"}, wantAs: &InsufficientBalanceError{Requested: Days(5), Available: Days(4)}},
		{name: "unknown request", cmd: Approve{RequestID: "nope", By: "m1"}, wantErr: ErrRequestNotFound},
		{name: "rejected request", cmd: Approve{RequestID: "gone", By: "m1"}, wantErr: ErrNotPending},
		{name: "reject unknown", cmd: Reject{RequestID: "nope", By: "m1"}, wantErr: ErrRequestNotFound},
		{name: "reject twice", cmd: Reject{RequestID: "gone", By: "m1"}, wantErr: ErrNotPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := Replay(history)
			before := v1Balance(a, 2024)
			events, err := Decide(a, tt.cmd, policy, now)
			if events != nil {
				t.Errorf("got events %v, want none", names(events))
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got error %v, want %v", err, tt.wantErr)
				}
			} else {
				checkTypedError(t, err, tt.wantAs)
			}
			if diff := cmp.Diff(before, v1Balance(a, 2024)); diff != "" {
				t.Errorf("balance changed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReject(t *testing.T) {
	t.Parallel()
	a := Replay([]any{granted(2024, 15)})
	decide(t, &a, req("r1", "2024-12-02", "2024-12-05"), policy)
	events := decide(t, &a, Reject{RequestID: "r1", By: "m1", Note: "busy week"}, policy)
	want := []any{Rejected{RequestID: "r1", EmployeeID: "e1", Year: 2024, Amount: Days(4), DecidedBy: "m1", Note: "busy week", DecidedAt: now}}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Balance{Entitlement: Days(15), Remaining: Days(15), Available: Days(15)}, v1Balance(a, 2024)); diff != "" {
		t.Errorf("balance (-want +got):\n%s", diff)
	}
	if r, _ := a.Request("r1"); r.Status != StatusRejected {
		t.Errorf("got status %q, want rejected", r.Status)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		approve     bool
		wantPrev    Status
		wantBalance Balance
	}{
		{name: "pending", wantPrev: StatusPending,
			wantBalance: Balance{Entitlement: Days(15), Remaining: Days(15), Available: Days(15)}},
		{name: "approved returns its days", approve: true, wantPrev: StatusApproved,
			wantBalance: Balance{Entitlement: Days(15), Remaining: Days(15), Available: Days(15)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := Replay([]any{granted(2024, 15)})
			decide(t, &a, req("r1", "2024-12-02", "2024-12-05"), policy)
			if tt.approve {
				decide(t, &a, Approve{RequestID: "r1", By: "m1"}, policy)
				if got := v1Balance(a, 2024).Remaining; got != Days(11) {
					t.Fatalf("remaining after approval: got %d, want %d", got, Days(11))
				}
			}
			events := decide(t, &a, Cancel{RequestID: "r1", By: "m1"}, policy)
			want := []any{Cancelled{RequestID: "r1", EmployeeID: "e1", Year: 2024, Amount: Days(4), PreviousStatus: tt.wantPrev, CancelledBy: "m1", CancelledAt: now}}
			if diff := cmp.Diff(want, events); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantBalance, v1Balance(a, 2024)); diff != "" {
				t.Errorf("balance (-want +got):\n%s", diff)
			}
			if r, _ := a.Request("r1"); r.Status != StatusCancelled || r.CancelledBy != "m1" {
				t.Errorf("request after cancel = %+v", r)
			}
			if _, err := Decide(a, Cancel{RequestID: "r1", By: "m1"}, policy, now); !errors.Is(err, ErrNotCancellable) {
				t.Errorf("second cancel: got %v, want ErrNotCancellable", err)
			}
		})
	}

	a := Replay([]any{granted(2024, 15)})
	decide(t, &a, req("r1", "2024-12-02", "2024-12-05"), policy)
	decide(t, &a, Reject{RequestID: "r1", By: "m1"}, policy)
	if _, err := Decide(a, Cancel{RequestID: "r1"}, policy, now); !errors.Is(err, ErrNotCancellable) {
		t.Errorf("cancel rejected: got %v, want ErrNotCancellable", err)
	}
	if _, err := Decide(a, Cancel{RequestID: "nope"}, policy, now); !errors.Is(err, ErrRequestNotFound) {
		t.Errorf("cancel unknown: got %v, want ErrRequestNotFound", err)
	}
}

// TestLowBalanceCrossing walks a year down and up past the 3-day threshold.
func TestLowBalanceCrossing(t *testing.T) {
	t.Parallel()
	a := Replay([]any{granted(2024, 15)})
	steps := []struct {
		name          string
		cmd           Command
		wantNames     []string
		wantRemaining Amount
	}{
		// December 2024: Mondays are the 2nd, 9th, 16th, 23rd and 30th.
		{name: "pending request never reports", cmd: req("r12", "2024-11-01", "2024-11-18"), wantNames: []string{"leave.requested"}, wantRemaining: Days(15)},
		{name: "approval down to exactly the threshold", cmd: Approve{RequestID: "r12", By: "m1"}, wantNames: []string{"leave.approved"}, wantRemaining: Days(3)},
		{name: "pending request below the threshold", cmd: req("r1", "2024-12-02", "2024-12-02"), wantNames: []string{"leave.requested"}, wantRemaining: Days(3)},
		{name: "approval crosses", cmd: Approve{RequestID: "r1", By: "m1"}, wantNames: []string{"leave.approved", "leave.low_balance_reached"}, wantRemaining: Days(2)},
		{name: "staying below reports nothing", cmd: req("r2", "2024-12-03", "2024-12-03"), wantNames: []string{"leave.requested"}, wantRemaining: Days(2)},
		{name: "second approval below", cmd: Approve{RequestID: "r2", By: "m1"}, wantNames: []string{"leave.approved"}, wantRemaining: Days(1)},
		{name: "cancellations climb back", cmd: Cancel{RequestID: "r2", By: "m1"}, wantNames: []string{"leave.cancelled"}, wantRemaining: Days(2)},
		{name: "back at the threshold", cmd: Cancel{RequestID: "r1", By: "m1"}, wantNames: []string{"leave.cancelled"}, wantRemaining: Days(3)},
		{name: "new request", cmd: req("r3", "2024-12-09", "2024-12-09"), wantNames: []string{"leave.requested"}, wantRemaining: Days(3)},
		{name: "a new crossing reports again", cmd: Approve{RequestID: "r3", By: "m1"}, wantNames: []string{"leave.approved", "leave.low_balance_reached"}, wantRemaining: Days(2)},
		{name: "raising the entitlement reports nothing", cmd: SetEntitlement{EmployeeID: "e1", Year: 2024, Amount: Days(20), By: "admin"}, wantNames: []string{"leave.entitlement_set"}, wantRemaining: Days(7)},
		{name: "lowering the entitlement crosses", cmd: SetEntitlement{EmployeeID: "e1", Year: 2024, Amount: Days(15), By: "admin"}, wantNames: []string{"leave.entitlement_set", "leave.low_balance_reached"}, wantRemaining: Days(2)},
	}
	for _, s := range steps {
		events := decide(t, &a, s.cmd, policy)
		if diff := cmp.Diff(s.wantNames, names(events)); diff != "" {
			t.Fatalf("%s: events (-want +got):\n%s", s.name, diff)
		}
		if got := v1Balance(a, 2024).Remaining; got != s.wantRemaining {
			t.Fatalf("%s: remaining %d, want %d", s.name, got, s.wantRemaining)
		}
		if n := len(events); n == 2 {
			want := LowBalanceReached{EmployeeID: "e1", Year: 2024, Remaining: s.wantRemaining, Threshold: Days(3), LeaveType: TypeAnnual}
			if diff := cmp.Diff(want, events[1]); diff != "" {
				t.Errorf("%s: low balance (-want +got):\n%s", s.name, diff)
			}
		}
	}
}

func TestGrant(t *testing.T) {
	t.Parallel()
	p := Policy{AnnualDays: 20, LowThresholdDays: 3}
	var a Account
	events := decide(t, &a, Grant{EmployeeID: "e1", Year: 2024}, p)
	if diff := cmp.Diff([]any{granted(2024, 20)}, events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if events, err := Decide(a, Grant{EmployeeID: "e1", Year: 2024}, p, now); err != nil || events != nil {
		t.Errorf("second grant = %v, %v; want no events", names(events), err)
	}
	if got := v1Balance(a, 2024).Entitlement; got != Days(20) {
		t.Errorf("entitlement: got %d, want %d", got, Days(20))
	}
	if _, err := Decide(a, Grant{EmployeeID: "e1"}, p, now); !errors.As(err, new(*ValidationError)) {
		t.Errorf("grant without year: got %v, want a validation error", err)
	}
}

func TestSetEntitlement(t *testing.T) {
	t.Parallel()
	a := Replay([]any{granted(2024, 15)})
	events := decide(t, &a, SetEntitlement{EmployeeID: "e1", Year: 2024, Amount: Days(21), Reason: "seniority", By: "admin"}, policy)
	want := []any{EntitlementSet{EmployeeID: "e1", Year: 2024, Amount: Days(21), Previous: Days(15), Reason: "seniority", SetBy: "admin"}}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	// A later grant of the same year does not undo an explicit entitlement.
	decide(t, &a, Grant{EmployeeID: "e1", Year: 2025}, policy)
	if got := v1Balance(a, 2024).Entitlement; got != Days(21) {
		t.Errorf("entitlement: got %d, want %d", got, Days(21))
	}

	for name, amount := range map[string]Amount{"negative": -1, "over a year": Days(366) + 1} {
		_, err := Decide(a, SetEntitlement{EmployeeID: "e1", Year: 2024, Amount: amount}, policy, now)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Fields["entitlement_days"] == "" {
			t.Errorf("%s: got %v, want a validation error on entitlement_days", name, err)
		}
	}
	if _, err := Decide(a, SetEntitlement{EmployeeID: "e1", Year: 2024, Amount: Days(366)}, policy, now); err != nil {
		t.Errorf("366 days: %v", err)
	}
}

func TestDeductLateness(t *testing.T) {
	t.Parallel()
	deducts := Policy{AnnualDays: 15, LowThresholdDays: 3, LatenessDeductsLeave: true}
	day := date("2024-12-02")

	a := Replay([]any{granted(2024, 15)})
	if events, err := Decide(a, DeductLateness{EmployeeID: "e1", Date: day, LateMinutes: 17}, policy, now); err != nil || events != nil {
		t.Errorf("with deduction off = %v, %v; want no events", names(events), err)
	}

	events := decide(t, &a, DeductLateness{EmployeeID: "e1", Date: day, LateMinutes: 17}, deducts)
	want := []any{LatenessDeducted{EmployeeID: "e1", Year: 2024, Date: day, LateMinutes: 17, Amount: 17}}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	if got, want := v1Balance(a, 2024).Used, Amount(17); got != want {
		t.Errorf("used: got %d, want %d", got, want)
	}
	if events, err := Decide(a, DeductLateness{EmployeeID: "e1", Date: day, LateMinutes: 17}, deducts, now); err != nil || events != nil {
		t.Errorf("same date again = %v, %v; want no events", names(events), err)
	}
	if _, err := Decide(a, DeductLateness{EmployeeID: "e1", Date: day.AddDays(1)}, deducts, now); !errors.As(err, new(*ValidationError)) {
		t.Errorf("zero minutes: got %v, want a validation error", err)
	}

	// A deduction that crosses the threshold reports it, and the balance
	// may go below zero.
	low := Replay([]any{granted(2024, 3)})
	events = decide(t, &low, DeductLateness{EmployeeID: "e1", Date: day, LateMinutes: 1}, deducts)
	if diff := cmp.Diff([]string{"leave.lateness_deducted", "leave.low_balance_reached"}, names(events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	decide(t, &low, DeductLateness{EmployeeID: "e1", Date: day.AddDays(1), LateMinutes: 3*MinutesPerDay + 30}, deducts)
	if got, want := v1Balance(low, 2024).Remaining, Amount(-31); got != want {
		t.Errorf("remaining: got %d, want %d", got, want)
	}
}

func TestRequests(t *testing.T) {
	t.Parallel()
	a := Replay([]any{granted(2024, 15)})
	decide(t, &a, req("b", "2024-12-09", "2024-12-09"), policy)
	decide(t, &a, req("a", "2024-12-02", "2024-12-02"), policy)
	decide(t, &a, Approve{RequestID: "a", By: "m1"}, policy)
	got := a.Requests()
	want := []RequestState{
		{ID: "b", EmployeeID: "e1", LeaveType: TypeAnnual, Start: date("2024-12-09"), End: date("2024-12-09"), Days: 1, Dates: []calendar.Date{date("2024-12-09")},
			Amount: Days(1), Year: 2024, Status: StatusPending, RequestedAt: now, Approvals: approval.OneStep(approval.StatusPending, "", time.Time{})},
		{ID: "a", EmployeeID: "e1", LeaveType: TypeAnnual, Start: date("2024-12-02"), End: date("2024-12-02"), Days: 1, Dates: []calendar.Date{date("2024-12-02")},
			Amount: Days(1), Year: 2024, Status: StatusApproved, RequestedAt: now, DecidedBy: "m1", DecidedAt: now,
			Approvals: approval.OneStep(approval.StatusApproved, "m1", now)},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if _, ok := a.Request("missing"); ok {
		t.Error("Request(missing) found something")
	}
	if got := Replay(nil).Requests(); len(got) != 0 {
		t.Errorf("empty account has requests %v", got)
	}
}

func TestAmount(t *testing.T) {
	t.Parallel()
	if got := Days(15); got != 7200 {
		t.Errorf("Days(15) = %d minutes, want 7200", got)
	}
	if got := (Days(2) + 240).Days(); got != 2.5 {
		t.Errorf("got %v days, want 2.5", got)
	}
	err := &InsufficientBalanceError{Requested: Days(4), Available: Days(2) + 240}
	if got, want := err.Error(), "insufficient leave balance: requested 4 days, available 2.5 days"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWireFormat(t *testing.T) {
	t.Parallel()
	ev := Requested{
		RequestID: "r1", EmployeeID: "e1", StartDate: date("2024-12-01"), EndDate: date("2024-12-05"), Days: 4,
		Dates:  []calendar.Date{date("2024-12-02"), date("2024-12-03"), date("2024-12-04"), date("2024-12-05")},
		Amount: Days(4), Year: 2024, Reason: "trip", RequestedAt: now,
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"request_id":"r1","employee_id":"e1","start_date":"2024-12-01","end_date":"2024-12-05","days":4,"dates":["2024-12-02","2024-12-03","2024-12-04","2024-12-05"],"amount":1920,"year":2024,"reason":"trip","requested_at":"2024-11-20T09:00:00Z"}`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
	var back Requested
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ev, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// weekOf returns the five days from a Monday on.
func weekOf(monday string) []calendar.Date {
	d := date(monday)
	return []calendar.Date{d, d.AddDays(1), d.AddDays(2), d.AddDays(3), d.AddDays(4)}
}

// TestApproveRecountsHolidays: an approval charges the request's days less
// the holidays declared since it was filed, and the account then reads the
// request, its balance and its cancellation by what was charged.
func TestApproveRecountsHolidays(t *testing.T) {
	t.Parallel()
	week := weekOf("2024-12-02") // the request: Monday 2 to Friday 6 December
	tests := []struct {
		name        string
		entitlement int
		holidays    calendar.Holidays
		wantDates   []calendar.Date
		wantLow     bool  // the approval takes remaining below the threshold
		wantErr     error // the approval is refused
		wantAs      any
	}{
		{name: "no holiday since", entitlement: 15, wantDates: week},
		{name: "holidays outside the request", entitlement: 15, wantDates: week,
			holidays: calendar.Holidays{date("2024-11-29"): "before", date("2024-12-09"): "after"}},
		{name: "a holiday on a weekend of the range", entitlement: 15, wantDates: week,
			holidays: calendar.Holidays{date("2024-12-07"): "Saturday"}},
		{name: "a holiday on a requested day", entitlement: 15, wantDates: slices.Delete(slices.Clone(week), 2, 3),
			holidays: calendar.Holidays{date("2024-12-04"): "Founders' Day"}},
		{name: "two holidays", entitlement: 15, wantDates: week[1:4],
			holidays: calendar.Holidays{date("2024-12-02"): "one", date("2024-12-06"): "two"}},
		{name: "the recount fits a balance the request did not", entitlement: 4, wantDates: week[:4], wantLow: true,
			holidays: calendar.Holidays{date("2024-12-06"): "Friday"}},
		{name: "still past the balance", entitlement: 3, holidays: calendar.Holidays{date("2024-12-06"): "Friday"},
			wantAs: &InsufficientBalanceError{Requested: Days(4), Available: Days(3)}},
		{name: "the recount keeps the balance above the threshold", entitlement: 7, wantDates: week[:4], wantLow: false,
			holidays: calendar.Holidays{date("2024-12-06"): "Friday"}},
		{name: "the low balance crossed by the recounted days", entitlement: 6, wantDates: week[:4], wantLow: true,
			holidays: calendar.Holidays{date("2024-12-06"): "Friday"}},
		{name: "holidays cover every requested day", entitlement: 15, wantErr: ErrNoWorkdays, holidays: calendar.Holidays{
			week[0]: "a", week[1]: "b", week[2]: "c", week[3]: "d", week[4]: "e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := Replay([]any{granted(2024, 15)})
			decide(t, &a, req("r1", "2024-12-02", "2024-12-06"), policy)
			decide(t, &a, SetEntitlement{EmployeeID: "e1", Year: 2024, Amount: Days(tt.entitlement), By: "m1"}, policy)
			before := v1Balance(a, 2024)
			events, err := Decide(a, Approve{RequestID: "r1", By: "m1", Holidays: tt.holidays}, policy, now)
			if tt.wantErr != nil || tt.wantAs != nil {
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("got error %v, want %v", err, tt.wantErr)
				}
				if tt.wantAs != nil {
					checkTypedError(t, err, tt.wantAs)
				}
				if events != nil {
					t.Errorf("got events %v, want none", names(events))
				}
				return
			}
			if err != nil {
				t.Fatalf("approve: %v", err)
			}
			wantNames := []string{"leave.approved"}
			if tt.wantLow {
				wantNames = append(wantNames, "leave.low_balance_reached")
			}
			if diff := cmp.Diff(wantNames, names(events)); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
			n := len(tt.wantDates)
			approved := events[0].(Approved)
			if approved.Days != n || approved.Amount != Days(n) || !slices.Equal(approved.Dates, tt.wantDates) {
				t.Errorf("approved %d days (%d minutes) on %v, want %d on %v", approved.Days, approved.Amount, approved.Dates, n, tt.wantDates)
			}
			for _, ev := range events {
				a.Apply(ev)
			}
			want := Balance{Entitlement: Days(tt.entitlement), Used: Days(n), Remaining: Days(tt.entitlement - n), Available: Days(tt.entitlement - n)}
			if diff := cmp.Diff(want, v1Balance(a, 2024)); diff != "" {
				t.Errorf("balance after approval (-want +got):\n%s", diff)
			}
			if r, _ := a.Request("r1"); r.Days != n || r.Amount != Days(n) || !slices.Equal(r.Dates, tt.wantDates) {
				t.Errorf("request after approval: %d days on %v, want %d on %v", r.Days, r.Dates, n, tt.wantDates)
			}
			// Cancelled, the approval gives back what it charged: the balance is as before.
			decide(t, &a, Cancel{RequestID: "r1", By: "m1"}, policy)
			if got, want := v1Balance(a, 2024), (Balance{Entitlement: before.Entitlement, Remaining: before.Remaining, Available: before.Remaining}); got != want {
				t.Errorf("balance after cancelling the approval = %+v, want %+v", got, want)
			}
		})
	}
}

// TestApprovedBeforeRecount: an approval recorded without days and dates
// spent the request as filed, and still reads so, also from its JSON.
func TestApprovedBeforeRecount(t *testing.T) {
	t.Parallel()
	var old Approved
	if err := json.Unmarshal([]byte(`{"request_id":"r1","employee_id":"e1","year":2024,"amount":2400,"decided_by":"m1","note":"","decided_at":"2024-11-21T10:00:00Z"}`), &old); err != nil {
		t.Fatal(err)
	}
	a := Replay([]any{
		granted(2024, 15),
		Requested{RequestID: "r1", EmployeeID: "e1", StartDate: date("2024-12-02"), EndDate: date("2024-12-06"), Days: 5,
			Dates: weekOf("2024-12-02"), Amount: Days(5), Year: 2024},
		old,
	})
	if got, want := v1Balance(a, 2024), (Balance{Entitlement: Days(15), Used: Days(5), Remaining: Days(10), Available: Days(10)}); got != want {
		t.Errorf("balance = %+v, want %+v", got, want)
	}
	if r, _ := a.Request("r1"); r.Status != StatusApproved || r.Days != 5 || r.Amount != Days(5) || !slices.Equal(r.Dates, weekOf("2024-12-02")) {
		t.Errorf("request = %+v, want approved for the 5 days filed", r)
	}
	b, err := json.Marshal(Approved{RequestID: "r1", EmployeeID: "e1", Year: 2024, Amount: Days(1), Days: 1, Dates: []calendar.Date{date("2024-12-02")}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"days":1,"dates":["2024-12-02"]`) {
		t.Errorf("a recounted approval on the wire = %s, want its days and dates", b)
	}
}

// A morning and an afternoon of one date are two requests; a second request
// for the same half, a full day, or hours meet a half day of that date.
func TestHalfDaysOfOneDate(t *testing.T) {
	t.Parallel()
	half := func(id, halfDay, leaveType string) Request {
		r := req(id, "2024-12-09", "2024-12-09")
		r.HalfDay, r.LeaveType = halfDay, leaveType
		return r
	}
	hours := req("x", "2024-12-09", "2024-12-09")
	hours.LeaveType, hours.Hours = TypeCompensatory, 2
	tests := []struct {
		name  string
		filed Request // pending, then approved
		cmd   Request
		meets bool
	}{
		{"afternoon after a morning", half("am", HalfDayMorning, ""), half("x", HalfDayAfternoon, ""), false},
		{"morning after an afternoon", half("pm", HalfDayAfternoon, ""), half("x", HalfDayMorning, ""), false},
		{"afternoon of another type", half("am", HalfDayMorning, ""), half("x", HalfDayAfternoon, TypeSick), false},
		{"the same half again", half("am", HalfDayMorning, ""), half("x", HalfDayMorning, TypeSick), true},
		{"a full day over a half day", half("am", HalfDayMorning, ""), req("x", "2024-12-09", "2024-12-09"), true},
		{"a range over a half day", half("pm", HalfDayAfternoon, ""), req("x", "2024-12-06", "2024-12-10"), true},
		{"a half day on a full day", req("full", "2024-12-09", "2024-12-09"), half("x", HalfDayAfternoon, ""), true},
		{"hours on a half day", half("am", HalfDayMorning, ""), hours, true},
	}
	for _, tt := range tests {
		for _, approved := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/approved=%v", tt.name, approved), func(t *testing.T) {
				t.Parallel()
				a := Replay([]any{granted(2024, 15), Adjusted{EmployeeID: "e1", LeaveType: TypeCompensatory, Year: 2024, Date: date("2024-11-01"), Amount: Days(1), Reason: "on call"}})
				decide(t, &a, tt.filed, policy)
				if approved {
					decide(t, &a, Approve{RequestID: tt.filed.RequestID, By: "m1", Employment: employment}, policy)
				}
				events, err := Decide(a, tt.cmd, policy, now)
				if !tt.meets {
					if err != nil || len(events) == 0 {
						t.Fatalf("got %v, %v; want the request filed", names(events), err)
					}
					return
				}
				checkTypedError(t, err, &OverlapError{With: tt.filed.RequestID})
			})
		}
	}
}
