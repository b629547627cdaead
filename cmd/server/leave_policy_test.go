package main

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// typedLeaveJSON is a leave request with its type and fractional days.
type typedLeaveJSON struct {
	ID        string   `json:"id"`
	LeaveType string   `json:"leave_type"`
	HalfDay   *string  `json:"half_day"`
	Hours     *float64 `json:"hours"`
	Days      float64  `json:"days"`
	Status    string   `json:"status"`
}

// firstMonday is the first Monday of the current year: a past date, for
// most of it, in the leave year adjustments go to.
func firstMonday() string {
	d := time.Date(time.Now().Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, 1)
	}
	return d.Format(time.DateOnly)
}

// TestLeaveRequestsByType: half days, hours, untracked types, the refusals
// of each, and requests filed for someone else, by every role.
func TestLeaveRequestsByType(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	other := a.register(admin, "employee", nil)
	auditor := a.register(admin, "auditor", nil)
	leaveURL := "/api/leave-management/"

	var half typedLeaveJSON
	a.must(http.StatusCreated, "POST", leaveURL, emp.token, map[string]any{"start_date": "2024-12-02", "end_date": "2024-12-02", "half_day": "am"}, &half)
	if half.LeaveType != "annual" || half.HalfDay == nil || *half.HalfDay != "am" || half.Hours != nil || half.Days != 0.5 {
		t.Errorf("half day = %+v, want annual, am, 0.5 days", half)
	}
	// Sick leave is untracked: 21 workdays, more than any balance.
	var sick typedLeaveJSON
	a.must(http.StatusCreated, "POST", leaveURL, emp.token, map[string]any{"start_date": "2024-12-03", "end_date": "2024-12-31", "leave_type": "sick"}, &sick)
	if sick.LeaveType != "sick" || sick.Days != 21 {
		t.Errorf("sick leave = %+v, want 21 days of sick leave", sick)
	}

	// Hours of compensatory leave, which accrues nothing: refused until a
	// manager credits some, then counted as hours/8.
	monday := firstMonday()
	hours := map[string]any{"start_date": monday, "end_date": monday, "leave_type": "compensatory", "hours": 2.5, "employee_id": emp.ID}
	if p := decodeProblem(t, a.call("POST", leaveURL, mgr.token, hours)); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("hours without a balance = %+v, want 422", p)
	}
	a.must(http.StatusCreated, "POST", "/api/leave-balances/"+emp.ID+"/adjustments/", mgr.token, map[string]any{"leave_type": "compensatory", "days": 1, "reason": "on call"}, nil)
	var inHours typedLeaveJSON
	a.must(http.StatusCreated, "POST", leaveURL, mgr.token, hours, &inHours)
	if inHours.Hours == nil || *inHours.Hours != 2.5 || inHours.Days != 0.31 || inHours.HalfDay != nil {
		t.Errorf("hours = %+v, want 2.5 hours, 0.31 days", inHours)
	}

	bad := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"half day of two days", map[string]any{"start_date": "2025-01-06", "end_date": "2025-01-07", "half_day": "pm"}, "half_day"},
		{"half day of no kind", map[string]any{"start_date": "2025-01-06", "end_date": "2025-01-06", "half_day": "noon"}, "half_day"},
		{"hours of annual leave", map[string]any{"start_date": "2025-01-06", "end_date": "2025-01-06", "hours": 2}, "hours"},
		{"more hours than the day's nine", map[string]any{"start_date": "2025-01-06", "end_date": "2025-01-06", "hours": 9.5, "leave_type": "compensatory"}, "hours"},
		{"no hours", map[string]any{"start_date": "2025-01-06", "end_date": "2025-01-06", "hours": 0, "leave_type": "compensatory"}, "hours"},
		{"half day of unpaid leave", map[string]any{"start_date": "2025-01-06", "end_date": "2025-01-06", "half_day": "am", "leave_type": "unpaid"}, "half_day"},
		{"unknown type", map[string]any{"start_date": "2025-01-06", "end_date": "2025-01-06", "leave_type": "sabbatical"}, "leave_type"},
		{"employee id of no form", map[string]any{"start_date": "2025-01-06", "end_date": "2025-01-06", "employee_id": "me"}, "employee_id"},
	}
	for _, tt := range bad {
		p := decodeProblem(t, a.call("POST", leaveURL, emp.token, tt.body))
		if p.Status != http.StatusBadRequest || p.Errors[tt.field] == "" {
			t.Errorf("%s = %+v, want 400 naming %s", tt.name, p, tt.field)
		}
	}

	// Past dates: an employee only for a type with past_requests; their
	// manager, or an admin, for any type.
	past := map[string]any{"start_date": "2024-11-04", "end_date": "2024-11-04", "leave_type": "unpaid"}
	if p := decodeProblem(t, a.call("POST", leaveURL, emp.token, past)); p.Status != http.StatusUnprocessableEntity {
		t.Errorf("employee's past unpaid leave = %+v, want 422", p)
	}
	past["employee_id"] = emp.ID
	var filed typedLeaveJSON
	a.must(http.StatusCreated, "POST", leaveURL, mgr.token, past, &filed)
	var got struct {
		EmployeeID string `json:"employee_id"`
	}
	a.must(http.StatusOK, "GET", leaveURL+filed.ID+"/", emp.token, nil, &got)
	if got.EmployeeID != emp.ID {
		t.Errorf("request filed by the manager belongs to %s, want the employee", got.EmployeeID)
	}
	forOther := map[string]any{"start_date": "2024-11-05", "end_date": "2024-11-05", "leave_type": "unpaid", "employee_id": other.ID}
	for _, tt := range []struct {
		who  user
		want int
	}{{mgr, http.StatusNotFound}, {emp, http.StatusNotFound}, {auditor, http.StatusForbidden}, {admin, http.StatusCreated}} {
		if r := a.call("POST", leaveURL, tt.who.token, forOther); r.status != tt.want {
			t.Errorf("%s files for someone not theirs = %s, want %d", tt.who.Role, r, tt.want)
		}
	}
	forManager := map[string]any{"start_date": "2024-11-06", "end_date": "2024-11-06", "employee_id": mgr.ID}
	if r := a.call("POST", leaveURL, emp.token, forManager); r.status != http.StatusNotFound {
		t.Errorf("employee files for their manager = %s, want 404", r)
	}

	var list struct{ Items []typedLeaveJSON }
	eventually(t, "the list shows every request", func() bool {
		a.must(http.StatusOK, "GET", leaveURL+"?employee_id="+emp.ID, mgr.token, nil, &list)
		return len(list.Items) == 4
	})
	types := map[string]float64{}
	for _, r := range list.Items {
		types[r.LeaveType] += r.Days
	}
	if diff := cmp.Diff(map[string]float64{"annual": 0.5, "sick": 21, "compensatory": 0.31, "unpaid": 1}, types); diff != "" {
		t.Errorf("listed days by type (-want +got):\n%s", diff)
	}

	// An untracked type only counts days: its available is null, where a
	// tracked type's is what a request may take.
	var all struct {
		Items []struct {
			LeaveType string   `json:"leave_type"`
			Pending   float64  `json:"pending"`
			Available *float64 `json:"available"`
		}
	}
	a.must(http.StatusOK, "GET", "/api/leave-balances/"+emp.ID+"/all/?year=2024", mgr.token, nil, &all)
	available := map[string]*float64{}
	for _, b := range all.Items {
		available[b.LeaveType] = b.Available
		if b.LeaveType == "sick" && b.Pending != 21 {
			t.Errorf("sick leave pending = %v, want 21", b.Pending)
		}
	}
	annual := 14.5 // 15, less the pending half day
	if diff := cmp.Diff(map[string]*float64{"annual": &annual, "sick": nil, "unpaid": nil, "compensatory": new(float64)}, available); diff != "" {
		t.Errorf("available by type in 2024 (-want +got):\n%s", diff)
	}
}

