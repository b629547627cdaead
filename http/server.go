// Package http is the REST API and the WebSocket hub: echo handlers that
// turn requests into domain commands appended through the event store, and
// queries answered from the read models.
//
// Elsewhere it is imported as apihttp, since its name shadows net/http.
package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acme/employee-tracking/app"
	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/internal/credentials"
	"github.com/acme/employee-tracking/projections"
)

// Limits of a request; an import of employees (importPath) has its own.
const (
	maxBodyBytes   = 1 << 20 // 1 MiB
	requestTimeout = 15 * time.Second
)

const importPath = "/api/employees/import"

// Header names the API reads.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerCorrelationID  = "X-Correlation-ID"
)

// Deps are the server's collaborators.
type Deps struct {
	Settings Settings
	Logger   *slog.Logger
	// Pool holds the API's own tables: sessions, the login throttle,
	// idempotency keys.
	Pool *pgxpool.Pool
	// App is every use case; the handlers decode, call it and encode.
	App app.Application
	// Credentials are compared at login and tell which sessions a change of
	// password ended.
	Credentials *credentials.Store
	// Bus reports whether the message bus is reachable, for /readyz.
	Bus func(ctx context.Context) error
	// Status reports how far behind the projections are, for /readyz.
	Status func(ctx context.Context) (projections.ProjectionStatus, error)
	// Registry receives the server's metrics and is served at /metrics.
	Registry *prometheus.Registry
	Now      func() time.Time
}

// Settings are the API's settings as typed values.
type Settings struct {
	JWTSecret         []byte
	AccessTokenTTL    time.Duration
	RefreshTokenTTL   time.Duration
	IdempotencyKeyTTL time.Duration // how long a POST's Idempotency-Key is remembered
	// IdempotencySecret keys what the idempotency store keeps of requests
	// and responses; every instance of the API shares it.
	IdempotencySecret []byte
	// CORSOrigins may call the API from a browser; none means same origin.
	CORSOrigins []string
	// PasswordCost is bcrypt's cost of the stored hashes, which a login of
	// an unknown email matches.
	PasswordCost int
}

// Server is the HTTP API with its WebSocket hub.
type Server struct {
	echo     *echo.Echo
	hub      *Hub
	sessions *Sessions
	metrics  *metrics
	declared map[string]access.Action // by method and path, from the routes table
	// serving counts the requests being served, WebSocket sessions aside.
	serving atomic.Int64
}

// New builds the server and registers every route.
func New(d Deps) *Server {
	if d.Now == nil {
		d.Now = time.Now
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(discard{})
	e.HTTPErrorHandler = errorHandler(d.Logger)
	e.JSONSerializer = jsonSerializer{}
	// The client's address (logs, login throttling): walking back from the
	// peer through X-Forwarded-For (which the nginx of deploy/ appends to), the
	// first address not on loopback or a private network. Only an address that
	// parses, never a header's text as sent.
	e.IPExtractor = echo.ExtractIPFromXFFHeader()

	m := newMetrics(d.Registry)
	s := &Server{echo: e, metrics: m, hub: newHub(d.App.Queries.ReadModels, d.Settings.CORSOrigins, d.Logger, m), declared: map[string]access.Action{}}
	s.sessions = newSessions(d.Pool, s.hub, d.Logger, d.Now, d.Settings.RefreshTokenTTL)
	if d.Credentials != nil {
		d.Credentials.OnSessionsEnded(s.sessions.ended)
	}

	e.Pre(middleware.RemoveTrailingSlash())
	e.Use(
		s.countServing,
		middleware.SecureWithConfig(middleware.SecureConfig{
			ContentTypeNosniff: "nosniff",
			// Both spellings: the CSP for browsers that know it, X-Frame-Options for older ones.
			XFrameOptions:         "DENY",
			ContentSecurityPolicy: "frame-ancestors 'none'",
			ReferrerPolicy:        "no-referrer",
		}),
		noStore,
		requestIDs,
		observe(d.Logger, m),
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
				d.Logger.Error("panic", "request_id", requestID(c), "err", err, "stack", string(stack))
				return err
			},
		}),
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
			Limit:   strconv.Itoa(maxBodyBytes),
			Skipper: func(c echo.Context) bool { return c.Path() == importPath }, // its own, larger
		}),
		checkQueryText,
	)
	if len(d.Settings.CORSOrigins) > 0 {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:  d.Settings.CORSOrigins,
			AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType, headerIdempotencyKey, headerCorrelationID},
			ExposeHeaders: []string{echo.HeaderXRequestID, echo.HeaderContentDisposition},
		}))
	}
	s.routes(d)
	return s
}

