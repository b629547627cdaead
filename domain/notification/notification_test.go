package notification

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/google/go-cmp/cmp"
)

var (
	now   = time.Date(2024, time.December, 2, 5, 20, 0, 0, time.UTC)
	later = now.Add(time.Hour)
	dec2  = calendar.Date{Year: 2024, Month: time.December, Day: 2}
)

func raise(id string) Raise {
	return Raise{NotificationID: id, RecipientID: "m1", Type: TypeLateness, Message: "Ayşe Yılmaz checked in 17 minutes late on 2024-12-02.",
		Data: map[string]any{"late_minutes": float64(17)}, CauseEventID: "ev-" + id}
}

func TestRaise(t *testing.T) {
	t.Parallel()
	events, err := Decide(Inbox{}, raise("n1"), now)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{Raised{NotificationID: "n1", RecipientID: "m1", Type: TypeLateness, Message: "Ayşe Yılmaz checked in 17 minutes late on 2024-12-02.",
		Data: map[string]any{"late_minutes": float64(17)}, CauseEventID: "ev-n1", RaisedAt: now, SubjectID: "m1"}}
	if diff := cmp.Diff(want, events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}

	in := Replay(events)
	if again, err := Decide(in, raise("n1"), later); err != nil || again != nil {
		t.Errorf("raising n1 again = %v, %v; want no events", again, err)
	}
	if in.Unread() != 1 {
		t.Errorf("got %d unread, want 1", in.Unread())
	}
}

// TestRaiseSubject: a notification is about the employee its data names, or
// else about its recipient; their key seals its message and data.
func TestRaiseSubject(t *testing.T) {
	t.Parallel()
	about := raise("n2")
	about.Data = map[string]any{"employee_id": "e7", "late_minutes": float64(17)}
	for _, c := range []struct {
		cmd  Raise
		want string
	}{{raise("n1"), "m1"}, {about, "e7"}} {
		events, err := Decide(Inbox{}, c.cmd, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := events[0].(Raised).SubjectID; got != c.want {
			t.Errorf("%s: subject %q, want %q", c.cmd.NotificationID, got, c.want)
		}
	}
}

func TestRaiseRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(*Raise)
		field string
	}{
		{name: "no id", edit: func(r *Raise) { r.NotificationID = "" }, field: "notification_id"},
		{name: "no recipient", edit: func(r *Raise) { r.RecipientID = "" }, field: "recipient_id"},
		{name: "unknown type", edit: func(r *Raise) { r.Type = "gossip" }, field: "type"},
		{name: "no message", edit: func(r *Raise) { r.Message = "" }, field: "message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := raise("n1")
			tt.edit(&cmd)
			events, err := Decide(Inbox{}, cmd, now)
			var ve *ValidationError
			if events != nil || !errors.As(err, &ve) || ve.Fields[tt.field] == "" {
				t.Errorf("got %v, %v; want a validation error on %q", events, err, tt.field)
			}
		})
	}
}

func TestMarkRead(t *testing.T) {
	t.Parallel()
	in := Replay([]any{
		Raised{NotificationID: "n1", RecipientID: "m1", Type: TypeLateness, Message: "one", RaisedAt: now},
		Raised{NotificationID: "n2", RecipientID: "m1", Type: TypeAbsence, Message: "two", RaisedAt: now},
	})
	if _, err := Decide(in, MarkRead{NotificationID: "n9"}, later); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: got %v, want ErrNotFound", err)
	}
	events, err := Decide(in, MarkRead{NotificationID: "n2"}, later)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{Read{NotificationID: "n2", RecipientID: "m1", ReadAt: later}}, events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	in.Apply(events[0])
	if again, err := Decide(in, MarkRead{NotificationID: "n2"}, later); err != nil || again != nil {
		t.Errorf("marking read again = %v, %v; want no events", again, err)
	}
	want := []Notification{
		{ID: "n1", Type: TypeLateness, Message: "one", RaisedAt: now},
		{ID: "n2", Type: TypeAbsence, Message: "two", RaisedAt: now, Read: true, ReadAt: later},
	}
	if diff := cmp.Diff(want, in.Notifications()); diff != "" {
		t.Errorf("inbox (-want +got):\n%s", diff)
	}
	if in.Unread() != 1 {
		t.Errorf("got %d unread, want 1", in.Unread())
	}
	if n, ok := in.Notification("n2"); !ok || !n.Read {
		t.Errorf("Notification(n2) = %+v, %v", n, ok)
	}
}

