package leave

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/acme/employee-tracking/domain/calendar"
)

// studyLeave is a tracked type credited monthly, 12 days a year, so a month
// is one day.
var studyLeave = Type{Code: "study", Name: "Study leave", Paid: true, Tracked: true, Accrual: AccrualMonthly, PerYear: Days(12), Active: true}

func typesWith(p Policy, defined ...Type) Types {
	var history []any
	for _, typ := range defined {
		history = append(history, TypeDefined{Type: typ})
	}
	return ReplayTypes(p, history)
}

func approvedLeave(id, code string, dates ...string) []any {
	var ds []calendar.Date
	for _, d := range dates {
		ds = append(ds, date(d))
	}
	amount := Days(len(ds))
	return []any{
		Requested{RequestID: id, EmployeeID: "e1", LeaveType: code, StartDate: ds[0], EndDate: ds[len(ds)-1], Days: len(ds), Dates: ds, Amount: amount, Year: ds[0].Year},
		Approved{RequestID: id, EmployeeID: "e1", Year: ds[0].Year, Amount: amount, Days: len(ds), Dates: ds},
	}
}

func TestMonthlyAccrual(t *testing.T) {
	t.Parallel()
	types := typesWith(DefaultPolicy(), studyLeave)
	tests := []struct {
		name        string
		hired       string
		year        int
		on, today   string
		wantAccrued Amount
	}{
		{name: "whole year", hired: "2020-01-01", year: 2024, today: "2025-01-10", wantAccrued: Days(12)},
		{name: "hire month counts from the hire day", hired: "2024-03-15", year: 2024, on: "2024-03-15", wantAccrued: Days(1)},
		{name: "nothing before the hire day", hired: "2024-03-15", year: 2024, on: "2024-03-14", wantAccrued: 0},
		{name: "hired mid-month, year end", hired: "2024-03-15", year: 2024, on: "2024-12-31", wantAccrued: Days(10)},
		{name: "credit on the first of the month", hired: "2020-01-01", year: 2024, on: "2024-04-01", wantAccrued: Days(4)},
		{name: "not before it", hired: "2020-01-01", year: 2024, on: "2024-03-31", wantAccrued: Days(3)},
		{name: "leap day", hired: "2020-01-01", year: 2024, on: "2024-02-29", wantAccrued: Days(2)},
		{name: "hired on a leap day", hired: "2024-02-29", year: 2024, on: "2024-03-01", wantAccrued: Days(2)},
		{name: "due up to today without on", hired: "2020-01-01", year: 2025, today: "2025-06-20", wantAccrued: Days(6)},
		{name: "a year with no events", hired: "2020-01-01", year: 2023, today: "2025-06-20", wantAccrued: Days(12)},
		{name: "a year before hiring", hired: "2024-03-15", year: 2023, today: "2025-06-20", wantAccrued: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := BalanceOf{Type: "study", Year: tt.year, Employment: Employment{HireDate: date(tt.hired)}}
			if tt.on != "" {
				q.On = date(tt.on)
			} else {
				q.Today = date(tt.today)
			}
			b := Account{}.Balance(types, q)
			if b.Accrued != tt.wantAccrued || b.Remaining != tt.wantAccrued || b.Entitlement != tt.wantAccrued {
				t.Errorf("got accrued %v, entitlement %v, remaining %v; want %v", b.Accrued.Days(), b.Entitlement.Days(), b.Remaining.Days(), tt.wantAccrued.Days())
			}
		})
	}
}

