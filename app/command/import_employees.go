package command

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/acme/employee-tracking/domain/access"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/errkind"
)

// ImportEmployees registers the employees of a file, each line on its own.
type ImportEmployees struct {
	Actor  employee.Employee
	Origin Origin
	Lines  []ImportLine
}

// ImportLine is one employee of a file. An empty Password registers someone
// who cannot log in until an admin sets their password; ManagerEmail names
// an employee of the company or of an earlier line.
type ImportLine struct {
	Line         int // in the file, for the report
	Email        string
	FullName     string
	Role         employee.Role
	ManagerEmail string
	Position     string
	HireDate     calendar.Date // today when zero
	Schedule     *SchedulePatch
	Password     string
}

// ImportResult is what became of each line: registered (Created), already
// registered (Existing: nothing changed), or refused (Errors, in line order).
type ImportResult struct {
	Created, Existing int
	Errors            []LineError
}

// LineError is why a line was refused: a kinded error of the registration,
// its fields named as the file names its columns.
type LineError struct {
	Line int
	Err  error
}

// ImportEmployeesHandler registers the lines of files. Whoever may import
// may register anyone in any role, so a line needs no authorization of its
// own.
type ImportEmployeesHandler struct {
	register    RegisterEmployeeHandler
	credentials Credentials
}

// NewImportEmployeesHandler returns the handler, registering as register
// does.
func NewImportEmployeesHandler(register RegisterEmployeeHandler, credentials Credentials) ImportEmployeesHandler {
	return ImportEmployeesHandler{register: register, credentials: credentials}
}

// importWorkers is how many lines register at once: enough to keep the
// database busy between round trips (each line commits three times) and
// bcrypt on every core, few enough to leave some of the API's connections to
// other requests.
const importWorkers = 12

// Handle registers every line whose email is free, in waves: a line whose
// manager is an earlier line registers in the wave after that line's, so
// that the manager exists by then. A wave claims its emails in one
// statement; appending the registrations and their leave takes most of the
// time. A system failure (the store down) ends
// the import with the error; lines registered by then stay registered, and
// importing the file again completes it.
func (h ImportEmployeesHandler) Handle(ctx context.Context, cmd ImportEmployees) (ImportResult, error) {
	if access.Scope(cmd.Actor, access.EmployeeImport) == 0 {
		return ImportResult{}, ErrForbidden
	}
	emails := make([]string, len(cmd.Lines))
	for i, l := range cmd.Lines {
		emails[i] = l.Email
	}
	taken, err := h.credentials.Taken(ctx, emails)
	if err != nil {
		return ImportResult{}, err
	}

	var res ImportResult
	// wave[i] is the wave of line i, -1 for a line that registers nothing.
	wave := make([]int, len(cmd.Lines))
	first := map[string]int{} // the line of each lower-cased email
	waves := 0
	for i, l := range cmd.Lines {
		email := strings.ToLower(l.Email)
		if _, seen := first[email]; seen || taken[email] {
			res.Existing++
			wave[i] = -1
			continue
		}
		first[email] = i
		if m, ok := first[strings.ToLower(l.ManagerEmail)]; ok && l.ManagerEmail != "" && wave[m] >= 0 {
			wave[i] = wave[m] + 1
		}
		waves = max(waves, wave[i]+1)
	}

	errs := make([]error, len(cmd.Lines))
	created := make([]bool, len(cmd.Lines))
	managers := &managerChecks{store: h.register.registrar.store, checked: map[string]error{}}
	for w := range waves {
		var todo []int
		for i := range cmd.Lines {
			if wave[i] == w {
				todo = append(todo, i)
			}
		}
		if err := h.registerAll(ctx, cmd, todo, managers, created, errs); err != nil {
			return ImportResult{}, err
		}
	}
	for i, l := range cmd.Lines {
		switch {
		case created[i]:
			res.Created++
		case errors.Is(errs[i], ErrEmailTaken): // registered meanwhile by someone else
			res.Existing++
		case errs[i] != nil:
			res.Errors = append(res.Errors, LineError{Line: l.Line, Err: asColumns(errs[i])})
		}
	}
	slices.SortFunc(res.Errors, func(a, b LineError) int { return a.Line - b.Line })
	return res, nil
}

