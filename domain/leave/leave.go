// Package leave decides an employee's leave of every type: yearly grants,
// entitlement changes, adjustments, requests and their approval, rejection
// or cancellation, and lateness deductions; and it folds balances and their
// ledgers from those events and the company's leave types, crediting
// accruals and carrying over and lapsing days by the calendar. All of it is one stream per
// employee (leave-<employee_id>), so a balance check and the approval that
// spends it are a single append at an expected version.
package leave

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/domain/validation"
)

// Category is the category of the leave account streams.
const Category = "leave"

// Stream is the name of an employee's leave account stream.
func Stream(employeeID string) string { return streamid.Of(Category, employeeID) }

// Policy is the company's leave configuration, passed into every decision.
type Policy struct {
	AnnualDays           int  // granted for each leave year
	LowThresholdDays     int  // a remaining balance below this is reported
	LatenessDeductsLeave bool // late minutes come off annual leave
	// CarryOverMaxDays and CarryOverExpiresMonths are the built-in annual
	// type's carry-over: at most that many days move into the next year,
	// and lapse at the end of that month of it (0: never).
	CarryOverMaxDays       int
	CarryOverExpiresMonths int
	// Types are the company's leave types with their policies over time;
	// without them, the built-in ones.
	Types Types
}

// types is the company's leave types, the built-in ones when p has none.
func (p Policy) types() Types {
	if p.Types.versions == nil {
		return ReplayTypes(p, nil)
	}
	return p.Types
}

// yearlyGrant is the annual leave granted for year yr: that of the policy in
// force on the year's first day, so a later change leaves it as it was;
// none when annual leave does not accrue upfront then.
func (p Policy) yearlyGrant(yr int) (Amount, bool) {
	annual, _ := p.types().On(TypeAnnual, calendar.Date{Year: yr, Month: 1, Day: 1})
	return annual.PerYear, annual.Accrual == AccrualUpfront
}

// DefaultPolicy is 15 days a year, reported below 3, lateness not deducted,
// nothing carried over.
func DefaultPolicy() Policy {
	return Policy{AnnualDays: 15, LowThresholdDays: 3, CarryOverExpiresMonths: 3}
}

var (
	ErrEndBeforeStart  error = errkind.InvalidField("end date is before start date", "end_date", "must not be before start_date")
	ErrSpansYears      error = errkind.New(errkind.Unprocessable, "leave request spans two leave years: split it into one request per year")
	ErrNoWorkdays      error = errkind.New(errkind.Unprocessable, "no workdays in the requested range")
	ErrRequestNotFound error = errkind.New(errkind.NotFound, "leave request not found")
	ErrNotPending      error = errkind.New(errkind.Conflict, "leave request is not pending")
	ErrNotCancellable  error = errkind.New(errkind.Conflict, "only a pending or approved leave request can be cancelled")
	ErrTypeInactive    error = errkind.New(errkind.Unprocessable, "the leave type is not active")
	ErrPastDates       error = errkind.New(errkind.Unprocessable, "the leave type takes no requests for past dates")
	ErrUntracked       error = errkind.New(errkind.Unprocessable, "the leave type keeps no balance to adjust")
)

// ValidationError names each invalid field of a command.
type ValidationError = validation.Error

// OverlapError refuses a request whose dates meet those of a pending or
// approved request; a morning and an afternoon of one date do not meet.
type OverlapError struct {
	With string // id of the request overlapped
}

func (e *OverlapError) Error() string { return "leave request overlaps request " + e.With }

// ErrorKind implements errkind.Kinded: a rule refuses the request.
func (e *OverlapError) ErrorKind() errkind.Kind { return errkind.Unprocessable }

// InsufficientBalanceError refuses a request or approval that would spend
// more than the balance allows.
type InsufficientBalanceError struct {
	Requested Amount
	Available Amount
}

func (e *InsufficientBalanceError) Error() string {
	return fmt.Sprintf("insufficient leave balance: requested %s days, available %s days", days(e.Requested), days(e.Available))
}

