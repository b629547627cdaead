package http

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/holiday"
)

// HolidayCalendarJSON is the holiday calendar of a place.
type HolidayCalendarJSON struct {
	Code string `json:"code" example:"berlin"`
	Name string `json:"name" example:"Berlin office"`
}

// HolidayCalendarPage is every holiday calendar, never paged: next_after is
// always null.
type HolidayCalendarPage struct {
	Items     []HolidayCalendarJSON `json:"items"`
	NextAfter *string               `json:"next_after"`
}

// handleListHolidayCalendars godoc
//
//	@Summary		List holiday calendars
//	@Description	Every holiday calendar: the default one, which always exists, first, then the others in the order they were made.
//	@Tags			holidays
//	@Produce		json
//	@Security		BearerAuth
//	@Success		200	{object}	HolidayCalendarPage
//	@Failure		400	{object}	UnpagedListQueryProblem
//	@Failure		401	{object}	UnauthorizedProblem
//	@Router			/api/holiday-calendars/ [get]
func handleListHolidayCalendars(holidays query.HolidaysHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		checkNoCursor(fields, c.QueryParam("after"))
		if err := queryError(fields); err != nil {
			return err
		}
		cals, err := holidays.Calendars(c.Request().Context())
		if err != nil {
			return err
		}
		page := HolidayCalendarPage{Items: make([]HolidayCalendarJSON, len(cals))}
		for i, cal := range cals {
			page.Items[i] = HolidayCalendarJSON(cal)
		}
		return c.JSON(http.StatusOK, page)
	}
}

type holidayCalendarRequest struct {
	Code string `json:"code" example:"berlin"`
	Name string `json:"name" example:"Berlin office"`
}

func (r *holidayCalendarRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if r.Code == "" {
		fields["code"] = "required"
	} else {
		checkCalendarCode(fields, "code", r.Code)
	}
	if r.Name == "" {
		fields["name"] = "required"
	}
	return fields
}

// handleDefineHolidayCalendar godoc
//
//	@Summary		Create a holiday calendar
//	@Description	A place's calendar, empty until holidays are declared in it (POST /api/holidays/ with calendar); employees keep one with holiday_calendar. The code matches ^[a-z][a-z0-9_]{1,31}$.
//	@Tags			holidays
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			Idempotency-Key	header		string					false	"makes a retry safe"
//	@Param			body			body		holidayCalendarRequest	true	"the calendar"
//	@Success		201				{object}	HolidayCalendarJSON
//	@Failure		400				{object}	HolidayCalendarInputProblem
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem
//	@Failure		409				{object}	HolidayCalendarExistsProblem
//	@Router			/api/holiday-calendars/ [post]
func handleDefineHolidayCalendar(define command.DefineHolidayCalendarHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[holidayCalendarRequest](c)
		if err != nil {
			return err
		}
		cal, err := define.Handle(c.Request().Context(), command.DefineHolidayCalendar{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), Calendar: holiday.Calendar{Code: req.Code, Name: req.Name},
		})
		if err != nil {
			return err
		}
		return created(c, HolidayCalendarJSON(cal))
	}
}