func TestUpfrontAccrual(t *testing.T) {
	t.Parallel()
	types := ReplayTypes(DefaultPolicy(), nil)
	tests := []struct {
		name  string
		hired string
		year  int
		on    string
		want  Amount
	}{
		{name: "first day of the year", hired: "2020-05-05", year: 2024, on: "2024-01-01", want: Days(15)},
		{name: "hire year on the hire day", hired: "2024-05-05", year: 2024, on: "2024-05-05", want: Days(15)},
		{name: "hire year before the hire day", hired: "2024-05-05", year: 2024, on: "2024-05-04", want: 0},
		{name: "a leap year's last day", hired: "2020-05-05", year: 2024, on: "2024-12-31", want: Days(15)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := Account{}.Balance(types, BalanceOf{Year: tt.year, On: date(tt.on), Employment: Employment{HireDate: date(tt.hired)}})
			if b.Accrued != tt.want {
				t.Errorf("accrued %v, want %v", b.Accrued.Days(), tt.want.Days())
			}
		})
	}
}

// carrying is annual leave of 15 days carrying over up to 5, lapsing at the
// end of March.
func carrying() Types {
	p := DefaultPolicy()
	p.CarryOverMaxDays, p.CarryOverExpiresMonths = 5, 3
	return ReplayTypes(p, nil)
}

func TestCarryOver(t *testing.T) {
	t.Parallel()
	hire := Employment{HireDate: date("2023-01-02")}
	// 2023: 15 granted, 8 taken, 7 left: 5 carry over.
	lastYear := approvedLeave("old", TypeAnnual, "2023-06-05", "2023-06-06", "2023-06-07", "2023-06-08", "2023-06-09", "2023-06-12", "2023-06-13", "2023-06-14")
	tests := []struct {
		name    string
		history []any
		on      string
		want    Balance
	}{
		{name: "carried on the first day", on: "2024-01-01",
			want: Balance{Accrued: Days(15), Entitlement: Days(15), CarriedOver: Days(5), Remaining: Days(20), Available: Days(20)}},
		{name: "unused carried days lapse at the end of the month", on: "2024-03-31",
			want: Balance{Accrued: Days(15), Entitlement: Days(15), CarriedOver: Days(5), Expired: Days(5), Remaining: Days(15), Available: Days(15)}},
		{name: "days taken before the lapse come from the carried ones",
			history: approvedLeave("feb", TypeAnnual, "2024-02-05", "2024-02-06", "2024-02-07"), on: "2024-04-30",
			want: Balance{Accrued: Days(15), Entitlement: Days(15), CarriedOver: Days(5), Expired: Days(2), Used: Days(3), Remaining: Days(15), Available: Days(15)}},
		{name: "more taken than carried lapses nothing",
			history: approvedLeave("feb", TypeAnnual, "2024-02-05", "2024-02-06", "2024-02-07", "2024-02-08", "2024-02-09", "2024-02-12"), on: "2024-04-30",
			want: Balance{Accrued: Days(15), Entitlement: Days(15), CarriedOver: Days(5), Used: Days(6), Remaining: Days(14), Available: Days(14)}},
		{name: "days taken after the lapse do not save it",
			history: approvedLeave("may", TypeAnnual, "2024-05-06", "2024-05-07"), on: "2024-05-31",
			want: Balance{Accrued: Days(15), Entitlement: Days(15), CarriedOver: Days(5), Expired: Days(5), Used: Days(2), Remaining: Days(13), Available: Days(13)}},
		{name: "a cancellation after the lapse returns no lapsed day",
			history: append(approvedLeave("feb", TypeAnnual, "2024-02-05", "2024-02-06", "2024-02-07"),
				Cancelled{RequestID: "feb", EmployeeID: "e1", Year: 2024, Amount: Days(3), PreviousStatus: StatusApproved,
					CancelledAt: time.Date(2024, 5, 2, 9, 0, 0, 0, time.UTC)}), on: "2024-05-31",
			want: Balance{Accrued: Days(15), Entitlement: Days(15), CarriedOver: Days(5), Expired: Days(5), Remaining: Days(15), Available: Days(15)}},
		{name: "the cap bounds what carries", history: []any{EntitlementSet{EmployeeID: "e1", Year: 2023, Amount: Days(30)}}, on: "2024-01-31",
			want: Balance{Accrued: Days(15), Entitlement: Days(15), CarriedOver: Days(5), Remaining: Days(20), Available: Days(20)}},
		{name: "nothing left, nothing carried", history: []any{EntitlementSet{EmployeeID: "e1", Year: 2023, Amount: Days(8)}}, on: "2024-01-31",
			want: Balance{Accrued: Days(15), Entitlement: Days(15), Remaining: Days(15), Available: Days(15)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := Replay(append(append([]any{}, lastYear...), tt.history...))
			lines, got := a.Ledger(carrying(), BalanceOf{Year: 2024, On: date(tt.on), Employment: hire})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("balance (-want +got):\n%s", diff)
			}
			checkLedger(t, lines, got)
		})
	}
}