// ErrorKind implements errkind.Kinded: a rule refuses the request.
func (e *InsufficientBalanceError) ErrorKind() errkind.Kind { return errkind.Unprocessable }

// days formats an amount in days with at most two decimals.
func days(a Amount) string {
	return strconv.FormatFloat(math.Round(a.Days()*100)/100, 'f', -1, 64)
}

// Command is one of Grant, SetEntitlement, Adjust, Request, Approve,
// Reject, Cancel, DeductLateness or NoteLapse, or of the approval chain's
// (approvals.go).
type Command interface{ command() }

// Grant makes the annual grant for Year; a repeated grant is a no-op.
type Grant struct {
	EmployeeID string
	Year       int
}

// SetEntitlement defines the annual leave of Year, whatever was granted.
type SetEntitlement struct {
	EmployeeID string
	Year       int
	Amount     Amount
	Reason     string
	By         string
	Employment Employment
}

// Adjust credits (a positive Amount) or debits a tracked type's balance of
// the year of Employment.Today, by hand, for Reason.
type Adjust struct {
	EmployeeID string
	LeaveType  string
	Amount     Amount
	Reason     string
	By         string
	At         time.Time // zero: now
	Employment Employment
}

// Request files a leave request of LeaveType (empty: annual). Workdays (ISO
// weekdays of the employee's schedule) and Holidays price it; HalfDay or
// Hours, of a day of DayMinutes scheduled minutes, make a one-day request
// count less. Employment bounds the lazy annual grant and says which dates
// are past; OnBehalf, a request filed by a manager or admin, may cover past
// dates of any type.
type Request struct {
	RequestID  string
	EmployeeID string
	LeaveType  string
	Start, End calendar.Date
	HalfDay    string
	Hours      float64
	Reason     string
	Workdays   []int
	DayMinutes int
	Holidays   calendar.Holidays
	Employment Employment
	OnBehalf   bool
	// Blocks are the company's blocked periods in force.
	Blocks Blocks
}

// Approve spends a pending request. Its days are counted again against
// Holidays, the company holidays in force at the decision: a holiday declared
// since the request costs no leave. A zero At means now.
type Approve struct {
	RequestID  string
	By         string
	Note       string
	At         time.Time
	Holidays   calendar.Holidays
	Employment Employment
}

// Reject refuses a pending request. A zero At means now.
type Reject struct {
	RequestID string
	By        string
	Note      string
	At        time.Time
}

// Cancel withdraws a pending request or returns an approved one. A zero At
// means now. Who may cancel what is the caller's concern.
type Cancel struct {
	RequestID string
	By        string
	At        time.Time
}

// DeductLateness takes a late check-in's minutes off the annual leave of
// Date's year, once per date, when the policy says so.
type DeductLateness struct {
	EmployeeID  string
	Date        calendar.Date
	LateMinutes int
	Employment  Employment
}

// NoteLapse reports the low balance the lapse of LeaveType's carried-over
// days caused: no event records a lapse, so none reports its crossing of
// the threshold. Once the lapse of the year of Employment.Today is due by
// Today, if it took the remaining balance, as it stood then, from at or
// above the threshold to below it, one LowBalanceReached names it; a lapse
// is reported once.
type NoteLapse struct {
	EmployeeID string
	LeaveType  string
	Employment Employment
	// Then is the account as it stood when the lapse came due: what was
	// recorded before its day. A decision recorded since counted the lapse
	// in its own crossing.
	Then Account
}

func (Grant) command()          {}
func (SetEntitlement) command() {}
func (Adjust) command()         {}
func (Request) command()        {}
func (Approve) command()        {}
func (Reject) command()         {}
func (Cancel) command()         {}
func (DeductLateness) command() {}
func (NoteLapse) command()      {}

const (
	maxTextLen     = 500
	maxEntitlement = 366 // days: a whole leap year
	grantReason    = "annual leave"
)

