package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
)

// DeclareHoliday declares a holiday in a calendar (the default one when
// empty).
type DeclareHoliday struct {
	Actor    employee.Employee
	Origin   Origin
	Calendar string
	Date     calendar.Date
	Name     string
}

// DeclareHolidayHandler declares holidays.
type DeclareHolidayHandler struct {
	store    EventStore
	holidays *RecentHolidays
	now      Now
}

// NewDeclareHolidayHandler returns the handler; a declaration forgets its
// year in holidays.
func NewDeclareHolidayHandler(store EventStore, holidays *RecentHolidays, now Now) DeclareHolidayHandler {
	return DeclareHolidayHandler{store: store, holidays: holidays, now: now}
}

// Handle declares the holiday and returns its name as recorded.
func (h DeclareHolidayHandler) Handle(ctx context.Context, cmd DeclareHoliday) (string, error) {
	// The company calendar is no one's record: the actor acts on no one.
	if access.Scope(cmd.Actor, access.HolidayDeclare) == 0 {
		return "", ErrForbidden
	}
	code := holiday.CalendarCode(cmd.Calendar)
	if err := checkHolidayCalendar(ctx, h.store, code, "calendar"); err != nil {
		return "", err
	}
	at := h.now()
	d, err := update(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, holiday.Stream(code, cmd.Date.Year), func(history []any) ([]any, error) {
		return holiday.Decide(holiday.Replay(history), holiday.Declare{Calendar: code, Date: cmd.Date, Name: cmd.Name}, at)
	})
	if err != nil {
		return "", err
	}
	h.holidays.forget(code, cmd.Date.Year)
	return holiday.Replay(d.after()).Holidays()[cmd.Date], nil
}