func TestCarryOverNeverLapsesWithoutExpiry(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	p.CarryOverMaxDays, p.CarryOverExpiresMonths = 10, 0
	b := Account{}.Balance(ReplayTypes(p, nil), BalanceOf{Year: 2024, On: date("2024-12-31"), Employment: Employment{HireDate: date("2023-01-02")}})
	if b.CarriedOver != Days(10) || b.Expired != 0 || b.Remaining != Days(25) {
		t.Errorf("got %+v, want 10 days carried, none expired, 25 remaining", b)
	}
}

func TestHalfDaysAndHours(t *testing.T) {
	t.Parallel()
	types := ReplayTypes(policy, nil)
	a := Replay([]any{granted(2024, 15), Adjusted{EmployeeID: "e1", LeaveType: TypeCompensatory, Year: 2024, Date: date("2024-11-01"), Amount: Days(2), Reason: "weekend on call"}})
	half := req("half", "2024-12-02", "2024-12-02")
	half.HalfDay = HalfDayMorning
	hours := req("hours", "2024-12-03", "2024-12-03")
	hours.LeaveType, hours.Hours, hours.DayMinutes = TypeCompensatory, 2.5, 9*60
	decide(t, &a, half, policy)
	decide(t, &a, hours, policy)
	decide(t, &a, Approve{RequestID: "half", By: "m1", Employment: employment}, policy)
	decide(t, &a, Approve{RequestID: "hours", By: "m1", Employment: employment}, policy)
	if r, _ := a.Request("half"); r.Amount != Days(1)/2 || r.HalfDay != "am" {
		t.Errorf("half day = %+v, want half a day in the morning", r)
	}
	annual := a.Balance(types, BalanceOf{Year: 2024, Employment: employment})
	if annual.Used != Days(1)/2 || annual.Remaining != Days(29)/2 {
		t.Errorf("annual = %+v, want 0.5 used and 14.5 remaining", annual)
	}
	comp := a.Balance(types, BalanceOf{Type: TypeCompensatory, Year: 2024, Employment: employment})
	if comp.Used != 150 || comp.Adjusted != Days(2) || comp.Remaining != Days(2)-150 {
		t.Errorf("compensatory = %+v, want 2.5 hours used of 2 days adjusted", comp)
	}

	refusals := []struct {
		name      string
		change    func(*Request)
		wantField string
	}{
		{"half day of no kind", func(r *Request) { r.HalfDay = "noon" }, "half_day"},
		{"half day over two days", func(r *Request) { r.HalfDay = "pm"; r.End = date("2024-12-10") }, "half_day"},
		{"half day of a type without them", func(r *Request) { r.HalfDay = "pm"; r.LeaveType = TypeUnpaid }, "half_day"},
		{"hours of a type without them", func(r *Request) { r.Hours = 2 }, "hours"},
		{"hours over two days", func(r *Request) { r.Hours = 2; r.LeaveType = TypeCompensatory; r.End = date("2024-12-10") }, "hours"},
		{"more hours than the day", func(r *Request) { r.Hours = 9.5; r.LeaveType = TypeCompensatory; r.DayMinutes = 9 * 60 }, "hours"},
		{"negative hours", func(r *Request) { r.Hours = -1; r.LeaveType = TypeCompensatory }, "hours"},
		{"hours with a half day", func(r *Request) { r.Hours = 1; r.HalfDay = "am"; r.LeaveType = TypeCompensatory }, "hours"},
		{"unknown type", func(r *Request) { r.LeaveType = "sabbatical" }, "leave_type"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := req("x", "2024-12-09", "2024-12-09")
			tt.change(&r)
			_, err := Decide(Replay([]any{granted(2024, 15)}), r, policy, now)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Fields[tt.wantField] == "" {
				t.Errorf("got %v, want a validation error on %s", err, tt.wantField)
			}
		})
	}
}

