package report

import (
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
)

func days(ds ...int) Days {
	var s Days
	for _, d := range ds {
		s |= 1 << (d - 1)
	}
	return s
}

func TestFigures(t *testing.T) {
	t.Parallel()
	march := func(d int) calendar.Date { return calendar.Date{Year: 2024, Month: time.March, Day: d} }
	// 08:00 to 17:00, Monday to Friday: 540 minutes a day. March 2024
	// begins on a Friday and has 21 workdays.
	office := employee.Schedule{Timezone: "Europe/Istanbul", WorkStart: 8 * 60, WorkEnd: 17 * 60, Workdays: []int{1, 2, 3, 4, 5}}
	month := func(change func(*Month)) Month {
		m := Month{First: march(1), Last: march(31), Today: calendar.Date{Year: 2024, Month: time.April, Day: 1},
			Hired: calendar.Date{Year: 2020, Month: time.January, Day: 6}, Schedule: office,
			Attended: days(1, 4, 5, 6, 7, 8, 11, 12, 13, 14, 15, 18, 19, 20, 21, 22, 25, 26, 27, 28, 29)}
		if change != nil {
			change(&m)
		}
		return m
	}
	tests := []struct {
		name  string
		month Month
		want  Figures
	}{
		{"every workday worked", month(nil), Figures{ExpectedMinutes: 21 * 540}},
		{"every workday missed", month(func(m *Month) { m.Attended = 0 }), Figures{ExpectedMinutes: 21 * 540, AbsentDays: 21}},
		{"days not over are not absent", month(func(m *Month) { m.Today, m.Attended = march(6), days(1, 4) }),
			Figures{ExpectedMinutes: 21 * 540, AbsentDays: 1}},
		{"hired in the month", month(func(m *Month) { m.Hired, m.Attended = march(15), 0 }),
			Figures{ExpectedMinutes: 11 * 540, AbsentDays: 11}},
		{"a holiday is not expected", month(func(m *Month) { m.Holidays = days(5) }), Figures{ExpectedMinutes: 20 * 540}},
		{"leave on workdays and a day off counts as leave", month(func(m *Month) { m.OnLeave = days(6, 7, 9) }),
			Figures{ExpectedMinutes: 19 * 540, LeaveDays: 3}},
		{"leave on a holiday counts once, as leave", month(func(m *Month) { m.Holidays, m.OnLeave = days(5), days(5) }),
			Figures{ExpectedMinutes: 20 * 540, LeaveDays: 1}},
		{"overtime beyond the expected minutes", month(func(m *Month) { m.WorkedMinutes = 21*540 + 61 }),
			Figures{ExpectedMinutes: 21 * 540, OvertimeMinutes: 61, WorkedHours: 190.02}},
		{"no overtime below them", month(func(m *Month) { m.WorkedMinutes = 600 }),
			Figures{ExpectedMinutes: 21 * 540, WorkedHours: 10}},
		{"a leap February", Month{First: calendar.Date{Year: 2024, Month: time.February, Day: 1}, Last: calendar.Date{Year: 2024, Month: time.February, Day: 29},
			Today: march(1), Hired: march(1).AddDays(-400), Schedule: office, Attended: days(29)},
			Figures{ExpectedMinutes: 21 * 540, AbsentDays: 20}},
		{"days closed by the system need review", month(func(m *Month) { m.Review = days(4, 5) }),
			Figures{ExpectedMinutes: 21 * 540, ReviewDays: 2}},
		{"days an approved correction changed", month(func(m *Month) { m.Corrected = days(2, 4, 5) }),
			Figures{ExpectedMinutes: 21 * 540, CorrectedDays: 3}},
		// 22:00 to 06:00 in Berlin, Monday to Saturday: 8 hours, but 7 on
		// the night of Saturday 30 March, when the clocks go forward.
		{"a night shift across the clocks going forward", month(func(m *Month) {
			m.Schedule = employee.Schedule{Timezone: "Europe/Berlin", WorkStart: 22 * 60, WorkEnd: 6 * 60, Workdays: []int{1, 2, 3, 4, 5, 6}}
		}), Figures{ExpectedMinutes: 26*480 - 60, AbsentDays: 5}},
		{"a weekend schedule", month(func(m *Month) {
			m.Schedule.Workdays, m.Attended = []int{6, 7}, days(2, 3)
		}), Figures{ExpectedMinutes: 10 * 540, AbsentDays: 8}},
	}
	for _, tt := range tests {
		if got := tt.month.Figures(); got != tt.want {
			t.Errorf("%s: Figures() = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestFiguresOfEveryDayOfAYear counts a year day by day the slow way and
// compares, month by month, for a schedule of three workdays.
func TestFiguresOfEveryDayOfAYear(t *testing.T) {
	t.Parallel()
	sched := employee.Schedule{WorkStart: 9 * 60, WorkEnd: 13 * 60, Workdays: []int{1, 3, 6}}
	hired := calendar.Date{Year: 2023, Month: time.May, Day: 17}
	today := calendar.Date{Year: 2023, Month: time.October, Day: 10}
	for month := time.January; month <= time.December; month++ {
		first := calendar.Date{Year: 2023, Month: month, Day: 1}
		last := first.AddDays(32)
		last = calendar.Date{Year: last.Year, Month: last.Month, Day: 1}.AddDays(-1)
		m := Month{First: first, Last: last, Today: today, Hired: hired, Schedule: sched,
			Holidays: days(1, 15), OnLeave: days(2, 3, 15), Attended: days(4, 5, 6, 7, 8, 9, 10), WorkedMinutes: 1000}
		var want Figures
		for d := first; !d.After(last); d = d.AddDays(1) {
			switch {
			case d.Day == 2 || d.Day == 3 || d.Day == 15:
				want.LeaveDays++
			case d.Before(hired) || !sched.WorksOn(d.ISOWeekday()) || d.Day == 1:
			default:
				want.ExpectedMinutes += 240
				if d.Before(today) && (d.Day < 4 || d.Day > 10) {
					want.AbsentDays++
				}
			}
		}
		want.OvertimeMinutes = max(0, 1000-want.ExpectedMinutes)
		want.WorkedHours = 16.67
		if got := m.Figures(); got != want {
			t.Errorf("%s: Figures() = %+v, want %+v", month, got, want)
		}
	}
}

// A month's day set gains and loses days one at a time, the first and the
// 31st included, and keeps the others.
func TestDaysWithAndWithout(t *testing.T) {
	day := func(d int) calendar.Date { return calendar.Date{Year: 2024, Month: time.January, Day: d} }
	var s Days
	s = s.With(day(1)).With(day(31)).With(day(15)).With(day(15))
	for d := 1; d <= 31; d++ {
		if want := d == 1 || d == 15 || d == 31; s.Has(day(d)) != want {
			t.Errorf("after With: day %d in the set = %v, want %v", d, s.Has(day(d)), want)
		}
	}
	s = s.Without(day(15)).Without(day(2))
	if s.Has(day(15)) || !s.Has(day(1)) || !s.Has(day(31)) || s.Has(day(2)) {
		t.Errorf("after Without(15) and Without(2): %b, want days 1 and 31 only", s)
	}
}