// ledgerJSON is a ledger on the wire.
type ledgerJSON struct {
	Items []struct {
		Date           string  `json:"date"`
		Kind           string  `json:"kind"`
		Days           float64 `json:"days"`
		RemainingAfter float64 `json:"remaining_after"`
		RequestID      *string `json:"request_id"`
		Position       *int64  `json:"position"`
	} `json:"items"`
}

// TestBalancesCarryOverAndLapse: with a carry-over of five days lapsing at
// the end of March, a year nobody touched has its credits, its carry-over
// and its lapse; on and as_of answer the two clocks; the ledger explains
// the balance line by line, each naming its event.
func TestBalancesCarryOverAndLapse(t *testing.T) {
	t.Parallel()
	a := startApp(t, map[string]string{"LEAVE_CARRY_OVER_MAX_DAYS": "5", "LEAVE_CARRY_OVER_EXPIRES_MONTHS": "3"})
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID}) // hired 2024-01-01
	other := a.register(admin, "employee", nil)
	auditor := a.register(admin, "auditor", nil)
	approve := func(start, end string) string {
		var r typedLeaveJSON
		a.must(http.StatusCreated, "POST", "/api/leave-management/", emp.token, map[string]any{"start_date": start, "end_date": end}, &r)
		a.must(http.StatusOK, "POST", "/api/leave-management/"+r.ID+"/change-status/", mgr.token, map[string]string{"status": "approved"}, nil)
		return r.ID
	}
	approve("2024-06-03", "2024-06-12") // 8 of 2024's 15 days: 7 left, 5 carry over
	feb := approve("2025-02-03", "2025-02-04")
	balanceURL := "/api/leave-balances/" + emp.ID + "/"

	for _, tt := range []struct {
		query string
		want  balanceJSON
	}{
		{"?on=2025-01-31", balanceJSON{Year: 2025, Accrued: 15, Entitlement: 15, CarriedOver: 5, Remaining: 20, Available: 20}},
		{"?on=2025-03-31", balanceJSON{Year: 2025, Accrued: 15, Entitlement: 15, CarriedOver: 5, Expired: 3, Used: 2, Remaining: 15, Available: 15}},
		{"?year=2025", balanceJSON{Year: 2025, Accrued: 15, Entitlement: 15, CarriedOver: 5, Expired: 3, Used: 2, Remaining: 15, Available: 15}},
		{"?year=2024&on=2024-05-31", balanceJSON{Year: 2024, Accrued: 15, Entitlement: 15, Remaining: 15, Available: 15}},
		{"?year=2024", balanceJSON{Year: 2024, Accrued: 15, Entitlement: 15, Used: 8, Remaining: 7, Available: 7}},
	} {
		var got balanceJSON
		a.must(http.StatusOK, "GET", balanceURL+tt.query, emp.token, nil, &got)
		tt.want.LeaveType, tt.want.On = "annual", got.On
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("balance %s (-want +got):\n%s", tt.query, diff)
		}
	}
	var echoed balanceJSON
	a.must(http.StatusOK, "GET", balanceURL+"?on=2025-03-31", emp.token, nil, &echoed)
	if echoed.On == nil || *echoed.On != "2025-03-31" {
		t.Errorf("on echoed as %v, want 2025-03-31", echoed.On)
	}

	var ledger ledgerJSON
	a.must(http.StatusOK, "GET", balanceURL+"ledger/?year=2025", mgr.token, nil, &ledger)
	var kinds []string
	var sum float64
	for _, l := range ledger.Items {
		kinds = append(kinds, l.Kind)
		sum += l.Days
		if sum != l.RemainingAfter {
			t.Errorf("line %+v: remaining_after %v, want %v", l, l.RemainingAfter, sum)
		}
	}
	if diff := cmp.Diff([]string{"carry_over", "grant", "leave", "expiry"}, kinds); diff != "" {
		t.Errorf("ledger kinds (-want +got):\n%s", diff)
	}
	if sum != 15 {
		t.Errorf("ledger adds up to %v, want the remaining 15", sum)
	}
	// The leave line names the approval's event in the audit feed.
	var history struct {
		Items []struct {
			Position int64          `json:"position"`
			Type     string         `json:"type"`
			Data     map[string]any `json:"data"`
		} `json:"items"`
	}
	a.must(http.StatusOK, "GET", "/api/employees/"+emp.ID+"/history/", auditor.token, nil, &history)
	positions := map[string]int64{}
	for _, e := range history.Items {
		if e.Type == "leave.approved" {
			positions[e.Data["request_id"].(string)] = e.Position
		}
	}
	if l := ledger.Items[2]; l.RequestID == nil || *l.RequestID != feb || l.Position == nil || *l.Position != positions[feb] {
		t.Errorf("leave line = %+v, want request %s at position %d", l, feb, positions[feb])
	}

	// Every role that may read the employee reads every balance; others
	// hear of no one.
	for _, tt := range []struct {
		who  user
		want int
	}{{emp, 200}, {mgr, 200}, {admin, 200}, {auditor, 200}, {other, 404}} {
		for _, path := range []string{"", "all/", "ledger/"} {
			if r := a.call("GET", balanceURL+path+"?year=2025", tt.who.token, nil); r.status != tt.want {
				t.Errorf("%s reads %s = %s, want %d", tt.who.Role, path, r, tt.want)
			}
		}
	}
	var all struct{ Items []balanceJSON }
	a.must(http.StatusOK, "GET", balanceURL+"all/?on=2025-03-31", emp.token, nil, &all)
	var codes []string
	for _, b := range all.Items {
		codes = append(codes, b.LeaveType)
	}
	if diff := cmp.Diff([]string{"annual", "sick", "unpaid", "compensatory"}, codes); diff != "" || all.Items[0].Remaining != 15 {
		t.Errorf("all balances %+v (-want +got codes):\n%s", all.Items, diff)
	}
	for _, q := range []string{"?year=2025&on=2024-05-01", "?leave_type=sabbatical", "?on=2025-02-30", "?as_of=yesterday"} {
		if p := decodeProblem(t, a.call("GET", balanceURL+q, emp.token, nil)); p.Status != http.StatusBadRequest || len(p.Errors) != 1 {
			t.Errorf("balance %s = %+v, want 400 naming one field", q, p)
		}
	}
	if p := decodeProblem(t, a.call("GET", balanceURL+"ledger/?leave_type=sabbatical", emp.token, nil)); p.Status != http.StatusBadRequest || p.Errors["leave_type"] == "" {
		t.Errorf("ledger of an unknown type = %+v, want 400 naming leave_type", p)
	}

	// as_of: an adjustment recorded after it does not count.
	before := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(10 * time.Millisecond)
	a.must(http.StatusCreated, "POST", balanceURL+"adjustments/", admin.token, map[string]any{"days": 1.5, "reason": "long service"}, nil)
	var now, then balanceJSON
	a.must(http.StatusOK, "GET", balanceURL, emp.token, nil, &now)
	a.must(http.StatusOK, "GET", balanceURL+"?as_of="+before, emp.token, nil, &then)
	if now.Adjusted != 1.5 || then.Adjusted != 0 || now.Remaining != then.Remaining+1.5 {
		t.Errorf("adjusted now %v (remaining %v), as of before it %v (remaining %v); want 1.5 more now", now.Adjusted, now.Remaining, then.Adjusted, then.Remaining)
	}
}

