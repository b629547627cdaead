package http

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/internal/credentials"
)

// Accounts log users in: credentials under the login throttle
// (throttle.go). Registering people and setting passwords are commands of
// the application.
type Accounts struct {
	pool        *pgxpool.Pool // the login throttle's tables
	credentials *credentials.Store
	employees   query.EmployeeHandler
	cost        int // bcrypt's, of the dummy hash
	now         func() time.Time

	dummyOnce sync.Once
	dummy     []byte
}

// NewAccounts returns the accounts of the database behind pool; cost is
// the bcrypt cost of the stored hashes.
func NewAccounts(pool *pgxpool.Pool, creds *credentials.Store, employees query.EmployeeHandler, cost int, now func() time.Time) *Accounts {
	return &Accounts{pool: pool, credentials: creds, employees: employees, cost: cost, now: now}
}

// dummyHash is compared against when the email is unknown, so a login takes
// as long whether or not the account exists. It has the configured cost.
func (a *Accounts) dummyHash() []byte {
	a.dummyOnce.Do(func() {
		a.dummy, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), a.cost)
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
	id, hash, ok, err := a.credentials.Lookup(ctx, email)
	if err != nil {
		return employee.Employee{}, err
	}
	if !ok {
		_ = bcrypt.CompareHashAndPassword(a.dummyHash(), []byte(password))
		return employee.Employee{}, errBadCredentials
	}
	if len(hash) == 0 { // registered without a password: none matches, in the time of one
		_ = bcrypt.CompareHashAndPassword(a.dummyHash(), []byte(password))
		return employee.Employee{}, errBadCredentials
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		return employee.Employee{}, errBadCredentials
	}
	e, err := a.employees.Handle(ctx, id)
	if errors.Is(err, employee.ErrNotFound) || (err == nil && !e.Active) {
		return employee.Employee{}, errBadCredentials
	}
	return e, err
}
