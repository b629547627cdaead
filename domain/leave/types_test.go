package leave

import (
	"errors"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
)

func TestBuiltInTypes(t *testing.T) {
	t.Parallel()
	types := ReplayTypes(Policy{AnnualDays: 20}, nil)
	want := map[string]struct {
		tracked, paid, halfDays, hours, past bool
		accrual                              Accrual
		perYear                              Amount
	}{
		TypeAnnual:       {true, true, true, false, true, AccrualUpfront, Days(20)},
		TypeSick:         {false, true, true, false, true, AccrualNone, 0},
		TypeUnpaid:       {false, false, false, false, false, AccrualNone, 0},
		TypeCompensatory: {true, true, true, true, false, AccrualNone, 0},
	}
	current := types.Current()
	if len(current) != len(want) {
		t.Fatalf("%d built-in types, want %d", len(current), len(want))
	}
	for _, typ := range current {
		w, ok := want[typ.Code]
		if !ok {
			t.Errorf("unexpected built-in type %q", typ.Code)
			continue
		}
		if typ.Tracked != w.tracked || typ.Paid != w.paid || typ.HalfDays != w.halfDays || typ.Hours != w.hours ||
			typ.PastRequests != w.past || typ.Accrual != w.accrual || typ.PerYear != w.perYear || !typ.Active {
			t.Errorf("%s = %+v, want %+v and active", typ.Code, typ, w)
		}
	}
}

func TestDecideType(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	types := ReplayTypes(DefaultPolicy(), nil)
	valid := Type{Code: "study", Name: "Study leave", Paid: true, Tracked: true, Accrual: AccrualMonthly, PerYear: Days(6), Active: true}
	with := func(f func(*Type)) Type { typ := valid; f(&typ); return typ }
	tests := []struct {
		name      string
		typ       Type
		wantField string
		wantErr   error
	}{
		{"valid", valid, "", nil},
		{"taken code", with(func(t *Type) { t.Code = TypeSick }), "", ErrTypeExists},
		{"code with a capital", with(func(t *Type) { t.Code = "Study" }), "code", nil},
		{"code of one letter", with(func(t *Type) { t.Code = "s" }), "code", nil},
		{"code of 33 characters", with(func(t *Type) { t.Code = "sabcdefghijabcdefghijabcdefghijab" }), "code", nil},
		{"code with a dash", with(func(t *Type) { t.Code = "study-leave" }), "code", nil},
		{"code with a newline", with(func(t *Type) { t.Code = "study\n" }), "code", nil},
		{"blank name", with(func(t *Type) { t.Name = "  " }), "name", nil},
		{"unknown accrual", with(func(t *Type) { t.Accrual = "weekly" }), "accrual", nil},
		{"negative days", with(func(t *Type) { t.PerYear = -1 }), "days_per_year", nil},
		{"too many days", with(func(t *Type) { t.PerYear = Days(367) }), "days_per_year", nil},
		{"expiry past december", with(func(t *Type) { t.CarryOverExpiresMonths = 13 }), "carry_over_expires_months", nil},
		{"untracked that accrues", with(func(t *Type) { t.Tracked = false }), "tracked", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			events, err := DecideType(types, DefineType{New: tt.typ, By: "admin"}, now)
			switch {
			case tt.wantField != "":
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Fields[tt.wantField] == "" {
					t.Fatalf("err = %v, want a validation error naming %s", err, tt.wantField)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			default:
				if err != nil || len(events) != 1 {
					t.Fatalf("DecideType = %v, %v; want one event", events, err)
				}
				if got := events[0].(TypeDefined).Type; got != tt.typ {
					t.Errorf("defined %+v, want %+v", got, tt.typ)
				}
			}
		})
	}
}

