package http

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/internal/recent"
)

// authenticate admits requests with a valid access token of an active user
// and stores the user, as of at most recent.TTL ago, for the handlers.
func authenticate(employees query.EmployeeHandler, tok tokens, people *recent.Cache[knownEmployee]) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			raw, err := bearer(c)
			if err != nil {
				return err
			}
			p, err := loadPrincipal(c.Request().Context(), employees, tok, people, raw)
			if err != nil {
				return err
			}
			c.Set(principalKey, p)
			return next(c)
		}
	}
}

// knownEmployee is a user as loaded, with the version of their employee
// stream that it was folded to.
type knownEmployee struct {
	employee.Employee
	version int64
}

// loadPrincipal checks an access token and its session and loads its user,
// who must still exist and be active: deactivating a user ends their tokens
// at once on this instance (the patch forgets the cached user) and within
// recent.TTL on others. A user cached longer ago is kept while their stream
// has not moved, which the session's check reads in its own round trip: a
// user's every request within recent.TTL would otherwise load and decode
// their whole stream again.
func loadPrincipal(ctx context.Context, employees query.EmployeeHandler, tok tokens, people *recent.Cache[knownEmployee], raw string) (principal, error) {
	t, err := tok.parse(raw, tokenAccess)
	if err != nil {
		return principal{}, err
	}
	version, err := tok.sessions.check(ctx, t.sessionID, t.userID)
	if err != nil {
		return principal{}, err
	}
	id := t.userID
	e, ok := people.Get(id)
	if version != 0 {
		e, ok = people.Last(id)
		ok = ok && e.version == version
	}
	if !ok {
		e.Employee, e.version, err = employees.HandleAt(ctx, id)
		if errors.Is(err, employee.ErrNotFound) {
			return principal{}, errUnauthorized
		}
		if err != nil {
			return principal{}, err
		}
	}
	if !ok || version != 0 {
		people.Put(id, e)
	}
	if !e.Active {
		return principal{}, errUnauthorized
	}
	return principal{Employee: e.Employee, sessionID: t.sessionID}, nil
}

type loginRequest struct {
	Email    string `json:"email" example:"admin@example.com"`
	Password string `json:"password" example:"admin-password"`
}

func (r *loginRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	r.Email = strings.TrimSpace(r.Email)
	if msg := employee.CheckEmail(r.Email); msg != "" {
		fields["email"] = msg
	}
	if r.Password == "" {
		fields["password"] = "required"
	}
	return fields
}

// handleLogin godoc
//
//	@Summary		Log in
//	@Description	Exchanges an email and password for an access token and a refresh token, which start a session. Failures slow down the client's address, and many failures from addresses that never logged in to an account lock it against such addresses for a while (429 with Retry-After); an unknown email is answered as a known one.
//	@Tags			auth
//	@Accept			json
//	@Produce		json
//	@Param			body	body		loginRequest	true	"credentials"
//	@Success		200		{object}	TokenPair
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		429		{object}	Problem
//	@Router			/api/auth/login/ [post]
func handleLogin(accounts *Accounts, sessions *Sessions, tok tokens) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[loginRequest](c)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		e, err := accounts.Login(ctx, c.RealIP(), req.Email, req.Password)
		if err != nil {
			return err
		}
		sessionID, refreshID, err := sessions.start(ctx, e.EmployeeID)
		if err != nil {
			return err
		}
		return writeTokens(c, tok, e, sessionID, refreshID)
	}
}