func TestMessages(t *testing.T) {
	t.Parallel()
	checkedIn := time.Date(2024, time.December, 2, 5, 17, 0, 0, time.UTC)
	start, end := calendar.Date{Year: 2024, Month: 12, Day: 1}, calendar.Date{Year: 2024, Month: 12, Day: 5}
	type built struct {
		msg  string
		data map[string]any
	}
	b := func(msg string, data map[string]any) built { return built{msg, data} }
	tests := []struct {
		name     string
		got      built
		wantMsg  string
		wantData map[string]any
	}{
		{
			name: "lateness", got: b(Lateness("Ayşe Yılmaz", "e1", dec2, 17, checkedIn)),
			wantMsg:  "Ayşe Yılmaz checked in 17 minutes late on 2024-12-02.",
			wantData: map[string]any{"employee_id": "e1", "employee_name": "Ayşe Yılmaz", "date": "2024-12-02", "late_minutes": float64(17), "checked_in_at": "2024-12-02T05:17:00Z"},
		},
		{
			name: "lateness of one minute", got: b(Lateness("Ayşe Yılmaz", "e1", dec2, 1, checkedIn)),
			wantMsg:  "Ayşe Yılmaz checked in 1 minute late on 2024-12-02.",
			wantData: map[string]any{"employee_id": "e1", "employee_name": "Ayşe Yılmaz", "date": "2024-12-02", "late_minutes": float64(1), "checked_in_at": "2024-12-02T05:17:00Z"},
		},
		{
			name: "absence", got: b(Absence("Ayşe Yılmaz", "e1", dec2)),
			wantMsg:  "Ayşe Yılmaz did not check in on 2024-12-02.",
			wantData: map[string]any{"employee_id": "e1", "employee_name": "Ayşe Yılmaz", "date": "2024-12-02"},
		},
		{
			name: "low leave balance", got: b(LowLeaveBalance("Ayşe Yılmaz", "e1", "annual", 2024, 2.5, 3)),
			wantMsg:  "Ayşe Yılmaz has 2.5 days of annual leave left for 2024 (below 3).",
			wantData: map[string]any{"employee_id": "e1", "employee_name": "Ayşe Yılmaz", "leave_type": "annual", "year": float64(2024), "remaining_days": 2.5, "threshold_days": float64(3)},
		},
		{
			name: "low leave balance of one day", got: b(LowLeaveBalance("Ayşe Yılmaz", "e1", "annual", 2024, 1, 3)),
			wantMsg:  "Ayşe Yılmaz has 1 day of annual leave left for 2024 (below 3).",
			wantData: map[string]any{"employee_id": "e1", "employee_name": "Ayşe Yılmaz", "leave_type": "annual", "year": float64(2024), "remaining_days": float64(1), "threshold_days": float64(3)},
		},
		{
			name: "low leave balance after lateness minutes", got: b(LowLeaveBalance("Ayşe Yılmaz", "e1", "annual", 2024, 2.9645833, 3)),
			wantMsg:  "Ayşe Yılmaz has 2.96 days of annual leave left for 2024 (below 3).",
			wantData: map[string]any{"employee_id": "e1", "employee_name": "Ayşe Yılmaz", "leave_type": "annual", "year": float64(2024), "remaining_days": 2.9645833, "threshold_days": float64(3)},
		},
		{
			name: "low leave balance of another type", got: b(LowLeaveBalance("Ayşe Yılmaz", "e1", "study_leave", 2024, 0.5, 3)),
			wantMsg:  "Ayşe Yılmaz has 0.5 days of leave of type study_leave left for 2024 (below 3).",
			wantData: map[string]any{"employee_id": "e1", "employee_name": "Ayşe Yılmaz", "leave_type": "study_leave", "year": float64(2024), "remaining_days": 0.5, "threshold_days": float64(3)},
		},
		{
			name: "leave requested", got: b(LeaveRequested("Ayşe Yılmaz", "e1", "r1", start, end, 4)),
			wantMsg:  "Ayşe Yılmaz requested 4 days of leave from 2024-12-01 to 2024-12-05.",
			wantData: map[string]any{"employee_id": "e1", "employee_name": "Ayşe Yılmaz", "request_id": "r1", "start_date": "2024-12-01", "end_date": "2024-12-05", "days": float64(4)},
		},
		{
			name: "leave approved with note", got: b(View(TypeLeaveDecided, "", LeaveDecided("r1", "approved", start, end, "enjoy"), Decider{"m2", "Mehmet Demir"})),
			wantMsg:  "Your leave from 2024-12-01 to 2024-12-05 was approved by Mehmet Demir. Note: enjoy",
			wantData: map[string]any{"request_id": "r1", "status": "approved", "start_date": "2024-12-01", "end_date": "2024-12-05", "decided_by_name": "Mehmet Demir", "note": "enjoy"},
		},
		{
			name: "leave approved by an erased decider", got: b(View(TypeLeaveDecided, "", LeaveDecided("r1", "approved", start, end, "enjoy"), Decider{ID: "m2"})),
			wantMsg:  "Your leave from 2024-12-01 to 2024-12-05 was approved by a person whose data was erased. Note: enjoy",
			wantData: map[string]any{"request_id": "r1", "status": "approved", "start_date": "2024-12-01", "end_date": "2024-12-05", "decided_by_name": nil, "note": "enjoy"},
		},
		{
			name: "leave rejected without decider or note", got: b(View(TypeLeaveDecided, "", LeaveDecided("r1", "rejected", start, end, ""), Decider{})),
			wantMsg:  "Your leave from 2024-12-01 to 2024-12-05 was rejected.",
			wantData: map[string]any{"request_id": "r1", "status": "rejected", "start_date": "2024-12-01", "end_date": "2024-12-05", "note": ""},
		},
		{
			name: "open check-in", got: b(OpenCheckIn("Ayşe Yılmaz", "e1", dec2, checkedIn.In(time.FixedZone("+03", 3*3600)))),
			wantMsg:  "Ayşe Yılmaz checked in on 2024-12-02 at 05:17 UTC and has not checked out.",
			wantData: map[string]any{"employee_id": "e1", "employee_name": "Ayşe Yılmaz", "date": "2024-12-02", "checked_in_at": "2024-12-02T05:17:00Z"},
		},
		{
			name: "correction requested", got: b(CorrectionRequested("Ayşe Yılmaz", "e1", "c1", dec2, checkedIn, checkedIn.Add(9*time.Hour))),
			wantMsg: "Ayşe Yılmaz asks to correct 2024-12-02: check-in 05:17 UTC, check-out 14:17 UTC.",
			wantData: map[string]any{"employee_id": "e1", "employee_name": "Ayşe Yılmaz", "correction_id": "c1", "date": "2024-12-02",
				"check_in": "2024-12-02T05:17:00Z", "check_out": "2024-12-02T14:17:00Z"},
		},
		{
			name: "correction of a check-out approved", got: b(View(TypeCorrectionDecided, "", CorrectionDecided("c1", "approved", dec2, time.Time{}, checkedIn.Add(9*time.Hour), "ok"), Decider{"m2", "Mehmet Demir"})),
			wantMsg:  "Your correction of 2024-12-02 (check-out 14:17 UTC) was approved by Mehmet Demir. Note: ok",
			wantData: map[string]any{"correction_id": "c1", "status": "approved", "date": "2024-12-02", "decided_by_name": "Mehmet Demir", "note": "ok", "check_out": "2024-12-02T14:17:00Z"},
		},
		{
			name: "correction of a check-in rejected without decider or note", got: b(View(TypeCorrectionDecided, "", CorrectionDecided("c1", "rejected", dec2, checkedIn, time.Time{}, ""), Decider{})),
			wantMsg:  "Your correction of 2024-12-02 (check-in 05:17 UTC) was rejected.",
			wantData: map[string]any{"correction_id": "c1", "status": "rejected", "date": "2024-12-02", "note": "", "check_in": "2024-12-02T05:17:00Z"},
		},
		{
			name: "correction decided by an erased decider", got: b(View(TypeCorrectionDecided, "", CorrectionDecided("c1", "rejected", dec2, checkedIn, time.Time{}, ""), Decider{ID: "m2"})),
			wantMsg:  "Your correction of 2024-12-02 (check-in 05:17 UTC) was rejected by a person whose data was erased.",
			wantData: map[string]any{"correction_id": "c1", "status": "rejected", "date": "2024-12-02", "decided_by_name": nil, "note": "", "check_in": "2024-12-02T05:17:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got.msg != tt.wantMsg {
				t.Errorf("got %q, want %q", tt.got.msg, tt.wantMsg)
			}
			if diff := cmp.Diff(tt.wantData, tt.got.data); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
			// The data must come back from the event store unchanged.
			raw, err := json.Marshal(tt.got.data)
			if err != nil {
				t.Fatal(err)
			}
			var back map[string]any
			if err := json.Unmarshal(raw, &back); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.got.data, back); diff != "" {
				t.Errorf("JSON round trip (-built +decoded):\n%s", diff)
			}
		})
	}
}

