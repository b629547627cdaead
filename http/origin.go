package http

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/employee"
)

// originOf is the request a command runs for: its ids become the metadata
// of the command's events, its idempotency key their ids.
func originOf(c echo.Context) command.Origin {
	o := command.Origin{
		RequestID:      requestID(c),
		IdempotencyKey: c.Request().Header.Get(headerIdempotencyKey),
		CausationID:    requestID(c),
		CorrelationID:  c.Request().Header.Get(headerCorrelationID),
	}
	if !validID(o.CorrelationID) {
		o.CorrelationID = o.RequestID
	}
	return o
}

// authorizer is a command that acts on someone named in the request and
// says, before the body is read, whether the caller may.
type authorizer interface {
	Authorize(ctx context.Context, actor employee.Employee, id string) error
}

// decodeFor decodes the body of a command acting on the one id names: a
// caller the command would refuse hears that (404, 403) rather than what is
// wrong with the body, which the command reads after authorizing.
func decodeFor[T any, PT interface {
	*T
	Validator
}](c echo.Context, cmd authorizer, id string) (*T, error) {
	req, err := decode[T, PT](c)
	if err != nil {
		if authErr := cmd.Authorize(c.Request().Context(), mustPrincipal(c).Employee, id); authErr != nil {
			return nil, authErr
		}
	}
	return req, err
}
