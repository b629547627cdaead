package access_test

import (
	"fmt"
	"testing"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
)

func TestRelationOf(t *testing.T) {
	t.Parallel()
	mgr := employee.Employee{EmployeeID: "m", Role: employee.RoleManager}
	tests := []struct {
		name   string
		target employee.Employee
		want   access.Relationship
	}{
		{"themselves", employee.Employee{EmployeeID: "m"}, access.Self},
		{"their report", employee.Employee{EmployeeID: "e", ManagerID: "m"}, access.Report},
		{"another's report", employee.Employee{EmployeeID: "e", ManagerID: "x"}, access.Other},
		{"someone without a manager", employee.Employee{EmployeeID: "e"}, access.Other},
		{"a recruit for their team", employee.Employee{ManagerID: "m"}, access.Report},
		{"a recruit without a manager", employee.Employee{}, access.Other},
	}
	for _, tt := range tests {
		if got := access.RelationOf(mgr, tt.target); got != tt.want {
			t.Errorf("RelationOf(manager, %s) = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestAllowed checks the contract's sentences about roles against the table.
func TestAllowed(t *testing.T) {
	t.Parallel()
	var (
		emp     = employee.Employee{Role: employee.RoleEmployee}
		mgr     = employee.Employee{Role: employee.RoleManager}
		admin   = employee.Employee{Role: employee.RoleAdmin}
		auditor = employee.Employee{Role: employee.RoleAuditor}
	)
	tests := []struct {
		actor  employee.Employee
		action access.Action
		rel    access.Relationship
		want   bool
	}{
		{emp, access.AttendanceRecord, access.Self, true},
		{emp, access.LeaveRequest, access.Self, true},
		{emp, access.LeaveCancel, access.Self, true},
		{emp, access.LeaveCancelApproved, access.Self, false},
		{emp, access.EmployeeRead, access.Self, true},
		{emp, access.EmployeeRead, access.Other, false},
		{emp, access.EmployeeList, access.Self, false},
		{emp, access.EmployeeHistory, access.Self, false},
		{emp, access.EmployeeRegister, access.Other, false},
		// A step is decided by whoever holds it, a report's too.
		{mgr, access.LeaveDecide, access.Approver, true},
		{mgr, access.LeaveDecide, access.Report, false},
		{mgr, access.LeaveDecide, access.Self, false},
		{emp, access.LeaveDecide, access.Approver, true},
		{emp, access.LeaveDecide, access.Self, false},
		{auditor, access.LeaveDecide, access.Approver, false},
		{admin, access.LeaveDecide, access.Other, true},
		{mgr, access.DelegationGrant, access.Self, true},
		{mgr, access.DelegationGrant, access.Report, false},
		{emp, access.DelegationGrant, access.Self, false},
		{admin, access.DelegationGrant, access.Other, true},
		{mgr, access.ApprovalPolicySet, access.Other, false},
		{admin, access.ApprovalPolicySet, access.Other, true},
		{mgr, access.LeaveDecide, access.Other, false},
		{mgr, access.LeaveCancelApproved, access.Report, true},
		{mgr, access.LeaveCancelApproved, access.Self, false},
		{mgr, access.LeaveSetEntitlement, access.Report, true},
		{emp, access.LeaveRequestFor, access.Other, false},
		{mgr, access.LeaveRequestFor, access.Report, true},
		{mgr, access.LeaveRequestFor, access.Other, false},
		{admin, access.LeaveRequestFor, access.Other, true},
		{auditor, access.LeaveRequestFor, access.Other, false},
		{emp, access.LeaveAdjust, access.Self, false},
		{mgr, access.LeaveAdjust, access.Report, true},
		{mgr, access.LeaveAdjust, access.Self, false},
		{admin, access.LeaveAdjust, access.Other, true},
		{auditor, access.LeaveAdjust, access.Other, false},
		{mgr, access.EmployeeRegister, access.Report, true},
		{mgr, access.EmployeeRegister, access.Other, false},
		{mgr, access.EmployeeAssignRole, access.Report, false},
		{mgr, access.EmployeeRead, access.Report, true},
		{mgr, access.EmployeeRead, access.Other, false},
		{mgr, access.EmployeeChange, access.Report, false},
		{mgr, access.HolidayDeclare, access.Other, false},
		{mgr, access.HolidayCalendarDefine, access.Other, false},
		{mgr, access.HolidayCalendarRead, access.Other, true},
		{mgr, access.EmployeeImport, access.Report, false},
		{mgr, access.AuditRead, access.Other, false},
		{admin, access.LeaveDecide, access.Self, true},
		{admin, access.EmployeeChange, access.Self, true},
		{admin, access.EmployeeAssignRole, access.Self, false},
		{admin, access.EmployeeDeactivate, access.Self, false},
		{admin, access.EmployeeDeactivate, access.Other, true},
		{admin, access.HolidayWithdraw, access.Other, true},
		{admin, access.HolidayCalendarDefine, access.Other, true},
		{admin, access.EmployeeImport, access.Other, true},
		{auditor, access.EmployeeRead, access.Other, true},
		{auditor, access.AuditRead, access.Other, true},
		{auditor, access.AttendanceRecord, access.Self, false},
		{auditor, access.LeaveRequest, access.Self, false},
		{auditor, access.LeaveCancel, access.Self, false},
		{auditor, access.NotificationMarkRead, access.Self, false},
		{emp, access.AttendanceCorrect, access.Self, true},
		{emp, access.AttendanceCorrect, access.Other, false},
		{emp, access.AttendanceDecideCorrection, access.Self, false},
		{mgr, access.AttendanceCorrect, access.Self, true},
		{mgr, access.AttendanceCorrect, access.Report, true},
		{mgr, access.AttendanceCorrect, access.Other, false},
		{mgr, access.AttendanceDecideCorrection, access.Report, true},
		{mgr, access.AttendanceDecideCorrection, access.Self, false},
		{mgr, access.AttendanceDecideCorrection, access.Other, false},
		{admin, access.AttendanceCorrect, access.Other, true},
		{admin, access.AttendanceDecideCorrection, access.Other, true},
		{auditor, access.AttendanceCorrect, access.Self, false},
		{auditor, access.AttendanceDecideCorrection, access.Other, false},
		{admin, access.Action("employee.unknown"), access.Self, false},
		{admin, access.LeaveDecide, 0, false},
	}
	for _, tt := range tests {
		if got := access.Allowed(tt.actor, tt.action, tt.rel); got != tt.want {
			t.Errorf("Allowed(%s, %s, %d) = %t, want %t", tt.actor.Role, tt.action, tt.rel, got, tt.want)
		}
	}
}

func TestEraseAndExport(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		role   employee.Role
		action access.Action
		rel    access.Relationship
		want   bool
	}{
		{employee.RoleAdmin, access.EmployeeErase, access.Other, true},
		{employee.RoleAdmin, access.EmployeeErase, access.Report, true},
		{employee.RoleAdmin, access.EmployeeErase, access.Self, false},
		{employee.RoleManager, access.EmployeeErase, access.Report, false},
		{employee.RoleAuditor, access.EmployeeErase, access.Other, false},
		{employee.RoleAdmin, access.EmployeeExport, access.Other, true},
		{employee.RoleEmployee, access.EmployeeExport, access.Self, true},
		{employee.RoleManager, access.EmployeeExport, access.Report, false},
		{employee.RoleAuditor, access.EmployeeExport, access.Other, false},
	} {
		if got := access.Allowed(employee.Employee{Role: tt.role}, tt.action, tt.rel); got != tt.want {
			t.Errorf("Allowed(%s, %s, %d) = %t, want %t", tt.role, tt.action, tt.rel, got, tt.want)
		}
	}
}

// TestAuditorOnlyReads: an auditor reads everything and changes nothing.
func TestAuditorOnlyReads(t *testing.T) {
	t.Parallel()
	reads := map[access.Action]access.Relationship{
		access.EmployeeRead: access.Anyone, access.EmployeeList: access.Anyone, access.EmployeeHistory: access.Anyone,
		access.HolidayRead: access.Anyone, access.LeaveTypeRead: access.Anyone, access.AuditRead: access.Anyone,
		access.LeaveBlockRead: access.Anyone, access.LeaveCalendar: access.Anyone,
		access.ApprovalPolicyRead: access.Anyone, access.DelegationList: access.Anyone,
		access.HolidayCalendarRead: access.Anyone,
		access.NotificationRead:    access.Self, // notifications are addressed to one user
		access.PasswordChange:      access.Self, // their own credential, not a record
		access.EmployeeExport:      access.Self, // what is held about them
	}
	auditor := employee.Employee{Role: employee.RoleAuditor}
	for _, action := range access.Actions() {
		if got, want := access.Scope(auditor, action), reads[action]; got != want {
			t.Errorf("auditor's scope of %s = %d, want %d", action, got, want)
		}
	}
}

func ExampleAllowed() {
	mgr := employee.Employee{EmployeeID: "m", Role: employee.RoleManager}
	report := employee.Employee{EmployeeID: "e", ManagerID: "m"}
	fmt.Println(access.Allowed(mgr, access.LeaveSetEntitlement, access.RelationOf(mgr, report)))
	fmt.Println(access.Allowed(mgr, access.LeaveSetEntitlement, access.RelationOf(mgr, mgr)))
	// Output:
	// true
	// false
}
