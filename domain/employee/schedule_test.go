package employee

import (
	"testing"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
)

func TestScheduleValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Schedule)
		want []string
	}{
		{name: "valid", edit: func(*Schedule) {}},
		{name: "utc", edit: func(s *Schedule) { s.Timezone = "UTC" }},
		{name: "no timezone", edit: func(s *Schedule) { s.Timezone = "" }, want: []string{"timezone"}},
		{name: "server-local timezone", edit: func(s *Schedule) { s.Timezone = "Local" }, want: []string{"timezone"}},
		{name: "unknown timezone", edit: func(s *Schedule) { s.Timezone = "Europe/Atlantis" }, want: []string{"timezone"}},
		{name: "start equals end", edit: func(s *Schedule) { s.WorkEnd = s.WorkStart }, want: []string{"work_end"}},
		{name: "overnight: end before start", edit: func(s *Schedule) { s.WorkStart, s.WorkEnd = 22*60, 6*60 }},
		{name: "clock out of range", edit: func(s *Schedule) { s.WorkStart, s.WorkEnd = -1, 24*60 }, want: []string{"work_start", "work_end"}},
		{name: "grace 240", edit: func(s *Schedule) { s.GraceMinutes = 240 }},
		{name: "grace 241", edit: func(s *Schedule) { s.GraceMinutes = 241 }, want: []string{"grace_minutes"}},
		{name: "negative grace", edit: func(s *Schedule) { s.GraceMinutes = -1 }, want: []string{"grace_minutes"}},
		{name: "no workdays", edit: func(s *Schedule) { s.Workdays = nil }, want: []string{"workdays"}},
		{name: "workday 0", edit: func(s *Schedule) { s.Workdays = []int{0, 1} }, want: []string{"workdays"}},
		{name: "workday 8", edit: func(s *Schedule) { s.Workdays = []int{8} }, want: []string{"workdays"}},
		{name: "repeated workday", edit: func(s *Schedule) { s.Workdays = []int{1, 2, 2} }, want: []string{"workdays"}},
		{name: "every day", edit: func(s *Schedule) { s.Workdays = []int{7, 6, 5, 4, 3, 2, 1} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := istanbul()
			tt.edit(&s)
			got := s.Validate()
			if len(got) != len(tt.want) {
				t.Errorf("got %v, want errors on exactly %v", got, tt.want)
			}
			for _, f := range tt.want {
				if got[f] == "" {
					t.Errorf("field %q not reported in %v", f, got)
				}
			}
		})
	}
}

func TestIsWorkday(t *testing.T) {
	t.Parallel()
	s := istanbul()
	for day, want := range map[int]bool{1: false, 2: true, 6: true, 7: false, 8: false} {
		d := calendar.Date{Year: 2024, Month: time.December, Day: day} // the 1st is a Sunday
		if got := s.IsWorkday(d); got != want {
			t.Errorf("IsWorkday(%v) = %v, want %v", d, got, want)
		}
	}
}

func TestStartOn(t *testing.T) {
	t.Parallel()
	at := func(tz string, start calendar.Clock) Schedule {
		s := istanbul()
		s.Timezone, s.WorkStart = tz, start
		return s
	}
	tests := []struct {
		name     string
		schedule Schedule
		date     calendar.Date
		want     time.Time
	}{
		{name: "istanbul", schedule: at("Europe/Istanbul", 8*60), date: calendar.Date{Year: 2024, Month: 12, Day: 2},
			want: time.Date(2024, 12, 2, 5, 0, 0, 0, time.UTC)},
		{name: "new york before spring forward", schedule: at("America/New_York", 8*60), date: calendar.Date{Year: 2024, Month: 3, Day: 9},
			want: time.Date(2024, 3, 9, 13, 0, 0, 0, time.UTC)},
		{name: "new york spring forward day", schedule: at("America/New_York", 8*60), date: calendar.Date{Year: 2024, Month: 3, Day: 10},
			want: time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)},
		{name: "new york fall back day", schedule: at("America/New_York", 8*60), date: calendar.Date{Year: 2024, Month: 11, Day: 3},
			want: time.Date(2024, 11, 3, 13, 0, 0, 0, time.UTC)},
		{name: "new york fall back, before the change", schedule: at("America/New_York", 60), date: calendar.Date{Year: 2024, Month: 11, Day: 2},
			want: time.Date(2024, 11, 2, 5, 0, 0, 0, time.UTC)},
		{name: "kiritimati", schedule: at("Pacific/Kiritimati", 8*60), date: calendar.Date{Year: 2024, Month: 12, Day: 2},
			want: time.Date(2024, 12, 1, 18, 0, 0, 0, time.UTC)},
		{name: "pago pago", schedule: at("Pacific/Pago_Pago", 8*60), date: calendar.Date{Year: 2024, Month: 12, Day: 2},
			want: time.Date(2024, 12, 2, 19, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.schedule.StartOn(tt.date); !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got.UTC(), tt.want)
			}
		})
	}
}

func TestScheduleEndOn(t *testing.T) {
	t.Parallel()
	night := Schedule{Timezone: "Europe/Berlin", WorkStart: 22 * 60, WorkEnd: 6 * 60, Workdays: []int{1, 2, 3, 4, 5, 6, 7}}
	day := Schedule{Timezone: "Europe/Berlin", WorkStart: 8 * 60, WorkEnd: 17 * 60, Workdays: []int{1, 2, 3, 4, 5}}
	tests := []struct {
		name       string
		s          Schedule
		d          calendar.Date
		start, end string
		hours      float64
	}{
		{name: "day shift", s: day, d: calendar.Date{Year: 2025, Month: 3, Day: 3}, start: "2025-03-03T07:00:00Z", end: "2025-03-03T16:00:00Z", hours: 9},
		{name: "night shift", s: night, d: calendar.Date{Year: 2025, Month: 3, Day: 3}, start: "2025-03-03T21:00:00Z", end: "2025-03-04T05:00:00Z", hours: 8},
		{name: "night the clocks go forward", s: night, d: calendar.Date{Year: 2025, Month: 3, Day: 29}, start: "2025-03-29T21:00:00Z", end: "2025-03-30T04:00:00Z", hours: 7},
		{name: "night the clocks go back", s: night, d: calendar.Date{Year: 2025, Month: 10, Day: 25}, start: "2025-10-25T20:00:00Z", end: "2025-10-26T05:00:00Z", hours: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start, end := tt.s.StartOn(tt.d), tt.s.EndOn(tt.d)
			if got := start.UTC().Format(time.RFC3339); got != tt.start {
				t.Errorf("start: got %s, want %s", got, tt.start)
			}
			if got := end.UTC().Format(time.RFC3339); got != tt.end {
				t.Errorf("end: got %s, want %s", got, tt.end)
			}
			if got := end.Sub(start).Hours(); got != tt.hours {
				t.Errorf("length: got %vh, want %vh", got, tt.hours)
			}
		})
	}
}
