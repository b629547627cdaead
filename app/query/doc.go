// Package query holds the use cases that read what the commands recorded
// straight from the event store: an employee, the holidays, a leave account,
// the audit feed. The read models' queries join them in the next step.
package query
