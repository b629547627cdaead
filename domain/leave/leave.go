// Package leave decides an employee's annual leave: yearly grants,
// entitlement changes, requests and their approval, rejection or
// cancellation, and lateness deductions. All of it is one stream per
// employee (leave-<employee_id>), so a balance check and the approval that
// spends it are a single append at an expected version.
package leave

import (
	"fmt"
	"math"
	"slices"
	"strconv"
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
	// Types are the company's leave types with their policies over time;
	// without them, the built-in ones.
	Types Types
}

// yearlyGrant is the annual leave granted for year yr: that of the policy in
// force on the year's first day, so a later change leaves it as it was.
func (p Policy) yearlyGrant(yr int) Amount {
	types := p.Types
	if types.versions == nil {
		types = ReplayTypes(p, nil)
	}
	annual, _ := types.On(TypeAnnual, calendar.Date{Year: yr, Month: 1, Day: 1})
	return annual.PerYear
}

// DefaultPolicy is 15 days a year, reported below 3, lateness not deducted.
func DefaultPolicy() Policy { return Policy{AnnualDays: 15, LowThresholdDays: 3} }

var (
	ErrEndBeforeStart  error = errkind.InvalidField("end date is before start date", "end_date", "must not be before start_date")
	ErrSpansYears      error = errkind.New(errkind.Unprocessable, "leave request spans two leave years: split it into one request per year")
	ErrNoWorkdays      error = errkind.New(errkind.Unprocessable, "no workdays in the requested range")
	ErrRequestNotFound error = errkind.New(errkind.NotFound, "leave request not found")
	ErrNotPending      error = errkind.New(errkind.Conflict, "leave request is not pending")
	ErrNotCancellable  error = errkind.New(errkind.Conflict, "only a pending or approved leave request can be cancelled")
)

// ValidationError names each invalid field of a command.
type ValidationError = validation.Error

// OverlapError refuses a request whose dates meet those of a pending or
// approved request.
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

// Command is one of Grant, SetEntitlement, Request, Approve, Reject, Cancel
// or DeductLateness.
type Command interface{ command() }

// Grant makes the annual grant for Year; a repeated grant is a no-op.
type Grant struct {
	EmployeeID string
	Year       int
}

// SetEntitlement defines the leave of Year, whatever was granted.
type SetEntitlement struct {
	EmployeeID string
	Year       int
	Amount     Amount
	Reason     string
	By         string
}

// Request files a leave request. Workdays (ISO weekdays of the employee's
// schedule) and Holidays price it; HireDate bounds the lazy annual grant.
type Request struct {
	RequestID  string
	EmployeeID string
	Start, End calendar.Date
	Reason     string
	Workdays   []int
	Holidays   calendar.Holidays
	HireDate   calendar.Date
}

// Approve spends a pending request. Its days are counted again against
// Holidays, the company holidays in force at the decision: a holiday declared
// since the request costs no leave. A zero At means now.
type Approve struct {
	RequestID string
	By        string
	Note      string
	At        time.Time
	Holidays  calendar.Holidays
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

// DeductLateness takes a late check-in's minutes off the leave of Date's
// year, once per date, when the policy says so.
type DeductLateness struct {
	EmployeeID  string
	Date        calendar.Date
	LateMinutes int
}

func (Grant) command()          {}
func (SetEntitlement) command() {}
func (Request) command()        {}
func (Approve) command()        {}
func (Reject) command()         {}
func (Cancel) command()         {}
func (DeductLateness) command() {}

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
	if a.years[c.Year].granted {
		return nil, nil
	}
	return []any{Granted{EmployeeID: c.EmployeeID, Year: c.Year, Amount: p.yearlyGrant(c.Year), Reason: grantReason}}, nil
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
	before := a.Balance(c.Year)
	events := []any{EntitlementSet{
		EmployeeID: c.EmployeeID, Year: c.Year, Amount: c.Amount, Previous: before.Entitlement, Reason: c.Reason, SetBy: c.By,
	}}
	return append(events, lowBalance(p, c.EmployeeID, c.Year, before.Remaining, c.Amount-before.Used)...), nil
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
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	if _, ok := a.requests[c.RequestID]; ok {
		return nil, nil // the same command again: it was already filed
	}
	if c.End.Before(c.Start) {
		return nil, ErrEndBeforeStart
	}
	if c.Start.Year != c.End.Year {
		return nil, ErrSpansYears
	}
	n := calendar.CountWorkdays(c.Start, c.End, c.Workdays, c.Holidays)
	if n == 0 {
		return nil, ErrNoWorkdays
	}
	for _, id := range a.order {
		r := a.requests[id]
		if (r.Status == StatusPending || r.Status == StatusApproved) && !r.End.Before(c.Start) && !c.End.Before(r.Start) {
			return nil, &OverlapError{With: id}
		}
	}

	yr := c.Start.Year
	var events []any
	available := a.Balance(yr).Available
	// The first request of a year not yet granted brings its grant, so
	// leave can be asked for before the yearly sweep has run.
	if y := a.years[yr]; !y.granted && yr >= c.HireDate.Year {
		g := Granted{EmployeeID: c.EmployeeID, Year: yr, Amount: p.yearlyGrant(yr), Reason: grantReason}
		events = append(events, g)
		if !y.defined {
			available += g.Amount
		}
	}
	amount := Days(n)
	if amount > available {
		return nil, &InsufficientBalanceError{Requested: amount, Available: available}
	}
	return append(events, Requested{
		RequestID: c.RequestID, EmployeeID: c.EmployeeID, StartDate: c.Start, EndDate: c.End, Days: n,
		Dates: chargedDates(c.Start, c.End, c.Workdays, c.Holidays), Amount: amount, Year: yr, Reason: c.Reason,
		RequestedAt: now.UTC(),
	}), nil
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
	amount := Days(len(dates))
	// Approval spends the remaining balance: the request's own pending
	// amount is what it is about to use, so pending is not subtracted.
	remaining := a.Balance(r.Year).Remaining
	if amount > remaining {
		return nil, &InsufficientBalanceError{Requested: amount, Available: remaining}
	}
	events := []any{Approved{
		RequestID: r.ID, EmployeeID: r.EmployeeID, Year: r.Year, Amount: amount, Days: len(dates), Dates: dates,
		DecidedBy: c.By, Note: c.Note, DecidedAt: orNow(c.At, now),
	}}
	return append(events, lowBalance(p, r.EmployeeID, r.Year, remaining, remaining-amount)...), nil
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
	remaining := a.Balance(c.Date.Year).Remaining
	// The balance may go negative: lateness is a fact, not a request.
	events := []any{LatenessDeducted{EmployeeID: c.EmployeeID, Year: c.Date.Year, Date: c.Date, LateMinutes: c.LateMinutes, Amount: amount}}
	return append(events, lowBalance(p, c.EmployeeID, c.Date.Year, remaining, remaining-amount)...), nil
}

// lowBalance reports a crossing of the threshold from at-or-above to below;
// staying below, or starting below, reports nothing.
func lowBalance(p Policy, employeeID string, yr int, before, after Amount) []any {
	threshold := Days(p.LowThresholdDays)
	if before < threshold || after >= threshold {
		return nil
	}
	return []any{LowBalanceReached{EmployeeID: employeeID, Year: yr, Remaining: after, Threshold: threshold}}
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
