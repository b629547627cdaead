package http

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/internal/config"
)

// Password length bounds; bcrypt reads at most 72 bytes.
const (
	minPasswordLen = 8
	maxPasswordLen = 72
)

// Accounts keeps credentials (never in events) and registers employees:
// claim the email, append the registration, grant the year's leave.
type Accounts struct {
	pool   *pgxpool.Pool
	store  EventStore
	cfg    config.Config
	policy leave.Policy
	now    func() time.Time

	dummyOnce sync.Once
	dummy     []byte
}

// NewAccounts returns the accounts of the database behind pool and store.
func NewAccounts(pool *pgxpool.Pool, store EventStore, cfg config.Config, now func() time.Time) *Accounts {
	return &Accounts{pool: pool, store: store, cfg: cfg, policy: leavePolicy(cfg), now: now}
}

func leavePolicy(cfg config.Config) leave.Policy {
	return leave.Policy{AnnualDays: cfg.AnnualLeaveDays, LowThresholdDays: cfg.LowLeaveThresholdDays, LatenessDeductsLeave: cfg.LatenessDeductsLeave}
}

// EmployeeID is the id of the employee with this email. It is derived from
// the email so a repeated registration names the same streams.
func EmployeeID(email string) string {
	return derivedID("employee", strings.ToLower(email)).String()
}

// DefaultSchedule is the configured schedule of new employees.
func DefaultSchedule(cfg config.Config) employee.Schedule {
	start, _ := calendar.ParseClock(cfg.DefaultWorkStart) // validated by config.Load
	end, _ := calendar.ParseClock(cfg.DefaultWorkEnd)
	return employee.Schedule{
		Timezone: cfg.CompanyTimezone, WorkStart: start, WorkEnd: end,
		GraceMinutes: cfg.LateGraceMinutes, Workdays: []int{1, 2, 3, 4, 5},
	}
}

// Register creates an employee who logs in with password. It fails with a
// validation error, ErrEmailTaken, or the store's error, in which case the
// email is free again.
func (a *Accounts) Register(ctx context.Context, o origin, reg employee.Register, password string) (employee.Employee, error) {
	reg.EmployeeID = EmployeeID(reg.Email)
	now := a.now()
	events, err := employee.Decide(employee.Employee{}, reg, now)
	if err != nil {
		return employee.Employee{}, err
	}
	if msg := checkPassword(password); msg != "" {
		return employee.Employee{}, badRequest("invalid input", map[string]string{"password": msg})
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), a.cfg.PasswordCost)
	if err != nil {
		return employee.Employee{}, fmt.Errorf("hash password: %w", err)
	}
	if err := a.claim(ctx, reg.EmployeeID, reg.Email, hash); err != nil {
		return employee.Employee{}, err
	}
	stream := employee.Stream(reg.EmployeeID)
	data, err := o.withSeed("register").eventData(stream, events)
	if err == nil {
		_, err = a.store.Append(ctx, stream, eventstore.NoStream, data...)
	}
	if err != nil {
		// Without the registration the claim guards nothing: free the email.
		if _, relErr := a.pool.Exec(context.WithoutCancel(ctx), `DELETE FROM credentials WHERE user_id = $1`, reg.EmployeeID); relErr != nil {
			err = errors.Join(err, relErr)
		}
		return employee.Employee{}, err
	}
	e := employee.Replay(events)
	if err := a.grant(ctx, o, e, now); err != nil {
		return employee.Employee{}, err
	}
	return e, nil
}

// grant gives a new employee the annual leave of their hire year and of the
// current year. The grants are idempotent, so a retried registration is harmless.
func (a *Accounts) grant(ctx context.Context, o origin, e employee.Employee, now time.Time) error {
	loc, err := e.Schedule.Location()
	if err != nil {
		return err
	}
	years := []int{e.HireDate.Year}
	if cur := calendar.DateOf(now, loc).Year; cur > e.HireDate.Year {
		years = append(years, cur)
	}
	stream := leave.Stream(e.EmployeeID)
	_, err = update(ctx, a.store, o.withSeed("grant"), stream, func(history []any) ([]any, error) {
		acct := leave.Replay(history)
		var out []any
		for _, y := range years {
			events, err := leave.Decide(acct, leave.Grant{EmployeeID: e.EmployeeID, Year: y}, a.policy, now)
			if err != nil {
				return nil, err
			}
			for _, ev := range events {
				acct.Apply(ev)
			}
			out = append(out, events...)
		}
		return out, nil
	})
	return err
}

func checkPassword(p string) string {
	switch {
	case len(p) < minPasswordLen:
		return fmt.Sprintf("must be at least %d characters", minPasswordLen)
	case len(p) > maxPasswordLen:
		return fmt.Sprintf("must be at most %d bytes", maxPasswordLen)
	}
	return ""
}

