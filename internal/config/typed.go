package config

import (
	"time"

	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
)

// LeavePolicy is the company's leave policy.
func (c Config) LeavePolicy() leave.Policy {
	return leave.Policy{
		AnnualDays: c.AnnualLeaveDays, LowThresholdDays: c.LowLeaveThresholdDays, LatenessDeductsLeave: c.LatenessDeductsLeave,
		CarryOverMaxDays: c.CarryOverMaxDays, CarryOverExpiresMonths: c.CarryOverExpiresMonths,
	}
}

// DefaultSchedule is the schedule of new employees: the configured hours in
// the company's time zone, Monday to Friday.
func (c Config) DefaultSchedule() employee.Schedule {
	start, _ := calendar.ParseClock(c.DefaultWorkStart) // validated by Load
	end, _ := calendar.ParseClock(c.DefaultWorkEnd)
	return employee.Schedule{
		Timezone: c.CompanyTimezone, WorkStart: start, WorkEnd: end,
		GraceMinutes: c.LateGraceMinutes, Workdays: []int{1, 2, 3, 4, 5},
	}
}

// DailyCheck is DAILY_CHECK_AT: when, in each employee's local time, the
// daily sweep looks at their day.
func (c Config) DailyCheck() calendar.Clock {
	at, _ := calendar.ParseClock(c.DailyCheckAt) // validated by Load
	return at
}

// AttendanceRules are EARLY_CHECKIN_MINUTES and AUTO_CHECKOUT_AFTER.
func (c Config) AttendanceRules() attendance.Rules {
	return attendance.Rules{EarlyCheckIn: time.Duration(c.EarlyCheckInMinutes) * time.Minute, AutoCheckoutAfter: c.AutoCheckoutAfter}
}

// ApprovalTiming is APPROVAL_REMINDER_AFTER and APPROVAL_ESCALATE_AFTER.
func (c Config) ApprovalTiming() approval.Timing {
	return approval.Timing{RemindAfter: c.ApprovalReminderAfter, EscalateAfter: c.ApprovalEscalateAfter}
}
