package attendance

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/validation"
)

// Corrections put a wrong or missing punch right. A correction names a date
// and the check-in and/or check-out the day should have had; approved, they
// replace the day's first check-in and/or last check-out, and the day's
// worked and late minutes are counted again. The punches stay in the stream
// as they were recorded: the approval is an event of its own.
//
// Times are instants. A correction's check-in must count for its date as a
// check-in at that instant would have (ShiftDate), so on an overnight shift a
// check-in at 01:00 on D+1 corrects D; a check-out may fall on the next
// calendar day, at most a day after the check-in it closes.

var (
	ErrCorrectionNotFound   error = errkind.New(errkind.NotFound, "attendance correction not found")
	ErrCorrectionNotPending error = errkind.New(errkind.Conflict, "the correction is not pending")
	ErrCorrectionInFuture   error = errkind.New(errkind.Unprocessable, "a correction cannot be for a date or a time in the future")
	// ErrCheckOutNotAfterCheckIn refuses a check-out at or before the
	// check-in it closes, as corrected.
	ErrCheckOutNotAfterCheckIn error = errkind.New(errkind.Unprocessable, "check_out must be after the check-in it closes")
	ErrCheckInAfterCheckOut    error = errkind.New(errkind.Unprocessable, "check_in must be before the day's first check-out")
	ErrCheckInOffDate          error = errkind.New(errkind.Unprocessable, "check_in does not count for that date: a check-in at that time belongs to another date's shift")
	ErrCheckOutTooLate         error = errkind.New(errkind.Unprocessable, "check_out must be at most 24 hours after the check-in it closes")
	ErrCorrectionOverlaps      error = errkind.New(errkind.Unprocessable, "the corrected day would overlap a check-in of another date")
	ErrNoDayToCorrect          error = errkind.New(errkind.Unprocessable, "no check-in on that date: a correction of it needs both check_in and check_out")
	// ErrDayStillOpen refuses to approve, without a check-out, a correction
	// of a day whose check-in is still open: the check-out would count from
	// the check-in as punched.
	ErrDayStillOpen error = errkind.New(errkind.Unprocessable, "the day's check-in is still open: approve once it is checked out, or correct it with a check_out")
)

// maxShift bounds a corrected check-out: a shift longer than a day is none.
const maxShift = 24 * time.Hour

// maxTextLen bounds a correction's reason and a decision's note.
const maxTextLen = 500

// CorrectionStatus is where a correction stands.
type CorrectionStatus string

const (
	Pending  CorrectionStatus = "pending"
	Approved CorrectionStatus = "approved"
	Rejected CorrectionStatus = "rejected"
)

// CorrectionRequested files a correction of an employee's day, by the
// employee or by their manager or an admin (RequestedBy). CheckIn and
// CheckOut are zero when not corrected. Reason is personal: free text
// about the employee.
type CorrectionRequested struct {
	CorrectionID string        `json:"correction_id" personal:"no"`
	EmployeeID   string        `json:"employee_id" personal:"subject"`
	Date         calendar.Date `json:"date"`
	CheckIn      time.Time     `json:"check_in,omitzero"`
	CheckOut     time.Time     `json:"check_out,omitzero"`
	Reason       string        `json:"reason" personal:"yes"`
	RequestedBy  string        `json:"requested_by" personal:"no"`
	RequestedAt  time.Time     `json:"requested_at"`
}

// CorrectionApproved applies a correction to its day: CheckIn (when not
// zero) is the day's first check-in from then on, CheckOut its last
// check-out, closing the day's open check-in if there was one. The day's
// figures before and after are decided here, once, so that read models set
// them and never count again. Note is personal: free text about the employee.
type CorrectionApproved struct {
	CorrectionID string        `json:"correction_id" personal:"no"`
	EmployeeID   string        `json:"employee_id" personal:"subject"`
	Date         calendar.Date `json:"date"`
	CheckIn      time.Time     `json:"check_in,omitzero"`
	CheckOut     time.Time     `json:"check_out,omitzero"`
	// NewDay is a date that had no check-in: the correction made the day.
	NewDay                bool      `json:"new_day,omitempty"`
	Workday               bool      `json:"workday"`
	WorkedMinutes         int       `json:"worked_minutes"`
	LateMinutes           int       `json:"late_minutes"`
	PreviousWorkedMinutes int       `json:"previous_worked_minutes"`
	PreviousLateMinutes   int       `json:"previous_late_minutes"`
	DecidedBy             string    `json:"decided_by" personal:"no"`
	DecidedAt             time.Time `json:"decided_at"`
	Note                  string    `json:"note,omitempty" personal:"yes"`
}

