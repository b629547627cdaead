package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/schollz/progressbar/v3"

	appcommand "github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/cmd/internal/startup"
	apihttp "github.com/acme/employee-tracking/http"
	"github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/projections"
)

func init() {
	commands["seed-demo"] = command{
		summary: "create a demo company through the API's handlers: -employees (200), -months (3) of history; refuses a seeded database",
		run:     seedDemo,
	}
}

// ErrAlreadySeeded is returned when the database already holds the demo
// company: seeding twice would double its history.
var ErrAlreadySeeded = errors.New("seed-demo: the demo company already exists in this database")

// demoDomain names every demo login; the domain is reserved for examples.
const demoDomain = "demo.example.com"

// Offices of the demo company, the staff spread evenly over them; Berlin
// works the night shift, 22:00 to 06:00 the next morning.
var offices = []struct {
	name, tz, start, end string
	first, last          []string
}{
	{"Istanbul", "Europe/Istanbul", "09:00", "18:00",
		[]string{"Ayşe", "Mehmet", "Zeynep", "Mustafa", "Elif", "Ahmet", "Fatma", "Emre", "Selin", "Burak", "Deniz", "Can"},
		[]string{"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Arslan", "Doğan", "Koç", "Kurt"}},
	{"New York", "America/New_York", "09:00", "17:00",
		[]string{"Emma", "Liam", "Olivia", "Noah", "Ava", "James", "Sophia", "Lucas", "Mia", "Ethan", "Grace", "Daniel"},
		[]string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Moore", "Clark"}},
	{"Berlin night shift", "Europe/Berlin", "22:00", "06:00",
		[]string{"Lukas", "Anna", "Jonas", "Lea", "Felix", "Hannah", "Paul", "Marie", "Leon", "Lena", "Finn", "Jana"},
		[]string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Richter"}},
}

// demoLeaveTypes are the company's own leave types, beside the four built-in
// ones. Study leave accrues monthly and carries three days into the next
// year, which lapse at the end of March.
var demoLeaveTypes = []map[string]any{
	{"code": "study", "name": "Study leave", "paid": true, "tracked": true, "accrual": "monthly", "days_per_year": 6, "half_days": true,
		"carry_over_max_days": 3, "carry_over_expires_months": 3},
	{"code": "parental", "name": "Parental leave", "paid": true, "accrual": "none", "past_requests": true},
}

// demoHolidays are the company's holidays by month and day.
var demoHolidays = []struct {
	month time.Month
	day   int
	name  string
}{
	{time.January, 1, "New Year's Day"}, {time.April, 23, "National Sovereignty and Children's Day"},
	{time.May, 1, "Labour Day"}, {time.May, 19, "Youth and Sports Day"}, {time.July, 4, "Independence Day"},
	{time.July, 15, "Democracy and National Unity Day"}, {time.August, 30, "Victory Day"},
	{time.October, 29, "Republic Day"}, {time.December, 25, "Christmas Day"},
}

// seedDemo creates an admin, managers, employees in three offices (one on
// the night shift) and months of check-ins, absences, a forgotten check-out,
// leave requests of every type in every state, and holidays. The company
// starts with its history, on the first of a month: everyone is hired on
// that day, so no report shows days before it as absences, but for one
// veteran hired two years before, whose study leave carried over and lapsed
// in the years no process saw. Every
// change goes through the API's handlers in this process, on a simulated
// clock, so the events are exactly the ones the API appends. It refuses to
// run twice: the demo admin's email is taken on a seeded database.
func seedDemo(ctx context.Context, getenv func(string) string, stdout io.Writer, args []string) error {
	fs := flag.NewFlagSet("seed-demo", flag.ContinueOnError)
	fs.SetOutput(stdout)
	staff := fs.Int("employees", 200, "number of employees (managers and the admin come on top)")
	months := fs.Int("months", 3, "months of history, ending yesterday")
	password := fs.String("password", "demo-password", "password of every demo login")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same company")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *staff < 1 || *months < 1 {
		return errors.New("seed-demo: -employees and -months must be at least 1")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	// Tokens are issued on the simulated clock and must outlive the history.
	cfg.AccessTokenTTL = time.Duration(*months+1) * 31 * 24 * time.Hour
	pool, store, keys, err := openStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer pool.Close()

	today := time.Now().UTC().Truncate(24 * time.Hour)
	first := time.Date(today.Year(), today.Month()-time.Month(*months), 1, 0, 0, 0, 0, time.UTC)
	clock := first.AddDate(0, 0, -1).Add(6 * time.Hour)
	now := func() time.Time { return clock }
	application, creds := startup.Application(cfg, pool, store, keys, now)
	d := &demo{
		api: apihttp.New(apihttp.Deps{
			Settings: startup.APISettings(cfg, keys), Logger: slog.New(slog.DiscardHandler), Pool: pool, App: application, Status: projections.NewMonitor(pool).Status, Credentials: creds, Registry: prometheus.NewRegistry(), Now: now,
		}),
		ctx: ctx, password: *password, rng: rand.New(rand.NewPCG(*seed, 0x5eed)), hired: first,
	}

	adminEmail := "admin@" + demoDomain
	if _, err := application.Commands.CreateAdmin.Handle(ctx, appcommand.CreateAdmin{Email: adminEmail, Password: *password, FullName: "Demo Administrator"}); err != nil {
		if errors.Is(err, appcommand.ErrEmailTaken) {
			return ErrAlreadySeeded
		}
		return fmt.Errorf("seed-demo: %w", err)
	}
	admin := &person{email: adminEmail}
	if err := d.login(admin); err != nil {
		return err
	}

	plan := d.plan(admin, *staff, first, today)
	var progress io.Writer = os.Stderr
	if *quiet {
		progress = io.Discard
	}
	bar := progressbar.NewOptions(len(plan),
		progressbar.OptionSetWriter(progress),
		progressbar.OptionSetDescription("seed-demo"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("commands"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }),
	)
	// Registrations come first; the rest follows the simulated clock.
	slices.SortStableFunc(plan, func(a, b step) int { return a.at.Compare(b.at) })
	for _, s := range plan {
		if err := ctx.Err(); err != nil {
			return err
		}
		clock = s.at
		if err := s.do(); err != nil {
			return fmt.Errorf("seed-demo at %s: %w", s.at.Format(time.RFC3339), err)
		}
		_ = bar.Add(1) // the bar only draws
	}
	_ = bar.Finish()

	fmt.Fprintf(stdout, "seeded %d employees, %d managers, %d commands from %s to %s (%s)\n",
		*staff, len(d.managers), len(plan), first.Format(time.DateOnly), today.AddDate(0, 0, -1).Format(time.DateOnly), d.counts)
	fmt.Fprintf(stdout, "log in with password %q as:\n", *password)
	fmt.Fprintf(stdout, "  %-36s admin: everyone, holidays, reports\n", adminEmail)
	fmt.Fprintf(stdout, "  %-36s director, the second step of long annual leave and of corrections: GET /api/leave-management/?awaiting=me\n", d.director.email)
	for _, m := range d.managers[:min(2, len(d.managers))] {
		fmt.Fprintf(stdout, "  %-36s manager in %s\n", m.email, m.office)
	}
	for _, e := range d.staff[:min(2, len(d.staff))] {
		fmt.Fprintf(stdout, "  %-36s employee in %s\n", e.email, e.office)
	}
	if v := d.veteran; v != nil {
		fmt.Fprintf(stdout, "%s was hired on %s: GET /api/leave-balances/%s/ledger/?leave_type=study&year=%d shows study leave carried over and lapsed\n",
			v.email, v.hired.Format(time.DateOnly), v.id, first.Year())
	}
	return nil
}

// demo drives the API in process.
type demo struct {
	api      http.Handler
	ctx      context.Context
	password string
	rng      *rand.Rand
	hired    time.Time // everyone's hire date: the company's history starts there
	managers []*person
	director *person // every manager's manager, the second step of a chain
	staff    []*person
	veteran  *person // hired before the history
	counts   counts
}

// counts are what the seeding did, for its summary line.
type counts struct {
	checkIns, late, absences, leave int
	forgotten                       int // check-outs never made, closed by the next check-in
	corrected                       int // days corrected on request
	leaveByStatus                   map[string]int
	// chained are the requests and corrections that travelled both steps of
	// their chain, waiting the requests left at its second step.
	chained, waiting int
}

func (c counts) String() string {
	return fmt.Sprintf("%d check-ins, %d late, %d absences, %d forgotten check-outs, %d corrected, %d leave requests %v, "+
		"%d requests and corrections approved along a chain of two steps, %d waiting at its second step",
		c.checkIns, c.late, c.absences, c.forgotten, c.corrected, c.leave, c.leaveByStatus, c.chained, c.waiting)
}

// person is a demo login; id and token are known once its registration ran.
type person struct {
	email, name, office, tz string
	start, end              string
	manager                 *person
	hired                   time.Time // zero: when the history starts
	id, token               string
}

// step is one command at a simulated time.
type step struct {
	at time.Time
	do func() error
}

// plan lays out every command: registrations, holidays, then each workday's
// check-ins and check-outs, absences and leave requests with their fates.
func (d *demo) plan(admin *person, staff int, first, today time.Time) []step {
	setup := first.AddDate(0, 0, -1).Add(6 * time.Hour)
	var plan []step
	at := func(t time.Time, do func() error) { plan = append(plan, step{at: t, do: do}) }

	holidays := map[string]bool{}
	for y := first.Year(); y <= today.Year(); y++ {
		for _, h := range demoHolidays {
			day := time.Date(y, h.month, h.day, 0, 0, 0, 0, time.UTC)
			if day.Before(first) || !day.Before(today.AddDate(0, 2, 0)) {
				continue
			}
			holidays[day.Format(time.DateOnly)] = true
			at(setup, func() error {
				return d.call(admin, http.StatusCreated, "POST", "/api/holidays/", map[string]string{"date": day.Format(time.DateOnly), "name": h.name}, nil)
			})
		}
	}

	for _, t := range demoLeaveTypes {
		at(setup, func() error { return d.call(admin, http.StatusCreated, "POST", "/api/leave-types/", t, nil) })
	}
	// A week blocked for every tracked type, past the last leave requested
	// below (at most 17 days ahead): a request into it is refused.
	blocked := today.AddDate(0, 1, 0)
	for blocked.Weekday() != time.Monday {
		blocked = blocked.AddDate(0, 0, 1)
	}
	at(setup, func() error {
		return d.call(admin, http.StatusCreated, "POST", "/api/leave-blocks/", map[string]string{
			"start_date": blocked.Format(time.DateOnly), "end_date": blocked.AddDate(0, 0, 4).Format(time.DateOnly), "reason": "Stocktaking week",
		}, nil)
	})

	// The approval policy: annual leave of three days or more, and every
	// correction, need the manager and then the manager's manager, the
	// director, who manages the team leads.
	at(setup, func() error {
		return d.call(admin, http.StatusOK, "PUT", "/api/approval-policy/", map[string]any{"rules": []map[string]any{
			{"leave_type": "annual", "min_days": 3, "steps": []string{"manager", "second_manager"}},
			{"applies_to": "correction", "steps": []string{"manager", "second_manager"}},
		}}, nil)
	})
	hq := offices[0]
	d.director = &person{email: "director@" + demoDomain, office: hq.name, tz: hq.tz, start: hq.start, end: hq.end, name: "Zeynep Arslan"}
	at(setup, func() error { return d.register(admin, d.director, "manager", "Director") })

	nManagers := max(len(offices), staff/25)
	byOffice := make([][]*person, len(offices))
	for i := range nManagers {
		o := offices[i%len(offices)]
		m := &person{email: fmt.Sprintf("manager%02d@%s", i+1, demoDomain), office: o.name, tz: o.tz, start: o.start, end: o.end,
			name: o.first[(i*5+3)%len(o.first)] + " " + o.last[(i*7+1)%len(o.last)], manager: d.director}
		d.managers = append(d.managers, m)
		byOffice[i%len(offices)] = append(byOffice[i%len(offices)], m)
		at(setup, func() error { return d.register(admin, m, "manager", "Team Lead") })
	}
	d.managers = append(d.managers, d.director)
	positions := []string{"Engineer", "Analyst", "Designer", "Accountant", "Sales Representative", "Support Specialist"}
	for i := range staff {
		o := offices[i%len(offices)]
		team := byOffice[i%len(offices)]
		e := &person{email: fmt.Sprintf("employee%03d@%s", i+1, demoDomain), office: o.name, tz: o.tz, start: o.start, end: o.end,
			name:    o.first[d.rng.IntN(len(o.first))] + " " + o.last[d.rng.IntN(len(o.last))],
			manager: team[(i/len(offices))%len(team)]}
		if i == 1 {
			e.hired, d.veteran = time.Date(first.Year()-2, time.January, 5, 0, 0, 0, 0, time.UTC), e
		}
		d.staff = append(d.staff, e)
		at(setup, func() error { return d.register(admin, e, "employee", positions[i%len(positions)]) })
	}

	// One leave request per employee, on a random day of the history, for a
	// few days a week or two later, or half a day, or hours; its type cycles
	// through the types and its fate through every state.
	d.counts.leaveByStatus = map[string]int{}
	fates := []string{"approved", "approved", "rejected", "cancelled", "pending"}
	onLeave := map[*person]map[string]bool{}
	leaveDays := func(e *person, start, end time.Time) {
		if onLeave[e] == nil {
			onLeave[e] = map[string]bool{}
		}
		for day := start; !day.After(end); day = day.AddDate(0, 0, 1) {
			onLeave[e][day.Format(time.DateOnly)] = true
		}
	}
	requested := map[*person][2]time.Time{} // the days of each employee's request
	days := int(today.Sub(first).Hours() / 24)
	for i, e := range d.staff {
		loc, _ := time.LoadLocation(e.tz) // the offices' zones are embedded
		asked := first.AddDate(0, 0, d.rng.IntN(days))
		start := asked.AddDate(0, 0, 7+d.rng.IntN(7))
		for start.Weekday() == time.Saturday || start.Weekday() == time.Sunday {
			start = start.AddDate(0, 0, 1)
		}
		end := start.AddDate(0, 0, d.rng.IntN(3))
		requested[e] = [2]time.Time{start, end}
		fate := fates[i%len(fates)]
		body := map[string]any{"reason": "personal"}
		switch i % 6 {
		case 0:
			body["leave_type"] = "sick"
		case 1:
			end, body["half_day"] = start, "am"
		case 2: // what a month of study leave accrues
			end, body["leave_type"], body["half_day"] = start, "study", "pm"
		case 3:
			body["leave_type"] = "unpaid"
		case 4: // hours of compensatory leave, credited by the manager first
			if start.Year() == asked.Year() {
				end, body["leave_type"], body["hours"] = start, "compensatory", 4
				at(localTime(asked, "10:00", loc), func() error {
					return d.call(e.manager, http.StatusCreated, "POST", "/api/leave-balances/"+e.id+"/adjustments/",
						map[string]any{"leave_type": "compensatory", "days": 1, "reason": "weekend release"}, nil)
				})
			}
		}
		body["start_date"], body["end_date"] = start.Format(time.DateOnly), end.Format(time.DateOnly)
		var id string
		at(localTime(asked, "11:00", loc), func() error {
			var out struct {
				ID string `json:"id"`
			}
			err := d.call(e, http.StatusCreated, "POST", "/api/leave-management/", body, &out)
			var refused *refusedError
			if errors.As(err, &refused) && refused.status == http.StatusUnprocessableEntity {
				return nil // e.g. a range of holidays only: this employee asks for nothing
			}
			if err != nil {
				return err
			}
			id = out.ID
			d.counts.leave++
			d.counts.leaveByStatus[fate]++
			return nil
		})
		decided := localTime(asked.AddDate(0, 0, 1), "14:00", loc)
		switch fate {
		case "approved", "rejected":
			at(decided, func() error {
				if id == "" {
					return nil
				}
				return d.decideLeave(e, id, fate)
			})
			if fate == "approved" {
				leaveDays(e, start, end)
			}
		case "cancelled":
			at(decided, func() error {
				if id == "" {
					return nil
				}
				return d.call(e, http.StatusOK, "POST", "/api/leave-management/"+id+"/cancel/", nil, nil)
			})
		}
	}

	// Two more requests of three days of annual leave travel the chain the
	// policy gives them: one approved by the manager and then the director,
	// one approved by the manager and waiting on the director. Their days are
	// workdays clear of holidays and of their employee's other request.
	for i, e := range d.staff[min(2, len(d.staff)):min(4, len(d.staff))] {
		loc, _ := time.LoadLocation(e.tz)
		start := first.AddDate(0, 0, 14)
		for start.Weekday() != time.Monday {
			start = start.AddDate(0, 0, 1)
		}
		clear := func(start time.Time) bool {
			end := start.AddDate(0, 0, 2)
			if !end.Before(requested[e][0]) && !requested[e][1].Before(start) {
				return false
			}
			for day := start; !day.After(end); day = day.AddDate(0, 0, 1) {
				if holidays[day.Format(time.DateOnly)] {
					return false
				}
			}
			return true
		}
		for !clear(start) {
			start = start.AddDate(0, 0, 7)
		}
		end := start.AddDate(0, 0, 2)
		travelled := i == 0
		var id string
		filed := localTime(first, "11:00", loc)
		at(filed, func() error {
			var out struct {
				ID        string     `json:"id"`
				Approvals []struct{} `json:"approvals"`
			}
			body := map[string]any{"start_date": start.Format(time.DateOnly), "end_date": end.Format(time.DateOnly), "reason": "family visit"}
			if err := d.call(e, http.StatusCreated, "POST", "/api/leave-management/", body, &out); err != nil {
				return err
			}
			if len(out.Approvals) != 2 {
				return fmt.Errorf("a request of three days of annual leave has %d approval steps, want 2", len(out.Approvals))
			}
			id = out.ID
			d.counts.leave++
			d.counts.leaveByStatus[map[bool]string{true: "approved", false: "pending"}[travelled]]++
			return nil
		})
		at(filed.AddDate(0, 0, 1), func() error {
			if travelled {
				return d.decideLeave(e, id, "approved")
			}
			d.counts.waiting++
			return d.call(e.manager, http.StatusOK, "POST", "/api/leave-management/"+id+"/change-status/", map[string]string{"status": "approved"}, nil)
		})
		if travelled {
			leaveDays(e, start, end)
		}
	}

	// Workdays of everyone expected at work, managers too: most arrive on
	// time, some late, a few not at all. The first employee forgets to check
	// out once, on their first day: their next check-in closes that day at its
	// shift's end and flags it for review, and a week later they ask for the
	// check-out they forgot, which their manager approves.
	workers := slices.Concat(d.managers, d.staff)
	forgetful := d.staff[0]
	for day := first; day.Before(today); day = day.AddDate(0, 0, 1) {
		date := day.Format(time.DateOnly)
		if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday || holidays[date] {
			continue
		}
		for _, e := range workers {
			if onLeave[e][date] {
				continue
			}
			if d.rng.IntN(100) < 4 {
				d.counts.absences++
				continue
			}
			loc, _ := time.LoadLocation(e.tz)
			arrive := localTime(day, e.start, loc).Add(time.Duration(d.rng.IntN(20)-19) * time.Minute)
			if d.rng.IntN(100) < 12 {
				arrive = arrive.Add(time.Duration(20+d.rng.IntN(50)) * time.Minute)
				d.counts.late++
			}
			endDay := day
			if e.end < e.start { // a night shift ends the next morning
				endDay = day.AddDate(0, 0, 1)
			}
			leave := localTime(endDay, e.end, loc).Add(time.Duration(d.rng.IntN(75)-15) * time.Minute)
			d.counts.checkIns++
			at(arrive, func() error {
				return d.call(e, http.StatusCreated, "POST", "/api/attendance/", map[string]string{"type": "check-in"}, nil)
			})
			if e == forgetful && d.counts.forgotten == 0 {
				d.counts.forgotten++
				d.correct(at, e, date, leave, localTime(day.AddDate(0, 0, 7), "10:00", loc))
				continue
			}
			at(leave, func() error {
				return d.call(e, http.StatusCreated, "POST", "/api/attendance/", map[string]string{"type": "check-out"}, nil)
			})
		}
	}
	return plan
}

// correct plans e's correction of date's check-out to checkOut, filed at
// filed and approved by their manager an hour later.
func (d *demo) correct(at func(time.Time, func() error), e *person, date string, checkOut, filed time.Time) {
	var id string
	at(filed, func() error {
		var out struct {
			ID string `json:"id"`
		}
		body := map[string]string{"date": date, "check_out": checkOut.UTC().Format(time.RFC3339), "reason": "forgot to check out"}
		if err := d.call(e, http.StatusCreated, "POST", "/api/attendance/corrections/", body, &out); err != nil {
			return err
		}
		id = out.ID
		return nil
	})
	at(filed.Add(time.Hour), func() error {
		d.counts.corrected++
		return d.approveAlongChain(e, "/api/attendance/corrections/"+id+"/change-status/", "approved")
	})
}

// decideLeave decides e's request id as fate says: their manager rejects it,
// or approves it, and then, when it waits on a second step, the director.
func (d *demo) decideLeave(e *person, id, fate string) error {
	path := "/api/leave-management/" + id + "/change-status/"
	if fate == "approved" {
		return d.approveAlongChain(e, path, fate)
	}
	return d.call(e.manager, http.StatusOK, "POST", path, map[string]string{"status": fate}, nil)
}

// approveAlongChain approves what path decides, of e, as their manager, and
// then as the director when it still waits on a second step.
func (d *demo) approveAlongChain(e *person, path, status string) error {
	var out struct {
		Status string `json:"status"`
	}
	body := map[string]string{"status": status}
	if err := d.call(e.manager, http.StatusOK, "POST", path, body, &out); err != nil || out.Status != "pending" {
		return err
	}
	d.counts.chained++
	return d.call(d.director, http.StatusOK, "POST", path, body, nil)
}

// localTime is the instant of clock ("HH:MM") on day's date in loc.
func localTime(day time.Time, clock string, loc *time.Location) time.Time {
	t, _ := time.Parse("15:04", clock) // the clocks above are constants
	return time.Date(day.Year(), day.Month(), day.Day(), t.Hour(), t.Minute(), 0, 0, loc)
}

func (d *demo) register(admin, p *person, role, position string) error {
	body := map[string]any{
		"email": p.email, "password": d.password, "full_name": p.name, "role": role, "position": position,
		"hire_date": cmp.Or(p.hired, d.hired).Format(time.DateOnly),
		"schedule": map[string]any{
			"timezone": p.tz, "work_start": p.start, "work_end": p.end, "grace_minutes": 5, "workdays": []int{1, 2, 3, 4, 5},
		},
	}
	if p.manager != nil {
		body["manager_id"] = p.manager.id
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := d.call(admin, http.StatusCreated, "POST", "/api/employees/", body, &out); err != nil {
		return err
	}
	p.id = out.ID
	return d.login(p)
}

func (d *demo) login(p *person) error {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := d.call(nil, http.StatusOK, "POST", "/api/auth/login/", map[string]string{"email": p.email, "password": d.password}, &out); err != nil {
		return err
	}
	p.token = out.AccessToken
	return nil
}

// call serves one request through the API's handlers as p (nil: anonymous)
// and decodes the answer into out unless out is nil.
func (d *demo) call(p *person, want int, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequestWithContext(d.ctx, method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	if p != nil {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	rec := httptest.NewRecorder()
	d.api.ServeHTTP(rec, req)
	if rec.Code != want {
		return &refusedError{request: method + " " + path, status: rec.Code, body: string(bytes.TrimSpace(rec.Body.Bytes())), want: want}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}

// refusedError is an answer of the API other than the one a step expects.
type refusedError struct {
	request      string
	status, want int
	body         string
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("%s: %d %s, want %d", e.request, e.status, e.body, e.want)
}