// Decide returns the events cmd causes on a under policy p at now, or why
// it is refused.
func Decide(a Account, cmd Command, p Policy, now time.Time) ([]any, error) {
	switch c := cmd.(type) {
	case Grant:
		return grant(a, c, p)
	case SetEntitlement:
		return setEntitlement(a, c, p)
	case Adjust:
		return adjust(a, c, p, now)
	case Request:
		return request(a, c, p, now)
	case Approve:
		return approve(a, c, p, now)
	case Reject:
		return reject(a, c, now)
	case Cancel:
		return cancel(a, c, now)
	case DeductLateness:
		return deductLateness(a, c, p)
	case NoteLapse:
		return noteLapse(a, c, p)
	case FileRequest:
		return fileRequest(a, c, p, now)
	case DecideStep:
		return decideStep(a, c, p, now)
	case Remind:
		return remind(a, c, now)
	case Escalate:
		return escalate(a, c, now)
	default:
		return nil, fmt.Errorf("leave: unknown command %T", cmd)
	}
}

func grant(a Account, c Grant, p Policy) ([]any, error) {
	fields := map[string]string{}
	requireID(fields, "employee_id", c.EmployeeID)
	checkYear(fields, c.Year)
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	amount, upfront := p.yearlyGrant(c.Year)
	if _, ok := a.grants[c.Year]; ok || !upfront {
		return nil, nil
	}
	return []any{Granted{EmployeeID: c.EmployeeID, Year: c.Year, Amount: amount, Reason: grantReason}}, nil
}

// balanceNow is the balance of code in yr as it stands today, the one a
// decision spends.
func (a Account) balanceNow(p Policy, code string, yr int, e Employment) Balance {
	return a.Balance(p.types(), BalanceOf{Type: code, Year: yr, Employment: e})
}

func setEntitlement(a Account, c SetEntitlement, p Policy) ([]any, error) {
	fields := map[string]string{}
	requireID(fields, "employee_id", c.EmployeeID)
	checkYear(fields, c.Year)
	if c.Amount < 0 || c.Amount > Days(maxEntitlement) {
		fields["entitlement_days"] = fmt.Sprintf("must be between 0 and %d days", maxEntitlement)
	}
	checkText(fields, "reason", c.Reason)
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	before := a.balanceNow(p, TypeAnnual, c.Year, c.Employment)
	events := []any{EntitlementSet{
		EmployeeID: c.EmployeeID, Year: c.Year, Amount: c.Amount, Previous: before.Entitlement, Reason: c.Reason, SetBy: c.By,
	}}
	// The set entitlement replaces the year's credits.
	after := before.Remaining - before.Accrued + c.Amount
	return append(events, lowBalance(p, c.EmployeeID, TypeAnnual, c.Year, before.Remaining, after)...), nil
}

func adjust(a Account, c Adjust, p Policy, now time.Time) ([]any, error) {
	fields := map[string]string{}
	requireID(fields, "employee_id", c.EmployeeID)
	code := typeOrAnnual(c.LeaveType)
	today := c.Employment.Today
	typ, known := p.types().On(code, today)
	if !known {
		fields["leave_type"] = "unknown leave type"
	}
	if c.Amount == 0 || c.Amount < -Days(maxEntitlement) || c.Amount > Days(maxEntitlement) {
		fields["days"] = fmt.Sprintf("must be between -%d and %d days, and not zero", maxEntitlement, maxEntitlement)
	}
	if strings.TrimSpace(c.Reason) == "" {
		fields["reason"] = "required"
	}
	checkText(fields, "reason", c.Reason)
	if !today.Valid() {
		fields["date"] = "must be a valid date"
	}
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	if !typ.Tracked {
		return nil, ErrUntracked
	}
	before := a.balanceNow(p, code, today.Year, c.Employment).Remaining
	after := before + c.Amount
	if c.Amount < 0 && after < 0 {
		return nil, &InsufficientBalanceError{Requested: -c.Amount, Available: before}
	}
	events := []any{Adjusted{
		EmployeeID: c.EmployeeID, LeaveType: code, Year: today.Year, Date: today, Amount: c.Amount,
		Reason: c.Reason, AdjustedBy: c.By, AdjustedAt: orNow(c.At, now),
	}}
	return append(events, lowBalance(p, c.EmployeeID, code, today.Year, before, after)...), nil
}

