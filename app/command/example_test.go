package command_test

import (
	"fmt"

	"github.com/acme/employee-tracking/app/command"
)

// An employee's id follows from their email, whatever its case, so a
// repeated registration names the same streams.
func ExampleEmployeeID() {
	fmt.Println(command.EmployeeID("Ayse@Example.com") == command.EmployeeID("ayse@example.com"))
	// Output: true
}