// TestLeaveAdjustments: who may adjust, what is refused, and the low-balance
// notice of a type other than annual.
func TestLeaveAdjustments(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	other := a.register(admin, "employee", nil)
	auditor := a.register(admin, "auditor", nil)
	url := "/api/leave-balances/" + emp.ID + "/adjustments/"
	credit := map[string]any{"leave_type": "compensatory", "days": 5, "reason": "weekend shifts"}

	for _, tt := range []struct {
		who  user
		want int
	}{{emp, 403}, {auditor, 403}, {other, 404}} {
		if r := a.call("POST", url, tt.who.token, credit); r.status != tt.want {
			t.Errorf("%s adjusts = %s, want %d", tt.who.Role, r, tt.want)
		}
	}
	var b balanceJSON
	a.must(http.StatusCreated, "POST", url, mgr.token, credit, &b)
	if b.LeaveType != "compensatory" || b.Adjusted != 5 || b.Remaining != 5 || b.Year != time.Now().Year() {
		t.Errorf("after a credit of 5: %+v", b)
	}
	for _, tt := range []struct {
		name string
		body map[string]any
		want int
	}{
		{"a debit past the balance", map[string]any{"leave_type": "compensatory", "days": -6, "reason": "x"}, 422},
		{"an untracked type", map[string]any{"leave_type": "sick", "days": 1, "reason": "x"}, 422},
		{"an unknown type", map[string]any{"leave_type": "nope", "days": 1, "reason": "x"}, 400},
		{"no reason", map[string]any{"leave_type": "compensatory", "days": 1}, 400},
		{"no days", map[string]any{"leave_type": "compensatory", "reason": "x"}, 400},
	} {
		if r := a.call("POST", url, admin.token, tt.body); r.status != tt.want {
			t.Errorf("%s = %s, want %d", tt.name, r, tt.want)
		}
	}
	// From 5 to 2.5: below the threshold of 3, the manager hears of it,
	// once, with the type named; and of nothing else (an absence, after
	// DAILY_CHECK_AT on a workday).
	a.holidayToday(admin, emp)
	a.must(http.StatusCreated, "POST", url, admin.token, map[string]any{"leave_type": "compensatory", "days": -2.5, "reason": "paid out"}, nil)
	a.must(http.StatusCreated, "POST", url, admin.token, map[string]any{"leave_type": "compensatory", "days": -1, "reason": "paid out"}, nil)
	var page struct {
		Items []struct {
			Type    string         `json:"type"`
			Message string         `json:"message"`
			Data    map[string]any `json:"data"`
		} `json:"items"`
	}
	eventually(t, "the manager hears of the low balance", func() bool {
		a.must(http.StatusOK, "GET", "/api/notifications/", mgr.token, nil, &page)
		return len(page.Items) > 0
	})
	time.Sleep(200 * time.Millisecond)
	a.must(http.StatusOK, "GET", "/api/notifications/", mgr.token, nil, &page)
	if len(page.Items) != 1 || page.Items[0].Type != "low_leave_balance" || page.Items[0].Data["leave_type"] != "compensatory" {
		t.Fatalf("manager's notifications = %+v, want one low_leave_balance of compensatory leave", page.Items)
	}
	want := fmt.Sprintf("has 2.5 days of leave of type compensatory left for %s (below 3).", strconv.Itoa(time.Now().Year()))
	if msg := page.Items[0].Message; len(msg) < len(want) || msg[len(msg)-len(want):] != want {
		t.Errorf("message %q, want it to end %q", msg, want)
	}
}

