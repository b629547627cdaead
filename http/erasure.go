package http

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
)

type eraseRequest struct {
	// Reason is kept in the clear: it must not repeat the employee's name,
	// email or position.
	Reason string `json:"reason" example:"erasure requested under GDPR art. 17 on 2024-12-02"`
}

func (r *eraseRequest) Valid(context.Context) map[string]string {
	if r.Reason == "" {
		return map[string]string{"reason": "required"}
	}
	return nil
}

// handleEraseEmployee godoc
//
//	@Summary		Erase an employee's personal data
//	@Description	Admins erase someone's personal data (not their own): the key that seals their name, email, position and the free text written about them in every event is destroyed, so these read as null with erased true everywhere from then on (reads, feed, history, notifications, reports; rebuilt read models too). Their login ends (401). Counts (days, minutes, balances) stay, and the audit seals still verify. The reason is kept in the clear, and must not name the data it erases. Erasing again changes nothing.
//	@Tags			employees
//	@Accept			json
//	@Produce		json
//	@Security		BearerAuth
//	@Param			Idempotency-Key	header		string			false	"makes a retry safe"
//	@Param			id				path		string			true	"employee id"
//	@Param			body			body		eraseRequest	true	"why"
//	@Success		200				{object}	EmployeeJSON
//	@Failure		400				{object}	Problem
//	@Failure		401				{object}	UnauthorizedProblem
//	@Failure		403				{object}	ForbiddenProblem
//	@Failure		404				{object}	NotFoundProblem
//	@Router			/api/employees/{id}/erase/ [post]
func handleEraseEmployee(erase command.EraseEmployeeHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		req, err := decodeFor[eraseRequest](c, erase, id)
		if err != nil {
			return err
		}
		e, err := erase.Handle(c.Request().Context(), command.EraseEmployee{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), EmployeeID: id, Reason: req.Reason,
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, employeeJSON(e))
	}
}