func request(a Account, c Request, p Policy, now time.Time) ([]any, error) {
	fields := map[string]string{}
	requireID(fields, "request_id", c.RequestID)
	requireID(fields, "employee_id", c.EmployeeID)
	if !c.Start.Valid() {
		fields["start_date"] = "must be a valid date"
	}
	if !c.End.Valid() {
		fields["end_date"] = "must be a valid date"
	}
	checkText(fields, "reason", c.Reason)
	code := typeOrAnnual(c.LeaveType)
	typ, known := p.types().On(code, c.Start)
	if !known {
		fields["leave_type"] = "unknown leave type"
	}
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	if _, ok := a.requests[c.RequestID]; ok {
		return nil, nil // the same command again: it was already filed
	}
	if c.End.Before(c.Start) {
		return nil, ErrEndBeforeStart
	}
	if err := checkPortion(c, typ); err != nil {
		return nil, err
	}
	if c.Start.Year != c.End.Year {
		return nil, ErrSpansYears
	}
	if !typ.Active {
		return nil, ErrTypeInactive
	}
	if c.Start.Before(c.Employment.Today) && !c.OnBehalf && !typ.PastRequests {
		return nil, ErrPastDates
	}
	n := calendar.CountWorkdays(c.Start, c.End, c.Workdays, c.Holidays)
	if n == 0 {
		return nil, ErrNoWorkdays
	}
	for _, id := range a.order {
		if r := a.requests[id]; (r.Status == StatusPending || r.Status == StatusApproved) && overlaps(r, c) {
			return nil, &OverlapError{With: id}
		}
	}
	dates := chargedDates(c.Start, c.End, c.Workdays, c.Holidays)
	if blk, ok := c.Blocks.Refusing(p.types(), code, dates); ok {
		return nil, &BlockedError{Block: blk}
	}

	yr := c.Start.Year
	var events []any
	// The first annual request of a year not yet granted brings its grant,
	// so leave of a year to come can be asked for before the year begins.
	if _, granted := a.grants[yr]; code == TypeAnnual && !granted && yr >= c.Employment.HireDate.Year {
		if amount, upfront := p.yearlyGrant(yr); upfront {
			events = append(events, Granted{EmployeeID: c.EmployeeID, Year: yr, Amount: amount, Reason: grantReason})
			a = a.withGrant(yr, amount)
		}
	}
	amount := Days(n)
	switch {
	case c.HalfDay != "":
		amount = MinutesPerDay / 2
	case c.Hours != 0:
		amount = Amount(math.Round(c.Hours * 60))
	}
	if typ.Tracked {
		if available := a.balanceNow(p, code, yr, c.Employment).Available; amount > available {
			return nil, &InsufficientBalanceError{Requested: amount, Available: available}
		}
	}
	return append(events, Requested{
		RequestID: c.RequestID, EmployeeID: c.EmployeeID, StartDate: c.Start, EndDate: c.End, Days: n,
		Dates: dates, Amount: amount, Year: yr, Reason: c.Reason,
		RequestedAt: now.UTC(), LeaveType: c.LeaveType, HalfDay: c.HalfDay, Hours: c.Hours,
	}), nil
}

// overlaps says whether the request c files meets r: their dates meet,
// unless both are half days of one date, one the morning and the other the
// afternoon.
func overlaps(r RequestState, c Request) bool {
	if r.End.Before(c.Start) || c.End.Before(r.Start) {
		return false
	}
	return r.HalfDay == "" || c.HalfDay == "" || r.HalfDay == c.HalfDay
}

// withGrant is a with the annual grant of yr recorded, in maps of its own.
func (a Account) withGrant(yr int, amount Amount) Account {
	a.grants = maps.Clone(a.grants)
	if a.grants == nil {
		a.grants = map[int]recorded{}
	}
	a.grants[yr] = recorded{amount: amount, note: grantReason}
	return a
}