// CorrectionRejected leaves the day as it was; CheckIn and CheckOut are the
// times refused. Note is personal: free text about the employee.
type CorrectionRejected struct {
	CorrectionID string        `json:"correction_id" personal:"no"`
	EmployeeID   string        `json:"employee_id" personal:"subject"`
	Date         calendar.Date `json:"date"`
	CheckIn      time.Time     `json:"check_in,omitzero"`
	CheckOut     time.Time     `json:"check_out,omitzero"`
	DecidedBy    string        `json:"decided_by" personal:"no"`
	DecidedAt    time.Time     `json:"decided_at"`
	Note         string        `json:"note,omitempty" personal:"yes"`
}

func (CorrectionRequested) EventName() string { return "attendance.correction_requested" }
func (CorrectionApproved) EventName() string  { return "attendance.correction_approved" }
func (CorrectionRejected) EventName() string  { return "attendance.correction_rejected" }

// Pair is a check-in and its check-out, zero while open.
type Pair struct {
	In, Out time.Time
}

// Day is an employee's attendance on one date, as punched and corrected.
type Day struct {
	Date calendar.Date
	// Pairs are the date's check-ins in order, each with its check-out.
	Pairs   []Pair
	Workday bool
	// ScheduledStart and ShiftEnd are those its first check-in recorded;
	// zero for a day made by a correction or recorded before them.
	ScheduledStart, ShiftEnd time.Time
	LateMinutes              int
	NeedsReview, Corrected   bool
}

// WorkedMinutes adds up the day's closed pairs, each in whole minutes, as the
// check-outs counted them.
func (d Day) WorkedMinutes() int { return workedMinutes(d.Pairs) }

func workedMinutes(pairs []Pair) int {
	total := 0
	for _, p := range pairs {
		if !p.Out.IsZero() {
			total += wholeMinutes(p.Out.Sub(p.In))
		}
	}
	return total
}

// Open reports whether the day's last check-in is not checked out.
func (d Day) Open() bool { return len(d.Pairs) > 0 && d.Pairs[len(d.Pairs)-1].Out.IsZero() }

// Correction is a correction as filed and decided.
type Correction struct {
	ID, EmployeeID    string
	Date              calendar.Date
	CheckIn, CheckOut time.Time
	Reason            string
	Status            CorrectionStatus
	RequestedBy       string
	RequestedAt       time.Time
	DecidedBy         string
	DecidedAt         time.Time
	Note              string
	// Approvals are its steps: those of its chain, or for a correction filed
	// without one (Chained false), one manager step pending or decided as
	// the correction.
	Approvals approval.Chain
	Chained   bool
}

// Record is an employee's attendance stream folded whole: the State a
// check-in decides with, every day and every correction. Corrections are
// decided on it; they are rare enough to afford loading the stream.
type Record struct {
	State
	days        map[calendar.Date]Day
	corrections map[string]Correction
	chains      map[string]approval.Chain // by correction id, for those filed with one
}

// ReplayRecord folds a stream's history into its record.
func ReplayRecord(history []any) Record {
	r := Record{days: map[calendar.Date]Day{}, corrections: map[string]Correction{}, chains: map[string]approval.Chain{}}
	for _, ev := range history {
		r.Apply(ev)
	}
	return r
}

// Day returns the day of date d; a day without a check-in has no pairs.
func (r Record) Day(d calendar.Date) Day {
	day, ok := r.days[d]
	if !ok {
		return Day{Date: d}
	}
	return day
}

// Correction returns the correction with id, with its approvals.
func (r Record) Correction(id string) (Correction, bool) {
	c, ok := r.corrections[id]
	if !ok {
		return c, false
	}
	if c.Approvals, c.Chained = r.chains[id]; !c.Chained {
		c.Approvals = approval.OneStep(approval.Status(c.Status), c.DecidedBy, c.DecidedAt)
	}
	return c, true
}

