package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
)

// WithdrawHoliday withdraws a holiday declared in a calendar (the default
// one when empty).
type WithdrawHoliday struct {
	Actor    employee.Employee
	Origin   Origin
	Calendar string
	Date     calendar.Date
}

// WithdrawHolidayHandler withdraws holidays.
type WithdrawHolidayHandler struct {
	store    EventStore
	holidays *RecentHolidays
	now      Now
}

// NewWithdrawHolidayHandler returns the handler; a withdrawal forgets its
// year in holidays.
func NewWithdrawHolidayHandler(store EventStore, holidays *RecentHolidays, now Now) WithdrawHolidayHandler {
	return WithdrawHolidayHandler{store: store, holidays: holidays, now: now}
}

// Handle withdraws the holiday.
func (h WithdrawHolidayHandler) Handle(ctx context.Context, cmd WithdrawHoliday) error {
	if access.Scope(cmd.Actor, access.HolidayWithdraw) == 0 {
		return ErrForbidden
	}
	code := holiday.CalendarCode(cmd.Calendar)
	if err := RequireHolidayCalendar(ctx, h.store, code, "calendar"); err != nil {
		return err
	}
	at := h.now()
	_, err := update(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, holiday.Stream(code, cmd.Date.Year), func(history []any) ([]any, error) {
		return holiday.Decide(holiday.Replay(history), holiday.Withdraw{Calendar: code, Date: cmd.Date}, at)
	})
	if err != nil {
		return err
	}
	h.holidays.forget(code, cmd.Date.Year)
	return nil
}