// checkPortion names a half day or hours the request may not take: only a
// one-day request of a type that allows them, within the day's schedule.
func checkPortion(c Request, typ Type) error {
	fields := map[string]string{}
	oneDay := c.Start == c.End
	dayMinutes := c.DayMinutes
	if dayMinutes <= 0 {
		dayMinutes = MinutesPerDay
	}
	switch {
	case c.HalfDay == "":
	case c.HalfDay != HalfDayMorning && c.HalfDay != HalfDayAfternoon:
		fields["half_day"] = `must be "am" or "pm"`
	case !oneDay:
		fields["half_day"] = "only for a one-day request"
	case !typ.HalfDays:
		fields["half_day"] = "leave type " + typ.Code + " takes no half days"
	}
	switch h := c.Hours; {
	case h == 0:
	case c.HalfDay != "":
		fields["hours"] = "not with half_day"
	case math.IsNaN(h) || h < 0 || h*60 > float64(dayMinutes):
		fields["hours"] = fmt.Sprintf("must be more than 0 and at most the day's %s scheduled hours", strconv.FormatFloat(float64(dayMinutes)/60, 'f', -1, 64))
	case !oneDay:
		fields["hours"] = "only for a one-day request"
	case !typ.Hours:
		fields["hours"] = "leave type " + typ.Code + " takes no hours"
	}
	return validation.Check(fields)
}

// chargedDates lists the days CountWorkdays counts, in order.
func chargedDates(start, end calendar.Date, workdays []int, holidays calendar.Holidays) []calendar.Date {
	var dates []calendar.Date
	for d := start; !d.After(end); d = d.AddDays(1) {
		if slices.Contains(workdays, d.ISOWeekday()) && !holidays.Contains(d) {
			dates = append(dates, d)
		}
	}
	return dates
}

// pending returns the request id names if it is pending.
func pending(a Account, id string) (RequestState, error) {
	r, ok := a.requests[id]
	if !ok {
		return RequestState{}, ErrRequestNotFound
	}
	if r.Status != StatusPending {
		return RequestState{}, ErrNotPending
	}
	return r, nil
}

func approve(a Account, c Approve, p Policy, now time.Time) ([]any, error) {
	r, err := pending(a, c.RequestID)
	if err != nil {
		return nil, err
	}
	if err := checkNote(c.Note); err != nil {
		return nil, err
	}
	dates := slices.DeleteFunc(slices.Clone(r.Dates), c.Holidays.Contains)
	if len(dates) == 0 {
		return nil, fmt.Errorf("holidays declared since the request cover all its days, reject or cancel it: %w", ErrNoWorkdays)
	}
	// Each charged day costs the same: a whole day, or the request's part
	// of its one day.
	amount := r.Amount / Amount(len(r.Dates)) * Amount(len(dates))
	events := []any{Approved{
		RequestID: r.ID, EmployeeID: r.EmployeeID, Year: r.Year, Amount: amount, Days: len(dates), Dates: dates,
		DecidedBy: c.By, Note: c.Note, DecidedAt: orNow(c.At, now),
	}}
	if typ, _ := p.types().On(r.LeaveType, r.Start); !typ.Tracked {
		return events, nil
	}
	// Approval spends the remaining balance: the request's own pending
	// amount is what it is about to use, so pending is not subtracted.
	remaining := a.balanceNow(p, r.LeaveType, r.Year, c.Employment).Remaining
	if amount > remaining {
		return nil, &InsufficientBalanceError{Requested: amount, Available: remaining}
	}
	return append(events, lowBalance(p, r.EmployeeID, r.LeaveType, r.Year, remaining, remaining-amount)...), nil
}

func reject(a Account, c Reject, now time.Time) ([]any, error) {
	r, err := pending(a, c.RequestID)
	if err != nil {
		return nil, err
	}
	if err := checkNote(c.Note); err != nil {
		return nil, err
	}
	return []any{Rejected{
		RequestID: r.ID, EmployeeID: r.EmployeeID, Year: r.Year, Amount: r.Amount,
		DecidedBy: c.By, Note: c.Note, DecidedAt: orNow(c.At, now),
	}}, nil
}

