// Package approval decides who approves a request, in which order, and who
// may decide the step a request waits on: the company's approval policy
// (rules by leave type and length, each naming its steps), the chain of steps
// of one request, delegations of a manager's approvals for a period, and the
// routing of a step around an approver who is away. It is pure: the callers
// load the people, the leave and the delegations it decides on.
package approval