// Apply evolves the record by one event.
func (r *Record) Apply(event any) {
	r.State.Apply(event)
	r.applyChain(event)
	switch ev := event.(type) {
	case CheckedIn:
		d := r.Day(ev.LocalDate)
		if len(d.Pairs) == 0 {
			d.Workday, d.ScheduledStart, d.ShiftEnd = ev.Workday, ev.ScheduledStart, ev.ShiftEnd
			if ev.Late {
				d.LateMinutes = ev.LateMinutes
			}
		}
		d.Pairs = append(d.Pairs, Pair{In: ev.At})
		r.days[d.Date] = d
	case CheckedOut:
		r.checkOut(ev.LocalDate, ev.At, false)
	case AutoCheckedOut:
		r.checkOut(ev.LocalDate, ev.At, true)
	case CorrectionRequested:
		r.corrections[ev.CorrectionID] = Correction{
			ID: ev.CorrectionID, EmployeeID: ev.EmployeeID, Date: ev.Date, CheckIn: ev.CheckIn, CheckOut: ev.CheckOut,
			Reason: ev.Reason, Status: Pending, RequestedBy: ev.RequestedBy, RequestedAt: ev.RequestedAt,
		}
	case CorrectionApproved:
		r.decided(ev.CorrectionID, Approved, ev.DecidedBy, ev.DecidedAt, ev.Note)
		d := r.Day(ev.Date)
		d.Pairs = correctPairs(d.Pairs, ev.CheckIn, ev.CheckOut)
		d.Workday, d.LateMinutes, d.NeedsReview, d.Corrected = ev.Workday, ev.LateMinutes, false, true
		r.days[d.Date] = d
	case CorrectionRejected:
		r.decided(ev.CorrectionID, Rejected, ev.DecidedBy, ev.DecidedAt, ev.Note)
	}
}

func (r *Record) checkOut(date calendar.Date, at time.Time, bySystem bool) {
	d := r.Day(date)
	if !d.Open() {
		return
	}
	d.Pairs = slices.Clone(d.Pairs)
	d.Pairs[len(d.Pairs)-1].Out = at
	d.NeedsReview = d.NeedsReview || bySystem
	r.days[date] = d
}

func (r *Record) decided(id string, s CorrectionStatus, by string, at time.Time, note string) {
	c := r.corrections[id]
	c.Status, c.DecidedBy, c.DecidedAt, c.Note = s, by, at, note
	r.corrections[id] = c
}

// correctPairs returns a copy of pairs whose first check-in is in and last
// check-out out (zero: kept); a day without pairs gets the one pair.
func correctPairs(pairs []Pair, in, out time.Time) []Pair {
	if len(pairs) == 0 {
		return []Pair{{In: in, Out: out}}
	}
	pairs = slices.Clone(pairs)
	if !in.IsZero() {
		pairs[0].In = in
	}
	if !out.IsZero() {
		pairs[len(pairs)-1].Out = out
	}
	return pairs
}

// CorrectionCommand is RequestCorrection, ApproveCorrection or
// RejectCorrection.
type CorrectionCommand interface{ correctionCommand() }

// RequestCorrection files a correction of the employee's Date. Schedule is
// the employee's: it says which date a check-in counts for.
type RequestCorrection struct {
	CorrectionID, EmployeeID string
	Date                     calendar.Date
	CheckIn, CheckOut        time.Time
	Reason                   string
	By                       string
	Schedule                 employee.Schedule
	Rules                    Rules
	// Steps are the chain the approval policy gives the correction, none
	// without a rule for corrections; its first step waits as First says.
	Steps []approval.Role
	First approval.Assignment
}

// ApproveCorrection applies a pending correction. Schedule and Holidays
// (of the correction's year) price a day that had no check-in, and the
// schedule's grace the corrected first check-in. Of a correction with a
// chain it approves Step, the step the decider was allowed to decide: a step
// before the last applies nothing but checks that the correction still fits
// its day, and opens the next step, held as Next says.
type ApproveCorrection struct {
	CorrectionID, By, Note string
	Schedule               employee.Schedule
	Holidays               calendar.Holidays
	Step                   int
	Next                   approval.Assignment
}

