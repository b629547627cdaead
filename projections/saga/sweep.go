package saga

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/holiday"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/readmodel"
)

// sweepEvery is how often the sweep looks for employees whose day is due.
const sweepEvery = time.Minute

// Sweep is the daily check at checkAt in each employee's own time zone (the
// day after, for the date of an overnight shift): an
// absence on a workday without leave or holiday, a check-in left open from an
// earlier day, the yearly leave grant, and the low balance a lapse of
// carried-over days due by the day caused. Each (employee, local date) is swept
// once; the events it appends have ids derived from the employee, the date and
// the recipient, so two processes sweeping at once notify nobody twice.
type Sweep struct {
	pool    *pgxpool.Pool
	n       *notifier
	grant   command.GrantLeaveYearHandler
	lapses  command.NoteLeaveLapsesHandler
	checkAt calendar.Clock
	now     func() time.Time
}

// NewSweep returns the daily sweep; Run runs it.
func NewSweep(d Deps) *Sweep {
	return &Sweep{pool: d.Pool, n: newNotifier(d), grant: d.GrantLeaveYear, lapses: d.NoteLeaveLapses, checkAt: d.DailyCheckAt, now: d.Now}
}

// Run sweeps every minute until ctx ends.
func (s *Sweep) Run(ctx context.Context) error {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		if err := s.Once(ctx); err != nil && ctx.Err() == nil {
			s.n.logger.Error("daily sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Once sweeps every active employee whose local time has passed checkAt today
// and whose local today is not swept yet, or yesterday if it is not swept and
// today's checkAt has not come; but not those whose read models lag.
func (s *Sweep) Once(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT id, full_name, manager_id, hire_date, schedule, holiday_calendar, role = ANY($1),
		(SELECT max(local_date) FROM sweeps WHERE employee_id = employees.id)
		FROM employees WHERE active`, readmodel.WorkingRoles)
	if err != nil {
		return fmt.Errorf("sweep: list employees: %w", err)
	}
	type due struct {
		person
		hire      pgtype.Date
		schedule  employee.Schedule
		calendar  string // of holidays
		works     bool   // expected at work, so absent without a check-in
		lastSwept pgtype.Date
	}
	var all []due
	for rows.Next() {
		var d due
		var manager *string
		if err := rows.Scan(&d.ID, &d.Name, &manager, &d.hire, &d.schedule, &d.calendar, &d.works, &d.lastSwept); err != nil {
			rows.Close()
			return fmt.Errorf("sweep: list employees: %w", err)
		}
		if manager != nil {
			d.ManagerID = *manager
		}
		all = append(all, d)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sweep: list employees: %w", err)
	}
	now := s.now()
	var errs []error
	held := 0
	var lagging []string
	for _, d := range all {
		loc, err := d.schedule.Location()
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep: employee %s: %w", d.ID, err))
			continue
		}
		local := now.In(loc)
		day := calendar.DateOf(now, loc)
		// Compared as wall-clock minutes: on a day the clocks skip checkAt
		// (02:30 on a spring-forward night), the first minute after it counts.
		if calendar.Clock(local.Hour()*60+local.Minute()) < s.checkAt {
			// Before today's check, yesterday's is due if it did not happen:
			// held past midnight by lagging read models, or missed while no
			// process ran. Not before the employee's first sweep.
			day = day.AddDays(-1)
			if last := readmodel.DateOf(d.lastSwept); last.IsZero() || !last.Before(day) {
				continue
			}
		}
		// An overnight shift has not begun at checkAt on its own date: its
		// day is swept at checkAt the morning after, when it has ended.
		if d.schedule.Overnight() {
			day = day.AddDays(-1)
		}
		if hire := readmodel.DateOf(d.hire); !hire.IsZero() && day.Before(hire) {
			continue
		}
		behind, err := s.employee(ctx, d.person, d.schedule, d.calendar, d.works, day)
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep: employee %s on %s: %w", d.ID, day, err))
		}
		if len(behind) > 0 {
			held++
			for _, name := range behind {
				if !slices.Contains(lagging, name) {
					lagging = append(lagging, name)
				}
			}
		}
	}
	if held > 0 {
		s.n.logger.Warn("daily sweep: employees held until the read models catch up with the store", "employees", held, "read_models", lagging)
	}
	return errors.Join(errs...)
}

// employee sweeps p's day, unless it is swept already or a read model it
// reads has not yet applied every event of p's streams (and of the year's
// holidays of p's calendar, cal) that the store holds: then p is held, and swept at a later tick.
// Lagging read models, Redis down or a backlog, would otherwise report absent
// someone who came in.
// sweepCorrelationID correlates what the sweep of an employee's day
// records.
func sweepCorrelationID(employeeID string, day calendar.Date) uuid.UUID {
	return command.ReactionIDs.ID("sweep", employeeID, day.String())
}

func (s *Sweep) employee(ctx context.Context, p person, sched employee.Schedule, cal string, works bool, day calendar.Date) (behind []string, err error) {
	var swept bool
	// The read models that lag: a projection of $3 for each stream of $4
	// whose last version in the store it has not applied.
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sweeps WHERE employee_id = $1 AND local_date = $2),
		(SELECT coalesce(array_agg(w.projection ORDER BY w.projection), '{}') FROM unnest($3::text[], $4::text[]) AS w(projection, stream_id)
		WHERE coalesce((SELECT max(version) FROM events e WHERE e.stream_id = w.stream_id), 0)
			> coalesce((SELECT version FROM projection_versions v WHERE v.projection = w.projection AND v.stream_id = w.stream_id), 0))`,
		p.ID, readmodel.PGDate(day),
		[]string{readmodel.Directory, readmodel.Attendance, readmodel.Leave, readmodel.Holidays},
		[]string{employee.Stream(p.ID), attendance.Stream(p.ID), leave.Stream(p.ID), holiday.Stream(cal, day.Year)},
	).Scan(&swept, &behind)
	if err != nil || swept || len(behind) > 0 {
		return behind, err
	}
	meta := eventstore.Metadata{Actor: "daily-sweep", CorrelationID: sweepCorrelationID(p.ID, day).String()}

	// The leave year's grant, on the employee's first sweep of the year.
	grantCause := "grant/" + p.ID + "/" + strconv.Itoa(day.Year)
	err = refused(s.grant.Handle(ctx, command.GrantLeaveYear{
		Origin: command.Reaction("leave", grantCause, "", meta.CorrelationID), Actor: meta.Actor, EmployeeID: p.ID, Year: day.Year,
	}))
	if err != nil {
		return nil, err
	}
	// A lapse of carried-over days due by the day, which no event records:
	// the low balance it caused, reported once (command.LapseCause).
	if _, err := s.lapses.Handle(ctx, command.NoteLeaveLapses{
		Origin: command.Origin{CorrelationID: meta.CorrelationID}, Actor: meta.Actor, EmployeeID: p.ID, Today: day,
	}); err != nil {
		return nil, refused(err)
	}

	var checkedIn, onLeave, isHoliday bool
	var openDate pgtype.Date
	var openAt *time.Time
	err = s.pool.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM attendance_days WHERE employee_id = $1 AND date = $2),
			EXISTS (SELECT 1 FROM leave_days WHERE employee_id = $1 AND date = $2),
			EXISTS (SELECT 1 FROM holidays WHERE calendar = $3 AND date = $2)`, p.ID, readmodel.PGDate(day), cal).Scan(&checkedIn, &onLeave, &isHoliday)
	if err != nil {
		return nil, err
	}
	err = s.pool.QueryRow(ctx, `SELECT date, check_in FROM attendance_days WHERE employee_id = $1 AND status = 'open' AND date < $2
		ORDER BY date LIMIT 1`, p.ID, readmodel.PGDate(day)).Scan(&openDate, &openAt)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}

	absent := works && sched.IsWorkday(day) && !isHoliday && !onLeave && !checkedIn
	if absent || openAt != nil {
		to, err := s.n.supervisors(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, r := range to {
			if absent {
				msg, data := notification.Absence(p.Name, p.ID, day)
				if err := s.n.notify(ctx, "absence/"+p.ID+"/"+day.String(), meta, r, notification.TypeAbsence, msg, data, notification.Decider{}); err != nil {
					return nil, err
				}
			}
			if openAt != nil {
				d := readmodel.DateOf(openDate)
				msg, data := notification.OpenCheckIn(p.Name, p.ID, d, *openAt)
				if err := s.n.notify(ctx, "open_check_in/"+p.ID+"/"+d.String(), meta, r, notification.TypeOpenCheckIn, msg, data, notification.Decider{}); err != nil {
					return nil, err
				}
			}
		}
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO sweeps (employee_id, local_date) VALUES ($1, $2) ON CONFLICT DO NOTHING`, p.ID, readmodel.PGDate(day))
	return nil, err
}
