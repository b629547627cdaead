package leave_test

import (
	"fmt"
	"time"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/leave"
)

// A request is priced in the employee's workdays, approved, and the
// approval that takes the balance below the threshold reports it.
func Example() {
	policy := leave.DefaultPolicy()
	now := time.Date(2024, time.November, 20, 9, 0, 0, 0, time.UTC)
	employment := leave.Employment{HireDate: calendar.Date{Year: 2023, Month: time.June, Day: 1}, Today: calendar.DateOf(now, time.UTC)}
	var account leave.Account
	run := func(cmd leave.Command) {
		events, err := leave.Decide(account, cmd, policy, now)
		if err != nil {
			fmt.Println("refused:", err)
			return
		}
		for _, ev := range events {
			fmt.Println(ev.(interface{ EventName() string }).EventName())
			account.Apply(ev)
		}
	}

	start, _ := calendar.ParseDate("2024-12-01") // a Sunday
	end, _ := calendar.ParseDate("2024-12-18")
	run(leave.Request{
		RequestID: "r1", EmployeeID: "e1", Start: start, End: end,
		Workdays: []int{1, 2, 3, 4, 5}, Employment: employment,
	})
	run(leave.Approve{RequestID: "r1", By: "m1", Employment: employment})
	run(leave.Approve{RequestID: "r1", By: "m1", Employment: employment})

	b := account.Balance(leave.ReplayTypes(policy, nil), leave.BalanceOf{Type: leave.TypeAnnual, Year: 2024, Employment: employment})
	fmt.Printf("used %.1f, remaining %.1f, available %.1f days\n", b.Used.Days(), b.Remaining.Days(), b.Available.Days())
	// Output:
	// leave.granted
	// leave.requested
	// leave.approved
	// leave.low_balance_reached
	// refused: leave request is not pending
	// used 13.0, remaining 2.0, available 2.0 days
}
