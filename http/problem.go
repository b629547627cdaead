package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/domain/validation"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections"
)

// Problem is an RFC 7807 problem document. It has no example of its own:
// the documentation shows each endpoint's failures with one of the types of
// problem_examples.go.
type Problem struct {
	Type   string            `json:"type" example:"about:blank"`
	Title  string            `json:"title"`
	Status int               `json:"status"`
	Detail string            `json:"detail,omitempty"`
	Errors map[string]string `json:"errors,omitempty"`
}

const problemContentType = "application/problem+json"

// Errors the handlers return; the error handler is the one place that turns
// them, and the domain's errors, into status codes.
var (
	errUnauthorized   = errors.New("missing or invalid access token")
	errBadRefresh     = errors.New("invalid or expired refresh token")
	errForbidden      = errors.New("not allowed")
	errNotFound       = errors.New("not found")
	errBadCredentials = errors.New("invalid email or password")
	errKeyReused      = errors.New("idempotency key was used with a different request")
	errKeyInFlight    = errors.New("a request with this idempotency key is still being handled")
)

// ErrEmailTaken is returned by Accounts.Register for an email already in use.
var ErrEmailTaken = errors.New("email is already registered")

// fieldError reports bad input, naming each field.
type fieldError struct {
	detail string
	fields map[string]string
}

func (e *fieldError) Error() string { return e.detail }

func badRequest(detail string, fields map[string]string) error {
	return &fieldError{detail: detail, fields: fields}
}

// lockedError says a login was refused without looking at the password.
type lockedError struct{ retryAfterSeconds int }

func (e *lockedError) Error() string {
	return fmt.Sprintf("too many failed logins: try again in %d seconds", e.retryAfterSeconds)
}

// problemFor maps an error to its problem document. internal reports an
// error the client did nothing to cause, which is logged in full and never shown.
func problemFor(err error) (p Problem, internal bool) {
	var (
		fe       *fieldError
		ve       *validation.Error
		he       *echo.HTTPError
		overlap  *leave.OverlapError
		balance  *leave.InsufficientBalanceError
		conflict *eventstore.ConflictError
		locked   *lockedError
	)
	switch {
	case errors.As(err, &fe):
		return newProblem(http.StatusBadRequest, fe.detail, fe.fields), false
	case errors.As(err, &ve):
		return newProblem(http.StatusBadRequest, "invalid input", ve.Fields), false
	case errors.Is(err, employee.ErrSelfManaged):
		return newProblem(http.StatusBadRequest, "invalid input", map[string]string{"manager_id": err.Error()}), false
	case errors.Is(err, leave.ErrEndBeforeStart):
		return newProblem(http.StatusBadRequest, "invalid input", map[string]string{"end_date": "must not be before start_date"}), false
	case errors.Is(err, errUnauthorized), errors.Is(err, errBadRefresh), errors.Is(err, errBadCredentials):
		return newProblem(http.StatusUnauthorized, err.Error(), nil), false
	case errors.As(err, &locked):
		return newProblem(http.StatusTooManyRequests, locked.Error(), nil), false
	case errors.Is(err, errForbidden):
		return newProblem(http.StatusForbidden, "you are not allowed to do this", nil), false
	case errors.Is(err, errNotFound), errors.Is(err, projections.ErrNotFound), errors.Is(err, employee.ErrNotFound),
		errors.Is(err, leave.ErrRequestNotFound), errors.Is(err, notification.ErrNotFound), errors.Is(err, holiday.ErrNotDeclared):
		return newProblem(http.StatusNotFound, "not found", nil), false
	case errors.As(err, &conflict):
		return newProblem(http.StatusConflict, "the resource was changed concurrently; retry", nil), false
	case errors.Is(err, attendance.ErrAlreadyCheckedIn), errors.Is(err, attendance.ErrNotCheckedIn),
		errors.Is(err, leave.ErrNotPending), errors.Is(err, leave.ErrNotCancellable),
		errors.Is(err, ErrEmailTaken), errors.Is(err, holiday.ErrAlreadyDeclared),
		errors.Is(err, employee.ErrAlreadyRegistered), errors.Is(err, employee.ErrInactive),
		errors.Is(err, errKeyReused), errors.Is(err, errKeyInFlight):
		return newProblem(http.StatusConflict, err.Error(), nil), false
	case errors.As(err, &overlap), errors.As(err, &balance),
		errors.Is(err, leave.ErrNoWorkdays), errors.Is(err, leave.ErrSpansYears):
		return newProblem(http.StatusUnprocessableEntity, err.Error(), nil), false
	case errors.As(err, &he):
		return newProblem(he.Code, http.StatusText(he.Code), nil), he.Code >= 500
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return newProblem(http.StatusServiceUnavailable, "the request took too long or was cancelled", nil), false
	default:
		return newProblem(http.StatusInternalServerError, "internal error; the request id identifies it in the logs", nil), true
	}
}

func newProblem(status int, detail string, fields map[string]string) Problem {
	return Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Errors: fields}
}

// errorHandler writes every error as a problem document and logs it once
// with the request id.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		p, internal := problemFor(err)
		id := requestID(c)
		switch {
		case internal:
			log.ErrorContext(c.Request().Context(), "request failed", "request_id", id, "method", c.Request().Method,
				"path", c.Path(), "err", err)
		case p.Status == http.StatusServiceUnavailable:
			log.WarnContext(c.Request().Context(), "request cancelled", "request_id", id, "err", err)
		default:
			log.DebugContext(c.Request().Context(), "request refused", "request_id", id, "status", p.Status, "err", err)
		}
		if c.Response().Committed {
			return
		}
		if p.Status == http.StatusTooManyRequests {
			var locked *lockedError
			if errors.As(err, &locked) {
				c.Response().Header().Set("Retry-After", fmt.Sprint(locked.retryAfterSeconds))
			}
		}
		c.Response().Header().Set(echo.HeaderContentType, problemContentType)
		c.Response().WriteHeader(p.Status)
		if c.Request().Method == http.MethodHead {
			return
		}
		_ = writeJSON(c.Response(), p)
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
