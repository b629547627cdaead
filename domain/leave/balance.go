package leave

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
)

// Balance is the figures of one leave type in one leave year.
// Entitlement = Accrued + Adjusted, Remaining = Entitlement + CarriedOver -
// Expired - Used, and Available = Remaining - Pending is what a new request
// may take. Used counts approved leave and lateness deductions.
type Balance struct {
	// Untracked is a balance of a type that only counts days: nothing
	// limits a request of it, and its Available limits nothing.
	Untracked   bool
	Entitlement Amount
	Used        Amount
	Pending     Amount
	Remaining   Amount
	Available   Amount
	Accrued     Amount // credited by the policy: grants and monthly accruals
	Adjusted    Amount // credited or debited by hand
	CarriedOver Amount // moved in from the year before
	Expired     Amount // carried-over days that lapsed unused
}

// Employment is what a balance needs of the employee besides their leave
// stream: when they were hired (zero: unknown), and their date today, up to
// which credits and lapses are due.
type Employment struct {
	HireDate calendar.Date
	Today    calendar.Date
}

// BalanceOf names a balance: of a leave type (empty: annual) and a leave
// year, for an employment.
type BalanceOf struct {
	Type string
	Year int
	// On is the calendar date asked about: credits, lapses, adjustments and
	// leave dated on or before it count. Zero counts the whole year's leave
	// and what was recorded, and what the policy made due by Today.
	On calendar.Date
	Employment
}

// LineKind is what a line of the ledger records.
type LineKind string

// The kinds of ledger lines, in the order lines of one day are listed.
const (
	LineCarryOver      LineKind = "carry_over"
	LineGrant          LineKind = "grant"
	LineAccrual        LineKind = "accrual"
	LineAdjustment     LineKind = "adjustment"
	LineLeave          LineKind = "leave"
	LineLeaveCancelled LineKind = "leave_cancelled"
	LineLateness       LineKind = "lateness"
	LineExpiry         LineKind = "expiry"
)

var lineOrder = []LineKind{LineCarryOver, LineGrant, LineAccrual, LineAdjustment, LineLeave, LineLeaveCancelled, LineLateness, LineExpiry}

// Line is one movement of a balance. The Amounts of a year's lines add up to
// its Remaining.
type Line struct {
	Date           calendar.Date
	Kind           LineKind
	Amount         Amount
	RemainingAfter Amount
	RequestID      string
	Note           string
	// Position is the event behind the line; 0 for a credit, carry-over or
	// lapse the policy made due without an event.
	Position int64
}

// Balance returns the figures of the balance q names under the policy t.
func (a Account) Balance(t Types, q BalanceOf) Balance {
	_, b := a.Ledger(t, q)
	return b
}

// Ledger returns the lines that make up the balance q names, in date order,
// and the balance. Earlier years are folded from the first year of
// employment, each to its last day, for what they carry over.
func (a Account) Ledger(t Types, q BalanceOf) ([]Line, Balance) {
	code := typeOrAnnual(q.Type)
	// The requests of the type by leave year, in the order filed: each
	// year reads its own.
	requests := map[int][]RequestState{}
	for _, id := range a.order {
		if r := a.requests[id]; r.LeaveType == code {
			requests[r.Year] = append(requests[r.Year], r)
		}
	}
	var carried Amount
	for yr := a.firstYear(q); yr < q.Year; yr++ {
		_, before := a.year(t, code, yr, requests[yr], calendar.Date{Year: yr, Month: time.December, Day: 31}, true, carried, q.HireDate)
		carried = carryOver(t, code, yr+1, before.Remaining)
	}
	if q.On.IsZero() {
		return a.year(t, code, q.Year, requests[q.Year], q.Today, false, carried, q.HireDate)
	}
	return a.year(t, code, q.Year, requests[q.Year], q.On, true, carried, q.HireDate)
}

