package http

// The problem documents of the OpenAPI document. The server answers every
// error as a Problem; these types only give each endpoint's failures an
// example that is an answer the endpoint gives, status and words included.

// UnauthorizedProblem answers a request without a valid access token.
type UnauthorizedProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Unauthorized"`
	Status int    `json:"status" example:"401"`
	Detail string `json:"detail" example:"missing or invalid access token"`
}

// ForbiddenProblem answers a caller whose role or relation does not allow the request.
type ForbiddenProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Forbidden"`
	Status int    `json:"status" example:"403"`
	Detail string `json:"detail" example:"you are not allowed to do this"`
}

// NotFoundProblem answers an unknown id, and an id the caller may not see.
type NotFoundProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Not Found"`
	Status int    `json:"status" example:"404"`
	Detail string `json:"detail" example:"not found"`
}

// ListQueryProblem answers a list's malformed query parameter.
type ListQueryProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid query parameters"`
	Errors map[string]string `json:"errors" example:"limit:must be a whole number from 1 to 500"`
}

// UnpagedListQueryProblem answers a cursor given to a list that is never paged.
type UnpagedListQueryProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid query parameters"`
	Errors map[string]string `json:"errors" example:"after:must be empty: this list is not paged"`
}

// AttendanceQueryProblem answers a malformed range of attendance days.
type AttendanceQueryProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid query parameters"`
	Errors map[string]string `json:"errors" example:"to:must not be before from"`
}

// YearQueryProblem answers a year that is not a calendar year.
type YearQueryProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid query parameters"`
	Errors map[string]string `json:"errors" example:"year:must be a whole number from 1 to 9999"`
}

// ReportQueryProblem answers a month that is not one.
type ReportQueryProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid query parameters"`
	Errors map[string]string `json:"errors" example:"month:must be a whole number from 1 to 12"`
}

// AttendanceInputProblem answers a check-in or check-out of another type.
type AttendanceInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"type:must be \"check-in\" or \"check-out\""`
}

// RegistrationInputProblem answers a registration missing a field.
type RegistrationInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"full_name:required"`
}

// EmployeeChangeInputProblem answers a change naming a manager who cannot be one.
type EmployeeChangeInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"manager_id:must name an active manager or admin"`
}

// HolidayInputProblem answers a holiday without a name.
type HolidayInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"name:required"`
}

// LeaveInputProblem answers a leave request that ends before it starts.
type LeaveInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"end_date:must not be before start_date"`
}

// AdjustmentInputProblem answers an adjustment without a reason.
type AdjustmentInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"reason:required"`
}

// DecisionInputProblem answers a decision that is neither approval nor rejection.
type DecisionInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"status:must be \"approved\" or \"rejected\""`
}

// EntitlementInputProblem answers an entitlement without its days.
type EntitlementInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"entitlement_days:required"`
}

// CheckedInProblem answers a second check-in without a check-out.
type CheckedInProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Conflict"`
	Status int    `json:"status" example:"409"`
	Detail string `json:"detail" example:"already checked in: check out first"`
}

// EmailTakenProblem answers a registration with an email in use.
type EmailTakenProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Conflict"`
	Status int    `json:"status" example:"409"`
	Detail string `json:"detail" example:"email is already registered"`
}

// InactiveEmployeeProblem answers a change of a deactivated employee.
type InactiveEmployeeProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Conflict"`
	Status int    `json:"status" example:"409"`
	Detail string `json:"detail" example:"employee is inactive"`
}

// LeaveTypeInputProblem answers a leave type without a code.
type LeaveTypeInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"code:required"`
}

// LeaveTypeChangeInputProblem answers a change of a leave type's code.
type LeaveTypeChangeInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"code:cannot be changed"`
}

// LeaveTypeExistsProblem answers a second leave type with one code.
type LeaveTypeExistsProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Conflict"`
	Status int    `json:"status" example:"409"`
	Detail string `json:"detail" example:"a leave type with that code exists"`
}

// HolidayDeclaredProblem answers a second holiday on one date.
type HolidayDeclaredProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Conflict"`
	Status int    `json:"status" example:"409"`
	Detail string `json:"detail" example:"holiday already declared on that date"`
}

// NotPendingProblem answers a decision on a request already decided.
type NotPendingProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Conflict"`
	Status int    `json:"status" example:"409"`
	Detail string `json:"detail" example:"leave request is not pending"`
}

