package calendar

import (
	"testing"
	"time"
)

var monToFri = []int{1, 2, 3, 4, 5}

func TestCountWorkdays(t *testing.T) {
	t.Parallel()
	d := func(s string) Date {
		t.Helper()
		v, err := ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name       string
		start, end string
		workdays   []int
		holidays   Holidays
		want       int
	}{
		// 2024-12-01 is a Sunday: the range holds Mon-Thu only.
		{name: "sunday to thursday", start: "2024-12-01", end: "2024-12-05", workdays: monToFri, want: 4},
		{name: "one workday", start: "2024-12-02", end: "2024-12-02", workdays: monToFri, want: 1},
		{name: "weekend only", start: "2024-12-07", end: "2024-12-08", workdays: monToFri, want: 0},
		{name: "two full weeks", start: "2024-12-02", end: "2024-12-15", workdays: monToFri, want: 10},
		{name: "end before start", start: "2024-12-05", end: "2024-12-01", workdays: monToFri, want: 0},
		{name: "holiday on a workday", start: "2024-12-02", end: "2024-12-06", workdays: monToFri,
			holidays: Holidays{d("2024-12-04"): "Founders' Day"}, want: 4},
		{name: "holiday on a weekend is not subtracted twice", start: "2024-12-02", end: "2024-12-08", workdays: monToFri,
			holidays: Holidays{d("2024-12-07"): "Saturday holiday"}, want: 5},
		{name: "holiday outside the range", start: "2024-12-02", end: "2024-12-06", workdays: monToFri,
			holidays: Holidays{d("2024-12-09"): "later"}, want: 5},
		{name: "six-day week", start: "2024-12-01", end: "2024-12-31", workdays: []int{1, 2, 3, 4, 5, 6}, want: 26},
		{name: "repeated and bogus workdays ignored", start: "2024-12-02", end: "2024-12-08", workdays: []int{1, 1, 0, 8, -3}, want: 1},
		{name: "no workdays", start: "2024-12-02", end: "2024-12-08", workdays: nil, want: 0},
		{name: "leap year", start: "2024-01-01", end: "2024-12-31", workdays: []int{1, 2, 3, 4, 5, 6, 7}, want: 366},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := CountWorkdays(d(tt.start), d(tt.end), tt.workdays, tt.holidays); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestHolidaysContains(t *testing.T) {
	t.Parallel()
	var none Holidays
	day := Date{2024, time.January, 1}
	if none.Contains(day) {
		t.Error("nil Holidays contains a date")
	}
	if !(Holidays{day: "New Year"}).Contains(day) {
		t.Error("Holidays misses its own date")
	}
}

// naiveWorkdays walks the range one day at a time.
func naiveWorkdays(start, end Date, workdays []int, holidays Holidays) int {
	n := 0
	for d := start; !d.After(end); d = d.AddDays(1) {
		for _, w := range workdays {
			if w == d.ISOWeekday() {
				if !holidays.Contains(d) {
					n++
				}
				break
			}
		}
	}
	return n
}

func FuzzCountWorkdays(f *testing.F) {
	f.Add(int32(0), uint16(4), uint8(0b0011111), uint64(0))
	f.Add(int32(-400), uint16(800), uint8(0b1111111), uint64(0xdeadbeef))
	f.Add(int32(58), uint16(0), uint8(0b1000001), uint64(1))
	f.Add(int32(10), uint16(3), uint8(0), uint64(7))
	f.Fuzz(func(t *testing.T, offset int32, spanSeed uint16, mask uint8, holidaySeed uint64) {
		base := Date{2024, time.December, 1}
		start := base.AddDays(int(offset % 20000))
		span := int(spanSeed % 1200)
		end := start.AddDays(span - 1) // span 0 makes end the day before start
		var workdays []int
		for w := 1; w <= 7; w++ {
			if mask&(1<<(w-1)) != 0 {
				workdays = append(workdays, w, w) // repeats must not count twice
			}
		}
		holidays := Holidays{}
		for i := range 8 {
			// Spread holidays around and beyond the range.
			k := int((holidaySeed >> (i * 8)) & 0xff)
			holidays[start.AddDays(k*span/128-2)] = "h"
		}

		got := CountWorkdays(start, end, workdays, holidays)
		if want := naiveWorkdays(start, end, workdays, holidays); got != want {
			t.Fatalf("CountWorkdays(%v, %v, %v) = %d, naive count %d", start, end, workdays, got, want)
		}
		if got < 0 || got > span {
			t.Fatalf("CountWorkdays(%v, %v) = %d, want within [0, %d]", start, end, got, span)
		}
	})
}
