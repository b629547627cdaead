package leave

import (
	"strconv"
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

// Half days of a one-day request.
const (
	HalfDayMorning   = "am"
	HalfDayAfternoon = "pm"
)

// RequestState is one leave request as the account knows it. (The command
// that files a request is Request.)
type RequestState struct {
	ID          string
	EmployeeID  string
	LeaveType   string // a type code, never empty
	HalfDay     string // "am", "pm" or empty
	Hours       float64
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

// spending is what the ledger needs of an approved request, cancelled since
// or not: the positions of the events that approved and cancelled it (0
// when unknown or not cancelled).
type spending struct {
	approvedAt, cancelledAt int64
}

// amountThrough is the part of the request's leave on days up to d.
func (r RequestState) amountThrough(d calendar.Date) Amount {
	if len(r.Dates) == 0 {
		if r.Start.After(d) {
			return 0
		}
		return r.Amount
	}
	n := 0
	for _, day := range r.Dates {
		if !day.After(d) {
			n++
		}
	}
	if n == len(r.Dates) {
		return r.Amount
	}
	return r.Amount / Amount(len(r.Dates)) * Amount(n)
}

// portion says how much of its day a one-day request takes, when not all.
func (r RequestState) portion() string {
	switch {
	case r.HalfDay != "":
		return "half day " + r.HalfDay
	case r.Hours != 0:
		return strconv.FormatFloat(r.Hours, 'f', -1, 64) + " hours"
	}
	return ""
}

// firstDay is the first day the request charges.
func (r RequestState) firstDay() calendar.Date {
	if len(r.Dates) > 0 {
		return r.Dates[0]
	}
	return r.Start
}

// recorded is an amount an event recorded, with the event's position.
type recorded struct {
	amount   Amount
	note     string
	position int64
}

// adjustment is a hand-made credit or debit of a type's balance.
type adjustment struct {
	recorded
	leaveType string
	year      int
	date      calendar.Date
}

// deduction is a late check-in's minutes taken off annual leave.
type deduction struct {
	recorded
	year int
	date calendar.Date
}

// Account is the state of one employee's leave stream. Its maps are shared
// between copies: fold with Apply or Replay, and treat a copy as read-only.
type Account struct {
	EmployeeID string
	requests   map[string]RequestState
	order      []string // request ids in the order they were filed
	spendings  map[string]spending
	deducted   map[calendar.Date]bool
	// grants are the annual grants recorded, sets the last entitlement set
	// of each year.
	grants, sets map[int]recorded
	adjustments  []adjustment
	deductions   []deduction
	chains       map[string]approval.Chain // by request id, for requests filed with one
	// lapsesNoted are the lapses whose low balance was reported.
	lapsesNoted map[lapseOf]bool
}

// lapseOf names the lapse of a type's carried-over days on a date.
type lapseOf struct {
	leaveType string
	on        calendar.Date
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

// Positioned is an event of the stream with its position in the store, which
// the ledger names.
type Positioned struct {
	Position int64
	Event    any
}

// Apply evolves the account by one event; events of other types are ignored.
func (a *Account) Apply(event any) { a.ApplyAt(0, event) }

// ApplyAt evolves the account by the event stored at position.
func (a *Account) ApplyAt(position int64, event any) {
	if a.requests == nil {
		a.requests = map[string]RequestState{}
		a.spendings = map[string]spending{}
		a.deducted = map[calendar.Date]bool{}
		a.grants = map[int]recorded{}
		a.sets = map[int]recorded{}
		a.chains = map[string]approval.Chain{}
		a.lapsesNoted = map[lapseOf]bool{}
	}
	a.applyApprovals(event)
	switch ev := event.(type) {
	case Granted:
		a.EmployeeID = ev.EmployeeID
		if _, ok := a.grants[ev.Year]; !ok {
			a.grants[ev.Year] = recorded{amount: ev.Amount, note: ev.Reason, position: position}
		}
	case EntitlementSet:
		a.EmployeeID = ev.EmployeeID
		a.sets[ev.Year] = recorded{amount: ev.Amount, note: ev.Reason, position: position}
	case Requested:
		a.EmployeeID = ev.EmployeeID
		a.requests[ev.RequestID] = RequestState{
			ID: ev.RequestID, EmployeeID: ev.EmployeeID, LeaveType: ev.Type(), HalfDay: ev.HalfDay, Hours: ev.Hours,
			Start: ev.StartDate, End: ev.EndDate, Days: ev.Days, Dates: ev.Dates,
			Amount: ev.Amount, Year: ev.Year, Reason: ev.Reason, Status: StatusPending, RequestedAt: ev.RequestedAt,
		}
		a.order = append(a.order, ev.RequestID)
	case Approved:
		r := a.requests[ev.RequestID]
		r.Days, r.Dates = ev.Charged(r.Days, r.Dates)
		r.Amount = ev.Amount
		a.requests[ev.RequestID] = r
		a.spendings[ev.RequestID] = spending{approvedAt: position}
		a.decide(ev.RequestID, StatusApproved, ev.DecidedBy, ev.DecidedAt, ev.Note)
	case Rejected:
		a.decide(ev.RequestID, StatusRejected, ev.DecidedBy, ev.DecidedAt, ev.Note)
	case Cancelled:
		r := a.requests[ev.RequestID]
		r.Status, r.CancelledBy, r.CancelledAt = StatusCancelled, ev.CancelledBy, ev.CancelledAt
		a.requests[ev.RequestID] = r
		if ap, ok := a.spendings[ev.RequestID]; ok {
			ap.cancelledAt = position
			a.spendings[ev.RequestID] = ap
		}
	case LatenessDeducted:
		a.EmployeeID = ev.EmployeeID
		a.deductions = append(a.deductions, deduction{recorded: recorded{amount: ev.Amount, position: position}, year: ev.Year, date: ev.Date})
		a.deducted[ev.Date] = true
	case LowBalanceReached:
		if !ev.Lapse.IsZero() {
			a.lapsesNoted[lapseOf{ev.Type(), ev.Lapse}] = true
		}
	case Adjusted:
		a.EmployeeID = ev.EmployeeID
		a.adjustments = append(a.adjustments, adjustment{
			recorded:  recorded{amount: ev.Amount, note: ev.Reason, position: position},
			leaveType: ev.LeaveType, year: ev.Year, date: ev.Date,
		})
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

// ReplayPositioned folds a stream's history, with the positions the ledger
// names, into its state.
func ReplayPositioned(history []Positioned) Account {
	var a Account
	for _, ev := range history {
		a.ApplyAt(ev.Position, ev.Event)
	}
	return a
}