func (a *Accounts) claim(ctx context.Context, userID, email string, hash []byte) error {
	_, err := a.pool.Exec(ctx, `INSERT INTO credentials (user_id, email, password_hash) VALUES ($1, $2, $3)`, userID, email, string(hash))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return ErrEmailTaken
	}
	return err
}

// dummyHash is compared against when the email is unknown, so a login takes
// as long whether or not the account exists. It has the configured cost.
func (a *Accounts) dummyHash() []byte {
	a.dummyOnce.Do(func() {
		a.dummy, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), a.cfg.PasswordCost)
	})
	return a.dummy
}

// Login checks an email and password from a client address under the login
// throttle (throttle.go) and returns the active employee they belong to. It
// fails with errBadCredentials, whether the email is unknown, the password
// wrong or the employee deactivated, or with *lockedError.
func (a *Accounts) Login(ctx context.Context, clientIP, email, password string) (employee.Employee, error) {
	at, err := a.beginLogin(ctx, clientIP, email)
	if err != nil {
		return employee.Employee{}, err
	}
	e, err := a.checkCredentials(ctx, email, password)
	outcome := loginSucceeded
	switch {
	case errors.Is(err, errBadCredentials):
		outcome = loginFailed
	case err != nil:
		outcome = loginAborted
	}
	// Counted even when the client gave up waiting.
	if endErr := a.endLogin(context.WithoutCancel(ctx), at, outcome); endErr != nil && err == nil {
		return employee.Employee{}, endErr
	}
	return e, err
}

// checkCredentials compares the password, against a dummy hash for an
// unknown email so that it takes as long, and loads the active employee.
func (a *Accounts) checkCredentials(ctx context.Context, email, password string) (employee.Employee, error) {
	var id, hash string
	err := a.pool.QueryRow(ctx, `SELECT user_id::text, password_hash FROM credentials WHERE lower(email) = lower($1)`, email).
		Scan(&id, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(a.dummyHash(), []byte(password))
		return employee.Employee{}, errBadCredentials
	}
	if err != nil {
		return employee.Employee{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return employee.Employee{}, errBadCredentials
	}
	e, err := loadEmployee(ctx, a.store, id)
	if errors.Is(err, errNotFound) || (err == nil && !e.Active) {
		return employee.Employee{}, errBadCredentials
	}
	return e, err
}

// SetPassword replaces a user's password and ends every session of theirs
// in the same transaction, then records the change as an event. The event
// failing puts the old password back.
func (a *Accounts) SetPassword(ctx context.Context, o origin, sessions *Sessions, userID, password string, reset bool) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), a.cfg.PasswordCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	var (
		old   string
		ended []string
	)
	err = pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT password_hash FROM credentials WHERE user_id = $1 FOR UPDATE`, userID).Scan(&old)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE credentials SET password_hash = $2, updated_at = now() WHERE user_id = $1`, userID, string(hash)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, endAllSessions, userID, "password changed")
		if err == nil {
			ended, err = pgx.CollectRows(rows, pgx.RowTo[string])
		}
		return err
	})
	if err != nil {
		return err
	}
	sessions.ended(ended)
	_, err = update(ctx, a.store, o, employee.Stream(userID), func(history []any) ([]any, error) {
		return employee.Decide(employee.Replay(history), employee.ChangePassword{Reset: reset}, a.now())
	})
	if err != nil {
		if _, undoErr := a.pool.Exec(context.WithoutCancel(ctx), `UPDATE credentials SET password_hash = $2 WHERE user_id = $1 AND password_hash = $3`,
			userID, old, string(hash)); undoErr != nil {
			err = errors.Join(err, undoErr)
		}
	}
	return err
}

// EnsureAdmin creates an admin with this email and password unless the email
// is taken or an admin already exists. It reports whether it created one.
func (a *Accounts) EnsureAdmin(ctx context.Context, email, password string) (bool, error) {
	var exists bool
	err := a.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM credentials WHERE lower(email) = lower($1))
		OR EXISTS (SELECT 1 FROM events WHERE type IN ('employee.registered', 'employee.role_changed') AND data->>'role' = 'admin')`,
		email).Scan(&exists)
	if err != nil || exists {
		return false, err
	}
	if _, err := a.CreateAdmin(ctx, email, password, "Administrator"); err != nil {
		if errors.Is(err, ErrEmailTaken) { // another instance won the race
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// CreateAdmin registers an admin with the company's default schedule.
func (a *Accounts) CreateAdmin(ctx context.Context, email, password, fullName string) (employee.Employee, error) {
	o := origin{meta: eventstore.Metadata{Actor: "system", CausationID: "create-admin", CorrelationID: "create-admin"}}
	return a.Register(ctx, o, employee.Register{
		Email: email, FullName: fullName, Role: employee.RoleAdmin, Schedule: DefaultSchedule(a.cfg),
	}, password)
}
