package command

import (
	"context"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
)

// DefineHolidayCalendar creates the holiday calendar of a place.
type DefineHolidayCalendar struct {
	Actor    employee.Employee
	Origin   Origin
	Calendar holiday.Calendar
}

// DefineHolidayCalendarHandler creates holiday calendars.
type DefineHolidayCalendarHandler struct {
	store EventStore
	now   Now
}

// NewDefineHolidayCalendarHandler returns the handler.
func NewDefineHolidayCalendarHandler(store EventStore, now Now) DefineHolidayCalendarHandler {
	return DefineHolidayCalendarHandler{store: store, now: now}
}

// Handle creates the calendar and returns it as recorded.
func (h DefineHolidayCalendarHandler) Handle(ctx context.Context, cmd DefineHolidayCalendar) (holiday.Calendar, error) {
	// The company's calendars are no one's record: the actor acts on no one.
	if access.Scope(cmd.Actor, access.HolidayCalendarDefine) == 0 {
		return holiday.Calendar{}, ErrForbidden
	}
	at := h.now()
	d, err := update(ctx, h.store, cmd.Origin, cmd.Actor.EmployeeID, holiday.CalendarsStream(), func(history []any) ([]any, error) {
		return holiday.DecideCalendar(holiday.ReplayCalendars(history), holiday.DefineCalendar{New: cmd.Calendar, By: cmd.Actor.EmployeeID}, at)
	})
	if err != nil {
		return holiday.Calendar{}, err
	}
	cal, _ := holiday.ReplayCalendars(d.after()).Get(cmd.Calendar.Code)
	return cal, nil
}