// TestDecisionNamesItsDeciderApart: a decision's notification keeps its
// decider's name out of its data and message, in its own field, and is
// rendered when read; its subject's erasure (nil data) leaves no message.
func TestDecisionNamesItsDeciderApart(t *testing.T) {
	t.Parallel()
	start, end := calendar.Date{Year: 2024, Month: time.December, Day: 1}, calendar.Date{Year: 2024, Month: time.December, Day: 5}
	cmd := Raise{NotificationID: "n1", RecipientID: "e1", Type: TypeLeaveDecided, Data: LeaveDecided("r1", "approved", start, end, "enjoy"),
		Decider: Decider{ID: "m2", Name: "Mehmet Demir"}, CauseEventID: "ev"}
	events, err := Decide(Inbox{}, cmd, now)
	if err != nil {
		t.Fatal(err)
	}
	r := events[0].(Raised)
	stored, _ := json.Marshal(r.Data)
	if r.Message != "" || r.DecidedBy != "m2" || r.DecidedByName != "Mehmet Demir" || r.SubjectID != "e1" || strings.Contains(string(stored), "Mehmet") {
		t.Errorf("raised %+v", r)
	}
	n, _ := Replay(events).Notification("n1")
	if want := "Your leave from 2024-12-01 to 2024-12-05 was approved by Mehmet Demir. Note: enjoy"; n.Message != want || n.Data["decided_by_name"] != "Mehmet Demir" {
		t.Errorf("read as %q, %v", n.Message, n.Data)
	}
	r.Data = nil
	if msg, data := r.View(); msg != "" || data != nil {
		t.Errorf("erased subject reads %q, %v", msg, data)
	}
	for _, bad := range []func(*Raise){
		func(c *Raise) { c.Message = "Your leave was approved by Mehmet Demir." },
		func(c *Raise) { c.Decider.ID = "" },
	} {
		c := cmd
		bad(&c)
		if _, err := Decide(Inbox{}, c, now); err == nil {
			t.Errorf("raised %+v", c)
		}
	}
}

