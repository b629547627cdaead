package main

import (
	"context"
	"crypto/md5"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/domain/notification"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/eventstore/seal"
	"github.com/acme/employee-tracking/internal/backlog"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/migrations"
	"github.com/acme/employee-tracking/projections"
)

// The overhead benchmark measures what sealing and encryption cost the
// append, the feed and a rebuild, within one run: two databases hold the same
// events, one as the store kept them before the feature (personal fields in
// plain text, no sealer: "without"), the other as it keeps them now (personal
// fields sealed under each person's key, the sealer running: "with"). Rounds
// alternate between them, the side that goes first alternating too, so that
// the machine's other load falls on both alike; the verdict compares the
// medians of the rounds with the target, within 5 %.

// overheadTarget is the ratio with/without the figures must keep.
const overheadTarget = 0.95

// overheadEmployees and overheadManagers are the people of the workload.
const (
	overheadEmployees = 200
	overheadManagers  = 20
)

// plainRegistered and plainRaised are employee.registered and
// notification.raised as the store wrote them before personal fields were
// sealed: the same fields, none tagged personal. A change of either event
// stops this file compiling (the conversions need the same fields).
type plainRegistered struct {
	EmployeeID      string            `json:"employee_id"`
	Email           string            `json:"email"`
	FullName        string            `json:"full_name"`
	Role            employee.Role     `json:"role"`
	ManagerID       string            `json:"manager_id"`
	Position        string            `json:"position"`
	HireDate        calendar.Date     `json:"hire_date"`
	Schedule        employee.Schedule `json:"schedule"`
	HolidayCalendar string            `json:"holiday_calendar,omitempty"`
}

func (plainRegistered) EventName() string { return employee.Registered{}.EventName() }

type plainRaised struct {
	NotificationID string            `json:"notification_id"`
	RecipientID    string            `json:"recipient_id"`
	Type           notification.Type `json:"type"`
	Message        string            `json:"message,omitempty"`
	Data           map[string]any    `json:"data"`
	CauseEventID   string            `json:"cause_event_id"`
	RaisedAt       time.Time         `json:"raised_at"`
	SubjectID      string            `json:"subject_id,omitempty"`
	DecidedBy      string            `json:"decided_by,omitempty"`
	DecidedByName  string            `json:"decided_by_name,omitempty"`
}

func (plainRaised) EventName() string  { return notification.Raised{}.EventName() }
func (plainRaised) SchemaVersion() int { return notification.Raised{}.SchemaVersion() }

// overheadSide is one of the two databases.
type overheadSide struct {
	name   string
	pool   *pgxpool.Pool
	store  *eventstore.Store // reads, with the programs' codec
	writes *eventstore.Store // appends: sealing, or not
	sealer bool
	// versions of each writer's attendance stream, for the append rounds.
	versions []int64
}

type overheadBench struct {
	rounds   int
	duration time.Duration
	events   int
	// notifyEvery makes every n-th event of the workload a notification,
	// with personal fields; 0 none, and the sides differ by the sealer only.
	notifyEvery int
	stdout      io.Writer
	log         *slog.Logger
	without     *overheadSide
	with        *overheadSide
}

