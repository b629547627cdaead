package http

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/domain/employee"
)

// authenticate admits requests with a valid access token of an active user
// and stores the user, as of at most recentTTL ago, for the handlers.
func authenticate(store EventStore, tok tokens, people *recent[employee.Employee]) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			raw, err := bearer(c)
			if err != nil {
				return err
			}
			p, err := loadPrincipal(c.Request().Context(), store, tok, people, raw)
			if err != nil {
				return err
			}
			c.Set(principalKey, p)
			return next(c)
		}
	}
}

// loadPrincipal checks an access token and loads its user, who must still
// exist and be active: deactivating a user ends their tokens at once on this
// instance (the patch forgets the cached user) and within recentTTL on others.
func loadPrincipal(ctx context.Context, store EventStore, tok tokens, people *recent[employee.Employee], raw string) (principal, error) {
	id, err := tok.parse(raw, tokenAccess)
	if err != nil {
		return principal{}, err
	}
	e, ok := people.get(id)
	if !ok {
		e, err = loadEmployee(ctx, store, id)
		if errors.Is(err, errNotFound) {
			return principal{}, errUnauthorized
		}
		if err != nil {
			return principal{}, err
		}
		people.put(id, e)
	}
	if !e.Active {
		return principal{}, errUnauthorized
	}
	return principal{e}, nil
}

type loginRequest struct {
	Email    string `json:"email" example:"admin@example.com"`
	Password string `json:"password" example:"admin-password"`
}

func (r *loginRequest) Valid(context.Context) map[string]string {
	fields := map[string]string{}
	r.Email = strings.TrimSpace(r.Email)
	if r.Email == "" {
		fields["email"] = "required"
	}
	if r.Password == "" {
		fields["password"] = "required"
	}
	return fields
}

// handleLogin godoc
//
//	@Summary		Log in
//	@Description	Exchanges an email and password for an access token and a refresh token. After repeated failures the account is locked for a while (429 with Retry-After).
//	@Tags			auth
//	@Accept			json
//	@Produce		json
//	@Param			body	body		loginRequest	true	"credentials"
//	@Success		200		{object}	TokenPair
//	@Failure		400		{object}	Problem
//	@Failure		401		{object}	Problem
//	@Failure		429		{object}	Problem
//	@Router			/api/auth/login/ [post]
func handleLogin(accounts *Accounts, store EventStore, tok tokens) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[loginRequest](c)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		id, err := accounts.Authenticate(ctx, req.Email, req.Password)
		if err != nil {
			return err
		}
		return issueTokens(c, store, tok, id, errBadCredentials)
	}
}

// issueTokens answers a new token pair for user id, or refused when the user
// no longer exists or is deactivated.
func issueTokens(c echo.Context, store EventStore, tok tokens, id string, refused error) error {
	e, err := loadEmployee(c.Request().Context(), store, id)
	if errors.Is(err, errNotFound) || (err == nil && !e.Active) {
		return refused
	}
	if err != nil {
		return err
	}
	pair, err := tok.issue(e)
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
//	@Summary	Refresh tokens
//	@Tags		auth
//	@Accept		json
//	@Produce	json
//	@Param		body	body		refreshRequest	true	"refresh token"
//	@Success	200		{object}	TokenPair
//	@Failure	400		{object}	Problem
//	@Failure	401		{object}	Problem
//	@Router		/api/auth/refresh/ [post]
func handleRefresh(store EventStore, tok tokens) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decode[refreshRequest](c)
		if err != nil {
			return err
		}
		id, err := tok.parse(req.RefreshToken, tokenRefresh)
		if err != nil {
			return errBadRefresh
		}
		return issueTokens(c, store, tok, id, errBadRefresh)
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
