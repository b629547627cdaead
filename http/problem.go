package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/errkind"
	"github.com/acme/employee-tracking/domain/leave"
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
	// Block is the blocked period that refused a leave request.
	Block *BlockedPeriodJSON `json:"block,omitempty"`
}

const problemContentType = "application/problem+json"

// Errors the handlers return; the error handler is the one place that turns
// them, and the domain's errors, into status codes, by their kind.
var (
	errUnauthorized   = errkind.New(errkind.Unauthorized, "missing or invalid access token")
	errBadRefresh     = errkind.New(errkind.Unauthorized, "invalid or expired refresh token")
	errForbidden      = command.ErrForbidden // the commands' refusal, from the route check
	errNotFound       = errkind.New(errkind.NotFound, "not found")
	errBadCredentials = errkind.New(errkind.Unauthorized, "invalid email or password")
	errKeyReused      = errkind.New(errkind.Conflict, "idempotency key was used with a different request")
	errKeyInFlight    = errkind.New(errkind.Conflict, "a request with this idempotency key is still being handled")
)

// fieldError reports bad input, naming each field, with a detail of its own.
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

// ErrorKind implements errkind.Kinded.
func (e *lockedError) ErrorKind() errkind.Kind { return errkind.Throttled }

// kindProblem is how the API answers an error of a kind: its status, and
// the detail shown, or the error's own message when detail is empty.
type kindProblem struct {
	status int
	detail string
}

// problemOfKind is the one table from kinds of errors to answers.
var problemOfKind = map[errkind.Kind]kindProblem{
	errkind.Invalid:       {http.StatusBadRequest, "invalid input"},
	errkind.Unauthorized:  {http.StatusUnauthorized, ""},
	errkind.Forbidden:     {http.StatusForbidden, "you are not allowed to do this"},
	errkind.NotFound:      {http.StatusNotFound, "not found"},
	errkind.Conflict:      {http.StatusConflict, ""},
	errkind.Unprocessable: {http.StatusUnprocessableEntity, ""},
	errkind.Throttled:     {http.StatusTooManyRequests, ""},
}

// problemFor maps an error to its problem document. internal reports an
// error the client did nothing to cause, which is logged in full and never shown.
func problemFor(err error) (p Problem, internal bool) {
	var (
		fe *fieldError
		he *echo.HTTPError
	)
	switch {
	case errors.As(err, &fe):
		return newProblem(http.StatusBadRequest, fe.detail, fe.fields), false
	case errors.As(err, &he):
		return newProblem(he.Code, http.StatusText(he.Code), nil), he.Code >= 500
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return newProblem(http.StatusServiceUnavailable, "the request took too long or was cancelled", nil), false
	case errors.Is(err, query.ErrNotFound): // the read models say no kind yet
		err = errkind.Wrap(errkind.NotFound, err.Error(), err)
	}
	kp, ok := problemOfKind[errkind.Of(err)]
	if !ok {
		return newProblem(http.StatusInternalServerError, "internal error; the request id identifies it in the logs", nil), true
	}
	detail := kp.detail
	if detail == "" {
		detail = err.Error()
	}
	p = newProblem(kp.status, detail, errkind.Fields(err))
	var blocked *leave.BlockedError
	if errors.As(err, &blocked) {
		block := blockedPeriodJSON(blocked.Block)
		p.Block = &block
	}
	return p, false
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
