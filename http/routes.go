package http

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	echoSwagger "github.com/swaggo/echo-swagger"

	_ "github.com/acme/employee-tracking/docs/swagger" // registers the OpenAPI document served below
	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/internal/recent"
)

// route is one route of the API and the action it performs, which decides
// who may call it (domain/access).
type route struct {
	method, path string
	action       access.Action
	check        check
	handler      echo.HandlerFunc
}

// public is the action of a route anyone may call without a token.
const public access.Action = ""

// check says where a route asks the policy.
type check int

const (
	// atRoute: the route acts on the caller's own records, on no one in
	// particular (the holidays, the event feed), or lists what the caller may
	// see. The caller's role must hold the action in some relationship, before
	// the handler reads a byte; lists narrow to what it holds.
	atRoute check = iota
	// inHandler: the route acts on an employee, or their request, named in the
	// request. The handler answers 404 for one the caller may not see, then
	// asks the policy with the caller's relationship to them.
	inHandler
)

// routes is the one table of the API's routes, each with its action; a route
// registered around it fails TestEveryRouteAsEveryRole. Paths are registered
// without a trailing slash; a pre-router middleware strips it from requests,
// so both forms work.
func (s *Server) routes(d Deps) {
	e := s.echo
	sessions := s.sessions
	set := d.Settings
	tok := tokens{secret: set.JWTSecret, accessTTL: set.AccessTokenTTL, refreshTTL: set.RefreshTokenTTL, now: d.Now, sessions: sessions,
		verified: recent.New[verifiedToken](recent.TTL)}
	cmds, qs := d.App.Commands, d.App.Queries
	employees := qs.Employee
	accounts := NewAccounts(d.Pool, d.Credentials, employees, set.PasswordCost, d.Now)
	people := recent.New[knownEmployee](recent.TTL)

	s.add(e.Group(""), nil, []route{
		{http.MethodGet, "/healthz", public, atRoute, handleHealthz()},
		{http.MethodGet, "/readyz", public, atRoute, handleReadyz(d.Logger, d.Pool, d.Bus, d.Status)},
		{http.MethodGet, "/metrics", public, atRoute, echo.WrapHandler(s.metrics.handler())},
		{http.MethodGet, "/swagger", public, atRoute, func(c echo.Context) error {
			return c.Redirect(http.StatusMovedPermanently, "/swagger/index.html")
		}},
		{http.MethodGet, "/swagger/*", public, atRoute, echoSwagger.WrapHandler},
		// Authenticates itself: browsers cannot set headers on a WebSocket
		// handshake, so the token may come in the query.
		{http.MethodGet, wsPath, access.NotificationRead, inHandler, s.hub.handleConnect(employees, tok, people)},
	})

	api := e.Group("/api", timeout(requestTimeout))
	auth := authenticate(employees, tok, people)
	// A path under /api that no route takes needs a token too, like the rest.
	api.RouteNotFound("", echo.NotFoundHandler, auth)
	api.RouteNotFound("/*", echo.NotFoundHandler, auth)
	// Outside the idempotency store, which would keep a hash of the passwords
	// and tokens these carry.
	s.add(api, auth, []route{
		{http.MethodPost, "/auth/login", public, atRoute, handleLogin(accounts, sessions, tok)},
		{http.MethodPost, "/auth/refresh", public, atRoute, handleRefresh(employees, sessions, tok)},
		{http.MethodPost, "/auth/logout", public, atRoute, handleLogout(sessions, tok)},
		{http.MethodPost, "/auth/password", access.PasswordChange, atRoute, handleChangePassword(accounts, cmds.ChangePassword)},
		{http.MethodPost, "/employees/:id/password", access.PasswordReset, inHandler, handleResetPassword(cmds.ResetPassword)},
	})
	// A file of employees is larger and slower than any other request, and
	// carries passwords; it is idempotent by its emails.
	s.add(e.Group("/api"), auth, []route{
		{http.MethodPost, "/employees/import", access.EmployeeImport, atRoute, handleImportEmployees(cmds.ImportEmployees)},
	}, timeout(importTimeout), middleware.BodyLimit(strconv.Itoa(maxImportBytes)))
	s.add(api, auth, []route{
		{http.MethodGet, "/auth/me", access.EmployeeRead, atRoute, handleMe()},

		{http.MethodPost, "/employees", access.EmployeeRegister, atRoute, handleRegisterEmployee(cmds.RegisterEmployee)},
		{http.MethodGet, "/employees", access.EmployeeList, atRoute, handleListEmployees(qs.ReadModels)},
		{http.MethodGet, "/employees/:id", access.EmployeeRead, inHandler, handleGetEmployee(employees)},
		{http.MethodPatch, "/employees/:id", access.EmployeeChange, inHandler, handlePatchEmployee(cmds.ChangeEmployee, people, sessions)},
		{http.MethodGet, "/employees/:id/history", access.EmployeeHistory, inHandler, handleEmployeeHistory(employees, qs.EmployeeHistory)},
		{http.MethodPost, "/employees/:id/erase", access.EmployeeErase, inHandler, handleEraseEmployee(cmds.EraseEmployee)},
		{http.MethodGet, "/employees/:id/export", access.EmployeeExport, inHandler, handleExportEmployee(employees, qs.ExportEmployee, d.Now)},

		{http.MethodPost, "/attendance", access.AttendanceRecord, atRoute, handleAttendance(cmds.RecordAttendance)},
		{http.MethodGet, "/attendance", access.EmployeeRead, inHandler, handleListAttendance(employees, qs.ReadModels, d.Now)},
		{http.MethodGet, "/attendance/today", access.EmployeeRead, atRoute, handleAttendanceToday(qs.ReadModels, cmds.RecordAttendance, d.Now)},
		{http.MethodPost, "/attendance/corrections", access.AttendanceCorrect, atRoute, handleRequestCorrection(cmds.RequestCorrection)},
		{http.MethodGet, "/attendance/corrections", access.EmployeeRead, atRoute, handleListCorrections(employees, qs.ReadModels, d.Now)},
		{http.MethodPost, "/attendance/corrections/:id/change-status", access.AttendanceDecideCorrection, inHandler, handleDecideCorrection(cmds.DecideCorrection)},

		{http.MethodPost, "/leave-management", access.LeaveRequest, atRoute, handleRequestLeave(cmds.RequestLeave, qs.TeamOverlap)},
		{http.MethodGet, "/leave-management", access.EmployeeRead, atRoute, handleListLeave(employees, qs.ReadModels, d.Now)},
		{http.MethodGet, "/leave-management/:id", access.EmployeeRead, inHandler, handleGetLeave(employees, qs.LeaveRequest)},
		{http.MethodPost, "/leave-management/:id/change-status", access.LeaveDecide, inHandler, handleDecideLeave(cmds.DecideLeave)},
		{http.MethodPost, "/leave-management/:id/cancel", access.LeaveCancel, inHandler, handleCancelLeave(cmds.CancelLeave)},
		{http.MethodGet, "/leave-balances/:employee_id", access.EmployeeRead, inHandler, handleGetBalance(employees, qs.LeaveBalance, d.Now)},
		{http.MethodGet, "/leave-balances/:employee_id/all", access.EmployeeRead, inHandler, handleGetAllBalances(employees, qs.LeaveBalance, d.Now)},
		{http.MethodGet, "/leave-balances/:employee_id/ledger", access.EmployeeRead, inHandler, handleGetLedger(employees, qs.LeaveBalance, d.Now)},
		{http.MethodPost, "/leave-balances/:employee_id/adjustments", access.LeaveAdjust, inHandler, handleAdjustLeave(cmds.AdjustLeave)},
		{http.MethodPut, "/leave-balances/:employee_id", access.LeaveSetEntitlement, inHandler, handleSetEntitlement(cmds.SetEntitlement)},

		{http.MethodGet, "/leave-types", access.LeaveTypeRead, atRoute, handleListLeaveTypes(qs.LeaveTypes)},
		{http.MethodPost, "/leave-types", access.LeaveTypeDefine, atRoute, handleDefineLeaveType(cmds.DefineLeaveType)},
		{http.MethodPatch, "/leave-types/:code", access.LeaveTypeChange, atRoute, handleChangeLeaveType(cmds.ChangeLeaveType)},

		{http.MethodGet, "/leave-blocks", access.LeaveBlockRead, atRoute, handleListLeaveBlocks(qs.LeaveBlocks)},
		{http.MethodPost, "/leave-blocks", access.LeaveBlockAdd, atRoute, handleAddLeaveBlock(cmds.AddLeaveBlock)},
		{http.MethodDelete, "/leave-blocks/:id", access.LeaveBlockRemove, atRoute, handleRemoveLeaveBlock(cmds.RemoveLeaveBlock)},
		{http.MethodGet, "/leave-calendar", access.LeaveCalendar, atRoute, handleLeaveCalendar(qs.LeaveCalendar, d.Now)},
		{http.MethodGet, "/approval-policy", access.ApprovalPolicyRead, atRoute, handleGetApprovalPolicy(qs.ApprovalPolicy)},
		{http.MethodPut, "/approval-policy", access.ApprovalPolicySet, atRoute, handleSetApprovalPolicy(cmds.SetApprovalPolicy)},
		{http.MethodPost, "/delegations", access.DelegationGrant, atRoute, handleDelegate(cmds.DelegateApprovals)},
		{http.MethodGet, "/delegations", access.DelegationList, atRoute, handleListDelegations(qs.ReadModels)},
		{http.MethodDelete, "/delegations/:id", access.DelegationRevoke, atRoute, handleRevokeDelegation(cmds.RevokeDelegation)},

		{http.MethodGet, "/holidays", access.HolidayRead, atRoute, handleListHolidays(qs.Holidays, d.Now)},
		{http.MethodPost, "/holidays", access.HolidayDeclare, atRoute, handleDeclareHoliday(cmds.DeclareHoliday)},
		{http.MethodDelete, "/holidays/:date", access.HolidayWithdraw, atRoute, handleWithdrawHoliday(cmds.WithdrawHoliday)},
		{http.MethodGet, "/holiday-calendars", access.HolidayCalendarRead, atRoute, handleListHolidayCalendars(qs.Holidays)},
		{http.MethodPost, "/holiday-calendars", access.HolidayCalendarDefine, atRoute, handleDefineHolidayCalendar(cmds.DefineHolidayCalendar)},

		{http.MethodGet, "/reports/monthly-work", access.EmployeeRead, atRoute, handleMonthlyWork(employees, qs.ReadModels, d.Now)},

		{http.MethodGet, "/notifications", access.NotificationRead, atRoute, handleListNotifications(qs.ReadModels)},
		{http.MethodPost, "/notifications/:id/mark-as-read", access.NotificationMarkRead, atRoute, handleMarkRead(cmds.MarkNotificationRead)},

		{http.MethodGet, "/events", access.AuditRead, atRoute, handleEvents(qs.EventFeed)},
		{http.MethodGet, "/events/:position/proof", access.AuditRead, atRoute, handleEventProof(qs.EventProof)},
		{http.MethodGet, "/audit/seals", access.AuditRead, atRoute, handleSeals(qs.Seals)},
		{http.MethodGet, "/audit/verify", access.AuditRead, atRoute, handleVerifySeals(qs.VerifySeals)},
	}, idempotent(d.Pool, set.IdempotencySecret, d.Now, set.IdempotencyKeyTTL))
}