// TestTypeChangeKeepsThePastPolicy: a change takes effect from its day on;
// the days before keep the policy then in force.
func TestTypeChangeKeepsThePastPolicy(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	var history []any
	decide := func(cmd TypeCommand) []any {
		t.Helper()
		events, err := DecideType(ReplayTypes(DefaultPolicy(), history), cmd, now)
		if err != nil {
			t.Fatalf("%+v: %v", cmd, err)
		}
		history = append(history, events...)
		return events
	}
	days := func(n int) *Amount { a := Days(n); return &a }
	june, september := calendar.Date{Year: 2025, Month: 6, Day: 1}, calendar.Date{Year: 2025, Month: 9, Day: 1}
	decide(ChangeType{Code: TypeAnnual, Change: TypeChange{PerYear: days(20)}, On: june, By: "admin"})
	decide(ChangeType{Code: TypeAnnual, Change: TypeChange{PerYear: days(25)}, On: september, By: "admin"})
	types := ReplayTypes(DefaultPolicy(), history)
	for _, tt := range []struct {
		on   calendar.Date
		want Amount
	}{
		{calendar.Date{Year: 2020, Month: 1, Day: 1}, Days(15)},
		{june.AddDays(-1), Days(15)},
		{june, Days(20)},
		{september.AddDays(-1), Days(20)},
		{september, Days(25)},
		{calendar.Date{Year: 2030, Month: 1, Day: 1}, Days(25)},
	} {
		if typ, _ := types.On(TypeAnnual, tt.on); typ.PerYear != tt.want {
			t.Errorf("annual on %s grants %v, want %v", tt.on, typ.PerYear, tt.want)
		}
	}
	if typ, _ := types.Latest(TypeAnnual); typ.PerYear != Days(25) || typ.Name != "Annual leave" {
		t.Errorf("latest annual = %+v, want 25 days and its name kept", typ)
	}
	// A change that changes nothing records nothing; two on one day keep the last.
	if events := decide(ChangeType{Code: TypeAnnual, Change: TypeChange{PerYear: days(25)}, On: september, By: "admin"}); len(events) != 0 {
		t.Errorf("an unchanged policy recorded %v", events)
	}
	decide(ChangeType{Code: TypeAnnual, Change: TypeChange{PerYear: days(30)}, On: september, By: "admin"})
	if typ, _ := ReplayTypes(DefaultPolicy(), history).On(TypeAnnual, september); typ.PerYear != Days(30) {
		t.Errorf("annual after two changes on one day = %v, want 30 days", typ.PerYear)
	}
	untracked := false
	if _, err := DecideType(types, ChangeType{Code: TypeAnnual, Change: TypeChange{Tracked: &untracked}, On: september}, now); err == nil {
		t.Error("annual made untracked while it accrues: want a validation error")
	}
	if _, err := DecideType(types, ChangeType{Code: "nope", On: september}, now); !errors.Is(err, ErrTypeNotFound) {
		t.Errorf("change of an unknown type: err = %v, want ErrTypeNotFound", err)
	}
}

// TestGrantFollowsTheAnnualTypeInForce: a year's grant, by the yearly sweep
// or with the year's first request, is annual leave's days as the policy
// stood on January 1st; a change in June leaves that year's grant alone.
func TestGrantFollowsTheAnnualTypeInForce(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	days := Days(22)
	change, err := DecideType(ReplayTypes(DefaultPolicy(), nil),
		ChangeType{Code: TypeAnnual, Change: TypeChange{PerYear: &days}, On: calendar.Date{Year: 2025, Month: 6, Day: 1}}, now)
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultPolicy()
	p.Types = ReplayTypes(p, change)
	for _, tt := range []struct {
		year int
		want Amount
	}{{2024, Days(15)}, {2025, Days(15)}, {2026, Days(22)}} {
		events, err := Decide(Account{}, Grant{EmployeeID: "e1", Year: tt.year}, p, now)
		if err != nil || len(events) != 1 || events[0].(Granted).Amount != tt.want {
			t.Errorf("grant of %d = %v, %v; want %v", tt.year, events, err, tt.want)
		}
		start := calendar.Date{Year: tt.year, Month: 3, Day: 5}
		events, err = Decide(Account{}, Request{
			RequestID: "r1", EmployeeID: "e1", Start: start, End: start, Workdays: []int{1, 2, 3, 4, 5},
			Employment: Employment{HireDate: calendar.Date{Year: 2020, Month: 1, Day: 1}},
		}, p, now)
		if err != nil || len(events) != 2 || events[0].(Granted).Amount != tt.want {
			t.Errorf("first request of %d = %v, %v; want it to bring a grant of %v", tt.year, events, err, tt.want)
		}
	}
}