// TestLeaveTypeChangeKeepsPastBalances: a type defined today covers the past
// (its monthly credits are there for last year), and a change of it counts
// from its day: last year's balance stays as it was, and as_of before the
// change shows the policy then in force.
func TestLeaveTypeChangeKeepsPastBalances(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	emp := a.register(admin, "employee", nil) // hired 2024-01-01
	a.must(http.StatusCreated, "POST", "/api/leave-types/", admin.token, map[string]any{
		"code": "training", "name": "Training", "paid": true, "tracked": true, "accrual": "monthly", "days_per_year": 12, "active": true,
	}, nil)
	lastYear := strconv.Itoa(time.Now().Year() - 1)
	url := "/api/leave-balances/" + emp.ID + "/?leave_type=training&year=" + lastYear
	var before balanceJSON
	a.must(http.StatusOK, "GET", url, emp.token, nil, &before)
	if before.Accrued != 12 || before.LeaveType != "training" {
		t.Fatalf("last year's training before the change = %+v, want 12 accrued", before)
	}
	changedAt := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(10 * time.Millisecond)
	a.must(http.StatusOK, "PATCH", "/api/leave-types/training/", admin.token, map[string]any{"days_per_year": 24, "accrual": "upfront"}, nil)
	var after balanceJSON
	a.must(http.StatusOK, "GET", url, emp.token, nil, &after)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("last year's balance changed with the policy (-before +after):\n%s", diff)
	}
	// This year's credits were monthly up to the change's day: a day on
	// the first of each month before it (and, on the 1st, the day's own
	// credit under the new policy, which has none). as_of before the
	// change reads the monthly policy for every month so far.
	istanbul, err := time.LoadLocation("Europe/Istanbul") // the default schedule's zone
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(istanbul)
	want := float64(today.Month())
	if today.Day() == 1 {
		want--
	}
	var now, then balanceJSON
	a.must(http.StatusOK, "GET", "/api/leave-balances/"+emp.ID+"/?leave_type=training", emp.token, nil, &now)
	a.must(http.StatusOK, "GET", "/api/leave-balances/"+emp.ID+"/?leave_type=training&as_of="+changedAt, emp.token, nil, &then)
	if now.Accrued != want || then.Accrued != float64(today.Month()) {
		t.Errorf("this year's training accrued %v now and %v as of before the change; want %v and %d", now.Accrued, then.Accrued, want, today.Month())
	}
}

