package query

import (
	"context"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/calendar"
)

// HolidaysHandler reads the company calendar.
type HolidaysHandler struct{ store command.EventStore }

// NewHolidaysHandler returns the handler.
func NewHolidaysHandler(store command.EventStore) HolidaysHandler {
	return HolidaysHandler{store: store}
}

// Handle returns the holidays of a year.
func (h HolidaysHandler) Handle(ctx context.Context, year int) (calendar.Holidays, error) {
	return command.LoadHolidays(ctx, h.store, year)
}