// TestUpcastRaisedV1: version 1 of a decision's notification is read without
// its message and the decider's name in its data (rendered from the data,
// without the name); other notifications are read as they were stored.
func TestUpcastRaisedV1(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ v1, v2 string }{
		{`{"type":"leave_decided","message":"Your leave from 2024-12-01 to 2024-12-05 was approved by Mehmet Demir.","data":{"status":"approved","decided_by_name":"Mehmet Demir","note":""},"recipient_id":"e1"}`,
			`{"data":{"note":"","status":"approved"},"recipient_id":"e1","type":"leave_decided"}`},
		{`{"type":"correction_decided","recipient_id":"e1"}`, `{"recipient_id":"e1","type":"correction_decided"}`},
		{`{"type":"correction_decided","data":null,"recipient_id":"e1"}`, `{"data":null,"recipient_id":"e1","type":"correction_decided"}`},
		{`{"type":"lateness","message":"Ayşe Yılmaz checked in late.","data":{"employee_name":"Ayşe Yılmaz"}}`,
			`{"type":"lateness","message":"Ayşe Yılmaz checked in late.","data":{"employee_name":"Ayşe Yılmaz"}}`},
	} {
		got, err := UpcastRaisedV1(json.RawMessage(c.v1))
		if err != nil || string(got) != c.v2 {
			t.Errorf("upcast %s = %s, %v; want %s", c.v1, got, err, c.v2)
		}
	}
	for _, bad := range []string{`{"type":"nonsense"}`, `{"type":"leave_decided","decided_by":"m2"}`, `[`, `{"type":"leave_decided","data":[1]}`} {
		if got, err := UpcastRaisedV1(json.RawMessage(bad)); err == nil {
			t.Errorf("upcast %s = %s, want refused", bad, got)
		}
	}
	var r Raised
	v2, _ := UpcastRaisedV1(json.RawMessage(`{"type":"leave_decided","message":"x by Mehmet Demir","data":{"status":"approved","start_date":"2024-12-01","end_date":"2024-12-05","decided_by_name":"Mehmet Demir","note":""}}`))
	if err := json.Unmarshal(v2, &r); err != nil {
		t.Fatal(err)
	}
	if msg, _ := r.View(); msg != "Your leave from 2024-12-01 to 2024-12-05 was approved." {
		t.Errorf("a v1 decision reads %q", msg)
	}
}
