package leave

import (
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
)

// Granted is the annual grant for a leave year. It sets the year's
// entitlement unless an EntitlementSet came first.
type Granted struct {
	EmployeeID string `json:"employee_id" personal:"no"`
	Year       int    `json:"year"`
	Amount     Amount `json:"amount"`
	Reason     string `json:"reason" personal:"no"`
}

// EntitlementSet defines a year's entitlement explicitly.
type EntitlementSet struct {
	EmployeeID string `json:"employee_id" personal:"subject"`
	Year       int    `json:"year"`
	Amount     Amount `json:"amount"`
	Previous   Amount `json:"previous"`
	Reason     string `json:"reason" personal:"yes"`
	SetBy      string `json:"set_by" personal:"no"`
}

type Requested struct {
	RequestID  string        `json:"request_id" personal:"no"`
	EmployeeID string        `json:"employee_id" personal:"subject"`
	StartDate  calendar.Date `json:"start_date"`
	EndDate    calendar.Date `json:"end_date"`
	Days       int           `json:"days"`
	// Dates are the workdays the request charges, Days of them, so that
	// read models can place leave on a calendar.
	Dates       []calendar.Date `json:"dates"`
	Amount      Amount          `json:"amount"`
	Year        int             `json:"year"`
	Reason      string          `json:"reason" personal:"yes"`
	RequestedAt time.Time       `json:"requested_at"`
	// LeaveType is the code of the type asked for; empty is annual leave,
	// all there was before types.
	LeaveType string `json:"leave_type,omitempty" personal:"no"`
	// HalfDay ("am" or "pm") or Hours make a one-day request count less
	// than the day: Amount is what it counts.
	HalfDay string  `json:"half_day,omitempty" personal:"no"`
	Hours   float64 `json:"hours,omitempty"`
}

// Type is the code of the request's leave type.
func (ev Requested) Type() string { return typeOrAnnual(ev.LeaveType) }

// typeOrAnnual reads the empty type code of events from before leave types
// as annual leave.
func typeOrAnnual(code string) string {
	if code == "" {
		return TypeAnnual
	}
	return code
}

// Approved spends a request's leave: Amount, for Days on Dates, the request's
// days less the holidays declared before the decision. Approvals recorded
// before the recount have no Days and Dates: they spent the request as filed,
// and Amount is the request's.
type Approved struct {
	RequestID  string          `json:"request_id" personal:"no"`
	EmployeeID string          `json:"employee_id" personal:"subject"`
	Year       int             `json:"year"`
	Amount     Amount          `json:"amount"`
	Days       int             `json:"days,omitempty"`
	Dates      []calendar.Date `json:"dates,omitempty"`
	DecidedBy  string          `json:"decided_by" personal:"no"`
	Note       string          `json:"note" personal:"yes"`
	DecidedAt  time.Time       `json:"decided_at"`
}

// Charged returns the days and dates the approval spends: its own, or the
// request's as filed for an approval recorded before the recount.
func (ev Approved) Charged(requestedDays int, requestedDates []calendar.Date) (int, []calendar.Date) {
	if ev.Dates == nil {
		return requestedDays, requestedDates
	}
	return ev.Days, ev.Dates
}

type Rejected struct {
	RequestID  string    `json:"request_id" personal:"no"`
	EmployeeID string    `json:"employee_id" personal:"subject"`
	Year       int       `json:"year"`
	Amount     Amount    `json:"amount"`
	DecidedBy  string    `json:"decided_by" personal:"no"`
	Note       string    `json:"note" personal:"yes"`
	DecidedAt  time.Time `json:"decided_at"`
}

// Cancelled withdraws a pending request or gives back an approved one.
type Cancelled struct {
	RequestID      string    `json:"request_id" personal:"no"`
	EmployeeID     string    `json:"employee_id" personal:"no"`
	Year           int       `json:"year"`
	Amount         Amount    `json:"amount"`
	PreviousStatus Status    `json:"previous_status" personal:"no"`
	CancelledBy    string    `json:"cancelled_by" personal:"no"`
	CancelledAt    time.Time `json:"cancelled_at"`
}

// LatenessDeducted takes a late check-in's minutes off the year's leave.
type LatenessDeducted struct {
	EmployeeID  string        `json:"employee_id" personal:"no"`
	Year        int           `json:"year"`
	Date        calendar.Date `json:"date"`
	LateMinutes int           `json:"late_minutes"`
	Amount      Amount        `json:"amount"`
}

// Adjusted credits (a positive Amount) or debits a tracked type's balance of
// Year by hand, on Date. Reason is free text about the employee.
type Adjusted struct {
	EmployeeID string        `json:"employee_id" personal:"subject"`
	LeaveType  string        `json:"leave_type" personal:"no"`
	Year       int           `json:"year"`
	Date       calendar.Date `json:"date"`
	Amount     Amount        `json:"amount"`
	Reason     string        `json:"reason" personal:"yes"`
	AdjustedBy string        `json:"adjusted_by" personal:"no"`
	AdjustedAt time.Time     `json:"adjusted_at"`
}

// LowBalanceReached follows, in the same append, the event that took the
// remaining balance of a type from at or above Threshold to below it; or,
// with Lapse, reports the lapse of carried-over days on that date, which no
// event records, that did.
type LowBalanceReached struct {
	EmployeeID string `json:"employee_id" personal:"no"`
	Year       int    `json:"year"`
	Remaining  Amount `json:"remaining"`
	Threshold  Amount `json:"threshold"`
	// LeaveType is empty in events from before leave types: annual.
	LeaveType string        `json:"leave_type,omitempty" personal:"no"`
	Lapse     calendar.Date `json:"lapse,omitzero"`
}

// Type is the code of the leave type whose balance ran low.
func (ev LowBalanceReached) Type() string { return typeOrAnnual(ev.LeaveType) }

func (Granted) EventName() string           { return "leave.granted" }
func (EntitlementSet) EventName() string    { return "leave.entitlement_set" }
func (Requested) EventName() string         { return "leave.requested" }
func (Approved) EventName() string          { return "leave.approved" }
func (Rejected) EventName() string          { return "leave.rejected" }
func (Cancelled) EventName() string         { return "leave.cancelled" }
func (LatenessDeducted) EventName() string  { return "leave.lateness_deducted" }
func (LowBalanceReached) EventName() string { return "leave.low_balance_reached" }
func (Adjusted) EventName() string          { return "leave.adjusted" }

// Events lists a zero value of each event type, for the codec registry.
func Events() []any {
	return []any{Granted{}, EntitlementSet{}, Requested{}, Approved{}, Rejected{}, Cancelled{}, LatenessDeducted{}, LowBalanceReached{}, Adjusted{}}
}