// writeTokens answers a new token pair of a session.
func writeTokens(c echo.Context, tok tokens, e employee.Employee, sessionID, refreshID string) error {
	pair, err := tok.issue(e, sessionID, refreshID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, pair)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (r *refreshRequest) Valid(context.Context) map[string]string {
	if r.RefreshToken == "" {
		return map[string]string{"refresh_token": "required"}
	}
	return nil
}

// handleRefresh godoc
//
//	@Summary		Refresh tokens
//	@Description	Exchanges the session's latest refresh token for a new pair; the refresh token given is used up. Presenting a used refresh token again is refused and ends the session: every token of it stops working.
//	@Tags			auth
//	@Accept			json
//	@Produce		json
//	@Param			body	body		refreshRequest	true	"refresh token"
//	@Success		200		{object}	TokenPair
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Router			/api/auth/refresh/ [post]
func handleRefresh(employees query.EmployeeHandler, sessions *Sessions, tok tokens) echo.HandlerFunc {
	return func(c echo.Context) error {
		t, err := refreshTokenOf(c, tok)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		e, err := employees.Handle(ctx, t.userID)
		if errors.Is(err, employee.ErrNotFound) || (err == nil && !e.Active) {
			return errBadRefresh
		}
		if err != nil {
			return err
		}
		next, err := sessions.rotate(ctx, t)
		if err != nil {
			return err
		}
		return writeTokens(c, tok, e, t.sessionID, next)
	}
}

// refreshTokenOf decodes the request's refresh token.
func refreshTokenOf(c echo.Context, tok tokens) (token, error) {
	req, err := decode[refreshRequest](c)
	if err != nil {
		return token{}, err
	}
	t, err := tok.parse(req.RefreshToken, tokenRefresh)
	if err != nil {
		return token{}, errBadRefresh
	}
	return t, nil
}

// handleLogout godoc
//
//	@Summary		Log out
//	@Description	Ends the session of the refresh token: its refresh and access tokens stop working and its WebSockets close. Ending an ended session does nothing.
//	@Tags			auth
//	@Accept			json
//	@Param			body	body	refreshRequest	true	"refresh token of the session"
//	@Success		204
//	@Failure		400	{object}	Problem
//	@Failure		401	{object}	Problem
//	@Router			/api/auth/logout/ [post]
func handleLogout(sessions *Sessions, tok tokens) echo.HandlerFunc {
	return func(c echo.Context) error {
		t, err := refreshTokenOf(c, tok)
		if err != nil {
			return err
		}
		if err := sessions.end(c.Request().Context(), t.sessionID, t.userID, "logged out"); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

type changePasswordRequest struct {
	CurrentPassword string `json:"current_password" example:"correct horse battery"`
	NewPassword     string `json:"new_password" example:"staple battery horse correct"`
}

func (r *changePasswordRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	if r.CurrentPassword == "" {
		fields["current_password"] = "required"
	}
	if msg := command.CheckPassword(r.NewPassword); msg != "" {
		fields["new_password"] = msg
	}
	return fields
}

// handleChangePassword godoc
//
//	@Summary		Change the caller's password
//	@Description	Checks the current password (under the login throttle) and sets the new one. Every session of the caller ends, this one included: log in again. Recorded as employee.password_changed, without the password.
//	@Tags			auth
//	@Accept			json
//	@Security		BearerAuth
//	@Param			body	body	changePasswordRequest	true	"current and new password"
//	@Success		204
//	@Failure		400	{object}	Problem
//	@Failure		401	{object}	Problem
//	@Failure		429	{object}	Problem
//	@Router			/api/auth/password/ [post]
func handleChangePassword(accounts *Accounts, change command.ChangePasswordHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := mustPrincipal(c)
		req, err := decode[changePasswordRequest](c)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		if _, err := accounts.Login(ctx, c.RealIP(), p.Email, req.CurrentPassword); err != nil {
			if errors.Is(err, errBadCredentials) {
				return badRequest("invalid input", map[string]string{"current_password": "is not the current password"})
			}
			return err
		}
		if err := change.Handle(ctx, command.ChangePassword{Actor: p.Employee, Origin: originOf(c), NewPassword: req.NewPassword}); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

type resetPasswordRequest struct {
	NewPassword string `json:"new_password" example:"staple battery horse correct"`
}

func (r *resetPasswordRequest) Valid(context.Context) map[string]string {
	if msg := command.CheckPassword(r.NewPassword); msg != "" {
		return map[string]string{"new_password": msg}
	}
	return nil
}

// handleResetPassword godoc
//
//	@Summary		Reset an employee's password
//	@Description	Admins set someone's password. Every session of that employee ends. Recorded as employee.password_changed with reset true, without the password.
//	@Tags			employees
//	@Accept			json
//	@Security		BearerAuth
//	@Param			id		path	string					true	"employee id"
//	@Param			body	body	resetPasswordRequest	true	"the new password"
//	@Success		204
//	@Failure		400	{object}	Problem
//	@Failure		401	{object}	Problem
//	@Failure		403	{object}	Problem
//	@Failure		404	{object}	Problem
//	@Router			/api/employees/{id}/password/ [post]
func handleResetPassword(reset command.ResetPasswordHandler) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		req, err := decodeFor[resetPasswordRequest](c, reset, id)
		if err != nil {
			return err
		}
		if err := reset.Handle(c.Request().Context(), command.ResetPassword{
			Actor: mustPrincipal(c).Employee, Origin: originOf(c), EmployeeID: id, NewPassword: req.NewPassword,
		}); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// MeJSON is the caller with their employee record.
type MeJSON struct {
	UserJSON
	Employee EmployeeJSON `json:"employee"`
}

// handleMe godoc
//
//	@Summary	The caller
//	@Tags		auth
//	@Produce	json
//	@Security	BearerAuth
//	@Success	200	{object}	MeJSON
//	@Failure	401	{object}	Problem
//	@Router		/api/auth/me/ [get]
func handleMe() echo.HandlerFunc {
	return func(c echo.Context) error {
		p := mustPrincipal(c)
		return c.JSON(http.StatusOK, MeJSON{UserJSON: userJSON(p.Employee), Employee: employeeJSON(p.Employee)})
	}
}