func TestUntrackedTypesCountDaysOnly(t *testing.T) {
	t.Parallel()
	a := Replay(nil)
	sick := req("sick", "2024-12-02", "2024-12-20") // 15 workdays, more than any balance
	sick.LeaveType = TypeSick
	decide(t, &a, sick, policy)
	decide(t, &a, Approve{RequestID: "sick", By: "m1", Employment: employment}, policy)
	b := a.Balance(ReplayTypes(policy, nil), BalanceOf{Type: TypeSick, Year: 2024, Employment: employment})
	if b.Used != Days(15) || b.Accrued != 0 {
		t.Errorf("sick = %+v, want 15 days used and nothing accrued", b)
	}
	annual := a.Balance(ReplayTypes(policy, nil), BalanceOf{Year: 2024, Employment: employment})
	if annual.Used != 0 {
		t.Errorf("annual used %v, want sick leave not to count", annual.Used.Days())
	}
}

func TestPastDates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		code     string
		onBehalf bool
		wantErr  error
	}{
		{"annual allows past dates", TypeAnnual, false, nil},
		{"sick allows past dates", TypeSick, false, nil},
		{"unpaid does not", TypeUnpaid, false, ErrPastDates},
		{"unless filed on the employee's behalf", TypeUnpaid, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := req("r", "2024-11-18", "2024-11-18") // before today, 2024-11-20
			r.LeaveType, r.OnBehalf = tt.code, tt.onBehalf
			_, err := Decide(Replay([]any{granted(2024, 15)}), r, policy, now)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestAdjust(t *testing.T) {
	t.Parallel()
	a := Replay([]any{granted(2024, 15)})
	events := decide(t, &a, Adjust{EmployeeID: "e1", LeaveType: TypeAnnual, Amount: -Days(13), Reason: "sold back", By: "m1", Employment: employment}, policy)
	if diff := cmp.Diff([]string{"leave.adjusted", "leave.low_balance_reached"}, names(events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	b := a.Balance(ReplayTypes(policy, nil), BalanceOf{Year: 2024, Employment: employment})
	if b.Adjusted != -Days(13) || b.Entitlement != Days(2) || b.Remaining != Days(2) {
		t.Errorf("balance = %+v, want 2 days after a debit of 13", b)
	}
	tests := []struct {
		name      string
		cmd       Adjust
		wantErr   error
		wantField string
	}{
		{name: "below zero", cmd: Adjust{EmployeeID: "e1", LeaveType: TypeAnnual, Amount: -Days(4), Reason: "x", Employment: employment}, wantErr: &InsufficientBalanceError{}},
		{name: "untracked", cmd: Adjust{EmployeeID: "e1", LeaveType: TypeSick, Amount: Days(1), Reason: "x", Employment: employment}, wantErr: ErrUntracked},
		{name: "no reason", cmd: Adjust{EmployeeID: "e1", LeaveType: TypeAnnual, Amount: Days(1), Reason: " ", Employment: employment}, wantField: "reason"},
		{name: "zero", cmd: Adjust{EmployeeID: "e1", LeaveType: TypeAnnual, Reason: "x", Employment: employment}, wantField: "days"},
		{name: "unknown type", cmd: Adjust{EmployeeID: "e1", LeaveType: "nope", Amount: Days(1), Reason: "x", Employment: employment}, wantField: "leave_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decide(a, tt.cmd, policy, now)
			if tt.wantField != "" {
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Fields[tt.wantField] == "" {
					t.Errorf("got %v, want a validation error on %s", err, tt.wantField)
				}
				return
			}
			if ib := (*InsufficientBalanceError)(nil); errors.As(tt.wantErr, &ib) {
				if !errors.As(err, &ib) {
					t.Errorf("got %v, want insufficient balance", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// A change of a type's policy takes effect from its day: the credits before
// it stay as they were.
func TestTypeChangeNeverRewritesThePast(t *testing.T) {
	t.Parallel()
	days := Days(24)
	changed := typesWith(DefaultPolicy(), studyLeave)
	changed.Apply(TypeChanged{Type: TypeChange{PerYear: &days}.Apply(studyLeave), EffectiveFrom: date("2024-07-01")})
	hire := Employment{HireDate: date("2020-01-01")}
	before := Account{}.Balance(changed, BalanceOf{Type: "study", Year: 2024, On: date("2024-06-30"), Employment: hire})
	after := Account{}.Balance(changed, BalanceOf{Type: "study", Year: 2024, On: date("2024-12-31"), Employment: hire})
	if before.Accrued != Days(6) || after.Accrued != Days(6+12) {
		t.Errorf("accrued %v by June and %v by December, want 6 and 18", before.Accrued.Days(), after.Accrued.Days())
	}
}

// checkLedger asserts that the lines add up, line by line, to the balance.
func checkLedger(t *testing.T, lines []Line, b Balance) {
	t.Helper()
	var sum Amount
	for i, l := range lines {
		sum += l.Amount
		if l.RemainingAfter != sum {
			t.Fatalf("line %d (%s on %s) remaining_after %v, want %v", i, l.Kind, l.Date, l.RemainingAfter, sum)
		}
		if i > 0 && l.Date.Before(lines[i-1].Date) {
			t.Fatalf("line %d dated %s after line %d dated %s", i, l.Date, i-1, lines[i-1].Date)
		}
	}
	if sum != b.Remaining {
		t.Fatalf("lines add up to %v, balance remaining %v", sum.Days(), b.Remaining.Days())
	}
}

// Random histories of ten years: the ledger always adds up to the balance,
// and its lines up to a date add up to the balance on that date (unless
// leave of several days straddles it: its line is dated on its first day).
func TestLedgerAddsUpOnRandomHistories(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	p.CarryOverMaxDays, p.CarryOverExpiresMonths, p.LatenessDeductsLeave = 5, 3, true
	types := typesWith(p, studyLeave)
	for seed := range uint64(100) {
		rng := rand.New(rand.NewPCG(seed, 7))
		e := Employment{HireDate: calendar.Date{Year: 2015, Month: time.Month(1 + rng.IntN(12)), Day: 1 + rng.IntN(28)}, Today: date("2025-06-15")}
		a, history := randomHistory(rng, p, e)
		for _, code := range []string{TypeAnnual, "study", TypeCompensatory, TypeSick} {
			for yr := 2015; yr <= 2025; yr++ {
				lines, b := a.Ledger(types, BalanceOf{Type: code, Year: yr, Employment: e})
				checkLedger(t, lines, b)
				if b.Entitlement != b.Accrued+b.Adjusted || b.Remaining != b.Entitlement+b.CarriedOver-b.Expired-b.Used {
					t.Fatalf("seed %d %s %d: figures do not add up: %+v", seed, code, yr, b)
				}
				on := calendar.Date{Year: yr, Month: time.Month(1 + rng.IntN(12)), Day: 1 + rng.IntN(28)}
				if yr == 2025 || straddled(a, on) {
					continue
				}
				var through Amount
				for _, l := range lines {
					if !l.Date.After(on) {
						through += l.Amount
					}
				}
				if got := a.Balance(types, BalanceOf{Type: code, Year: yr, On: on, Employment: e}).Remaining; got != through {
					t.Fatalf("seed %d %s on %s: remaining %v, lines through it %v (history %d events)", seed, code, on, got.Days(), through.Days(), len(history))
				}
			}
		}
	}
}

func straddled(a Account, on calendar.Date) bool {
	for _, r := range a.requests {
		if len(r.Dates) > 1 && !r.Dates[0].After(on) && r.Dates[len(r.Dates)-1].After(on) {
			return true
		}
	}
	return false
}

// randomHistory decides random commands, as the command path would, over ten
// years of employment.
func randomHistory(rng *rand.Rand, p Policy, e Employment) (Account, []any) {
	p.Types = typesWith(p, studyLeave)
	var a Account
	var history []any
	codes := []string{TypeAnnual, "study", TypeCompensatory, TypeSick}
	run := func(cmd Command, at time.Time) {
		events, err := Decide(a, cmd, p, at)
		if err != nil {
			return // refusals are part of a random history
		}
		for _, ev := range events {
			a.ApplyAt(int64(len(history)+1), ev)
			history = append(history, ev)
		}
	}
	for i := range 150 {
		day := e.HireDate.AddDays(rng.IntN(3650))
		at := day.In(time.UTC)
		emp := Employment{HireDate: e.HireDate, Today: day}
		id := "r" + strconv.Itoa(i)
		switch rng.IntN(6) {
		case 0, 1:
			r := Request{RequestID: id, EmployeeID: "e1", LeaveType: codes[rng.IntN(len(codes))], Start: day, End: day.AddDays(rng.IntN(4)),
				Workdays: []int{1, 2, 3, 4, 5}, Employment: emp, OnBehalf: true}
			if r.End.Year != r.Start.Year {
				r.End = r.Start
			}
			if rng.IntN(3) == 0 {
				r.End, r.HalfDay = r.Start, HalfDayAfternoon
			}
			run(r, at)
			run(Approve{RequestID: id, By: "m1", Employment: emp}, at)
		case 2:
			if len(a.order) > 0 {
				run(Cancel{RequestID: a.order[rng.IntN(len(a.order))], By: "m1"}, at)
			}
		case 3:
			run(Adjust{EmployeeID: "e1", LeaveType: codes[rng.IntN(3)], Amount: Amount(rng.IntN(4*MinutesPerDay) - MinutesPerDay), Reason: "random", Employment: emp}, at)
		case 4:
			run(DeductLateness{EmployeeID: "e1", Date: day, LateMinutes: 1 + rng.IntN(90), Employment: emp}, at)
		case 5:
			run(Grant{EmployeeID: "e1", Year: day.Year}, at)
		}
	}
	return a, history
}

// BenchmarkLedgerOfTenYears folds the ledger of ten years of random history.
func BenchmarkLedgerOfTenYears(b *testing.B) {
	p := DefaultPolicy()
	p.CarryOverMaxDays, p.LatenessDeductsLeave = 5, true
	types := typesWith(p, studyLeave)
	e := Employment{HireDate: date("2015-01-05"), Today: date("2025-06-15")}
	a, _ := randomHistory(rand.New(rand.NewPCG(1, 7)), p, e)
	for b.Loop() {
		a.Ledger(types, BalanceOf{Year: 2025, Employment: e})
	}
}

// A balance says whether its type keeps one: an untracked type only counts
// days, and no request is measured against its Available.
func TestUntrackedBalances(t *testing.T) {
	t.Parallel()
	types := ReplayTypes(policy, nil)
	a := Replay([]any{granted(2024, 15)})
	decide(t, &a, func() Request { r := req("sick", "2024-12-02", "2024-12-06"); r.LeaveType = TypeSick; return r }(), policy)
	for code, untracked := range map[string]bool{TypeAnnual: false, TypeCompensatory: false, TypeSick: true, TypeUnpaid: true} {
		if b := a.Balance(types, BalanceOf{Type: code, Year: 2024, Employment: employment}); b.Untracked != untracked {
			t.Errorf("%s: untracked = %v, want %v", code, b.Untracked, untracked)
		}
	}
	if b := a.Balance(types, BalanceOf{Type: TypeSick, Year: 2024, Employment: employment}); b.Pending != Days(5) {
		t.Errorf("sick pending = %v, want 5 days", b.Pending)
	}
}

// workdays lists n weekdays from start on.
func workdays(start string, n int) []string {
	var out []string
	for d := date(start); len(out) < n; d = d.AddDays(1) {
		if d.ISOWeekday() <= 5 {
			out = append(out, d.String())
		}
	}
	return out
}

// The lapse of carried-over days at the end of March reports the low
// balance it causes, once it is due, once.
func TestNoteLapse(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	p.Types = carrying() // 5 days carried over, lapsing at the end of March
	hire := date("2023-01-02")
	// 2023: 15 granted, 8 taken, 7 left: 5 carry into 2024, 20 in all.
	lastYear := approvedLeave("old", TypeAnnual, workdays("2023-06-05", 8)...)
	with := func(events ...[]any) []any {
		history := slices.Clone(lastYear)
		for _, e := range events {
			history = append(history, e...)
		}
		return history
	}
	// 13 days in May: 7 left before the lapse, 2 after it.
	crossing := with(approvedLeave("may", TypeAnnual, workdays("2024-05-06", 13)...))
	noted := LowBalanceReached{EmployeeID: "e1", Year: 2024, Remaining: Days(2), Threshold: Days(3), LeaveType: TypeAnnual, Lapse: date("2024-03-31")}
	// 10 days in May: 10 left after the lapse, and 3 more recorded since
	// take it to 2: the approval crossed, not the lapse.
	above := with(approvedLeave("may", TypeAnnual, workdays("2024-05-06", 10)...))
	tests := []struct {
		name     string
		history  []any
		then     []any // recorded before the lapse; history when nil
		code     string
		today    string
		wantNote bool
	}{
		{name: "before the lapse", history: crossing, today: "2024-03-30"},
		{name: "on the lapse's day", history: crossing, today: "2024-03-31", wantNote: true},
		{name: "due since, not yet reported", history: crossing, today: "2024-06-03", wantNote: true},
		{name: "reported already", history: append(slices.Clone(crossing), noted), today: "2024-06-03"},
		{name: "carried days spent before it",
			history: with(approvedLeave("feb", TypeAnnual, workdays("2024-02-05", 5)...), approvedLeave("may", TypeAnnual, workdays("2024-05-06", 8)...)),
			today:   "2024-04-01"},
		{name: "below the threshold before it", history: with(approvedLeave("may", TypeAnnual, workdays("2024-05-06", 18)...)), today: "2024-04-01"},
		{name: "above the threshold after it", history: with(approvedLeave("may", TypeAnnual, workdays("2024-05-06", 5)...)), today: "2024-04-01"},
		{name: "nothing carried", today: "2024-04-01"},
		{name: "a decision since went below", history: append(slices.Clone(above), approvedLeave("june", TypeAnnual, workdays("2024-06-03", 3)...)...),
			then: above, today: "2024-04-02"},
		{name: "recorded since the lapse", history: crossing, then: lastYear, today: "2024-04-02"},
		{name: "an untracked type", history: crossing, code: TypeSick, today: "2024-04-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			then := tt.then
			if then == nil {
				then = tt.history
			}
			cmd := NoteLapse{EmployeeID: "e1", LeaveType: tt.code, Employment: Employment{HireDate: hire, Today: date(tt.today)}, Then: Replay(then)}
			events, err := Decide(Replay(tt.history), cmd, p, now)
			if err != nil {
				t.Fatal(err)
			}
			var want []any
			if tt.wantNote {
				want = []any{noted}
			}
			if diff := cmp.Diff(want, events); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}