// registerAll registers the lines todo of cmd, marking each created or
// noting its refusal in errs: it decides and hashes them importWorkers at a
// time, claims their emails in one statement, and records them importWorkers
// at a time. It returns the first error that is no refusal.
func (h ImportEmployeesHandler) registerAll(ctx context.Context, cmd ImportEmployees, todo []int, managers *managerChecks, created []bool, errs []error) error {
	r := h.register.registrar
	now := r.now()
	decided := make([]registration, len(cmd.Lines))
	err := inParallel(ctx, todo, errs, func(ctx context.Context, i int) error {
		l := cmd.Lines[i]
		var managerID string
		if l.ManagerEmail != "" {
			managerID = EmployeeID(l.ManagerEmail)
			if err := managers.check(ctx, managerID); err != nil {
				return err
			}
		}
		d, err := r.decide(employee.Register{
			Email: l.Email, FullName: l.FullName, Role: l.Role, ManagerID: managerID, Position: l.Position, HireDate: l.HireDate,
			Schedule: l.Schedule.Apply(h.register.defaults),
		}, now)
		if err == nil && l.Password != "" {
			d.hash, err = r.passwords.hash(l.Password, "password")
		}
		decided[i] = d
		return err
	})
	if err != nil {
		return err
	}

	var claims []Claim
	var claiming []int
	for _, i := range todo {
		if errs[i] == nil {
			d := decided[i]
			claims, claiming = append(claims, Claim{UserID: d.id, Email: d.email, Hash: d.hash}), append(claiming, i)
		}
	}
	if len(claims) == 0 {
		return nil
	}
	claimed, err := r.passwords.credentials.ClaimAll(ctx, claims)
	if err != nil {
		return err
	}
	var record []int
	for k, i := range claiming {
		if !claimed[k] {
			errs[i] = ErrEmailTaken
			continue
		}
		record = append(record, i)
	}
	return inParallel(ctx, record, errs, func(ctx context.Context, i int) error {
		_, err := r.record(ctx, cmd.Origin, cmd.Actor.EmployeeID, decided[i], now)
		created[i] = err == nil
		return err
	})
}

// inParallel runs fn on each of todo, importWorkers at a time, noting what
// it returns in errs. The first error that is no refusal (the store down,
// the request cancelled) stops the rest and is returned.
func inParallel(ctx context.Context, todo []int, errs []error, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(importWorkers, len(todo)) {
		wg.Go(func() {
			for i := range next {
				err := fn(ctx, i)
				if err != nil && errkind.Of(err) == "" {
					cancel(err)
				}
				errs[i] = err
			}
		})
	}
	for _, i := range todo {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// managerChecks remembers what checkManager said of each manager of an
// import: hundreds of lines name the same few.
type managerChecks struct {
	store   EventStore
	mu      sync.Mutex
	checked map[string]error
}

func (m *managerChecks) check(ctx context.Context, id string) error {
	m.mu.Lock()
	err, ok := m.checked[id]
	m.mu.Unlock()
	if ok {
		return err
	}
	err = checkManager(ctx, m.store, id)
	if err == nil || errkind.Of(err) != "" { // a failure of the store is not remembered
		m.mu.Lock()
		m.checked[id] = err
		m.mu.Unlock()
	}
	return err
}

// importColumns are the columns of a file that carry the fields the
// registration names otherwise.
var importColumns = map[string]string{
	"manager_id": "manager_email", "schedule.timezone": "timezone", "schedule.work_start": "work_start",
	"schedule.work_end": "work_end", "schedule.workdays": "workdays",
}

// asColumns returns err with its fields named as the file's columns.
func asColumns(err error) error {
	fields := errkind.Fields(err)
	if len(fields) == 0 {
		return err
	}
	named := make(map[string]string, len(fields))
	for f, msg := range fields {
		if col, ok := importColumns[f]; ok {
			f = col
		}
		named[f] = msg
	}
	return &errkind.Error{Kind: errkind.Of(err), Message: err.Error(), Fields: named, Err: err}
}
