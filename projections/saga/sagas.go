package saga

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/poison"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// Names of the sagas: the actors of what they append.
const (
	NotifyLatenessOnCheckedIn           = "saga.notify_lateness_on_checked_in"
	NotifyLowBalanceOnLowBalanceReached = "saga.notify_low_balance_on_low_balance_reached"
	// NotifyManagerOnLeaveRequested tells whom a request waits on: the
	// holders of each step opened, or the manager of a request filed
	// without a chain.
	NotifyManagerOnLeaveRequested         = "saga.notify_manager_on_leave_requested"
	NotifyApproverOnApprovalChased        = "saga.notify_approver_on_approval_chased"
	NotifyEmployeeOnLeaveDecided          = "saga.notify_employee_on_leave_decided"
	NotifyMissingCheckoutOnAutoCheckedOut = "saga.notify_missing_checkout_on_auto_checked_out"
	DeductLeaveOnLateCheckIn              = "saga.deduct_leave_on_late_check_in"
	// NotifyManagerOnCorrectionRequested tells whom a correction waits on:
	// the holders of each step opened, or the manager of a correction filed
	// without a chain; and the approver of a step that waits too long, or
	// whom it was escalated to.
	NotifyManagerOnCorrectionRequested = "saga.notify_manager_on_correction_requested"
	NotifyEmployeeOnCorrectionDecided  = "saga.notify_employee_on_correction_decided"
)

// Group is the consumer group of the sagas of category: the pipeline runs
// the sagas of a category together, each event read and decoded once for
// all of them.
func Group(category string) string { return "sagas." + category }

// Retired are the consumer groups of one saga each that the groups per
// category replaced (migration 00020 moved their versions and checkpoints):
// a pipeline deletes them from the bus, where they would hold back the
// trimming.
var Retired = []string{NotifyLatenessOnCheckedIn, NotifyLowBalanceOnLowBalanceReached, NotifyManagerOnLeaveRequested,
	NotifyApproverOnApprovalChased, NotifyEmployeeOnLeaveDecided, NotifyMissingCheckoutOnAutoCheckedOut, DeductLeaveOnLateCheckIn,
	NotifyManagerOnCorrectionRequested, NotifyEmployeeOnCorrectionDecided}

// Saga reacts to the events of one stream category by appending events.
// The pipeline runs the sagas of a category as one consumer group (Group)
// and tracks the versions it handled, like a projection's, but it reacts
// outside any transaction: its appends are idempotent by their derived ids,
// so reacting twice to one event changes nothing.
type Saga struct {
	// Name is the saga's actor in what it appends.
	Name     string
	Category string
	// On names the event types it reacts to: React is called for no
	// other, and the group leaves the payloads of events no saga of it
	// reacts to undecoded.
	On    []string
	React func(ctx context.Context, e eventstore.Event) error
}

// Deps are what the sagas and the daily sweep work with.
type Deps struct {
	// Pool holds the read models the sweep decides from, and its sweeps.
	Pool  *pgxpool.Pool
	Store *eventstore.Store
	// Queries reads the admins to notify.
	Queries *readmodel.Queries
	// RaiseNotification, DeductLateness, GrantLeaveYear and
	// NoteLeaveLapses are the application's commands the sagas and the
	// sweep decide through.
	RaiseNotification command.RaiseNotificationHandler
	DeductLateness    command.DeductLatenessHandler
	GrantLeaveYear    command.GrantLeaveYearHandler
	NoteLeaveLapses   command.NoteLeaveLapsesHandler
	// CloseForgottenCheckOut closes the check-ins AutoCheckout finds due.
	CloseForgottenCheckOut *command.CloseForgottenCheckOutHandler
	// ChaseApproval reminds and escalates the steps ChaseApprovals finds owed.
	ChaseApproval command.ChaseApprovalHandler
	Attendance    attendance.Rules
	Approvals     approval.Timing
	LeavePolicy   leave.Policy
	DailyCheckAt  calendar.Clock
	Now           func() time.Time
	Logger        *slog.Logger
}

// notifier appends notifications and reads what they need to name people.
type notifier struct {
	store   *eventstore.Store
	queries *readmodel.Queries
	raise   command.RaiseNotificationHandler
	logger  *slog.Logger
}

func newNotifier(d Deps) *notifier {
	return &notifier{store: d.Store, queries: d.Queries, raise: d.RaiseNotification, logger: d.Logger}
}

// person is an employee as the notifications name them.
type person struct {
	ID, Name, ManagerID string
}

