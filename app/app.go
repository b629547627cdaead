// Package app is the application layer: every use case of the system, as a
// command (app/command) that changes something or a query (app/query) that
// reads, gathered in Application. The HTTP API, etctl and the pipeline call
// them; they call the domain and the event store, and nothing outside.
package app

import (
	"time"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
)

// Application is every use case.
type Application struct {
	Commands Commands
	Queries  Queries
}

// Commands are the use cases that change something.
type Commands struct {
	RecordAttendance      *command.RecordAttendanceHandler
	RequestLeave          command.RequestLeaveHandler
	DecideLeave           command.DecideLeaveHandler
	CancelLeave           command.CancelLeaveHandler
	SetEntitlement        command.SetEntitlementHandler
	AdjustLeave           command.AdjustLeaveHandler
	RegisterEmployee      command.RegisterEmployeeHandler
	CreateAdmin           command.CreateAdminHandler
	ChangeEmployee        command.ChangeEmployeeHandler
	DeclareHoliday        command.DeclareHolidayHandler
	WithdrawHoliday       command.WithdrawHolidayHandler
	MarkNotificationRead  command.MarkNotificationReadHandler
	ChangePassword        command.ChangePasswordHandler
	ResetPassword         command.ResetPasswordHandler
	DefineLeaveType       command.DefineLeaveTypeHandler
	ChangeLeaveType       command.ChangeLeaveTypeHandler
	RequestCorrection     command.RequestCorrectionHandler
	DecideCorrection      command.DecideCorrectionHandler
	AddLeaveBlock         command.AddLeaveBlockHandler
	RemoveLeaveBlock      command.RemoveLeaveBlockHandler
	EraseEmployee         command.EraseEmployeeHandler
	SetApprovalPolicy     command.SetApprovalPolicyHandler
	DelegateApprovals     command.DelegateApprovalsHandler
	RevokeDelegation      command.RevokeDelegationHandler
	ChaseApproval         command.ChaseApprovalHandler
	DefineHolidayCalendar command.DefineHolidayCalendarHandler
	ImportEmployees       command.ImportEmployeesHandler
}

// Queries are the use cases that read: the event store, or the read models.
type Queries struct {
	Employee        query.EmployeeHandler
	Holidays        query.HolidaysHandler
	LeaveBalance    query.LeaveBalanceHandler
	LeaveTypes      query.LeaveTypesHandler
	LeaveRequest    query.LeaveRequestHandler
	LeaveBlocks     query.LeaveBlocksHandler
	LeaveCalendar   query.LeaveCalendarHandler
	TeamOverlap     query.TeamOverlapHandler
	ApprovalPolicy  query.ApprovalPolicyHandler
	EventFeed       query.EventFeedHandler
	EmployeeHistory query.EmployeeHistoryHandler
	ExportEmployee  query.ExportEmployeeHandler
	// ReadModels are the reads of the read models.
	ReadModels  query.ReadModels
	Seals       query.SealListHandler
	VerifySeals query.VerifySealsHandler
	EventProof  query.EventProofHandler
}

// EventStore is what the application needs of the event store;
// *eventstore.Store satisfies it.
type EventStore interface {
	command.EventStore
	query.EventStore
	command.LeaveRequests
	command.Corrections
	command.Delegations
}

// Deps are what the use cases are built on: the stores, the read models,
// and the company's settings as typed values.
type Deps struct {
	Store EventStore
	// Seals is the audit chain of the store.
	Seals       query.Seals
	Credentials command.Credentials
	ReadModels  query.ReadModels
	// Keys hold the keys of personal data, which erasing destroys.
	Keys command.PersonalKeys
	// ErasableReadModels forget what they show of an erased employee.
	ErasableReadModels command.ErasableReadModels
	// PasswordCost is bcrypt's cost for new password hashes.
	PasswordCost int
	LeavePolicy  leave.Policy
	// DefaultSchedule is the schedule of new employees.
	DefaultSchedule employee.Schedule
	// Attendance are the shift windows and the forgotten check-out delay;
	// attendance.DefaultRules when zero.
	Attendance attendance.Rules
	// Approvals are the waits before a pending step's reminder and
	// escalation; approval.DefaultTiming when zero.
	Approvals approval.Timing
	Now       func() time.Time
}