func cancel(a Account, c Cancel, now time.Time) ([]any, error) {
	r, ok := a.requests[c.RequestID]
	if !ok {
		return nil, ErrRequestNotFound
	}
	if r.Status != StatusPending && r.Status != StatusApproved {
		return nil, ErrNotCancellable
	}
	return []any{Cancelled{
		RequestID: r.ID, EmployeeID: r.EmployeeID, Year: r.Year, Amount: r.Amount,
		PreviousStatus: r.Status, CancelledBy: c.By, CancelledAt: orNow(c.At, now),
	}}, nil
}

func deductLateness(a Account, c DeductLateness, p Policy) ([]any, error) {
	if !p.LatenessDeductsLeave {
		return nil, nil
	}
	fields := map[string]string{}
	requireID(fields, "employee_id", c.EmployeeID)
	if !c.Date.Valid() {
		fields["date"] = "must be a valid date"
	}
	if c.LateMinutes <= 0 {
		fields["late_minutes"] = "must be positive"
	}
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	if a.deducted[c.Date] {
		return nil, nil
	}
	amount := Amount(c.LateMinutes)
	remaining := a.balanceNow(p, TypeAnnual, c.Date.Year, c.Employment).Remaining
	// The balance may go negative: lateness is a fact, not a request.
	events := []any{LatenessDeducted{EmployeeID: c.EmployeeID, Year: c.Date.Year, Date: c.Date, LateMinutes: c.LateMinutes, Amount: amount}}
	return append(events, lowBalance(p, c.EmployeeID, TypeAnnual, c.Date.Year, remaining, remaining-amount)...), nil
}

func noteLapse(a Account, c NoteLapse, p Policy) ([]any, error) {
	fields := map[string]string{}
	requireID(fields, "employee_id", c.EmployeeID)
	today := c.Employment.Today
	if !today.Valid() {
		fields["date"] = "must be a valid date"
	}
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	code, t := typeOrAnnual(c.LeaveType), p.types()
	lapse, ok := t.Lapse(code, today.Year)
	if !ok || today.Before(lapse) || a.lapsesNoted[lapseOf{code, lapse}] {
		return nil, nil
	}
	// The balance on the lapse's day as it stood then, with the lapse and
	// without it.
	b := c.Then.Balance(t, BalanceOf{Type: code, Year: today.Year, Employment: Employment{HireDate: c.Employment.HireDate, Today: lapse}})
	events := lowBalance(p, c.EmployeeID, code, today.Year, b.Remaining+b.Expired, b.Remaining)
	for i, ev := range events {
		low := ev.(LowBalanceReached)
		low.Lapse = lapse
		events[i] = low
	}
	return events, nil
}

// lowBalance reports a crossing of the threshold from at-or-above to below;
// staying below, or starting below, reports nothing.
func lowBalance(p Policy, employeeID, code string, yr int, before, after Amount) []any {
	threshold := Days(p.LowThresholdDays)
	if before < threshold || after >= threshold {
		return nil
	}
	return []any{LowBalanceReached{EmployeeID: employeeID, Year: yr, Remaining: after, Threshold: threshold, LeaveType: code}}
}

func orNow(at, now time.Time) time.Time {
	if at.IsZero() {
		return now.UTC()
	}
	return at.UTC()
}

func requireID(fields map[string]string, name, id string) {
	if id == "" {
		fields[name] = "required"
	}
}

func checkYear(fields map[string]string, yr int) {
	if yr < 1 || yr > 9999 {
		fields["year"] = "must be between 1 and 9999"
	}
}

func checkText(fields map[string]string, name, s string) {
	if utf8.RuneCountInString(s) > maxTextLen {
		fields[name] = fmt.Sprintf("must be at most %d characters", maxTextLen)
	}
}

func checkNote(note string) error {
	fields := map[string]string{}
	checkText(fields, "note", note)
	return validation.Check(fields)
}
