// Package app is the application layer: every use case of the system, as a
// command (app/command) that changes something or a query (app/query) that
// reads, gathered in Application. The HTTP API, etctl and the pipeline call
// them; they call the domain and the event store, and nothing outside.
package app

import (
	"time"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
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
	DefineHolidayCalendar command.DefineHolidayCalendarHandler
	ImportEmployees       command.ImportEmployeesHandler
}

// Queries are the use cases that read: the event store, or the read models.
type Queries struct {
	Employee        query.EmployeeHandler
	Holidays        query.HolidaysHandler
	LeaveAccount    query.LeaveAccountHandler
	LeaveTypes      query.LeaveTypesHandler
	LeaveRequest    query.LeaveRequestHandler
	EventFeed       query.EventFeedHandler
	EmployeeHistory query.EmployeeHistoryHandler
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
}

// Deps are what the use cases are built on: the stores, the read models,
// and the company's settings as typed values.
type Deps struct {
	Store EventStore
	// Seals is the audit chain of the store.
	Seals       query.Seals
	Credentials command.Credentials
	ReadModels  query.ReadModels
	// PasswordCost is bcrypt's cost for new password hashes.
	PasswordCost int
	LeavePolicy  leave.Policy
	// DefaultSchedule is the schedule of new employees.
	DefaultSchedule employee.Schedule
	// Attendance are the shift windows and the forgotten check-out delay;
	// attendance.DefaultRules when zero.
	Attendance attendance.Rules
	Now        func() time.Time
}

// New builds the application.
func New(d Deps) Application {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Attendance == (attendance.Rules{}) {
		d.Attendance = attendance.DefaultRules()
	}
	s, now := d.Store, command.Now(d.Now)
	holidays := command.NewRecentHolidays()
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
			DefineHolidayCalendar: command.NewDefineHolidayCalendarHandler(s, now),
			ImportEmployees:       command.NewImportEmployeesHandler(register, d.Credentials),
		},
		Queries: Queries{
			Employee:        query.NewEmployeeHandler(s),
			Holidays:        query.NewHolidaysHandler(s),
			LeaveAccount:    query.NewLeaveAccountHandler(s),
			LeaveTypes:      query.NewLeaveTypesHandler(s, d.LeavePolicy),
			LeaveRequest:    query.NewLeaveRequestHandler(s, s),
			EventFeed:       query.NewEventFeedHandler(s),
			EmployeeHistory: query.NewEmployeeHistoryHandler(s),
			ReadModels:      d.ReadModels,
			Seals:           query.NewSealListHandler(d.Seals),
			VerifySeals:     query.NewVerifySealsHandler(d.Seals),
			EventProof:      query.NewEventProofHandler(d.Seals),
		},
	}
}

var _ EventStore = (*eventstore.Store)(nil)
