package notification

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
)

// The builders below return a message in English naming the employee and
// the figures, and its data. Numbers in data are float64 and times RFC 3339
// strings, so the map decodes from JSON exactly as it was built.

// Lateness: "Ayşe Yılmaz checked in 17 minutes late on 2024-12-02."
func Lateness(employeeName, employeeID string, date calendar.Date, lateMinutes int, checkedInAt time.Time) (string, map[string]any) {
	msg := fmt.Sprintf("%s checked in %s late on %s.", employeeName, plural(lateMinutes, "minute"), date)
	return msg, map[string]any{
		"employee_id":   employeeID,
		"employee_name": employeeName,
		"date":          date.String(),
		"late_minutes":  float64(lateMinutes),
		"checked_in_at": rfc3339(checkedInAt),
	}
}

// Absence: "Ayşe Yılmaz did not check in on 2024-12-02."
func Absence(employeeName, employeeID string, date calendar.Date) (string, map[string]any) {
	msg := fmt.Sprintf("%s did not check in on %s.", employeeName, date)
	return msg, map[string]any{
		"employee_id":   employeeID,
		"employee_name": employeeName,
		"date":          date.String(),
	}
}

// LowLeaveBalance: "Ayşe Yılmaz has 2.5 days of annual leave left for 2024 (below 3)."
// Another type is named by its code: "… has 0.5 days of leave of type study left …".
func LowLeaveBalance(employeeName, employeeID, leaveType string, year int, remainingDays, thresholdDays float64) (string, map[string]any) {
	kind := "annual leave"
	if leaveType != "annual" {
		kind = "leave of type " + leaveType
	}
	msg := fmt.Sprintf("%s has %s of %s left for %d (below %s).",
		employeeName, pluralDays(remainingDays), kind, year, number(thresholdDays))
	return msg, map[string]any{
		"employee_id":    employeeID,
		"employee_name":  employeeName,
		"leave_type":     leaveType,
		"year":           float64(year),
		"remaining_days": remainingDays,
		"threshold_days": thresholdDays,
	}
}

// LeaveRequested: "Ayşe Yılmaz requested 4 days of leave from 2024-12-01 to 2024-12-05."
func LeaveRequested(employeeName, employeeID, requestID string, start, end calendar.Date, days int) (string, map[string]any) {
	msg := fmt.Sprintf("%s requested %s of leave from %s to %s.", employeeName, plural(days, "day"), start, end)
	return msg, map[string]any{
		"employee_id":   employeeID,
		"employee_name": employeeName,
		"request_id":    requestID,
		"start_date":    start.String(),
		"end_date":      end.String(),
		"days":          float64(days),
	}
}

// ApprovalReminder, to the approver: "Ayşe Yılmaz's leave from 2024-12-02 to
// 2024-12-06 has waited for your approval (step 1) since 2024-11-28T09:00:00Z."
func ApprovalReminder(employeeName, employeeID, requestID string, step int, start, end calendar.Date, since time.Time) (string, map[string]any) {
	msg := fmt.Sprintf("%s's leave from %s to %s has waited for your approval (step %d) since %s.",
		employeeName, start, end, step, rfc3339(since))
	return msg, approvalData(employeeName, employeeID, requestID, step, start, end, since)
}

// ApprovalEscalated, to whom a step went up to: "Ayşe Yılmaz's leave from
// 2024-12-02 to 2024-12-06 has waited for approval (step 1) since
// 2024-11-28T09:00:00Z and is now yours to decide."
func ApprovalEscalated(employeeName, employeeID, requestID string, step int, start, end calendar.Date, since time.Time) (string, map[string]any) {
	msg := fmt.Sprintf("%s's leave from %s to %s has waited for approval (step %d) since %s and is now yours to decide.",
		employeeName, start, end, step, rfc3339(since))
	return msg, approvalData(employeeName, employeeID, requestID, step, start, end, since)
}