// New builds the application.
func New(d Deps) Application {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Approvals == (approval.Timing{}) {
		d.Approvals = approval.DefaultTiming()
	}
	if d.Attendance == (attendance.Rules{}) {
		d.Attendance = attendance.DefaultRules()
	}
	s, now := d.Store, command.Now(d.Now)
	holidays := command.NewRecentHolidays()
	balances := query.NewLeaveBalanceHandler(s, d.LeavePolicy, d.Now)
	// The default schedule's zone is the company's; without one, UTC.
	zone, err := d.DefaultSchedule.Location()
	if err != nil {
		zone = time.UTC
	}
	register := command.NewRegisterEmployeeHandler(s, d.Credentials, d.PasswordCost, d.LeavePolicy, d.DefaultSchedule, now)
	return Application{
		Commands: Commands{
			RecordAttendance:      command.NewRecordAttendanceHandler(s, holidays, d.Attendance, now),
			RequestLeave:          command.NewRequestLeaveHandler(s, d.LeavePolicy, now),
			DecideLeave:           command.NewDecideLeaveHandler(s, s, d.LeavePolicy, now),
			CancelLeave:           command.NewCancelLeaveHandler(s, s, d.LeavePolicy, now),
			SetEntitlement:        command.NewSetEntitlementHandler(s, d.LeavePolicy, now),
			AdjustLeave:           command.NewAdjustLeaveHandler(s, d.LeavePolicy, now),
			RegisterEmployee:      register,
			CreateAdmin:           command.NewCreateAdminHandler(s, d.Credentials, d.PasswordCost, d.LeavePolicy, d.DefaultSchedule, now),
			ChangeEmployee:        command.NewChangeEmployeeHandler(s, now),
			DeclareHoliday:        command.NewDeclareHolidayHandler(s, holidays, now),
			WithdrawHoliday:       command.NewWithdrawHolidayHandler(s, holidays, now),
			MarkNotificationRead:  command.NewMarkNotificationReadHandler(s, now),
			ChangePassword:        command.NewChangePasswordHandler(s, d.Credentials, d.PasswordCost, now),
			ResetPassword:         command.NewResetPasswordHandler(s, d.Credentials, d.PasswordCost, now),
			DefineLeaveType:       command.NewDefineLeaveTypeHandler(s, d.LeavePolicy, now),
			ChangeLeaveType:       command.NewChangeLeaveTypeHandler(s, d.LeavePolicy, zone, now),
			RequestCorrection:     command.NewRequestCorrectionHandler(s, d.Attendance, now),
			DecideCorrection:      command.NewDecideCorrectionHandler(s, s, now),
			AddLeaveBlock:         command.NewAddLeaveBlockHandler(s, d.LeavePolicy, now),
			RemoveLeaveBlock:      command.NewRemoveLeaveBlockHandler(s, now),
			EraseEmployee:         command.NewEraseEmployeeHandler(s, d.Keys, d.Credentials, d.ErasableReadModels, now),
			SetApprovalPolicy:     command.NewSetApprovalPolicyHandler(s, d.LeavePolicy, now),
			DelegateApprovals:     command.NewDelegateApprovalsHandler(s, now),
			RevokeDelegation:      command.NewRevokeDelegationHandler(s, s, now),
			ChaseApproval:         command.NewChaseApprovalHandler(s, d.LeavePolicy, d.Approvals, now),
			DefineHolidayCalendar: command.NewDefineHolidayCalendarHandler(s, now),
			ImportEmployees:       command.NewImportEmployeesHandler(register, d.Credentials),
		},
		Queries: Queries{
			Employee:        query.NewEmployeeHandler(s),
			Holidays:        query.NewHolidaysHandler(s),
			LeaveBalance:    balances,
			LeaveTypes:      query.NewLeaveTypesHandler(s, d.LeavePolicy),
			LeaveRequest:    query.NewLeaveRequestHandler(s, s, d.Now),
			LeaveBlocks:     query.NewLeaveBlocksHandler(s),
			LeaveCalendar:   query.NewLeaveCalendarHandler(d.ReadModels),
			TeamOverlap:     query.NewTeamOverlapHandler(query.NewEmployeeHandler(s), d.ReadModels),
			ApprovalPolicy:  query.NewApprovalPolicyHandler(s),
			EventFeed:       query.NewEventFeedHandler(s),
			EmployeeHistory: query.NewEmployeeHistoryHandler(s),
			ExportEmployee:  query.NewExportEmployeeHandler(s, balances, d.ReadModels),
			ReadModels:      d.ReadModels,
			Seals:           query.NewSealListHandler(d.Seals),
			VerifySeals:     query.NewVerifySealsHandler(d.Seals),
			EventProof:      query.NewEventProofHandler(d.Seals),
		},
	}
}

var _ EventStore = (*eventstore.Store)(nil)