// TestTwoHalfDaysOfOneDate: a morning and an afternoon of one date, of two
// types, are two requests; the same half again or a full day is an overlap.
// Both approved, the date counts one day of leave, and it stays one when
// either is cancelled.
func TestTwoHalfDaysOfOneDate(t *testing.T) {
	t.Parallel()
	a := startApp(t, nil)
	admin := a.admin()
	mgr := a.register(admin, "manager", nil)
	emp := a.register(admin, "employee", map[string]any{"manager_id": mgr.ID})
	leaveURL := "/api/leave-management/"
	day := map[string]any{"start_date": "2024-12-09", "end_date": "2024-12-09"}
	with := func(fields map[string]any) map[string]any {
		body := map[string]any{}
		for _, m := range []map[string]any{day, fields} {
			for k, v := range m {
				body[k] = v
			}
		}
		return body
	}
	var morning, afternoon typedLeaveJSON
	a.must(http.StatusCreated, "POST", leaveURL, emp.token, with(map[string]any{"half_day": "am"}), &morning)
	a.must(http.StatusCreated, "POST", leaveURL, emp.token, with(map[string]any{"half_day": "pm", "leave_type": "sick"}), &afternoon)
	for name, body := range map[string]map[string]any{
		"the morning again": with(map[string]any{"half_day": "am", "leave_type": "sick"}),
		"a full day":        day,
	} {
		if p := decodeProblem(t, a.call("POST", leaveURL, emp.token, body)); p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s = %+v, want 422 overlap", name, p)
		}
	}
	for _, r := range []typedLeaveJSON{morning, afternoon} {
		a.must(http.StatusOK, "POST", leaveURL+r.ID+"/change-status/", mgr.token, map[string]string{"status": "approved"}, nil)
	}
	leaveDays := func() int {
		var r struct {
			Employees []struct {
				LeaveDays int `json:"leave_days"`
			}
		}
		a.must(http.StatusOK, "GET", "/api/reports/monthly-work/?year=2024&month=12&employee_id="+emp.ID, admin.token, nil, &r)
		if len(r.Employees) == 0 {
			return 0
		}
		return r.Employees[0].LeaveDays
	}
	eventually(t, "the approvals reach the report", func() bool { return leaveDays() == 1 })
	a.must(http.StatusOK, "POST", leaveURL+morning.ID+"/cancel/", mgr.token, nil, nil)
	// The request list and leave_days are one read model.
	eventually(t, "the cancellation reaches the read models", func() bool {
		var r typedLeaveJSON
		a.must(http.StatusOK, "GET", leaveURL+morning.ID+"/", mgr.token, nil, &r)
		return r.Status == "cancelled"
	})
	if n := leaveDays(); n != 1 {
		t.Errorf("leave days after cancelling the morning = %d, want the afternoon's 1", n)
	}
}
