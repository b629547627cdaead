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
)

// HolidayJSON is a company holiday.
type HolidayJSON struct {
	Date string `json:"date" example:"2024-10-29"`
	Name string `json:"name" example:"Republic Day"`
}

// HolidayPage lists a year's holidays, never paged: next_after is always null.
type HolidayPage struct {
	Items     []HolidayJSON `json:"items"`
	NextAfter *string       `json:"next_after"`
}

// handleListHolidays godoc
//
//	@Summary	List holidays
//	@Tags		holidays
//	@Produce	json
//	@Security	BearerAuth
//	@Param		year	query		int	false	"year (the caller's current year by default)"
//	@Success	200		{object}	HolidayPage
//	@Failure	400		{object}	YearQueryProblem
//	@Failure	401		{object}	UnauthorizedProblem
//	@Router		/api/holidays/ [get]
func handleListHolidays(holidays query.HolidaysHandler, now func() time.Time) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := mustPrincipal(c)
		fields := map[string]string{}
		year := checkInt(fields, "year", c.QueryParam("year"), today(p.Schedule, now()).Year, 1, 9999)
		checkNoCursor(fields, c.QueryParam("after"))
		if err := queryError(fields); err != nil {
			return err
		}
		days, err := holidays.Handle(c.Request().Context(), year)
		if err != nil {
			return err
		}
		page := HolidayPage{Items: make([]HolidayJSON, 0, len(days))}
		for d, name := range days {
			page.Items = append(page.Items, HolidayJSON{Date: d.String(), Name: name})
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
	Date string `json:"date" example:"2024-10-29"`
	Name string `json:"name" example:"Republic Day"`

	date calendar.Date
}

func (r *holidayRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	r.date = checkDate(fields, "date", r.Date, true)
	if r.Name == "" {
		fields["name"] = "required"
	}
	return fields
}

// handleDeclareHoliday godoc
//
//	@Summary		Declare a holiday
//	@Description	Leave requests still pending are approved without the day; leave already approved over it stays as approved, and the monthly report counts the day once, as leave.
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
//	@Router			/api/holidays/ [post]
func handleDeclareHoliday(declare command.DeclareHolidayHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[holidayRequest](c)
		if err != nil {
			return err
		}
		name, err := declare.Handle(c.Request().Context(), command.DeclareHoliday{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), Date: req.date, Name: req.Name,
		})
		if err != nil {
			return err
		}
		return created(c, HolidayJSON{Date: req.date.String(), Name: name})
	}
}

// handleWithdrawHoliday godoc
//
//	@Summary	Withdraw a holiday
//	@Tags		holidays
//	@Security	BearerAuth
//	@Param		date	path	string	true	"YYYY-MM-DD"
//	@Success	204
//	@Failure	401	{object}	UnauthorizedProblem
//	@Failure	403	{object}	ForbiddenProblem
//	@Failure	404	{object}	NotFoundProblem
//	@Router		/api/holidays/{date}/ [delete]
func handleWithdrawHoliday(withdraw command.WithdrawHolidayHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		date, err := calendar.ParseDate(c.Param("date"))
		if err != nil {
			return errNotFound
		}
		err = withdraw.Handle(c.Request().Context(), command.WithdrawHoliday{Actor: mustPrincipal(c).Employee, Origin: originOf(c), Date: date})
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