func runOverheadBench(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench overhead", flag.ContinueOnError)
	b := &overheadBench{stdout: stdout, log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	fs.IntVar(&b.rounds, "rounds", 7, "rounds of each comparison, each side once a round")
	fs.DurationVar(&b.duration, "duration", 2*time.Second, "append, feed, rebuild: measured time of each side in a round")
	fs.IntVar(&b.events, "events", 20_000, "feed, rebuild: events in each database")
	fs.IntVar(&b.notifyEvery, "notify-every", 4, "every n-th event is a lateness notification, whose message and data are personal; 0: none, the sides then differ by the sealer only")
	keep := fs.Bool("keep", false, "keep the two databases (BENCH_DATABASE_NAME, default et_bench, and that name with _plain)")
	control := fs.Bool("control", false, "make both sides without (plain text, no sealer): how far the ratios stray from 1 when nothing differs")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (both sides, the sealer included) to this file")
	only := fs.String("only", "feed,rebuild,append", "the comparisons to run, comma-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if b.rounds < 1 || b.duration <= 0 || b.events < 4*overheadEmployees || b.notifyEvery < 0 {
		return fmt.Errorf("-rounds and -duration must be positive, -notify-every not negative, -events at least %d", 4*overheadEmployees)
	}
	comparisons, err := b.comparisons(*only)
	if err != nil {
		return err
	}
	var drop func()
	if b.with, drop, err = b.open(ctx, getenv("BENCH_DATABASE_URL"), benchDatabaseName(getenv), *keep, !*control); err != nil {
		return err
	}
	defer drop()
	b.with.name = "with"
	plainURL := ""
	if u := getenv("BENCH_DATABASE_URL"); u != "" {
		parsed, err := url.Parse(u)
		if err != nil {
			return fmt.Errorf("BENCH_DATABASE_URL: %w", err)
		}
		parsed.Path += "_plain"
		plainURL = parsed.String()
	}
	if b.without, drop, err = b.open(ctx, plainURL, benchDatabaseName(getenv)+"_plain", *keep, false); err != nil {
		return err
	}
	defer drop()

	var pgVersion string
	if err := b.with.pool.QueryRow(ctx, "SELECT current_setting('server_version')").Scan(&pgVersion); err != nil {
		return err
	}
	command := fmt.Sprintf("go run ./cmd/bench overhead -rounds %d -duration %s -events %d -notify-every %d", b.rounds, b.duration, b.events, b.notifyEvery)
	if *only != fs.Lookup("only").DefValue {
		command += " -only " + *only
	}
	if *control {
		command += " -control"
	}
	if u := getenv("BENCH_DATABASE_URL"); u != "" {
		command = "BENCH_DATABASE_URL=" + redact(u) + " " + command
	}
	fmt.Fprintf(stdout, "command:  %s\n", command)
	fmt.Fprintf(stdout, "machine:  %d cores (%s), %s, PostgreSQL %s, same host\n", runtime.NumCPU(), cpuModel(), runtime.Version(), pgVersion)
	if *control {
		fmt.Fprintln(stdout, "compares: CONTROL: both sides are without (personal fields in plain text, no sealer), in two databases filled alike: "+
			"how far a ratio strays from 1 is the instrument's noise, not a cost")
	} else {
		fmt.Fprintln(stdout, "compares: without = personal fields in plain text, no sealer (the store before the feature); "+
			"with = personal fields sealed (AES-GCM, a key per person, eventstore/keyring), the audit sealer running (SEAL_INTERVAL=1s)")
	}
	mix := "no notification"
	if b.notifyEvery > 0 {
		mix = fmt.Sprintf("a lateness notification (personal message and data) every %d events", b.notifyEvery)
	}
	fmt.Fprintf(stdout, "workload: %d employees registered (personal name, email, position), check-ins and check-outs, %s\n", overheadEmployees, mix)

	for _, s := range []*overheadSide{b.without, b.with} {
		if err := b.fill(ctx, s); err != nil {
			return fmt.Errorf("fill %s: %w", s.name, err)
		}
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	for _, compare := range comparisons {
		if err := compare(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "load:     %s (1, 5, 15 min averages at the end)\n", loadAverage())
	return nil
}

// comparisons returns the comparisons named in only, in the order given.
func (b *overheadBench) comparisons(only string) ([]func(context.Context) error, error) {
	known := map[string]func(context.Context) error{"feed": b.feed, "rebuild": b.rebuild, "append": b.append}
	var out []func(context.Context) error
	for _, name := range strings.Split(only, ",") {
		compare, ok := known[strings.TrimSpace(name)]
		if !ok {
			return nil, fmt.Errorf("-only: %q is none of feed, rebuild, append", name)
		}
		out = append(out, compare)
	}
	return out, nil
}

// open creates (or, with benchURL, uses) a scratch database, migrated; drop
// closes its pool and drops it.
func (b *overheadBench) open(ctx context.Context, benchURL, name string, keep, sealed bool) (*overheadSide, func(), error) {
	dbURL, dropDB, err := openNamedDatabase(ctx, benchURL, name, keep)
	if err != nil {
		return nil, nil, err
	}
	poolCfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		dropDB()
		return nil, nil, err
	}
	poolCfg.MaxConns = writers + 4
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		dropDB()
		return nil, nil, err
	}
	drop := func() {
		pool.Close()
		dropDB()
	}
	s, err := b.side(ctx, pool, sealed)
	if err != nil {
		drop()
		return nil, nil, err
	}
	return s, drop, nil
}

func (b *overheadBench) side(ctx context.Context, pool *pgxpool.Pool, sealed bool) (*overheadSide, error) {
	if err := migrations.Up(ctx, pool); err != nil {
		return nil, err
	}
	codec, _, _, err := eventcodec.Open(ctx, pool, nil)
	if err != nil {
		return nil, err
	}
	s := &overheadSide{name: "without", pool: pool, store: eventstore.New(pool, codec), versions: make([]int64, writers)}
	if sealed {
		s.name, s.writes, s.sealer = "with", s.store, true
		return s, nil
	}
	plain, err := eventstore.NewCodec(attendance.CheckedIn{}, plainRegistered{}, plainRaised{})
	if err != nil {
		return nil, err
	}
	s.writes = eventstore.New(pool, plain)
	return s, nil
}

// overheadPerson is employee i of the workload; the ids are those internal/backlog
// gives its check-ins (md5 of the number).
func overheadPerson(i int) string { return uuid.UUID(md5.Sum([]byte(strconv.Itoa(i)))).String() }

// overheadManager is the manager of employee i, told of their lateness.
func overheadManager(i int) string { return overheadPerson(1_000_000 + i%overheadManagers) }

// fill writes the same workload to a side: the registrations and
// notifications through its store (sealed or not), the check-ins and
// check-outs straight (they hold nothing personal).
func (b *overheadBench) fill(ctx context.Context, s *overheadSide) error {
	start := time.Now()
	hired := calendar.Date{Year: 2000, Month: time.January, Day: 1}
	for i := range overheadEmployees {
		id := overheadPerson(i)
		reg := employee.Registered{EmployeeID: id, Email: fmt.Sprintf("employee%03d@example.com", i), FullName: fmt.Sprintf("Ayşe Yılmaz %03d", i),
			Role: employee.RoleEmployee, ManagerID: overheadManager(i), Position: "Engineer", HireDate: hired}
		var p eventstore.Payload = reg
		if !s.sealer {
			p = plainRegistered(reg)
		}
		if _, err := s.writes.Append(ctx, employee.Stream(id), eventstore.NoStream, eventstore.EventData{ID: uuid.New(), Payload: p}); err != nil {
			return err
		}
	}
	notifications := 0
	if b.notifyEvery > 0 {
		notifications = (b.events - overheadEmployees) / b.notifyEvery
	}
	attendanceEvents := b.events - overheadEmployees - notifications
	if err := backlog.Attendance(ctx, s.pool, attendanceEvents, overheadEmployees, hired, "bench"); err != nil {
		return err
	}
	const batch = 500
	at := time.Date(2000, time.January, 3, 6, 17, 0, 0, time.UTC)
	for from := 0; from < notifications; from += batch {
		byManager := map[string][]eventstore.EventData{}
		for i := from; i < min(from+batch, notifications); i++ {
			emp := i % overheadEmployees
			p := lateness(overheadPerson(emp), fmt.Sprintf("Ayşe Yılmaz %03d", emp), overheadManager(emp), at.AddDate(0, 0, i/overheadEmployees), !s.sealer)
			byManager[overheadManager(emp)] = append(byManager[overheadManager(emp)], eventstore.EventData{ID: uuid.New(), Payload: p})
		}
		for mgr, events := range byManager {
			if _, err := s.writes.Append(ctx, notification.Stream(mgr), eventstore.AnyVersion, events...); err != nil {
				return err
			}
		}
	}
	if _, err := s.pool.Exec(ctx, "VACUUM ANALYZE events"); err != nil {
		return err
	}
	if s.sealer {
		// The sealer catches up now, so that the rounds find it running as
		// a server's does, on what commits meanwhile.
		sealer := seal.NewSealer(s.pool, time.Second, b.log)
		for {
			n, err := sealer.CatchUp(ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
		}
	}
	// The feed shows an event once every transaction older than its own has
	// ended on the server, other databases' included: wait for all of them.
	for deadline := time.Now().Add(2 * time.Minute); ; {
		n, err := feedLength(ctx, s.store)
		if err != nil {
			return err
		}
		if n >= b.events {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the feed shows %d of %d events after 2 minutes: a long transaction on the server holds it back", n, b.events)
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "filled %s: %d events in %s\n", s.name, b.events, time.Since(start).Round(time.Millisecond))
	return nil
}

// feedLength counts the events the feed shows now.
func feedLength(ctx context.Context, store *eventstore.Store) (int, error) {
	n, cursor := 0, eventstore.Cursor{}
	for {
		events, next, err := store.ReadFeed(ctx, cursor, 10*feedPage)
		if err != nil || len(events) == 0 {
			return n, err
		}
		n, cursor = n+len(events), next
	}
}

// lateness is the notification the lateness saga raises to a manager, as
// stored with its personal fields sealed, or in plain text.
func lateness(emp, name, mgr string, at time.Time, plain bool) eventstore.Payload {
	date := calendar.DateOf(at, time.UTC)
	msg, data := notification.Lateness(name, emp, date, 17, at)
	r := notification.Raised{NotificationID: uuid.NewString(), RecipientID: mgr, Type: notification.TypeLateness, Message: msg, Data: data,
		CauseEventID: uuid.NewString(), RaisedAt: at, SubjectID: emp}
	if plain {
		return plainRaised(r)
	}
	return r
}

// withSealer runs fn on side s, with the sealer running beside it when the
// side has one, stopped once fn returns.
func (b *overheadBench) withSealer(ctx context.Context, s *overheadSide, fn func() error) error {
	if !s.sealer {
		return fn()
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		seal.NewSealer(s.pool, time.Second, b.log).Run(sctx)
	}()
	err := fn()
	stop()
	<-done
	return err
}

// compare measures each side once a round, the first side alternating, and
// prints each round, the medians and the verdict. measure returns how many
// events it did in how long. Each side's CPU per event is shown beside its
// rate: what this process (the sealer included) and the side's Postgres
// backends spent during the measurement, divided by its events. Other work on
// the host moves it much less than it moves the rates.
func (b *overheadBench) compare(ctx context.Context, name, title string, measure func(s *overheadSide) (int, time.Duration, error)) error {
	fmt.Fprintf(b.stdout, "\n%s\n", title)
	tw := tabwriter.NewWriter(b.stdout, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintf(tw, "round\tfirst\twithout, events/s\twith, events/s\twith/without\twithout, µs CPU/event\twith, µs CPU/event\twithout/with\t\n")
	var without, with, ratios, cpuRatios []float64
	// CPU per event of each side's process and Postgres backends, a round each.
	process, postgres := map[*overheadSide][]float64{}, map[*overheadSide][]float64{}
	for i := range b.rounds {
		sides := []*overheadSide{b.without, b.with}
		if i%2 == 1 {
			sides = []*overheadSide{b.with, b.without}
		}
		rate, cpu := map[*overheadSide]float64{}, map[*overheadSide]float64{}
		for _, s := range sides {
			var n int
			var took time.Duration
			var cost cpuCost
			// A profile's samples carry the comparison and the side, for
			// pprof -tagfocus.
			var err error
			pprof.Do(ctx, pprof.Labels("measure", name, "side", s.name), func(ctx context.Context) {
				err = b.withSealer(ctx, s, func() error {
					// Sampled while the sealer runs, so that its backend,
					// a connection of its own, is counted.
					meter := cpuMeter{pool: s.pool}
					before, err := meter.sample(ctx)
					if err != nil {
						return err
					}
					if n, took, err = measure(s); err != nil {
						return err
					}
					after, err := meter.sample(ctx)
					cost = costBetween(before, after)
					return err
				})
			})
			if err != nil {
				return fmt.Errorf("%s, %s: %w", title, s.name, err)
			}
			rate[s] = float64(n) / took.Seconds()
			perEvent := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(n, 1)) }
			cpu[s] = perEvent(cost.total())
			process[s], postgres[s] = append(process[s], perEvent(cost.process)), append(postgres[s], perEvent(cost.postgres))
		}
		without, with = append(without, rate[b.without]), append(with, rate[b.with])
		ratios = append(ratios, rate[b.with]/rate[b.without])
		cpuRatios = append(cpuRatios, cpu[b.without]/cpu[b.with])
		fmt.Fprintf(tw, "%d\t%s\t%.0f\t%.0f\t%.3f\t%.1f\t%.1f\t%.3f\t\n", i+1, sides[0].name, rate[b.without], rate[b.with], ratios[i],
			cpu[b.without], cpu[b.with], cpuRatios[i])
	}
	mw, mo, mr := median(with), median(without), median(ratios)
	fmt.Fprintf(tw, "median\t\t%.0f\t%.0f\t%.3f\t\t\t%.3f\t\n", mo, mw, mr, median(cpuRatios))
	tw.Flush()
	// A round's two sides ran within seconds of each other: the median of
	// the rounds' ratios leaves out more of the machine's changing load than
	// the ratio of the medians, which is shown beside it.
	fmt.Fprintf(b.stdout, "target:   with/without >= %.2f (within 5 %%), the median of the rounds' ratios: %s (ratio of the medians %.3f; "+
		"spread of the rounds: without %s, with %s, ratios %.3f..%.3f)\n",
		overheadTarget, verdict(fmt.Sprintf("%.3f", mr), mr >= overheadTarget), mw/mo, spread(without), spread(with), slices.Min(ratios), slices.Max(ratios))
	mc := median(cpuRatios)
	fmt.Fprintf(b.stdout, "cpu:      CPU per event without/with >= %.2f, the median of the rounds' ratios: %s (rounds %.3f..%.3f; "+
		"medians of the rounds, µs an event: without process %.1f, Postgres %.1f; with process %.1f, Postgres %.1f)\n",
		overheadTarget, verdict(fmt.Sprintf("%.3f", mc), mc >= overheadTarget), slices.Min(cpuRatios), slices.Max(cpuRatios),
		median(process[b.without]), median(postgres[b.without]), median(process[b.with]), median(postgres[b.with]))
	return nil
}

// feed reads the events of each side through the feed from the start,
// decoding them (and opening their personal fields), a page of 1,000 at a
// time, again and again for b.duration.
func (b *overheadBench) feed(ctx context.Context) error {
	title := fmt.Sprintf("feed: read and decode the %d events from the start, repeatedly for %s a side a round", b.events, b.duration)
	return b.compare(ctx, "feed", title, func(s *overheadSide) (int, time.Duration, error) {
		start, read, inPass, cursor := time.Now(), 0, 0, eventstore.Cursor{}
		for time.Since(start) < b.duration {
			events, next, err := s.store.ReadFeed(ctx, cursor, feedPage)
			if err != nil {
				return 0, 0, err
			}
			if len(events) == 0 {
				if inPass < b.events {
					return 0, 0, fmt.Errorf("the feed ended after %d of %d events", inPass, b.events)
				}
				inPass, cursor = 0, eventstore.Cursor{}
				continue
			}
			read, inPass, cursor = read+len(events), inPass+len(events), next
		}
		return read, time.Since(start), nil
	})
}

// rebuild rebuilds every read model of each side, as etctl rebuild does,
// again and again for b.duration: one rebuild of the workload takes a few
// hundred milliseconds, too short for a side's figure to stand above the
// machine's other load.
func (b *overheadBench) rebuild(ctx context.Context) error {
	title := fmt.Sprintf("rebuild: every read model from %d events, repeatedly for %s a side a round", b.events, b.duration)
	return b.compare(ctx, "rebuild", title, func(s *overheadSide) (int, time.Duration, error) {
		var n int
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM events").Scan(&n); err != nil {
			return 0, 0, err
		}
		start, folded := time.Now(), 0
		for folded == 0 || time.Since(start) < b.duration {
			if err := projections.Rebuild(ctx, s.pool, s.store, nil, io.Discard); err != nil {
				return 0, 0, err
			}
			folded += n
		}
		return folded, time.Since(start), nil
	})
}

// append appends for b.duration on each side, 16 writers, one event a
// commit: check-ins of the writer's own employee and, every notifyEvery-th
// event, a lateness notification to their manager.
func (b *overheadBench) append(ctx context.Context) error {
	title := fmt.Sprintf("append: %d writers, 1 event/commit, the workload's mix, %s a side a round", writers, b.duration)
	return b.compare(ctx, "append", title, func(s *overheadSide) (int, time.Duration, error) {
		ops := make([]int, writers)
		st, err := runFor(ctx, writers, b.duration, func(ctx context.Context, w int) (int, error) {
			emp := w % overheadEmployees
			id := overheadPerson(emp)
			now := time.Now().UTC()
			ops[w]++
			if b.notifyEvery > 0 && ops[w]%b.notifyEvery == 0 {
				p := lateness(id, fmt.Sprintf("Ayşe Yılmaz %03d", emp), overheadManager(emp), now, !s.sealer)
				_, err := s.writes.Append(ctx, notification.Stream(overheadManager(emp)), eventstore.AnyVersion, eventstore.EventData{ID: uuid.New(), Payload: p})
				return 1, err
			}
			stream := attendance.Stream("bench" + strconv.Itoa(w))
			res, err := s.writes.Append(ctx, stream, s.versions[w], eventstore.EventData{ID: uuid.New(), Payload: attendance.CheckedIn{
				EmployeeID: id, At: now, LocalDate: calendar.DateOf(now, time.UTC), Timezone: "UTC", Workday: true, Late: true, LateMinutes: 17,
			}})
			if err != nil {
				return 0, err
			}
			s.versions[w] = res.LastVersion
			return 1, nil
		})
		if err != nil {
			return 0, 0, err
		}
		return st.events, st.elapsed, nil
	})
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread is the range of xs around their median, in percent.
func spread(xs []float64) string {
	m := median(xs)
	return fmt.Sprintf("%+.0f..%+.0f %%", (slices.Min(xs)/m-1)*100, (slices.Max(xs)/m-1)*100)
}