// firstYear is the first leave year whose balance may carry into q's: that
// of the hire date, else of the account's first event.
func (a Account) firstYear(q BalanceOf) int {
	if q.HireDate.Valid() {
		return min(q.HireDate.Year, q.Year)
	}
	first := q.Year
	for _, r := range a.requests {
		first = min(first, r.Year)
	}
	for yr := range a.grants {
		first = min(first, yr)
	}
	for yr := range a.sets {
		first = min(first, yr)
	}
	for _, adj := range a.adjustments {
		first = min(first, adj.year)
	}
	for _, d := range a.deductions {
		first = min(first, d.year)
	}
	return first
}

// carryOver is what of remaining, the balance at the end of the year before
// yr, moves into yr under the policy in force on its first day.
func carryOver(t Types, code string, yr int, remaining Amount) Amount {
	typ, ok := t.On(code, calendar.Date{Year: yr, Month: time.January, Day: 1})
	if !ok || !typ.Tracked || remaining <= 0 {
		return 0
	}
	return min(remaining, typ.CarryOverMax)
}

// year folds the lines of code's balance in yr, whose requests are given,
// through the date cutoff: what the policy made due counts up to it; what
// was recorded counts up to it when dated, else all of it.
func (a Account) year(t Types, code string, yr int, requests []RequestState, cutoff calendar.Date, dated bool, carried Amount, hired calendar.Date) ([]Line, Balance) {
	due := func(d calendar.Date) bool { return !d.After(cutoff) }
	counts := func(d calendar.Date) bool { return !dated || due(d) }
	through := calendar.Date{Year: yr, Month: time.December, Day: 31}
	if dated {
		through = cutoff
	}
	jan1 := calendar.Date{Year: yr, Month: time.January, Day: 1}

	var lines []Line
	var b Balance
	if carried > 0 && due(jan1) {
		lines = append(lines, Line{Date: jan1, Kind: LineCarryOver, Amount: carried, Note: "carried over from " + strconv.Itoa(yr-1)})
	}
	lines = append(lines, a.credits(t, code, yr, hired, due, counts)...)
	for _, adj := range a.adjustments {
		if adj.leaveType == code && adj.year == yr && counts(adj.date) {
			lines = append(lines, Line{Date: adj.date, Kind: LineAdjustment, Amount: adj.amount, Note: adj.note, Position: adj.position})
		}
	}
	// drawnBy is what approved leave and lateness took on days up to a
	// date, as known now: carried-over days are spent first.
	drawnBy := func(d calendar.Date) Amount {
		var n Amount
		for _, r := range requests {
			if r.Status == StatusApproved {
				n += r.amountThrough(d)
			}
		}
		for _, l := range a.deductions {
			if code == TypeAnnual && l.year == yr && !l.date.After(d) {
				n += l.amount
			}
		}
		return n
	}
	for _, r := range requests {
		amount := r.amountThrough(through)
		ap, approved := a.spendings[r.ID]
		switch {
		case amount == 0:
		case r.Status == StatusPending:
			b.Pending += amount
		case approved:
			lines = append(lines, Line{Date: r.firstDay(), Kind: LineLeave, Amount: -amount, RequestID: r.ID, Note: r.portion(), Position: ap.approvedAt})
			if r.Status == StatusCancelled {
				// Dated with the leave it gives back, so that no lapse
				// counts days that were never taken.
				lines = append(lines, Line{Date: r.firstDay(), Kind: LineLeaveCancelled, Amount: amount, RequestID: r.ID,
					Note: "cancelled " + r.CancelledAt.UTC().Format(time.DateOnly), Position: ap.cancelledAt})
			}
		}
	}
	if code == TypeAnnual {
		for _, l := range a.deductions {
			if l.year == yr && counts(l.date) {
				lines = append(lines, Line{Date: l.date, Kind: LineLateness, Amount: -l.amount, Note: "late check-in", Position: l.position})
			}
		}
	}
	if lapse, ok := t.Lapse(code, yr); ok && carried > 0 {
		if expired := carried - min(carried, drawnBy(lapse)); expired > 0 && due(lapse) {
			lines = append(lines, Line{Date: lapse, Kind: LineExpiry, Amount: -expired, Note: "carried-over days unused by " + lapse.String()})
		}
	}

	slices.SortStableFunc(lines, func(x, y Line) int {
		return cmp.Or(x.Date.Compare(y.Date), cmp.Compare(slices.Index(lineOrder, x.Kind), slices.Index(lineOrder, y.Kind)))
	})
	var remaining Amount
	for i := range lines {
		remaining += lines[i].Amount
		lines[i].RemainingAfter = remaining
		switch lines[i].Kind {
		case LineCarryOver:
			b.CarriedOver += lines[i].Amount
		case LineGrant, LineAccrual:
			b.Accrued += lines[i].Amount
		case LineAdjustment:
			b.Adjusted += lines[i].Amount
		case LineExpiry:
			b.Expired -= lines[i].Amount
		default:
			b.Used -= lines[i].Amount
		}
	}
	b.Entitlement = b.Accrued + b.Adjusted
	b.Remaining = remaining
	b.Available = remaining - b.Pending
	// Whether the type keeps a balance is its policy on the last day folded.
	typ, _ := t.On(code, through)
	b.Untracked = !typ.Tracked
	return lines, b
}