// saturatedAt is how many requests served at once make the API saturated:
// a closed loop of 64 clients keeps dozens in the server at once, a steady
// 1,000 requests/s a few.
const saturatedAt = 16

// Saturated reports whether the server serves more requests at once than
// its cores keep up with, so that background work may wait.
func (s *Server) Saturated() bool { return s.serving.Load() >= saturatedAt }

// countServing counts the requests being served. A WebSocket session's
// request lasts as long as the session: it is not counted.
func (s *Server) countServing(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Path() == wsPath {
			return next(c)
		}
		s.serving.Add(1)
		defer s.serving.Add(-1)
		return next(c)
	}
}

// ServeHTTP makes the server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Notify pushes a notification to the recipient's open WebSocket sessions.
func (s *Server) Notify(n query.NotificationView, recipientID string) {
	s.hub.publish(n, recipientID)
}

// CloseSessions closes every WebSocket session with a going-away frame; the
// HTTP server's Shutdown does not track hijacked connections.
func (s *Server) CloseSessions() error { return s.hub.close() }

// MaintainSessions closes the WebSockets of sessions that other servers
// ended and forgets expired login state, until ctx ends.
func (s *Server) MaintainSessions(ctx context.Context) { s.sessions.maintain(ctx) }

// Sessions is the number of open WebSocket sessions.
func (s *Server) Sessions() int { return s.hub.len() }

// maxIDLen bounds the request and correlation ids a client may choose.
const maxIDLen = 128

// validID reports whether a client's X-Request-Id or X-Correlation-ID may be
// kept: up to 128 of A-Z a-z 0-9 . _ : -. Both go into logs and the metadata
// of every event the request causes, so a header never enlarges an event.
func validID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', strings.ContainsRune("._:-", r):
		default:
			return false
		}
	}
	return true
}

// requestIDs answers each request with an X-Request-Id: the client's when
// validID keeps it, a new one otherwise.
func requestIDs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validID(id) {
			id = uuid.NewString()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// noStore keeps caches from storing any answer but the Swagger UI's: they
// carry tokens (login, refresh) and personal data.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !strings.HasPrefix(c.Request().URL.Path, "/swagger/") {
			c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		}
		return next(c)
	}
}

// timeout bounds the time a handler may take. WebSocket sessions live on and
// exports get no special treatment: the read models answer in milliseconds.
func timeout(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// observe logs each request once and records its metrics.
func observe(log *slog.Logger, m *metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // writes the problem so the status below is the real one
			}
			status := c.Response().Status
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			m.observe(c.Request().Method, route, status, elapsed)
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			ctx := c.Request().Context()
			if !log.Enabled(ctx, level) { // spare building the attributes
				return nil
			}
			log.LogAttrs(ctx, level, "http request",
				slog.String("request_id", requestID(c)),
				slog.String("method", c.Request().Method),
				slog.String("route", route),
				slog.String("path", loggedPath(c.Request().URL.Path)),
				slog.Int("status", status),
				slog.Int64("bytes", c.Response().Size),
				slog.Duration("duration", elapsed),
				slog.String("remote_ip", c.RealIP()),
			)
			return nil
		}
	}
}

// maxLoggedPath bounds the path a log line quotes: the client chose it.
const maxLoggedPath = 256

func loggedPath(p string) string {
	if len(p) <= maxLoggedPath {
		return p
	}
	return strings.ToValidUTF8(p[:maxLoggedPath], "") + "…"
}

// jsonSerializer writes JSON without HTML escaping and decodes through the
// one decoder the API uses.
type jsonSerializer struct{}

func (jsonSerializer) Serialize(c echo.Context, i any, _ string) error {
	return writeJSON(c.Response(), i)
}

func (jsonSerializer) Deserialize(c echo.Context, i any) error {
	return errors.New("request bodies are read with decode")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// created writes v with 201 Created.
func created(c echo.Context, v any) error { return c.JSON(http.StatusCreated, v) }

// attachment sets the headers of a file download.
func attachment(c echo.Context, contentType, filename string) {
	c.Response().Header().Set(echo.HeaderContentType, contentType)
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", filename))
}
