// Package notification keeps each user's inbox, one stream per recipient
// (notify-<user_id>); the stream version is the user's notification seq.
package notification

import (
	"encoding/json"
	"errors"
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

// rendered says whether notifications of t have their message rendered when
// read rather than kept as raised: those that name a decider.
func (t Type) rendered() bool { return t == TypeLeaveDecided || t == TypeCorrectionDecided }

// ErrNotFound is returned for a notification the inbox does not hold.
var ErrNotFound error = errkind.New(errkind.NotFound, "notification not found")

// ValidationError names each invalid field of a command.
type ValidationError = validation.Error

// Raised delivers a notification. CauseEventID is the event that caused it,
// from which the caller derives NotificationID so a redelivery is a no-op.
// SubjectID is the person the message and data are about, under whose key
// they are sealed: the employee a manager is told about, or the recipient.
// Notifications raised before it was recorded have none.
//
// A notification never holds another person's data under the subject's key:
// a decision's notification names its decider by DecidedBy, with their name
// in DecidedByName sealed under the decider's own key, and its message is
// rendered from the data and that name when read (Text), so that erasing the
// decider erases their name from it. Schema version 2; version 1 kept the
// decider's name in its message and data (UpcastRaisedV1).
type Raised struct {
	NotificationID string `json:"notification_id" personal:"no"`
	RecipientID    string `json:"recipient_id" personal:"no"`
	Type           Type   `json:"type" personal:"no"`
	// Message is the text as raised; empty for the types rendered on read.
	Message       string         `json:"message,omitempty" personal:"yes"`
	Data          map[string]any `json:"data" personal:"yes"`
	CauseEventID  string         `json:"cause_event_id" personal:"no"`
	RaisedAt      time.Time      `json:"raised_at"`
	SubjectID     string         `json:"subject_id,omitempty" personal:"subject"`
	DecidedBy     string         `json:"decided_by,omitempty" personal:"no"`
	DecidedByName string         `json:"decided_by_name,omitempty" personal:"of:decided_by"`
}

// SchemaVersion: 2 since the decider's name is sealed under their own key.
func (Raised) SchemaVersion() int { return 2 }

// Decider is who decided what a notification tells.
func (r Raised) Decider() Decider { return Decider{ID: r.DecidedBy, Name: r.DecidedByName} }

// View is the notification's message and data as read (View of the package).
func (r Raised) View() (string, map[string]any) { return View(r.Type, r.Message, r.Data, r.Decider()) }

type Read struct {
	NotificationID string    `json:"notification_id" personal:"no"`
	RecipientID    string    `json:"recipient_id" personal:"no"`
	ReadAt         time.Time `json:"read_at"`
}

func (Raised) EventName() string { return "notification.raised" }
func (Read) EventName() string   { return "notification.read" }

// UpcastRaisedV1 reads a notification of schema version 1, which kept the
// name of a decision's decider in its message and data, sealed under the
// recipient's key where erasing the decider could not reach it: the message
// of a decision is rendered from the data since, and the name, recorded
// without the decider's id, is left out.
func UpcastRaisedV1(data json.RawMessage) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, err
	}
	var typ Type
	if err := json.Unmarshal(fields["type"], &typ); err != nil || !typ.Valid() {
		return nil, fmt.Errorf("notification.raised v1: type %s", fields["type"])
	}
	if _, ok := fields["decided_by"]; ok {
		return nil, errors.New("notification.raised v1: decided_by, which version 1 never stored")
	}
	if !typ.rendered() {
		return data, nil
	}
	delete(fields, "message")
	if raw, ok := fields["data"]; ok && string(raw) != "null" {
		var d map[string]json.RawMessage
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("notification.raised v1: data: %w", err)
		}
		delete(d, "decided_by_name")
		fields["data"], _ = json.Marshal(d)
	}
	return json.Marshal(fields)
}

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
		msg, data := ev.View()
		in.items = append(in.items, Notification{
			ID: ev.NotificationID, Type: ev.Type, Message: msg, Data: data,
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

// Raise delivers a notification unless one with the same id exists. A
// decision's notification (leave_decided, correction_decided) has no
// Message: it is rendered from Data and Decider when read.
type Raise struct {
	NotificationID string
	RecipientID    string
	Type           Type
	Message        string
	Data           map[string]any
	Decider        Decider
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
		switch {
		case c.Message == "" && !c.Type.rendered():
			fields["message"] = "required"
		case c.Message != "" && c.Type.rendered():
			fields["message"] = "rendered from the data: leave it empty"
		}
		if c.Decider.Name != "" && c.Decider.ID == "" {
			fields["decider"] = "a name needs the decider's id"
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
			DecidedBy: c.Decider.ID, DecidedByName: c.Decider.Name,
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