func approvalData(employeeName, employeeID, requestID string, step int, start, end calendar.Date, since time.Time) map[string]any {
	return map[string]any{
		"employee_id":   employeeID,
		"employee_name": employeeName,
		"request_id":    requestID,
		"step":          float64(step),
		"start_date":    start.String(),
		"end_date":      end.String(),
		"waiting_since": rfc3339(since),
	}
}

// CorrectionReminder, to the approver: "Ayşe Yılmaz's correction of
// 2024-12-02 has waited for your approval (step 1) since
// 2024-12-03T09:00:00Z."
func CorrectionReminder(employeeName, employeeID, correctionID string, step int, date calendar.Date, since time.Time) (string, map[string]any) {
	msg := fmt.Sprintf("%s's correction of %s has waited for your approval (step %d) since %s.", employeeName, date, step, rfc3339(since))
	return msg, correctionApprovalData(employeeName, employeeID, correctionID, step, date, since)
}

// CorrectionEscalated, to whom a step went up to: "Ayşe Yılmaz's correction
// of 2024-12-02 has waited for approval (step 1) since 2024-12-03T09:00:00Z
// and is now yours to decide."
func CorrectionEscalated(employeeName, employeeID, correctionID string, step int, date calendar.Date, since time.Time) (string, map[string]any) {
	msg := fmt.Sprintf("%s's correction of %s has waited for approval (step %d) since %s and is now yours to decide.",
		employeeName, date, step, rfc3339(since))
	return msg, correctionApprovalData(employeeName, employeeID, correctionID, step, date, since)
}

func correctionApprovalData(employeeName, employeeID, correctionID string, step int, date calendar.Date, since time.Time) map[string]any {
	return map[string]any{
		"employee_id":   employeeID,
		"employee_name": employeeName,
		"correction_id": correctionID,
		"step":          float64(step),
		"date":          date.String(),
		"waiting_since": rfc3339(since),
	}
}

// LeaveDecided, to the employee, is the data of "Your leave from 2024-12-01
// to 2024-12-05 was approved by Mehmet Demir. Note: enjoy", which View
// renders with the decider's name. status is approved, rejected or
// cancelled; an empty note is left out.
func LeaveDecided(requestID, status string, start, end calendar.Date, note string) map[string]any {
	return map[string]any{
		"request_id": requestID,
		"status":     status,
		"start_date": start.String(),
		"end_date":   end.String(),
		"note":       note,
	}
}

// OpenCheckIn: "Ayşe Yılmaz checked in on 2024-12-02 at 05:03 UTC and has not checked out."
func OpenCheckIn(employeeName, employeeID string, date calendar.Date, checkedInAt time.Time) (string, map[string]any) {
	msg := fmt.Sprintf("%s checked in on %s at %s UTC and has not checked out.", employeeName, date, checkedInAt.UTC().Format("15:04"))
	return msg, map[string]any{
		"employee_id":   employeeID,
		"employee_name": employeeName,
		"date":          date.String(),
		"checked_in_at": rfc3339(checkedInAt),
	}
}

// MissingCheckout tells that the system closed a check-in never checked out,
// at closedAt (the shift's end, or the check-in itself when later).
func MissingCheckout(employeeName, employeeID string, date calendar.Date, checkedInAt, closedAt time.Time) (string, map[string]any) {
	msg := fmt.Sprintf("%s did not check out on %s: the check-in at %s UTC was closed at %s UTC and needs review.",
		employeeName, date, checkedInAt.UTC().Format("15:04"), closedAt.UTC().Format("15:04"))
	return msg, map[string]any{
		"employee_id":   employeeID,
		"employee_name": employeeName,
		"date":          date.String(),
		"checked_in_at": rfc3339(checkedInAt),
		"closed_at":     rfc3339(closedAt),
	}
}