// RejectCorrection refuses a pending correction; of one with a chain, at
// Step.
type RejectCorrection struct {
	CorrectionID, By, Note string
	Step                   int
}

func (RequestCorrection) correctionCommand() {}
func (ApproveCorrection) correctionCommand() {}
func (RejectCorrection) correctionCommand()  {}

// DecideCorrection returns the events cmd causes on r at now, or why it is
// refused.
func DecideCorrection(r Record, cmd CorrectionCommand, now time.Time) ([]any, error) {
	switch c := cmd.(type) {
	case RequestCorrection:
		return requestCorrection(r, c, now)
	case ApproveCorrection:
		return approveCorrection(r, c, now)
	case RemindCorrection:
		return remindCorrection(r, c, now)
	case EscalateCorrection:
		return escalateCorrection(r, c, now)
	case RejectCorrection:
		corr, err := pendingCorrection(r, c.CorrectionID, c.By, c.Note)
		if err != nil {
			return nil, err
		}
		if corr.Chained {
			if _, _, err := corr.Approvals.Decide(c.Step); err != nil {
				return nil, err
			}
		}
		return []any{CorrectionRejected{
			CorrectionID: corr.ID, EmployeeID: corr.EmployeeID, Date: corr.Date, CheckIn: corr.CheckIn, CheckOut: corr.CheckOut,
			DecidedBy: c.By, DecidedAt: now.UTC(), Note: c.Note,
		}}, nil
	default:
		return nil, fmt.Errorf("attendance: unknown correction command %T", cmd)
	}
}

func requestCorrection(r Record, c RequestCorrection, now time.Time) ([]any, error) {
	fields := map[string]string{}
	for name, v := range map[string]string{"correction_id": c.CorrectionID, "employee_id": c.EmployeeID, "requested_by": c.By} {
		if v == "" {
			fields[name] = "required"
		}
	}
	if c.Date.IsZero() {
		fields["date"] = "required"
	}
	if c.CheckIn.IsZero() && c.CheckOut.IsZero() {
		fields["check_in"] = "check_in or check_out is required"
		fields["check_out"] = "check_in or check_out is required"
	}
	if strings.TrimSpace(c.Reason) == "" {
		fields["reason"] = "required"
	}
	checkText(fields, "reason", c.Reason)
	for k, v := range c.Schedule.Validate() {
		fields["schedule."+k] = v
	}
	if err := validation.Check(fields); err != nil {
		return nil, err
	}
	loc, err := c.Schedule.Location()
	if err != nil {
		loc = time.UTC
	}
	if c.Date.After(calendar.DateOf(now, loc)) || c.CheckIn.After(now) || c.CheckOut.After(now) {
		return nil, ErrCorrectionInFuture
	}
	if !c.CheckIn.IsZero() && !c.CheckOut.IsZero() && !c.CheckOut.After(c.CheckIn) {
		return nil, ErrCheckOutNotAfterCheckIn
	}
	if !c.CheckIn.IsZero() && ShiftDate(c.Schedule, c.Rules, c.CheckIn) != c.Date {
		return nil, ErrCheckInOffDate
	}
	if _, err := r.corrected(c.Date, c.CheckIn, c.CheckOut); err != nil {
		return nil, err
	}
	req := CorrectionRequested{
		CorrectionID: c.CorrectionID, EmployeeID: c.EmployeeID, Date: c.Date, CheckIn: c.CheckIn.UTC(), CheckOut: c.CheckOut.UTC(),
		Reason: c.Reason, RequestedBy: c.By, RequestedAt: now.UTC(),
	}
	return append([]any{req}, planned(req, c.Steps, c.First)...), nil
}

func approveCorrection(r Record, c ApproveCorrection, now time.Time) ([]any, error) {
	corr, err := pendingCorrection(r, c.CorrectionID, c.By, c.Note)
	if err != nil {
		return nil, err
	}
	final := func() ([]any, error) { return applyCorrection(r, corr, c, now) }
	if corr.Chained {
		return decideChainedApproval(corr, c.Step, c.By, c.Note, c.Next, final, now)
	}
	return final()
}