// add registers routes on g. A public route runs as it is; any other runs
// behind authn (unless it authenticates itself: nil), then the policy check
// of its action, then after.
func (s *Server) add(g *echo.Group, authn echo.MiddlewareFunc, routes []route, after ...echo.MiddlewareFunc) {
	for _, r := range routes {
		var mw []echo.MiddlewareFunc
		if r.action != public {
			if authn != nil {
				mw = append(mw, authn)
			}
			mw = append(append(mw, authorize(r.action, r.check)), after...)
		}
		s.declare(g.Add(r.method, r.path, r.handler, mw...), r)
	}
}

func (s *Server) declare(registered *echo.Route, r route) {
	s.declared[registered.Method+" "+registered.Path] = r.action
}

// authorize refuses, at a route whose check is atRoute, a caller whose role
// may not perform the action at all.
func authorize(action access.Action, at check) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if at != atRoute {
			return next
		}
		return func(c echo.Context) error {
			if access.Scope(mustPrincipal(c).Employee, action) == 0 {
				return errForbidden
			}
			return next(c)
		}
	}
}

// permit refuses the caller unless they may perform action on e.
func permit(c echo.Context, action access.Action, e employee.Employee) error {
	p := mustPrincipal(c)
	if !access.Allowed(p.Employee, action, access.RelationOf(p.Employee, e)) {
		return errForbidden
	}
	return nil
}

// Route is a route of the router and the action it declares.
type Route struct {
	Method, Path string
	// Action is empty for a public route, and for a route registered around
	// the table, which is not Public either.
	Action access.Action
	Public bool
}

// Routes lists every route the router answers, with the action each
// declares.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.echo.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		action, ok := s.declared[r.Method+" "+r.Path]
		out = append(out, Route{Method: r.Method, Path: r.Path, Action: action, Public: ok && action == public})
	}
	return out
}