// readPerson reads employee id's stream.
func (n *notifier) readPerson(ctx context.Context, id string) (person, error) {
	history, err := n.store.Load(ctx, employee.Stream(id))
	if err != nil {
		return person{}, err
	}
	emp := employee.Replay(command.Payloads(history))
	if !emp.Exists {
		return person{ID: id, Name: id}, nil
	}
	return person{ID: id, Name: emp.FullName, ManagerID: emp.ManagerID}, nil
}

// decider is who decided, named in the notification of a decision under
// their own key; nobody for a decision without one.
func (n *notifier) decider(ctx context.Context, id string) (notification.Decider, error) {
	if id == "" {
		return notification.Decider{}, nil
	}
	p, err := n.person(ctx, id)
	if err != nil {
		return notification.Decider{}, err
	}
	return notification.Decider{ID: p.ID, Name: p.Name}, nil
}

// deciders are who decide p's requests: their manager; with none, the
// admins.
func (n *notifier) deciders(ctx context.Context, p person) ([]string, error) {
	if p.ManagerID != "" {
		return []string{p.ManagerID}, nil
	}
	return n.supervisors(ctx, p)
}

// supervisors are who is told about an employee: their manager and every
// admin, never the employee themself.
func (n *notifier) supervisors(ctx context.Context, p person) ([]string, error) {
	admins, err := n.admins(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	if p.ManagerID != "" {
		out = append(out, p.ManagerID)
	}
	for _, a := range admins {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return slices.DeleteFunc(out, func(id string) bool { return id == p.ID }), nil
}

// notify raises a notification for recipient caused by cause (an event id, or
// a key such as "absence/<employee>/<date>" for the sweep). The notification
// and event id derive from the cause, the recipient and the type, so a second
// call appends nothing.
// A decision's notification has no msg, and names its decider.
func (n *notifier) notify(ctx context.Context, cause string, meta eventstore.Metadata, recipient string, typ notification.Type, msg string,
	data map[string]any, decider notification.Decider) error {
	return refused(n.raise.Handle(ctx, command.RaiseNotification{
		Origin: command.Origin{CausationID: meta.CausationID, CorrelationID: meta.CorrelationID}, Actor: meta.Actor,
		Cause: cause, RecipientID: recipient, Type: typ, Message: msg, Data: data, Decider: decider,
	}))
}

// causedBy is the metadata of an event appended in reaction to e.
func causedBy(e eventstore.Event, actor string) eventstore.Metadata {
	corr := e.Metadata.CorrelationID
	if corr == "" {
		corr = e.ID.String()
	}
	return eventstore.Metadata{Actor: actor, CausationID: e.ID.String(), CorrelationID: corr}
}

// All returns every saga with its reaction: the lateness deduction only
// when the policy asks for it.
func All(d Deps) []Saga {
	n := newNotifier(d)
	all := []Saga{
		{Name: NotifyLatenessOnCheckedIn, Category: attendance.Category, On: on(attendance.CheckedIn{}), React: n.onCheckedInLate},
		{Name: NotifyLowBalanceOnLowBalanceReached, Category: leave.Category, On: on(leave.LowBalanceReached{}), React: n.onLowBalance},
		{Name: NotifyManagerOnLeaveRequested, Category: leave.Category, On: on(leave.ApprovalStepOpened{}, leave.Requested{}), React: n.onAwaited},
		{Name: NotifyApproverOnApprovalChased, Category: leave.Category, On: on(leave.ApprovalReminded{}, leave.ApprovalEscalated{}), React: n.onApprovalChased},
		{Name: NotifyEmployeeOnLeaveDecided, Category: leave.Category, On: on(leave.Approved{}, leave.Rejected{}), React: n.onLeaveDecided},
		{Name: NotifyMissingCheckoutOnAutoCheckedOut, Category: attendance.Category, On: on(attendance.AutoCheckedOut{}), React: n.onAutoCheckedOut},
		{Name: NotifyManagerOnCorrectionRequested, Category: attendance.Category,
			On:    on(attendance.CorrectionStepOpened{}, attendance.CorrectionRequested{}, attendance.CorrectionReminded{}, attendance.CorrectionEscalated{}),
			React: n.onCorrectionAwaited},
		{Name: NotifyEmployeeOnCorrectionDecided, Category: attendance.Category, On: on(attendance.CorrectionApproved{}, attendance.CorrectionRejected{}), React: n.onCorrectionDecided},
	}
	if d.LeavePolicy.LatenessDeductsLeave {
		all = append(all, Saga{Name: DeductLeaveOnLateCheckIn, Category: attendance.Category, On: on(attendance.CheckedIn{}),
			React: func(ctx context.Context, e eventstore.Event) error {
				return deductLateness(ctx, d.DeductLateness, e)
			}})
	}
	return all
}

// on names the event types of payloads.
func on(payloads ...eventstore.Payload) []string {
	names := make([]string, len(payloads))
	for i, p := range payloads {
		names[i] = p.EventName()
	}
	return names
}

// notifyAll raises one notification of saga, caused by e, to each recipient.
func (n *notifier) notifyAll(ctx context.Context, e eventstore.Event, saga string, recipients []string,
	typ notification.Type, msg string, data map[string]any, decider notification.Decider) error {
	for _, r := range recipients {
		if err := n.notify(ctx, e.ID.String(), causedBy(e, saga), r, typ, msg, data, decider); err != nil {
			return err
		}
	}
	return nil
}

// notifySupervisors raises a notification of saga, caused by e, to the
// employee's supervisors, with the text and data that message makes for them.
func (n *notifier) notifySupervisors(ctx context.Context, e eventstore.Event, saga, employeeID string, typ notification.Type,
	message func(emp person) (string, map[string]any)) error {
	emp, err := n.person(ctx, employeeID)
	if err != nil {
		return err
	}
	to, err := n.supervisors(ctx, emp)
	if err != nil {
		return err
	}
	msg, data := message(emp)
	return n.notifyAll(ctx, e, saga, to, typ, msg, data, notification.Decider{})
}

func (n *notifier) onCheckedInLate(ctx context.Context, e eventstore.Event) error {
	ev, ok := e.Payload.(attendance.CheckedIn)
	if !ok || !ev.Late {
		return nil
	}
	return n.notifySupervisors(ctx, e, NotifyLatenessOnCheckedIn, ev.EmployeeID, notification.TypeLateness,
		func(emp person) (string, map[string]any) {
			return notification.Lateness(emp.Name, emp.ID, ev.LocalDate, ev.LateMinutes, ev.At)
		})
}

// onAutoCheckedOut tells the employee and their manager that the system
// closed a forgotten check-out, so that the day gets reviewed.
func (n *notifier) onAutoCheckedOut(ctx context.Context, e eventstore.Event) error {
	ev, ok := e.Payload.(attendance.AutoCheckedOut)
	if !ok {
		return nil
	}
	emp, err := n.person(ctx, ev.EmployeeID)
	if err != nil {
		return err
	}
	to := []string{emp.ID}
	if emp.ManagerID != "" {
		to = append(to, emp.ManagerID)
	}
	msg, data := notification.MissingCheckout(emp.Name, emp.ID, ev.LocalDate, ev.CheckedInAt, ev.At)
	return n.notifyAll(ctx, e, NotifyMissingCheckoutOnAutoCheckedOut, to, notification.TypeMissingCheckout, msg, data, notification.Decider{})
}

// onCorrectionRequested tells the manager (the admins, when there is none)
// of a correction filed without a chain to decide; whoever filed it is not
// told of their own.
func (n *notifier) onCorrectionRequested(ctx context.Context, e eventstore.Event, ev attendance.CorrectionRequested) error {
	emp, err := n.person(ctx, ev.EmployeeID)
	if err != nil {
		return err
	}
	to, err := n.deciders(ctx, emp)
	if err != nil {
		return err
	}
	to = slices.DeleteFunc(to, func(id string) bool { return id == ev.RequestedBy })
	msg, data := notification.CorrectionRequested(emp.Name, emp.ID, ev.CorrectionID, ev.Date, ev.CheckIn, ev.CheckOut)
	return n.notifyAll(ctx, e, NotifyManagerOnCorrectionRequested, to, notification.TypeCorrectionRequested, msg, data, notification.Decider{})
}

// onCorrectionDecided tells the employee how their correction was decided.
func (n *notifier) onCorrectionDecided(ctx context.Context, e eventstore.Event) error {
	var id, status, by, note, emp string
	var in, out time.Time
	var date calendar.Date
	switch ev := e.Payload.(type) {
	case attendance.CorrectionApproved:
		id, status, by, note, emp, date, in, out = ev.CorrectionID, string(attendance.Approved), ev.DecidedBy, ev.Note, ev.EmployeeID, ev.Date, ev.CheckIn, ev.CheckOut
	case attendance.CorrectionRejected:
		id, status, by, note, emp, date, in, out = ev.CorrectionID, string(attendance.Rejected), ev.DecidedBy, ev.Note, ev.EmployeeID, ev.Date, ev.CheckIn, ev.CheckOut
	default:
		return nil
	}
	decider, err := n.decider(ctx, by)
	if err != nil {
		return err
	}
	data := notification.CorrectionDecided(id, status, date, in, out, note)
	return n.notifyAll(ctx, e, NotifyEmployeeOnCorrectionDecided, []string{emp}, notification.TypeCorrectionDecided, "", data, decider)
}

func (n *notifier) onLowBalance(ctx context.Context, e eventstore.Event) error {
	ev, ok := e.Payload.(leave.LowBalanceReached)
	if !ok {
		return nil
	}
	return n.notifySupervisors(ctx, e, NotifyLowBalanceOnLowBalanceReached, ev.EmployeeID, notification.TypeLowLeaveBalance,
		func(emp person) (string, map[string]any) {
			return notification.LowLeaveBalance(emp.Name, emp.ID, ev.Type(), ev.Year, ev.Remaining.Days(), ev.Threshold.Days())
		})
}

func (n *notifier) onLeaveRequested(ctx context.Context, e eventstore.Event) error {
	ev, ok := e.Payload.(leave.Requested)
	if !ok {
		return nil
	}
	emp, err := n.person(ctx, ev.EmployeeID)
	if err != nil {
		return err
	}
	to, err := n.deciders(ctx, emp)
	if err != nil {
		return err
	}
	msg, data := notification.LeaveRequested(emp.Name, emp.ID, ev.RequestID, ev.StartDate, ev.EndDate, ev.Days)
	return n.notifyAll(ctx, e, NotifyManagerOnLeaveRequested, to, notification.TypeLeaveRequested, msg, data, notification.Decider{})
}

func (n *notifier) onLeaveDecided(ctx context.Context, e eventstore.Event) error {
	var requestID, status, by, note, emp string
	switch ev := e.Payload.(type) {
	case leave.Approved:
		requestID, status, by, note, emp = ev.RequestID, string(leave.StatusApproved), ev.DecidedBy, ev.Note, ev.EmployeeID
	case leave.Rejected:
		requestID, status, by, note, emp = ev.RequestID, string(leave.StatusRejected), ev.DecidedBy, ev.Note, ev.EmployeeID
	default:
		return nil
	}
	req, err := n.requestAt(ctx, e, requestID)
	if err != nil {
		return err
	}
	decider, err := n.decider(ctx, by)
	if err != nil {
		return err
	}
	data := notification.LeaveDecided(requestID, status, req.Start, req.End, note)
	return n.notifyAll(ctx, e, NotifyEmployeeOnLeaveDecided, []string{emp}, notification.TypeLeaveDecided, "", data, decider)
}

// historyAt returns the payloads of e's stream up to e.
func (n *notifier) historyAt(ctx context.Context, e eventstore.Event) ([]any, error) {
	history, err := n.store.Load(ctx, e.StreamID)
	if err != nil {
		return nil, err
	}
	var upTo []any
	for _, h := range history {
		if h.Version <= e.Version {
			upTo = append(upTo, h.Payload)
		}
	}
	return upTo, nil
}

// requestAt returns the request as e, an event of its stream, left it.
func (n *notifier) requestAt(ctx context.Context, e eventstore.Event, requestID string) (leave.RequestState, error) {
	upTo, err := n.historyAt(ctx, e)
	if err != nil {
		return leave.RequestState{}, err
	}
	req, ok := leave.Replay(upTo).Request(requestID)
	if !ok {
		return leave.RequestState{}, poison.Mark(fmt.Errorf("%s %s: unknown leave request %s", e.Type, e.ID, requestID))
	}
	return req, nil
}

// deductLateness takes a late check-in's minutes off the employee's leave
// through the application, once per date.
func deductLateness(ctx context.Context, deduct command.DeductLatenessHandler, e eventstore.Event) error {
	ev, ok := e.Payload.(attendance.CheckedIn)
	if !ok || !ev.Late {
		return nil
	}
	meta := causedBy(e, DeductLeaveOnLateCheckIn)
	return refused(deduct.Handle(ctx, command.DeductLateness{
		Origin: command.Reaction("leave", e.ID.String(), meta.CausationID, meta.CorrelationID), Actor: meta.Actor,
		EmployeeID: ev.EmployeeID, Date: ev.LocalDate, LateMinutes: ev.LateMinutes, At: ev.At,
	}))
}

// refused marks the application's refusal (an error of a domain kind, not a
// race lost to another writer) as poison: reacting again would be refused
// again.
func refused(err error) error {
	var conflict *eventstore.ConflictError
	if err != nil && errkind.Of(err) != "" && !errors.As(err, &conflict) {
		return poison.Mark(err)
	}
	return err
}
