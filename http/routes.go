package http

import (
	"net/http"

	"github.com/labstack/echo/v4"
	echoSwagger "github.com/swaggo/echo-swagger"

	_ "github.com/acme/employee-tracking/docs/swagger" // registers the OpenAPI document served below
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
)

// routes is the one list of the API's routes. Paths are registered without
// a trailing slash; a pre-router middleware strips it from requests, so both
// forms work.
func (s *Server) routes(d Deps) {
	e := s.echo
	tok := tokens{secret: d.Config.JWTSecret, accessTTL: d.Config.AccessTokenTTL, refreshTTL: d.Config.RefreshTokenTTL, now: d.Now}
	policy := leavePolicy(d.Config)
	defaults := DefaultSchedule(d.Config)

	e.GET("/healthz", handleHealthz())
	e.GET("/readyz", handleReadyz(d.Logger, d.Pool, d.Bus, d.Queries))
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler()))
	e.GET("/swagger", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/swagger/index.html") })
	e.GET("/swagger/*", echoSwagger.WrapHandler)

	people := newRecent[employee.Employee](recentTTL)
	holidays := newRecent[calendar.Holidays](recentTTL)
	auth := authenticate(d.Store, tok, people)
	e.GET("/ws/notifications", s.hub.handleConnect(d.Store, tok, people))

	api := e.Group("/api", timeout(requestTimeout))
	api.POST("/auth/login", handleLogin(d.Accounts, d.Store, tok))
	api.POST("/auth/refresh", handleRefresh(d.Store, tok))

	u := api.Group("", auth, idempotent(d.Pool, d.Now, d.Config.IdempotencyKeyTTL))
	u.GET("/auth/me", handleMe())

	u.POST("/employees", handleRegisterEmployee(d.Accounts, d.Store, defaults))
	u.GET("/employees", handleListEmployees(d.Queries))
	u.GET("/employees/:id", handleGetEmployee(d.Store))
	u.PATCH("/employees/:id", handlePatchEmployee(d.Store, people, d.Now))
	u.GET("/employees/:id/history", handleEmployeeHistory(d.Store))

	u.POST("/attendance", handleAttendance(d.Store, newAttendanceStates(), holidays, d.Now))
	u.GET("/attendance", handleListAttendance(d.Store, d.Queries, d.Now))
	u.GET("/attendance/today", handleAttendanceToday(d.Queries, d.Now))

	u.POST("/leave-management", handleRequestLeave(d.Store, policy, d.Now))
	u.GET("/leave-management", handleListLeave(d.Store, d.Queries))
	u.GET("/leave-management/:id", handleGetLeave(d.Store, d.Pool))
	u.POST("/leave-management/:id/change-status", handleDecideLeave(d.Store, d.Pool, policy, d.Now))
	u.POST("/leave-management/:id/cancel", handleCancelLeave(d.Store, d.Pool, policy, d.Now))
	u.GET("/leave-balances/:employee_id", handleGetBalance(d.Store, d.Now))
	u.PUT("/leave-balances/:employee_id", handleSetEntitlement(d.Store, policy, d.Now))

	u.GET("/holidays", handleListHolidays(d.Store, d.Now))
	u.POST("/holidays", handleDeclareHoliday(d.Store, holidays, d.Now))
	u.DELETE("/holidays/:date", handleWithdrawHoliday(d.Store, holidays, d.Now))

	u.GET("/reports/monthly-work", handleMonthlyWork(d.Store, d.Queries, d.Now))

	u.GET("/notifications", handleListNotifications(d.Queries))
	u.POST("/notifications/:id/mark-as-read", handleMarkRead(d.Store, d.Now))

	u.GET("/events", handleEvents(d.Store))
}
