// Package access is who may do what: one table of actions, roles and the
// relationship between the actor and the employee acted on, asked through
// Allowed by every route and every handler that acts on someone.
package access

import "github.com/acme/employee-tracking/domain/employee"

// Action is something a user asks the system to do or to show.
type Action string

// The actions of the API.
const (
	// EmployeeRead is seeing an employee and what is recorded about them:
	// attendance, leave requests and balances, report rows.
	EmployeeRead    Action = "employee.read"
	EmployeeList    Action = "employee.list"
	EmployeeHistory Action = "employee.history" // every event about an employee
	// EmployeeRegister is registering someone with the role employee.
	EmployeeRegister Action = "employee.register"
	// EmployeeAssignRole is giving someone any other role, at registration
	// or later.
	EmployeeAssignRole Action = "employee.assign_role"
	// EmployeeChange is changing someone's schedule, manager or position, or
	// reactivating them.
	EmployeeChange     Action = "employee.change"
	EmployeeDeactivate Action = "employee.deactivate"
	// EmployeeErase is erasing someone's personal data (crypto-shredding).
	EmployeeErase Action = "employee.erase"
	// EmployeeExport is the access export: everything held about someone.
	EmployeeExport Action = "employee.export"
	// EmployeeImport is registering everyone of a file, in any role.
	EmployeeImport Action = "employee.import"

	AttendanceRecord Action = "attendance.record" // a check-in or check-out, always the actor's own
	// AttendanceCorrect is filing a correction of someone's day;
	// AttendanceDecideCorrection is approving or rejecting one.
	AttendanceCorrect          Action = "attendance.correct"
	AttendanceDecideCorrection Action = "attendance.decide_correction"

	LeaveRequest        Action = "leave.request"
	LeaveDecide         Action = "leave.decide"
	LeaveCancel         Action = "leave.cancel" // a request not yet approved
	LeaveCancelApproved Action = "leave.cancel_approved"
	LeaveSetEntitlement Action = "leave.set_entitlement"
	// LeaveRequestFor is filing leave for someone else, past dates
	// included; LeaveAdjust is crediting or debiting a balance by hand.
	LeaveRequestFor Action = "leave.request_for"
	LeaveAdjust     Action = "leave.adjust"

	// LeaveTypeRead is seeing the company's leave types; LeaveTypeDefine and
	// LeaveTypeChange are making and changing them.
	LeaveTypeRead   Action = "leave_type.read"
	LeaveTypeDefine Action = "leave_type.define"
	LeaveTypeChange Action = "leave_type.change"

	// LeaveBlockRead is seeing the blocked periods, which everyone who may
	// request leave needs to know; LeaveBlockAdd and LeaveBlockRemove are
	// making and lifting them.
	LeaveBlockRead   Action = "leave_block.read"
	LeaveBlockAdd    Action = "leave_block.add"
	LeaveBlockRemove Action = "leave_block.remove"

	// LeaveCalendar is seeing the team calendar. Its days narrow by
	// EmployeeRead: the pending and approved leave of the others whose records
	// the caller reads (a manager's reports, everyone for admins and
	// auditors), or else the approved leave of the caller's team, those who
	// share their manager.
	LeaveCalendar Action = "leave.calendar"

	HolidayRead     Action = "holiday.read"
	HolidayDeclare  Action = "holiday.declare"
	HolidayWithdraw Action = "holiday.withdraw"
	// HolidayCalendarRead is seeing the holiday calendars of the company's
	// places; HolidayCalendarDefine is making one.
	HolidayCalendarRead   Action = "holiday_calendar.read"
	HolidayCalendarDefine Action = "holiday_calendar.define"

	NotificationRead     Action = "notification.read" // the actor's own, listed or pushed
	NotificationMarkRead Action = "notification.mark_read"

	AuditRead Action = "audit.read" // the whole event feed

	// ApprovalPolicyRead and ApprovalPolicySet are seeing and replacing the
	// company's approval chains.
	ApprovalPolicyRead Action = "approval_policy.read"
	ApprovalPolicySet  Action = "approval_policy.set"
	// DelegationGrant and DelegationRevoke are giving and taking back a
	// manager's approvals to a delegate, the relationship being the
	// manager's; DelegationList is seeing delegations, one's own (given or
	// received) in the Self relationship.
	DelegationGrant  Action = "delegation.grant"
	DelegationRevoke Action = "delegation.revoke"
	DelegationList   Action = "delegation.list"

	// PasswordChange is changing one's own password, which ends one's
	// sessions; PasswordReset is setting someone else's.
	PasswordChange Action = "password.change"
	PasswordReset  Action = "password.reset"
)

// Relationship is how the employee acted on relates to the actor. As a set,
// it says in which relationships a role may perform an action.
type Relationship uint8

const (
	Self   Relationship = 1 << iota // the actor themselves
	Report                          // an employee whose manager is the actor
	Other                           // anyone else
	// Approver: the actor holds the approval step the employee's request
	// waits on (its approver, their delegate, or whom it was routed or
	// escalated to). Only the approval chain knows it: RelationOf never
	// answers it.
	Approver
)

// Anyone is every relationship.
const Anyone = Self | Report | Other

// Grants are, per role, the relationships in which it may perform an action;
// a role not listed may not perform it at all.
type Grants map[employee.Role]Relationship

// recordReaders see themselves, managers their reports too, admins and
// auditors everyone.
var recordReaders = Grants{
	employee.RoleEmployee: Self, employee.RoleManager: Self | Report,
	employee.RoleAdmin: Anyone, employee.RoleAuditor: Anyone,
}

