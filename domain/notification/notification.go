// Package notification keeps each user's inbox, one stream per recipient
// (notify-<user_id>); the stream version is the user's notification seq.
package notification

import (
	"fmt"
	"time"

	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/streamid"
	"github.com/acme/employee-tracking/domain/validation"
)

// Category is the category of the notification streams.
const Category = "notify"

// Stream is the name of a recipient's notification stream.
func Stream(userID string) string { return streamid.Of(Category, userID) }

// Type says what a notification is about.
type Type string

const (
	TypeLateness        Type = "lateness"
	TypeAbsence         Type = "absence"
	TypeLowLeaveBalance Type = "low_leave_balance"
	TypeLeaveRequested  Type = "leave_requested"
	TypeLeaveDecided    Type = "leave_decided"
	TypeOpenCheckIn     Type = "open_check_in"
	TypeMissingCheckout Type = "missing_checkout"
	// TypeCorrectionRequested goes to the manager who decides an attendance
	// correction, TypeCorrectionDecided to the employee it corrects.
	TypeCorrectionRequested Type = "correction_requested"
	TypeCorrectionDecided   Type = "correction_decided"
	// TypeApprovalReminder and TypeApprovalEscalated chase an approval step
	// that waits too long.
	TypeApprovalReminder  Type = "approval_reminder"
	TypeApprovalEscalated Type = "approval_escalated"
)

func (t Type) Valid() bool {
	switch t {
	case TypeLateness, TypeAbsence, TypeLowLeaveBalance, TypeLeaveRequested, TypeLeaveDecided, TypeOpenCheckIn, TypeMissingCheckout,
		TypeCorrectionRequested, TypeCorrectionDecided,
		TypeApprovalReminder, TypeApprovalEscalated:
		return true
	}
	return false
}

// ErrNotFound is returned for a notification the inbox does not hold.
var ErrNotFound error = errkind.New(errkind.NotFound, "notification not found")

// ValidationError names each invalid field of a command.
type ValidationError = validation.Error

// Raised delivers a notification. CauseEventID is the event that caused it,
// from which the caller derives NotificationID so a redelivery is a no-op.
// SubjectID is the person the message and data are about, under whose key
// they are sealed: the employee a manager is told about, or the recipient.
// Notifications raised before it was recorded have none.
type Raised struct {
	NotificationID string         `json:"notification_id" personal:"no"`
	RecipientID    string         `json:"recipient_id" personal:"no"`
	Type           Type           `json:"type" personal:"no"`
	Message        string         `json:"message" personal:"yes"`
	Data           map[string]any `json:"data" personal:"yes"`
	CauseEventID   string         `json:"cause_event_id" personal:"no"`
	RaisedAt       time.Time      `json:"raised_at"`
	SubjectID      string         `json:"subject_id,omitempty" personal:"subject"`
}

type Read struct {
	NotificationID string    `json:"notification_id" personal:"no"`
	RecipientID    string    `json:"recipient_id" personal:"no"`
	ReadAt         time.Time `json:"read_at"`
}

func (Raised) EventName() string { return "notification.raised" }
func (Read) EventName() string   { return "notification.read" }

// Events lists a zero value of each event type, for the codec registry.
func Events() []any { return []any{Raised{}, Read{}} }

// Notification is one entry of an inbox.
type Notification struct {
	ID           string
	Type         Type
	Message      string
	Data         map[string]any
	CauseEventID string
	RaisedAt     time.Time
	Read         bool
	ReadAt       time.Time
}

// Inbox is the state of one recipient's stream. Copies share storage: fold
// with Apply or Replay, and treat a copy as read-only.
type Inbox struct {
	RecipientID string
	items       []Notification // in the order raised
	index       map[string]int // id -> position in items
}

// Notification returns the notification with the given id.
func (in Inbox) Notification(id string) (Notification, bool) {
	i, ok := in.index[id]
	if !ok {
		return Notification{}, false
	}
	return in.items[i], true
}

// Notifications returns every notification, oldest first.
func (in Inbox) Notifications() []Notification {
	return append([]Notification(nil), in.items...)
}

// Unread counts the notifications not yet read.
func (in Inbox) Unread() int {
	n := 0
	for _, it := range in.items {
		if !it.Read {
			n++
		}
	}
	return n
}

// Apply evolves the inbox by one event; events of other types are ignored.
func (in *Inbox) Apply(event any) {
	switch ev := event.(type) {
	case Raised:
		if in.index == nil {
			in.index = map[string]int{}
		}
		in.RecipientID = ev.RecipientID
		in.index[ev.NotificationID] = len(in.items)
		in.items = append(in.items, Notification{
			ID: ev.NotificationID, Type: ev.Type, Message: ev.Message, Data: ev.Data,
			CauseEventID: ev.CauseEventID, RaisedAt: ev.RaisedAt,
		})
	case Read:
		if i, ok := in.index[ev.NotificationID]; ok {
			in.items[i].Read, in.items[i].ReadAt = true, ev.ReadAt
		}
	}
}

// Replay folds a stream's history into its state.
func Replay(history []any) Inbox {
	var in Inbox
	for _, ev := range history {
		in.Apply(ev)
	}
	return in
}

// Command is Raise or MarkRead.
type Command interface{ command() }

// Raise delivers a notification unless one with the same id exists.
type Raise struct {
	NotificationID string
	RecipientID    string
	Type           Type
	Message        string
	Data           map[string]any
	CauseEventID   string
}

// MarkRead marks a notification read; marking it again is a no-op.
type MarkRead struct {
	NotificationID string
}

func (Raise) command()    {}
func (MarkRead) command() {}

// SubjectOf is the person a notification is about: the employee its data
// names, or else its recipient.
func SubjectOf(recipientID string, data map[string]any) string {
	if id, ok := data["employee_id"].(string); ok && id != "" {
		return id
	}
	return recipientID
}

// Decide returns the events cmd causes on in at now, or why it is refused.
func Decide(in Inbox, cmd Command, now time.Time) ([]any, error) {
	switch c := cmd.(type) {
	case Raise:
		fields := map[string]string{}
		if c.NotificationID == "" {
			fields["notification_id"] = "required"
		}
		if c.RecipientID == "" {
			fields["recipient_id"] = "required"
		}
		if !c.Type.Valid() {
			fields["type"] = fmt.Sprintf("unknown notification type %q", c.Type)
		}
		if c.Message == "" {
			fields["message"] = "required"
		}
		if err := validation.Check(fields); err != nil {
			return nil, err
		}
		if _, ok := in.index[c.NotificationID]; ok {
			return nil, nil
		}
		return []any{Raised{
			NotificationID: c.NotificationID, RecipientID: c.RecipientID, Type: c.Type, Message: c.Message,
			Data: c.Data, CauseEventID: c.CauseEventID, RaisedAt: now.UTC(), SubjectID: SubjectOf(c.RecipientID, c.Data),
		}}, nil
	case MarkRead:
		n, ok := in.Notification(c.NotificationID)
		if !ok {
			return nil, ErrNotFound
		}
		if n.Read {
			return nil, nil
		}
		return []any{Read{NotificationID: n.ID, RecipientID: in.RecipientID, ReadAt: now.UTC()}}, nil
	default:
		return nil, fmt.Errorf("notification: unknown command %T", cmd)
	}
}
