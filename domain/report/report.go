// Package report computes the figures of the monthly working hours report
// from one employee's month: expected minutes, leave and absent days,
// overtime. It is pure; the read model supplies the days.
package report

import (
	"math"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
)

// Days holds days of one month: bit d-1 for day d.
type Days int64

// Has says whether day d of the month is in s.
func (s Days) Has(d calendar.Date) bool { return s&(1<<(d.Day-1)) != 0 }

// With returns s and day d of the month.
func (s Days) With(d calendar.Date) Days { return s | 1<<(d.Day-1) }

// Without returns s less day d of the month.
func (s Days) Without(d calendar.Date) Days { return s &^ (1 << (d.Day - 1)) }

// Month is what is known of one employee's month, First to Last.
type Month struct {
	First, Last calendar.Date
	// Today ends the days that can be absent: a day not yet over is not.
	Today    calendar.Date
	Hired    calendar.Date
	Schedule employee.Schedule
	// Holidays are the company's; Attended the days with a check-in;
	// OnLeave the days of approved leave; Review the days whose forgotten
	// check-out the system closed; Corrected the days an approved
	// correction changed.
	Holidays, Attended, OnLeave, Review, Corrected Days
	WorkedMinutes                                  int
}

// Figures are a month's computed figures.
type Figures struct {
	// ExpectedMinutes count the schedule's workdays from the hire date on,
	// less holidays and leave.
	ExpectedMinutes int
	// LeaveDays are the days of approved leave, holidays and days off
	// included: the days the balance spent.
	LeaveDays int
	// AbsentDays are the expected workdays before today without a check-in.
	AbsentDays int
	// OvertimeMinutes are the worked minutes beyond the expected ones.
	OvertimeMinutes int
	// WorkedHours are the worked minutes in hours, to two decimals.
	WorkedHours float64
	// ReviewDays are the days whose forgotten check-out the system closed.
	ReviewDays int
	// CorrectedDays are the days an approved correction changed.
	CorrectedDays int
}

// Figures computes m's figures. The days are counted by hand: a report has
// tens of thousands of months.
func (m Month) Figures() Figures {
	var f Figures
	daily := int(m.Schedule.WorkEnd - m.Schedule.WorkStart)
	overnight := m.Schedule.Overnight()
	weekday := m.First.ISOWeekday()
	for d := m.First; d.Day <= m.Last.Day; d.Day, weekday = d.Day+1, weekday%7+1 {
		if m.OnLeave.Has(d) {
			f.LeaveDays++
			continue
		}
		if d.Before(m.Hired) || !m.Schedule.WorksOn(weekday) || m.Holidays.Has(d) {
			continue
		}
		if overnight {
			// Measured on the clock: an hour shorter or longer on the
			// nights the clocks change.
			daily = int(m.Schedule.EndOn(d).Sub(m.Schedule.StartOn(d)) / time.Minute)
		}
		f.ExpectedMinutes += daily
		if d.Before(m.Today) && !m.Attended.Has(d) {
			f.AbsentDays++
		}
	}
	for d := m.First; d.Day <= m.Last.Day; d.Day++ {
		if m.Review.Has(d) {
			f.ReviewDays++
		}
		if m.Corrected.Has(d) {
			f.CorrectedDays++
		}
	}
	f.WorkedHours = math.Round(float64(m.WorkedMinutes)/60*100) / 100
	f.OvertimeMinutes = max(0, m.WorkedMinutes-f.ExpectedMinutes)
	return f
}
