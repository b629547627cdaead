package http

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/validation"
)

// HolidayJSON is a holiday of a calendar.
type HolidayJSON struct {
	Calendar string `json:"calendar" example:"default"`
	Date     string `json:"date" example:"2024-10-29"`
	Name     string `json:"name" example:"Republic Day"`
}

// HolidayPage lists a year's holidays, never paged: next_after is always null.
type HolidayPage struct {
	Items     []HolidayJSON `json:"items"`
	NextAfter *string       `json:"next_after"`
}

// handleListHolidays godoc
//
//	@Summary		List holidays
//	@Description	The holidays of one calendar: the default one unless calendar names another. A calendar no one made is 404.
//	@Tags			holidays
//	@Produce		json
//	@Security		BearerAuth
//	@Param			year		query		int		false	"year (the caller's current year by default)"
//	@Param			calendar	query		string	false	"holiday calendar code"	default(default)
//	@Success		200			{object}	HolidayPage
//	@Failure		400			{object}	YearQueryProblem
//	@Failure		401			{object}	UnauthorizedProblem
//	@Failure		404			{object}	NotFoundProblem
//	@Router			/api/holidays/ [get]
func handleListHolidays(holidays query.HolidaysHandler, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := mustPrincipal(c)
		fields := map[string]string{}
		year := checkInt(fields, "year", c.QueryParam("year"), today(p.Schedule, now()).Year, 1, 9999)
		code := checkCalendarCode(fields, "calendar", c.QueryParam("calendar"))
		checkNoCursor(fields, c.QueryParam("after"))
		if err := queryError(fields); err != nil {
			return err
		}
		days, err := holidays.Handle(c.Request().Context(), code, year)
		if err != nil {
			return err
		}
		page := HolidayPage{Items: make([]HolidayJSON, 0, len(days))}
		for d, name := range days {
			page.Items = append(page.Items, HolidayJSON{Calendar: code, Date: d.String(), Name: name})
		}
		slices.SortFunc(page.Items, func(a, b HolidayJSON) int {
			switch {
			case a.Date < b.Date:
				return -1
			case a.Date > b.Date:
				return 1
			}
			return 0
		})
		return c.JSON(http.StatusOK, page)
	}
}

type holidayRequest struct {
	Calendar string `json:"calendar" example:"default"`
	Date     string `json:"date" example:"2024-10-29"`
	Name     string `json:"name" example:"Republic Day"`

	date calendar.Date
}

func (r *holidayRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	r.Calendar = checkCalendarCode(fields, "calendar", r.Calendar)
	r.date = checkDate(fields, "date", r.Date, true)
	if r.Name == "" {
		fields["name"] = "required"
	}
	return fields
}

// checkCalendarCode reads a holiday calendar's code, the default one when
// empty.
func checkCalendarCode(fields map[string]string, name, s string) string {
	if s == "" {
		return holiday.Default
	}
	if validation.CheckCode(s) != "" {
		fields[name] = badCalendarCode
	}
	return s
}

// badCalendarCode says what a holiday calendar's code is, the form of
// validation.CheckCode in words.
const badCalendarCode = "must be 2 to 32 of a-z 0-9 _ starting with a letter"

// handleDeclareHoliday godoc
//
//	@Summary		Declare a holiday
//	@Description	In the calendar given, the default one unless told (a calendar no one made is 422, naming calendar). Leave requests still pending are approved without the day; leave already approved over it stays as approved, and the monthly report counts the day once, as leave.
//	@Tags			holidays
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			body	body		holidayRequest	true	"the holiday"
//	@Success		201		{object}	HolidayJSON
//	@Failure		400		{object}	HolidayInputProblem
//	@Failure		401		{object}	UnauthorizedProblem
//	@Failure		403		{object}	ForbiddenProblem
//	@Failure		409		{object}	HolidayDeclaredProblem
//	@Failure		422		{object}	UnknownHolidayCalendarProblem
//	@Router			/api/holidays/ [post]
func handleDeclareHoliday(declare command.DeclareHolidayHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[holidayRequest](c)
		if err != nil {
			return err
		}
		name, err := declare.Handle(c.Request().Context(), command.DeclareHoliday{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), Calendar: req.Calendar, Date: req.date, Name: req.Name,
		})
		if err != nil {
			return err
		}
		return created(c, HolidayJSON{Calendar: req.Calendar, Date: req.date.String(), Name: name})
	}
}

// handleWithdrawHoliday godoc
//
//	@Summary		Withdraw a holiday
//	@Description	From the calendar given, the default one unless told. A calendar no one made is 404, like a date without a holiday.
//	@Tags			holidays
//	@Security		BearerAuth
//	@Param			date		path	string	true	"YYYY-MM-DD"
//	@Param			calendar	query	string	false	"holiday calendar code"	default(default)
//	@Success		204
//	@Failure		400	{object}	HolidayCalendarQueryProblem
//	@Failure		401	{object}	UnauthorizedProblem
//	@Failure		403	{object}	ForbiddenProblem
//	@Failure		404	{object}	NotFoundProblem
//	@Router			/api/holidays/{date}/ [delete]
func handleWithdrawHoliday(withdraw command.WithdrawHolidayHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		fields := map[string]string{}
		code := checkCalendarCode(fields, "calendar", c.QueryParam("calendar"))
		if err := queryError(fields); err != nil {
			return err
		}
		date, err := calendar.ParseDate(c.Param("date"))
		if err != nil {
			return errNotFound
		}
		err = withdraw.Handle(c.Request().Context(), command.WithdrawHoliday{Actor: mustPrincipal(c).Employee, Origin: originOf(c), Calendar: code, Date: date})
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
