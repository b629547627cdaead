package http

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/internal/recent"
)

// Token kinds: an access token authenticates requests, a refresh token only
// buys a new pair.
const (
	tokenAccess  = "access"
	tokenRefresh = "refresh"
)

type tokenClaims struct {
	Kind    string `json:"typ"`
	Role    string `json:"role,omitempty"`
	Session string `json:"sid"`
	jwt.RegisteredClaims
}

// tokens issues and checks HS256 JWTs. Every token names its session (see
// Sessions), and an access token is accepted only while that session lives.
// The role in a token is informative: every request reloads the user, so a
// role change or a deactivation takes effect at once.
type tokens struct {
	secret     []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	now        func() time.Time
	sessions   sessionChecker
	// verified keeps the tokens parse accepted within recent.TTL, by their
	// text: a client sends the same token with every request, and checking
	// its signature and claims again cost more than the rest of
	// authenticating it. nil keeps none.
	verified *recent.Cache[verifiedToken]
}

// verifiedToken is a token as parse accepted it, of kind, valid until expires.
type verifiedToken struct {
	token
	kind    string
	expires time.Time
}

// sessionChecker says whether a session still lives, and when it read that
// from the database the version of the user's employee stream (0 otherwise);
// *Sessions is one.
type sessionChecker interface {
	check(ctx context.Context, sessionID, userID string) (int64, error)
}

// token is what a valid token says.
type token struct {
	userID    string
	sessionID string
	id        string // the token's own id (jti)
}

// TokenPair is the answer of login and refresh.
type TokenPair struct {
	AccessToken  string   `json:"access_token"`
	RefreshToken string   `json:"refresh_token"`
	TokenType    string   `json:"token_type" example:"Bearer"`
	ExpiresIn    int      `json:"expires_in" example:"900"` // seconds
	User         UserJSON `json:"user"`
}

// UserJSON is the user as the login answer shows it.
type UserJSON struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	FullName string `json:"full_name"`
	Role     string `json:"role"`
}

func userJSON(e employee.Employee) UserJSON {
	return UserJSON{ID: e.EmployeeID, Email: e.Email, FullName: e.FullName, Role: string(e.Role)}
}

// issue signs a pair of session sessionID whose refresh token has id refreshID.
func (t tokens) issue(e employee.Employee, sessionID, refreshID string) (TokenPair, error) {
	access, err := t.sign(e, tokenAccess, t.accessTTL, sessionID, uuid.NewString())
	if err != nil {
		return TokenPair{}, err
	}
	refresh, err := t.sign(e, tokenRefresh, t.refreshTTL, sessionID, refreshID)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{
		AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		ExpiresIn: int(t.accessTTL / time.Second), User: userJSON(e),
	}, nil
}

func (t tokens) sign(e employee.Employee, kind string, ttl time.Duration, sessionID, id string) (string, error) {
	now := t.now()
	claims := tokenClaims{
		Kind:    kind,
		Role:    string(e.Role),
		Session: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   e.EmployeeID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        id,
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// parse checks the signature, expiry and kind of a token, not its session.
func (t tokens) parse(raw, kind string) (token, error) {
	if t.verified != nil {
		if v, ok := t.verified.Get(raw); ok {
			if v.kind != kind || !t.now().Before(v.expires) {
				return token{}, errUnauthorized
			}
			return v.token, nil
		}
	}
	var claims tokenClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(t.now),
		jwt.WithExpirationRequired(),
	)
	if err != nil || claims.Kind != kind {
		return token{}, errUnauthorized
	}
	var ids [3]uuid.UUID
	for i, s := range []string{claims.Subject, claims.Session, claims.ID} {
		if ids[i], err = uuid.Parse(s); err != nil {
			return token{}, errUnauthorized
		}
	}
	tok := token{userID: ids[0].String(), sessionID: ids[1].String(), id: ids[2].String()}
	if t.verified != nil {
		t.verified.Put(raw, verifiedToken{token: tok, kind: kind, expires: claims.ExpiresAt.Time})
	}
	return tok, nil
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(c echo.Context) (string, error) {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", errUnauthorized
	}
	return strings.TrimSpace(tok), nil
}

// principal is the authenticated caller: their employee record as of this
// request, and the session their token belongs to.
type principal struct {
	employee.Employee
	sessionID string
}

const principalKey = "principal"

func principalOf(c echo.Context) (principal, bool) {
	p, ok := c.Get(principalKey).(principal)
	return p, ok
}

// mustPrincipal is for handlers behind the authentication middleware.
func mustPrincipal(c echo.Context) principal {
	p, ok := principalOf(c)
	if !ok {
		panic(errors.New("handler registered without authentication"))
	}
	return p
}
