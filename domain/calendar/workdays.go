package calendar

// Holidays maps each company holiday to its name.
type Holidays map[Date]string

// Contains reports whether d is a holiday; a nil Holidays has none.
func (h Holidays) Contains(d Date) bool {
	_, ok := h[d]
	return ok
}

// CountWorkdays counts the days from start to end, both included, whose ISO
// weekday is in workdays and that are not holidays. Values outside 1..7 and
// repeats in workdays are ignored. It is 0 when end is before start.
func CountWorkdays(start, end Date, workdays []int, holidays Holidays) int {
	if end.Before(start) {
		return 0
	}
	var isWorkday [8]bool
	perWeek := 0
	for _, w := range workdays {
		if w >= 1 && w <= 7 && !isWorkday[w] {
			isWorkday[w] = true
			perWeek++
		}
	}
	span := int(end.dayNumber() - start.dayNumber() + 1)
	// Whole weeks contribute perWeek each; the leftover days start on the
	// same weekday as start.
	n := span / 7 * perWeek
	first := start.ISOWeekday()
	for i := range span % 7 {
		if isWorkday[(first-1+i)%7+1] {
			n++
		}
	}
	for d := range holidays {
		if d.Valid() && !d.Before(start) && !d.After(end) && isWorkday[d.ISOWeekday()] {
			n--
		}
	}
	return n
}