// Lapse is the day at whose end the days of code carried into yr lapse, by
// the policy in force on yr's first day; none when they never do.
func (t Types) Lapse(code string, yr int) (calendar.Date, bool) {
	typ, ok := t.On(code, calendar.Date{Year: yr, Month: time.January, Day: 1})
	if !ok || !typ.Tracked || typ.CarryOverExpiresMonths <= 0 {
		return calendar.Date{}, false
	}
	return calendar.Date{Year: yr, Month: time.Month(typ.CarryOverExpiresMonths) + 1, Day: 1}.AddDays(-1), true
}

// credits are the lines of what code's policy credits in yr: an annual
// entitlement set by hand replaces them; a recorded annual grant counts as
// recorded; otherwise each credit counts when it is due.
func (a Account) credits(t Types, code string, yr int, hired calendar.Date, due, counts func(calendar.Date) bool) []Line {
	first := calendar.Date{Year: yr, Month: time.January, Day: 1}
	if hired.Valid() && hired.Year == yr {
		first = hired
	}
	employed := !hired.Valid() || hired.Year <= yr
	if code == TypeAnnual {
		if set, ok := a.sets[yr]; ok {
			if !counts(first) {
				return nil
			}
			return []Line{{Date: first, Kind: LineGrant, Amount: set.amount, Note: set.note, Position: set.position}}
		}
		if g, ok := a.grants[yr]; ok {
			if typ, _ := t.On(code, first); typ.Accrual == AccrualUpfront && counts(first) {
				return []Line{{Date: first, Kind: LineGrant, Amount: g.amount, Note: g.note, Position: g.position}}
			}
		}
	}
	if !employed {
		return nil
	}
	var lines []Line
	if typ, ok := t.On(code, first); ok && typ.Accrual == AccrualUpfront && typ.PerYear > 0 && due(first) {
		lines = append(lines, Line{Date: first, Kind: LineGrant, Amount: typ.PerYear, Note: "upfront for " + strconv.Itoa(yr)})
	}
	for m := first.Month; m <= time.December; m++ {
		day := calendar.Date{Year: yr, Month: m, Day: 1}
		if day.Before(first) {
			day = first // the hire month's credit is due on the hire date
		}
		if typ, ok := t.On(code, day); ok && typ.Accrual == AccrualMonthly && typ.PerYear > 0 && due(day) {
			lines = append(lines, Line{Date: day, Kind: LineAccrual, Amount: typ.PerYear / 12, Note: "monthly for " + day.String()[:7]})
		}
	}
	return lines
}