// ownRecords is acting on one's own records, which everyone but an auditor
// does: an auditor reads everything and changes nothing.
var ownRecords = Grants{employee.RoleEmployee: Self, employee.RoleManager: Self, employee.RoleAdmin: Self}

var admins = Grants{employee.RoleAdmin: Anyone}

// everyone is every role, on anyone: what the whole company may see.
var everyone = Grants{employee.RoleEmployee: Anyone, employee.RoleManager: Anyone, employee.RoleAdmin: Anyone, employee.RoleAuditor: Anyone}

// policy is the one table of who may do what.
var policy = map[Action]Grants{
	EmployeeRead:    recordReaders,
	EmployeeList:    {employee.RoleManager: Report, employee.RoleAdmin: Anyone, employee.RoleAuditor: Anyone},
	EmployeeHistory: {employee.RoleManager: Report, employee.RoleAdmin: Anyone, employee.RoleAuditor: Anyone},
	// A manager adds people to their own team, never anyone with more rights.
	EmployeeRegister: {employee.RoleManager: Report, employee.RoleAdmin: Anyone},
	// Nobody changes their own role or deactivates themselves.
	EmployeeAssignRole: {employee.RoleAdmin: Report | Other},
	EmployeeChange:     admins,
	EmployeeImport:     admins,
	EmployeeDeactivate: {employee.RoleAdmin: Report | Other},
	// Erasing ends the login, so nobody erases themselves.
	EmployeeErase: {employee.RoleAdmin: Report | Other},
	// Everyone may have what is held about them; an admin, about anyone.
	EmployeeExport: {employee.RoleEmployee: Self, employee.RoleManager: Self, employee.RoleAdmin: Anyone, employee.RoleAuditor: Self},

	AttendanceRecord: ownRecords,
	// Nobody approves their own correction but an admin, as with leave.
	AttendanceCorrect: {employee.RoleEmployee: Self, employee.RoleManager: Self | Report, employee.RoleAdmin: Anyone},
	// Along a chain, as leave: whoever holds the step; without one, the manager.
	AttendanceDecideCorrection: {employee.RoleEmployee: Approver, employee.RoleManager: Report | Approver, employee.RoleAdmin: Anyone | Approver},

	LeaveRequest: ownRecords,
	// A step is decided by whoever holds it; an admin decides any step.
	LeaveDecide: {employee.RoleEmployee: Approver, employee.RoleManager: Approver, employee.RoleAdmin: Anyone | Approver},
	LeaveCancel: {employee.RoleEmployee: Self, employee.RoleManager: Self | Report, employee.RoleAdmin: Anyone},
	// Taken leave goes back through a manager.
	LeaveCancelApproved: {employee.RoleManager: Report, employee.RoleAdmin: Anyone},
	LeaveSetEntitlement: {employee.RoleManager: Report, employee.RoleAdmin: Anyone},
	LeaveRequestFor:     {employee.RoleManager: Report, employee.RoleAdmin: Report | Other},
	LeaveAdjust:         {employee.RoleManager: Report, employee.RoleAdmin: Anyone},

	LeaveTypeRead:   everyone,
	LeaveTypeDefine: admins,
	LeaveTypeChange: admins,

	LeaveBlockRead:   everyone,
	LeaveBlockAdd:    admins,
	LeaveBlockRemove: admins,
	LeaveCalendar:    everyone,

	HolidayRead:     everyone,
	HolidayDeclare:  admins,
	HolidayWithdraw: admins,

	HolidayCalendarRead:   everyone,
	HolidayCalendarDefine: admins,

	NotificationRead:     {employee.RoleEmployee: Self, employee.RoleManager: Self, employee.RoleAdmin: Self, employee.RoleAuditor: Self},
	NotificationMarkRead: ownRecords,

	AuditRead: {employee.RoleAdmin: Anyone, employee.RoleAuditor: Anyone},

	ApprovalPolicyRead: {employee.RoleAdmin: Anyone, employee.RoleAuditor: Anyone},
	ApprovalPolicySet:  admins,
	DelegationGrant:    {employee.RoleManager: Self, employee.RoleAdmin: Anyone},
	DelegationRevoke:   {employee.RoleManager: Self, employee.RoleAdmin: Anyone},
	DelegationList:     {employee.RoleEmployee: Self, employee.RoleManager: Self, employee.RoleAdmin: Anyone, employee.RoleAuditor: Anyone},

	// A credential is not a record: an auditor keeps their own password.
	PasswordChange: {employee.RoleEmployee: Self, employee.RoleManager: Self, employee.RoleAdmin: Self, employee.RoleAuditor: Self},
	PasswordReset:  admins,
}

// Actions lists every action of the table.
func Actions() []Action {
	out := make([]Action, 0, len(policy))
	for a := range policy {
		out = append(out, a)
	}
	return out
}

// Scope is the set of relationships in which actor may perform action; none
// for an action the table does not know.
func Scope(actor employee.Employee, action Action) Relationship {
	return policy[action][actor.Role]
}

// Allowed reports whether actor may perform action on someone in the
// relationship rel to them.
func Allowed(actor employee.Employee, action Action, rel Relationship) bool {
	return rel != 0 && Scope(actor, action)&rel == rel
}

// RelationOf is how target relates to actor. A target not yet registered
// (its EmployeeID empty) relates through its ManagerID alone.
func RelationOf(actor, target employee.Employee) Relationship {
	switch {
	case target.EmployeeID != "" && target.EmployeeID == actor.EmployeeID:
		return Self
	case target.ManagerID != "" && target.ManagerID == actor.EmployeeID:
		return Report
	default:
		return Other
	}
}