// CorrectionRequested, to the manager: "Ayşe Yılmaz asks to correct
// 2024-12-02: check-in 05:00 UTC, check-out 14:00 UTC." A time not corrected
// is left out.
func CorrectionRequested(employeeName, employeeID, correctionID string, date calendar.Date, checkIn, checkOut time.Time) (string, map[string]any) {
	msg := fmt.Sprintf("%s asks to correct %s:%s.", employeeName, date, correctedTimes(checkIn, checkOut))
	data := map[string]any{
		"employee_id":   employeeID,
		"employee_name": employeeName,
		"correction_id": correctionID,
		"date":          date.String(),
	}
	addTimes(data, checkIn, checkOut)
	return msg, data
}

// CorrectionDecided, to the employee, is the data of "Your correction of
// 2024-12-02 (check-out 14:00 UTC) was approved by Mehmet Demir. Note: ok",
// which View renders with the decider's name. status is approved or
// rejected; an empty note is left out.
func CorrectionDecided(correctionID, status string, date calendar.Date, checkIn, checkOut time.Time, note string) map[string]any {
	data := map[string]any{
		"correction_id": correctionID,
		"status":        status,
		"date":          date.String(),
		"note":          note,
	}
	addTimes(data, checkIn, checkOut)
	return data
}

// Decider is who decided what a notification tells: their id, and their name,
// kept under their own key (empty once they are erased).
type Decider struct{ ID, Name string }

// ErasedDecider stands in a message for the name of an erased decider.
const ErasedDecider = "a person whose data was erased"

// View is a notification's message and data as read: as raised, or for a
// decision, its message rendered from its data and the decider, whose name
// the data gives as decided_by_name (null once they are erased). Data of an
// erased subject (nil) gives no message. data is not modified.
func View(t Type, message string, data map[string]any, d Decider) (string, map[string]any) {
	if !t.rendered() || data == nil {
		return message, data
	}
	by := d.Name
	if d.ID != "" && by == "" {
		by = ErasedDecider
	}
	status, _ := data["status"].(string)
	var msg string
	if t == TypeLeaveDecided {
		start, _ := data["start_date"].(string)
		end, _ := data["end_date"].(string)
		msg = fmt.Sprintf("Your leave from %s to %s was %s", start, end, status)
	} else {
		date, _ := data["date"].(string)
		in, _ := time.Parse(time.RFC3339, str(data["check_in"]))
		out, _ := time.Parse(time.RFC3339, str(data["check_out"]))
		msg = fmt.Sprintf("Your correction of %s (%s) was %s", date, strings.TrimPrefix(correctedTimes(in, out), " "), status)
	}
	if by != "" {
		msg += " by " + by
	}
	msg += "."
	if note, _ := data["note"].(string); note != "" {
		msg += " Note: " + note
	}
	if d.ID == "" {
		return msg, data
	}
	view := maps.Clone(data)
	view["decided_by_name"] = nil
	if d.Name != "" {
		view["decided_by_name"] = d.Name
	}
	return msg, view
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// correctedTimes lists the times a correction gives, each after a space.
func correctedTimes(checkIn, checkOut time.Time) string {
	var parts []string
	if !checkIn.IsZero() {
		parts = append(parts, "check-in "+checkIn.UTC().Format("15:04")+" UTC")
	}
	if !checkOut.IsZero() {
		parts = append(parts, "check-out "+checkOut.UTC().Format("15:04")+" UTC")
	}
	return " " + strings.Join(parts, ", ")
}

func addTimes(data map[string]any, checkIn, checkOut time.Time) {
	if !checkIn.IsZero() {
		data["check_in"] = rfc3339(checkIn)
	}
	if !checkOut.IsZero() {
		data["check_out"] = rfc3339(checkOut)
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// number writes a figure with at most two decimals: 2.5, 3, 0.04.
func number(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func pluralDays(v float64) string {
	if s := number(v); s != "1" {
		return s + " days"
	}
	return "1 day"
}
