package leave

// Amount is leave in minutes. Whole minutes keep lateness deductions exact
// where fractional days would round.
type Amount int64

// MinutesPerDay is one day of leave: an eight-hour working day.
const MinutesPerDay = 480

// Days is n whole days of leave.
func Days(n int) Amount { return Amount(n) * MinutesPerDay }

// Days is a in days, fractional when a is not whole days.
func (a Amount) Days() float64 { return float64(a) / MinutesPerDay }
