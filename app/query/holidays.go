package query

import (
	"context"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/holiday"
)

// HolidaysHandler reads the holiday calendars.
type HolidaysHandler struct{ store command.EventStore }

// NewHolidaysHandler returns the handler.
func NewHolidaysHandler(store command.EventStore) HolidaysHandler {
	return HolidaysHandler{store: store}
}

// Handle returns the holidays of a year in the calendar code (the default
// one when empty): holiday.ErrUnknownCalendar when no calendar has code.
func (h HolidaysHandler) Handle(ctx context.Context, code string, year int) (calendar.Holidays, error) {
	code = holiday.CalendarCode(code)
	if err := command.RequireHolidayCalendar(ctx, h.store, code, "calendar"); err != nil {
		return nil, err
	}
	return command.LoadHolidays(ctx, h.store, code, year)
}

// Calendars returns every holiday calendar, the default one first.
func (h HolidaysHandler) Calendars(ctx context.Context) ([]holiday.Calendar, error) {
	cals, err := command.LoadHolidayCalendars(ctx, h.store)
	if err != nil {
		return nil, err
	}
	return cals.All(), nil
}
