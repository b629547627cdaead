package leave

import (
	"time"

	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/calendar"
)

// Status is where a leave request stands.
type Status string

const (
	StatusPending   Status = "pending"
	StatusApproved  Status = "approved"
	StatusRejected  Status = "rejected"
	StatusCancelled Status = "cancelled"
)

// RequestState is one leave request as the account knows it. (The command
// that files a request is Request.)
type RequestState struct {
	ID          string
	EmployeeID  string
	Start, End  calendar.Date
	Days        int
	Dates       []calendar.Date // the days charged, Days of them
	Amount      Amount
	Year        int
	Reason      string
	Status      Status
	RequestedAt time.Time
	DecidedBy   string // who approved or rejected it
	DecidedAt   time.Time
	Note        string
	CancelledBy string
	CancelledAt time.Time
	Approvals   approval.Chain // its steps (approvals.go)
}

// Balance is a leave year's figures. Used counts approved requests and
// lateness deductions; Available is what a new request may take.
type Balance struct {
	Entitlement Amount
	Used        Amount
	Pending     Amount
	Remaining   Amount // Entitlement - Used
	Available   Amount // Remaining - Pending
}

type year struct {
	entitlement Amount
	defined     bool // by a grant or an explicit EntitlementSet
	granted     bool
	used        Amount
	pending     Amount
}

// Account is the state of one employee's leave stream. Its maps are shared
// between copies: fold with Apply or Replay, and treat a copy as read-only.
type Account struct {
	EmployeeID string
	years      map[int]year
	requests   map[string]RequestState
	order      []string // request ids in the order they were filed
	deducted   map[calendar.Date]bool
	chains     map[string]approval.Chain // by request id, for requests filed with one
}

// Balance returns the figures of a leave year (all zero for an unknown year).
func (a Account) Balance(yr int) Balance {
	y := a.years[yr]
	remaining := y.entitlement - y.used
	return Balance{Entitlement: y.entitlement, Used: y.used, Pending: y.pending, Remaining: remaining, Available: remaining - y.pending}
}

// Request returns the request with the given id.
func (a Account) Request(id string) (RequestState, bool) {
	r, ok := a.requests[id]
	r.Approvals = a.Approvals(id)
	return r, ok
}

// Requests returns every request in the order it was filed.
func (a Account) Requests() []RequestState {
	out := make([]RequestState, len(a.order))
	for i, id := range a.order {
		out[i], _ = a.Request(id)
	}
	return out
}

// Apply evolves the account by one event; events of other types are ignored.
func (a *Account) Apply(event any) {
	if a.years == nil {
		a.years = map[int]year{}
		a.requests = map[string]RequestState{}
		a.deducted = map[calendar.Date]bool{}
		a.chains = map[string]approval.Chain{}
	}
	a.applyApprovals(event)
	switch ev := event.(type) {
	case Granted:
		a.EmployeeID = ev.EmployeeID
		y := a.years[ev.Year]
		if !y.defined {
			y.entitlement, y.defined = ev.Amount, true
		}
		y.granted = true
		a.years[ev.Year] = y
	case EntitlementSet:
		a.EmployeeID = ev.EmployeeID
		y := a.years[ev.Year]
		y.entitlement, y.defined = ev.Amount, true
		a.years[ev.Year] = y
	case Requested:
		a.EmployeeID = ev.EmployeeID
		y := a.years[ev.Year]
		y.pending += ev.Amount
		a.years[ev.Year] = y
		a.requests[ev.RequestID] = RequestState{
			ID: ev.RequestID, EmployeeID: ev.EmployeeID, Start: ev.StartDate, End: ev.EndDate, Days: ev.Days, Dates: ev.Dates,
			Amount: ev.Amount, Year: ev.Year, Reason: ev.Reason, Status: StatusPending, RequestedAt: ev.RequestedAt,
		}
		a.order = append(a.order, ev.RequestID)
	case Approved:
		r := a.requests[ev.RequestID]
		y := a.years[ev.Year]
		y.pending -= r.Amount
		y.used += ev.Amount
		a.years[ev.Year] = y
		r.Days, r.Dates = ev.Charged(r.Days, r.Dates)
		r.Amount = ev.Amount
		a.requests[ev.RequestID] = r
		a.decide(ev.RequestID, StatusApproved, ev.DecidedBy, ev.DecidedAt, ev.Note)
	case Rejected:
		y := a.years[ev.Year]
		y.pending -= ev.Amount
		a.years[ev.Year] = y
		a.decide(ev.RequestID, StatusRejected, ev.DecidedBy, ev.DecidedAt, ev.Note)
	case Cancelled:
		y := a.years[ev.Year]
		switch ev.PreviousStatus {
		case StatusPending:
			y.pending -= ev.Amount
		case StatusApproved:
			y.used -= ev.Amount
		}
		a.years[ev.Year] = y
		r := a.requests[ev.RequestID]
		r.Status, r.CancelledBy, r.CancelledAt = StatusCancelled, ev.CancelledBy, ev.CancelledAt
		a.requests[ev.RequestID] = r
	case LatenessDeducted:
		a.EmployeeID = ev.EmployeeID
		y := a.years[ev.Year]
		y.used += ev.Amount
		a.years[ev.Year] = y
		a.deducted[ev.Date] = true
	}
}

func (a *Account) decide(id string, s Status, by string, at time.Time, note string) {
	r := a.requests[id]
	r.Status, r.DecidedBy, r.DecidedAt, r.Note = s, by, at, note
	a.requests[id] = r
}

// Replay folds a stream's history into its state.
func Replay(history []any) Account {
	var a Account
	for _, ev := range history {
		a.Apply(ev)
	}
	return a
}