// applyCorrection returns the approval that applies corr to its day, or why
// the day no longer takes it.
func applyCorrection(r Record, corr Correction, c ApproveCorrection, now time.Time) ([]any, error) {
	day := r.Day(corr.Date)
	if day.Open() && corr.CheckOut.IsZero() {
		return nil, ErrDayStillOpen
	}
	// The day may have changed since the filing: the times are checked again.
	pairs, err := r.corrected(corr.Date, corr.CheckIn, corr.CheckOut)
	if err != nil {
		return nil, err
	}
	ev := CorrectionApproved{
		CorrectionID: corr.ID, EmployeeID: corr.EmployeeID, Date: corr.Date, CheckIn: corr.CheckIn, CheckOut: corr.CheckOut,
		NewDay: len(day.Pairs) == 0, Workday: day.Workday, WorkedMinutes: workedMinutes(pairs), LateMinutes: day.LateMinutes,
		PreviousWorkedMinutes: day.WorkedMinutes(), PreviousLateMinutes: day.LateMinutes,
		DecidedBy: c.By, DecidedAt: now.UTC(), Note: c.Note,
	}
	if ev.NewDay {
		ev.Workday = c.Schedule.IsWorkday(corr.Date) && !c.Holidays.Contains(corr.Date)
	}
	if !corr.CheckIn.IsZero() {
		// Only the day's first check-in can be late, and it is the one corrected.
		ev.LateMinutes = 0
		start := day.ScheduledStart
		if start.IsZero() {
			start = c.Schedule.StartOn(corr.Date)
		}
		if late := wholeMinutes(corr.CheckIn.Sub(start)); ev.Workday && late > c.Schedule.GraceMinutes {
			ev.LateMinutes = late
		}
	}
	return []any{ev}, nil
}

// pendingCorrection returns the correction with id if a decision by, with
// note, may decide it.
func pendingCorrection(r Record, id, by, note string) (Correction, error) {
	fields := map[string]string{}
	if by == "" {
		fields["decided_by"] = "required"
	}
	checkText(fields, "note", note)
	if err := validation.Check(fields); err != nil {
		return Correction{}, err
	}
	corr, ok := r.Correction(id)
	if !ok {
		return Correction{}, ErrCorrectionNotFound
	}
	if corr.Status != Pending {
		return Correction{}, ErrCorrectionNotPending
	}
	return corr, nil
}

// corrected returns the pairs of date with its first check-in put at in and
// its last check-out at out (zero: kept), or why they cannot be.
func (r Record) corrected(date calendar.Date, in, out time.Time) ([]Pair, error) {
	day := r.Day(date)
	if len(day.Pairs) == 0 && (in.IsZero() || out.IsZero()) {
		return nil, ErrNoDayToCorrect
	}
	pairs := correctPairs(day.Pairs, in, out)
	first, last := pairs[0], pairs[len(pairs)-1]
	if !first.Out.IsZero() && !first.Out.After(first.In) {
		if len(pairs) == 1 && !out.IsZero() {
			return nil, ErrCheckOutNotAfterCheckIn
		}
		return nil, ErrCheckInAfterCheckOut
	}
	if !last.Out.IsZero() && !last.Out.After(last.In) {
		return nil, ErrCheckOutNotAfterCheckIn
	}
	if !out.IsZero() && out.Sub(last.In) > maxShift {
		return nil, ErrCheckOutTooLate
	}
	// The day, as corrected, keeps clear of every other date's pairs.
	end := last.Out
	for d, other := range r.days {
		if d == date {
			continue
		}
		for _, p := range other.Pairs {
			if overlaps(first.In, end, p.In, p.Out) {
				return nil, ErrCorrectionOverlaps
			}
		}
	}
	return pairs, nil
}

// overlaps reports whether [aIn, aOut) and [bIn, bOut) meet; a zero end is
// open.
func overlaps(aIn, aOut, bIn, bOut time.Time) bool {
	return (aOut.IsZero() || bIn.Before(aOut)) && (bOut.IsZero() || aIn.Before(bOut))
}

func checkText(fields map[string]string, name, s string) {
	if utf8.RuneCountInString(s) > maxTextLen {
		fields[name] = fmt.Sprintf("must be at most %d characters", maxTextLen)
	}
}
