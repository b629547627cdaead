// Package saga holds the process managers: the sagas, which react to events
// (a late check-in, a low balance, a leave request or decision) with
// notifications and the lateness deduction, and the daily sweep, which
// reports absences and check-ins left open and grants the leave year. What
// they append has ids derived from its cause, so doing the work twice
// appends nothing. The pipeline in package projections runs them.
package saga