// NotCancellableProblem answers a cancellation of a rejected or cancelled request.
type NotCancellableProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Conflict"`
	Status int    `json:"status" example:"409"`
	Detail string `json:"detail" example:"only a pending or approved leave request can be cancelled"`
}

// InsufficientBalanceProblem answers leave past the balance.
type InsufficientBalanceProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Unprocessable Entity"`
	Status int    `json:"status" example:"422"`
	Detail string `json:"detail" example:"insufficient leave balance: requested 5 days, available 2 days"`
}

// HolidayCalendarQueryProblem answers a holiday calendar code no calendar
// could have.
type HolidayCalendarQueryProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid query parameters"`
	Errors map[string]string `json:"errors" example:"calendar:must be 2 to 32 of a-z 0-9 _ starting with a letter"`
}

// HolidayCalendarInputProblem answers a holiday calendar with a malformed
// code.
type HolidayCalendarInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"code:must be 2 to 32 of a-z 0-9 _ starting with a letter"`
}

// CorrectionInputProblem answers a correction without its reason.
type CorrectionInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"reason:required"`
}

// LeaveBlockedProblem answers a leave request on a blocked day: block names
// the period that refused it.
type LeaveBlockedProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Unprocessable Entity"`
	Status int               `json:"status" example:"422"`
	Detail string            `json:"detail" example:"leave is blocked from 2025-03-03 to 2025-03-07: stocktaking"`
	Block  BlockedPeriodJSON `json:"block"`
}

// LeaveBlockInputProblem answers a blocked period without a reason.
type LeaveBlockInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"reason:required"`
}

// CorrectionRuleProblem answers a correction whose times do not fit its day.
type CorrectionRuleProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Unprocessable Entity"`
	Status int    `json:"status" example:"422"`
	Detail string `json:"detail" example:"check_out must be after the check-in it closes"`
}

// CorrectionNotPendingProblem answers a decision on a correction already decided.
type CorrectionNotPendingProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Conflict"`
	Status int    `json:"status" example:"409"`
	Detail string `json:"detail" example:"the correction is not pending"`
}

// ApprovalPolicyInputProblem answers a rule without steps.
type ApprovalPolicyInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"rules[0].steps:must name at least one step"`
}

// DelegationInputProblem answers a delegation that ends before it starts.
type DelegationInputProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Bad Request"`
	Status int               `json:"status" example:"400"`
	Detail string            `json:"detail" example:"invalid input"`
	Errors map[string]string `json:"errors" example:"end_date:must not be before start_date"`
}

// HolidayCalendarExistsProblem answers a second holiday calendar with one
// code.
type HolidayCalendarExistsProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Conflict"`
	Status int    `json:"status" example:"409"`
	Detail string `json:"detail" example:"a holiday calendar with that code exists"`
}

// UnknownHolidayCalendarProblem answers a holiday declared in a calendar no
// one made.
type UnknownHolidayCalendarProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Unprocessable Entity"`
	Status int               `json:"status" example:"422"`
	Detail string            `json:"detail" example:"no holiday calendar has that code"`
	Errors map[string]string `json:"errors" example:"calendar:must name a holiday calendar"`
}

// EmployeeHolidayCalendarProblem answers an employee given a holiday
// calendar no one made.
type EmployeeHolidayCalendarProblem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title" example:"Unprocessable Entity"`
	Status int               `json:"status" example:"422"`
	Detail string            `json:"detail" example:"no holiday calendar has that code"`
	Errors map[string]string `json:"errors" example:"holiday_calendar:must name a holiday calendar"`
}

// ImportHeaderProblem answers a file of employees that does not start with
// the header.
type ImportHeaderProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Bad Request"`
	Status int    `json:"status" example:"400"`
	Detail string `json:"detail" example:"the first line must be the header email,full_name,role,manager_email,position,hire_date,timezone,work_start,work_end,workdays,password"`
}

// ImportTooLargeProblem answers a file of more than 10,000 employees or 8
// MiB.
type ImportTooLargeProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Request Entity Too Large"`
	Status int    `json:"status" example:"413"`
	Detail string `json:"detail" example:"Request Entity Too Large"`
}

// ImportMediaTypeProblem answers a file of employees that is not CSV in
// UTF-8.
type ImportMediaTypeProblem struct {
	Type   string `json:"type" example:"about:blank"`
	Title  string `json:"title" example:"Unsupported Media Type"`
	Status int    `json:"status" example:"415"`
	Detail string `json:"detail" example:"Unsupported Media Type"`
}
