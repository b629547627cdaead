package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill-redisstream/pkg/redisstream"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/acme/employee-tracking/app/query"
	"github.com/acme/employee-tracking/cmd/internal/startup"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/employee"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/eventstore/seal"
	"github.com/acme/employee-tracking/internal/backlog"
	appconfig "github.com/acme/employee-tracking/internal/config"
	"github.com/acme/employee-tracking/internal/eventcodec"
	"github.com/acme/employee-tracking/migrations"
	"github.com/acme/employee-tracking/projections"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/relay"
)

// pipelineBenches are the benchmarks of the relay, the projectors and the
// rebuild, which need Redis besides Postgres (BENCH_REDIS_URL, default the
// local one; each run uses streams of its own and deletes them).
var pipelineBenches = map[string]func(p *pipelineBench, ctx context.Context) error{
	"lag":     (*pipelineBench).lag,
	"catchup": (*pipelineBench).catchUp,
	"push":    (*pipelineBench).push,
	"relay":   (*pipelineBench).relay,
	"rebuild": (*pipelineBench).rebuild,
	"seal":    (*pipelineBench).seal,
}

type pipelineBench struct {
	name    string
	dbURL   string
	members int
	// partitions is BUS_PARTITIONS of the pipeline's bus.
	partitions int
	duration   time.Duration
	rate       int
	events     int
	pool       *pgxpool.Pool
	store      *eventstore.Store
	redisURL   string
	prefix     string
	// handOverAlone is PIPELINE_HANDOVER_ALONE from the environment; unset,
	// the pipeline has the server's default.
	handOverAlone string
	stdout        io.Writer
}

func runPipelineBench(ctx context.Context, name string, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench "+name, flag.ContinueOnError)
	b := &pipelineBench{name: name, stdout: stdout, redisURL: redisURL(getenv), prefix: "etbench." + uuid.NewString()[:8] + ".",
		handOverAlone: getenv("PIPELINE_HANDOVER_ALONE")}
	duration := 60 * time.Second
	if name == "push" {
		duration = 30 * time.Second
	}
	fs.DurationVar(&b.duration, "duration", duration, "lag, push: how long to sustain the rate")
	fs.IntVar(&b.rate, "rate", map[string]int{"lag": 5000, "push": 200}[name], "lag, push: appended events per second")
	fs.IntVar(&b.events, "events", map[string]int{"relay": 200_000, "rebuild": 1_000_000, "catchup": 100_000, "seal": 1_000_000}[name], "relay, rebuild, catchup, seal: events in the store")
	fs.IntVar(&b.members, "members", bus.DefaultGroupMembers, "lag, push, catchup: members of each consumer group per partition")
	fs.IntVar(&b.partitions, "partitions", bus.DefaultPartitions, "lag, push, catchup: partitions of each category's topic (BUS_PARTITIONS)")
	memory := fs.Bool("memory", false, "catchup: on the in-process bus (REDIS_URL=memory) instead of Redis")
	keep := fs.Bool("keep", false, "keep the benchmark's database")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (relay, projectors, sagas) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *memory && name != "catchup" {
		return errors.New("-memory: catchup only")
	}
	dbURL, drop, err := openDatabase(ctx, getenv, *keep)
	if err != nil {
		return err
	}
	defer drop()
	b.dbURL = dbURL
	poolCfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	poolCfg.MaxConns = 32
	if b.pool, err = pgxpool.NewWithConfig(ctx, poolCfg); err != nil {
		return err
	}
	defer b.pool.Close()
	if err := migrations.Up(ctx, b.pool); err != nil {
		return err
	}
	codec, _, _, err := eventcodec.Open(ctx, b.pool, nil)
	if err != nil {
		return err
	}
	b.store = eventstore.New(b.pool, codec)
	defer dropStreams(b.redisURL, b.prefix)

	var pgVersion string
	if err := b.pool.QueryRow(ctx, "SELECT current_setting('server_version')").Scan(&pgVersion); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "command:  go run ./cmd/bench %s %s\n", name, map[string]string{
		"lag":     fmt.Sprintf("-duration %s -rate %d -members %d -partitions %d", b.duration, b.rate, b.members, b.partitions),
		"push":    fmt.Sprintf("-duration %s -rate %d -members %d -partitions %d", b.duration, b.rate, b.members, b.partitions),
		"relay":   fmt.Sprintf("-events %d", b.events),
		"rebuild": fmt.Sprintf("-events %d", b.events),
		"seal":    fmt.Sprintf("-events %d", b.events),
		"catchup": fmt.Sprintf("-events %d -members %d -partitions %d", b.events, b.members, b.partitions) + map[bool]string{true: " -memory"}[*memory],
	}[name])
	fmt.Fprintf(stdout, "machine:  %d cores (%s), %s, PostgreSQL %s, Redis at %s, same host\n",
		runtime.NumCPU(), cpuModel(), runtime.Version(), pgVersion, redact(b.redisURL))
	if *memory {
		b.redisURL = bus.MemoryURL
	}
	if name == "lag" || name == "push" || name == "catchup" {
		fmt.Fprintf(stdout, "pipeline: as the server runs it (cmd/internal/startup: its pools, store and bus), REDIS_URL=%s, GROUP_MEMBERS=%d, BUS_PARTITIONS=%d, "+
			"PIPELINE_HANDOVER_ALONE=%s, defaults otherwise but DAILY_CHECK_AT=23:59 (no sweep in the run)\n", redact(b.redisURL), b.members, b.partitions,
			cmp.Or(b.handOverAlone, "true, the default"))
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if err := pipelineBenches[name](b, ctx); err != nil {
		return err
	}
	// Other work on the host skews every figure; say how busy it was.
	fmt.Fprintf(stdout, "load:     %s (1, 5, 15 min averages at the end)\n", loadAverage())
	return nil
}

// cpuMeter measures the CPU the pipeline costs: this process, the
// benchmark database's backends and, on Redis, the Redis server.
func (b *pipelineBench) cpuMeter() (cpuMeter, func(), error) {
	m := cpuMeter{pool: b.pool}
	if b.redisURL == bus.MemoryURL {
		return m, func() {}, nil
	}
	opts, err := redis.ParseURL(b.redisURL)
	if err != nil {
		return m, nil, err
	}
	m.redis = redis.NewClient(opts)
	return m, func() { m.redis.Close() }, nil
}

func (b *pipelineBench) bus() (*bus.Bus, error) {
	return bus.New(bus.Settings{URL: b.redisURL, Prefix: b.prefix, GroupMembers: b.members},
		slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// open opens what the server opens for its pipeline (cmd/internal/startup: the
// same pools, store and bus), with the configuration `make run` has but for
// the database, the bus prefix, -members and a daily sweep due at 23:59 UTC,
// out of every run's way.
func (b *pipelineBench) open(ctx context.Context) (*startup.App, error) {
	env := map[string]string{
		"DATABASE_URL": b.dbURL, "REDIS_URL": b.redisURL, "REDIS_PREFIX": b.prefix,
		"GROUP_MEMBERS": strconv.Itoa(b.members), "DAILY_CHECK_AT": "23:59", "BUS_PARTITIONS": strconv.Itoa(b.partitions),
	}
	if b.handOverAlone != "" {
		env["PIPELINE_HANDOVER_ALONE"] = b.handOverAlone
	}
	cfg, err := appconfig.Load(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	return startup.Open(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// runPipeline runs the relay, projectors and sagas of app, as the server
// does, until ctx ends; the channel reports how the pipeline stopped.
func (b *pipelineBench) runPipeline(ctx context.Context, app *startup.App) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- projections.Run(ctx, projections.Deps{
			LeavePolicy: app.Config.LeavePolicy(), DailyCheckAt: app.Config.DailyCheck(), Pool: app.PipelinePool, Store: app.Store, Bus: app.Bus, Logger: app.Logger,
			HandOverAlone: app.Config.PipelineHandOverAlone,
		})
	}()
	return done
}

func (b *pipelineBench) fill(ctx context.Context) error {
	start := time.Now()
	if err := backlog.Attendance(ctx, b.pool, b.events, 2000, calendar.Date{Year: 2000, Month: time.January, Day: 1}, "bench"); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	fmt.Fprintf(os.Stderr, "filled %d events in %s\n", b.events, time.Since(start).Round(time.Millisecond))
	return nil
}

// relay measures publishing a backlog of events to Redis.
func (b *pipelineBench) relay(ctx context.Context) error {
	if err := b.fill(ctx); err != nil {
		return err
	}
	bus, err := b.bus()
	if err != nil {
		return err
	}
	defer bus.Close()
	var head int64
	if err := b.pool.QueryRow(ctx, `SELECT max(position) FROM events`).Scan(&head); err != nil {
		return err
	}
	r := relay.New(b.pool, b.store, bus, nil, nil)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	go r.Run(ctx)
	for {
		c, err := b.store.LoadCheckpoint(ctx, relay.Checkpoint)
		if err != nil {
			return err
		}
		if c.Position >= head {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	rate := float64(b.events) / time.Since(start).Seconds()
	b.table([][3]string{{"relay: feed -> Redis Streams", fmt.Sprintf("%.0f events/s", rate), verdict(">= 20000 events/s", rate >= 20000)}})
	return nil
}

// catchUp measures the live pipeline working off a backlog: the relay, every
// projector and saga, from an empty bus to every checkpoint at the head.
func (b *pipelineBench) catchUp(ctx context.Context) error {
	// The read models ran before the backlog came (after an outage, say):
	// the pipeline works the backlog off, rather than building them anew
	// at start as it builds a read model new to a store.
	for _, name := range projections.ReadModelNames() {
		for part := range b.partitions {
			if _, err := b.pool.Exec(ctx, `INSERT INTO projection_checkpoints (projection, partition, tx_id, position)
				VALUES ($1, $2, '0', 0)`, name, part); err != nil {
				return err
			}
		}
	}
	if err := b.fill(ctx); err != nil {
		return err
	}
	app, err := b.open(ctx)
	if err != nil {
		return err
	}
	defer app.Close()
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	meter, closeMeter, err := b.cpuMeter()
	if err != nil {
		return err
	}
	defer closeMeter()
	before, err := meter.sample(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	done := b.runPipeline(pctx, app)
	monitor := projections.NewMonitor(b.pool)
	for {
		st, err := monitor.Status(ctx)
		if err != nil {
			return err
		}
		behind := st.Relay.LagEvents
		for _, c := range st.Consumers {
			behind = max(behind, c.LagEvents)
		}
		if len(st.Consumers) > 0 && behind == 0 {
			break
		}
		select {
		case err := <-done:
			return fmt.Errorf("pipeline stopped: %w", err)
		case <-time.After(20 * time.Millisecond): // a catch-up takes a second or two
		}
	}
	elapsed := time.Since(start)
	after, err := meter.sample(ctx)
	if err != nil {
		return err
	}
	stop()
	if err := <-done; err != nil {
		return err
	}
	rate := float64(b.events) / elapsed.Seconds()
	b.table([][3]string{
		{"catch-up: backlog -> every read model and saga", fmt.Sprintf("%.0f events/s", rate),
			fmt.Sprintf("%d events in %s", b.events, elapsed.Round(time.Millisecond))},
		{"CPU per event", costBetween(before, after).perEvent(b.events), ""},
	})
	return nil
}

// rebuild measures rebuilding every read model from the store.
func (b *pipelineBench) rebuild(ctx context.Context) error {
	if err := b.fill(ctx); err != nil {
		return err
	}
	start := time.Now()
	if err := projections.Rebuild(ctx, b.pool, b.store, nil, os.Stderr); err != nil {
		return err
	}
	rate := float64(b.events) / time.Since(start).Seconds()
	b.table([][3]string{{"rebuild: all read models", fmt.Sprintf("%.0f events/s", rate), verdict(">= 25000 events/s", rate >= 25000)}})
	return nil
}

// seal measures the sealer on a backlog: every event hashed, each seal's
// Merkle tree built and the seal stored, 10,000 events to a seal.
func (b *pipelineBench) seal(ctx context.Context) error {
	if err := b.fill(ctx); err != nil {
		return err
	}
	sealer := seal.NewSealer(b.pool, time.Second, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	start := time.Now()
	sealed := 0
	for sealed < b.events {
		n, err := sealer.CatchUp(ctx)
		if err != nil {
			return err
		}
		sealed += n
	}
	rate := float64(sealed) / time.Since(start).Seconds()
	b.table([][3]string{{fmt.Sprintf("seal: a backlog of %d events", b.events), fmt.Sprintf("%.0f events/s", rate), verdict(">= 20000 events/s", rate >= 20000)}})
	return nil
}

// lagDDL records when each attendance event becomes visible in the read model.
// The trigger's WHEN leaves the other consumers' version records (two of
// every three at a check-in) without a call of the function; its time is
// taken in the round trip that commits (the writes, the versions and COMMIT
// go together), so it is the commit's to within that statement. The trigger
// writes one row of an unlogged table a call, the versions it made visible as
// a range: a row a version, logged, and a statement to expand them, cost
// Postgres more than the version records themselves, which the server does
// not pay.
const lagDDL = `
CREATE UNLOGGED TABLE bench_seen (stream_id text NOT NULL, from_version bigint NOT NULL, to_version bigint NOT NULL, seen_at timestamptz NOT NULL);
CREATE FUNCTION bench_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A batch records a stream's last version only: every version up to it
    -- became visible with that commit.
    INSERT INTO bench_seen VALUES (NEW.stream_id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.version + 1 ELSE 1 END, NEW.version, clock_timestamp());
    RETURN NULL;
END $$;
CREATE TRIGGER bench_seen AFTER INSERT OR UPDATE ON projection_versions FOR EACH ROW
    WHEN (NEW.projection = 'attendance') EXECUTE FUNCTION bench_seen();`

// seenSQL lists each attendance event the trigger saw become visible, and when.
const seenSQL = `SELECT stream_id, v, seen_at FROM bench_seen, generate_series(from_version, to_version) AS v`

// lag measures the time from an append's commit to its read model row, with
// the whole pipeline running in this process at a sustained rate.
func (b *pipelineBench) lag(ctx context.Context) error {
	if _, err := b.pool.Exec(ctx, lagDDL); err != nil {
		return err
	}
	app, err := b.open(ctx)
	if err != nil {
		return err
	}
	defer app.Close()
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	done := b.runPipeline(pctx, app)

	pubs, err := b.newPublishLog(app.Bus)
	if err != nil {
		return err
	}
	logCtx, stopLog := context.WithCancel(ctx)
	defer stopLog()
	logged := make(chan error, 1)
	go func() { logged <- pubs.follow(logCtx, time.Second) }()

	const employees = 500
	var mu sync.Mutex
	committed := map[streamVersion]time.Time{}
	ids, streams := make([]string, employees), make([]string, employees)
	for i := range ids {
		ids[i] = uuid.NewString()
		streams[i] = attendance.Stream(ids[i])
	}
	meter, closeMeter, err := b.cpuMeter()
	if err != nil {
		return err
	}
	defer closeMeter()
	before, err := meter.sample(ctx)
	if err != nil {
		return err
	}
	took, err := b.appendPaced(ctx, app.Store, streams,
		func(i int, v int64) eventstore.Payload { return lagEvent(ids[i], v) },
		func(i int, v int64, at time.Time) {
			mu.Lock()
			defer mu.Unlock()
			committed[streamVersion{streams[i], v}] = at
		})
	if err != nil {
		return err
	}
	// Let the pipeline drain, then read when each event became visible.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var seen int
		if err := b.pool.QueryRow(ctx, `SELECT coalesce(sum(to_version - from_version + 1), 0) FROM bench_seen`).Scan(&seen); err != nil {
			return err
		}
		if seen >= len(committed) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	after, err := meter.sample(ctx)
	if err != nil {
		return err
	}
	stop()
	if err := <-done; err != nil {
		return err
	}
	stopLog()
	if err := <-logged; err != nil {
		return err
	}
	publishedAt := pubs.times
	rows, err := b.pool.Query(ctx, seenSQL)
	if err != nil {
		return err
	}
	var lags, relayLags []time.Duration
	for rows.Next() {
		var k streamVersion
		var seen time.Time
		if err := rows.Scan(&k.stream, &k.version, &seen); err != nil {
			return err
		}
		if at, ok := committed[k]; ok {
			lags = append(lags, max(0, seen.Sub(at)))
			if pub, ok := publishedAt[k]; ok {
				// Stream ids have millisecond resolution.
				relayLags = append(relayLags, max(0, pub.Sub(at.Truncate(time.Millisecond))))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(lags) < len(committed) {
		return fmt.Errorf("lag: only %d of %d events reached the read model", len(lags), len(committed))
	}
	lag, relayLag := stats{latencies: lags}, stats{latencies: relayLags}
	published := fmt.Sprintf("none of %d: handed to the consumers in this process", len(lags))
	if len(relayLags) > 0 {
		published = fmt.Sprintf("%s / %s (%d events)", round(relayLag.percentile(50)), round(relayLag.percentile(99)), len(relayLags))
	}
	b.table([][3]string{
		{fmt.Sprintf("lag p50 (%d events, %s)", len(lags), b.achieved(len(lags), took)), round(lag.percentile(50)).String(), ""},
		{fmt.Sprintf("lag p99 (%d events, %s)", len(lags), b.achieved(len(lags), took)), round(lag.percentile(99)).String(), verdict("p99 <= 50ms", lag.percentile(99) <= 50*time.Millisecond)},
		{"of which commit -> relay publish p50/p99, the events published to Redis", published, "(Redis stream ids: 1 ms resolution)"},
		{"CPU per event, the appends included", costBetween(before, after).perEvent(len(lags)), ""},
	})
	return nil
}

type streamVersion struct {
	stream  string
	version int64
}

// publishLog records when the relay published each event: a Redis stream
// entry's id starts with the millisecond of its XADD. It reads the partitions
// as the run goes, since the pipeline trims what every group acknowledged.
type publishLog struct {
	client *redis.Client
	topics []string
	after  []string // per topic, the last entry read
	times  map[streamVersion]time.Time
}

func (b *pipelineBench) newPublishLog(bus *bus.Bus) (*publishLog, error) {
	opts, err := redis.ParseURL(b.redisURL)
	if err != nil {
		return nil, err
	}
	l := &publishLog{client: redis.NewClient(opts), times: map[streamVersion]time.Time{}}
	for part := range bus.Partitions() {
		l.topics = append(l.topics, bus.EventTopic(attendance.Category, part))
		l.after = append(l.after, "-")
	}
	return l, nil
}

// follow reads what was published since the last read, every interval, until
// ctx ends; then once more.
func (l *publishLog) follow(ctx context.Context, interval time.Duration) error {
	defer l.client.Close()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := l.read(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return l.read(context.WithoutCancel(ctx))
		case <-t.C:
		}
	}
}

func (l *publishLog) read(ctx context.Context) error {
	var codec redisstream.DefaultMarshallerUnmarshaller
	for i, topic := range l.topics {
		start := l.after[i]
		if start != "-" {
			start = "(" + start
		}
		entries, err := l.client.XRange(ctx, topic, start, "+").Result()
		if err != nil {
			return err
		}
		for _, xm := range entries {
			l.after[i] = xm.ID
			msg, err := codec.Unmarshal(xm.Values)
			if err != nil {
				return err
			}
			version, err := strconv.ParseInt(msg.Metadata.Get("version"), 10, 64)
			if err != nil {
				continue // a watermark
			}
			ms, _, _ := strings.Cut(xm.ID, "-")
			millis, err := strconv.ParseInt(ms, 10, 64)
			if err != nil {
				return err
			}
			l.times[streamVersion{msg.Metadata.Get("stream"), version}] = time.UnixMilli(millis)
		}
	}
	return nil
}

func lagEvent(emp string, v int64) eventstore.Payload {
	day := calendar.Date{Year: 2024, Month: time.January, Day: 1}.AddDays(int((v - 1) / 2))
	in := day.In(time.UTC).Add(8 * time.Hour)
	if v%2 == 1 {
		return attendance.CheckedIn{EmployeeID: emp, At: in, LocalDate: day, Timezone: "UTC"}
	}
	return attendance.CheckedOut{EmployeeID: emp, At: in.Add(9 * time.Hour), LocalDate: day, CheckedInAt: in, WorkedMinutes: 540}
}

// achieved says at what rate n appends went, from the first until the last
// returned (took), against the rate asked: a store slower than the rate
// lowers it, as does a full pacer.inFlight.
func (b *pipelineBench) achieved(n int, took time.Duration) string {
	return fmt.Sprintf("%.0f/s of the %d/s asked", float64(n)/took.Seconds(), b.rate)
}

// pacer offers the appends of lag and push: the rate for the duration, with
// as many in flight as independent clients would have (up to 4,096 here).
func (b *pipelineBench) pacer() pacer {
	return pacer{rate: b.rate, duration: b.duration, inFlight: 4096}
}

// appendPaced appends, on b's pacer, one event a call: call n appends version
// n/len(streams)+1 of streams[n%len(streams)], the payload event returns,
// once that stream's previous append returned, however slow it got; each
// stream's appends thus come len(streams)/rate apart. committed is told when
// each append committed. It returns how long the run took.
func (b *pipelineBench) appendPaced(ctx context.Context, store *eventstore.Store, streams []string,
	event func(i int, v int64) eventstore.Payload, committed func(i int, v int64, at time.Time)) (time.Duration, error) {
	p := b.pacer()
	// appended[n] is closed when call n returned.
	appended := make([]chan struct{}, p.total())
	for n := range appended {
		appended[n] = make(chan struct{})
	}
	var mu sync.Mutex
	var appendErr error
	took := p.run(ctx, func(n int) {
		defer close(appended[n])
		if n >= len(streams) {
			<-appended[n-len(streams)]
		}
		i, v := n%len(streams), int64(n/len(streams)+1)
		_, err := store.Append(ctx, streams[i], v-1, eventstore.EventData{ID: uuid.New(), Payload: event(i, v)})
		if err != nil {
			mu.Lock()
			defer mu.Unlock()
			appendErr = cmp.Or(appendErr, err)
			return
		}
		committed(i, v, time.Now())
	})
	return took, appendErr
}

func (b *pipelineBench) table(rows [][3]string) {
	for _, r := range rows {
		fmt.Fprintf(b.stdout, "%-56s %-20s %s\n", r[0], r[1], r[2])
	}
}

// push measures the time from a late check-in's commit to the call of the
// live notification handler (what the WebSocket hub writes to the manager),
// with the pipeline and projections.SubscribeNotifications running in this
// process against Redis.
func (b *pipelineBench) push(ctx context.Context) error {
	app, err := b.open(ctx)
	if err != nil {
		return err
	}
	defer app.Close()
	// Ten managers, so that the notifications do not all contend for one
	// inbox stream; each employee checks in once a second.
	const managers = 10
	employees := b.rate
	day := calendar.Date{Year: 2024, Month: time.January, Day: 1}
	register := func(id, name, manager string, role employee.Role) error {
		events, err := employee.Decide(employee.Employee{}, employee.Register{
			EmployeeID: id, Email: id[:8] + "@example.com", FullName: name, Role: role, ManagerID: manager,
			Position: "engineer", HireDate: day,
			Schedule: employee.Schedule{Timezone: "UTC", WorkStart: 8 * 60, WorkEnd: 17 * 60, Workdays: []int{1, 2, 3, 4, 5}},
		}, time.Now())
		if err != nil {
			return err
		}
		data := make([]eventstore.EventData, len(events))
		for i, ev := range events {
			data[i] = eventstore.EventData{ID: uuid.New(), Payload: ev.(eventstore.Payload)}
		}
		_, err = app.Store.Append(ctx, employee.Stream(id), 0, data...)
		return err
	}
	managerIDs := make([]string, managers)
	for i := range managerIDs {
		managerIDs[i] = uuid.NewString()
		if err := register(managerIDs[i], fmt.Sprintf("Manager %d", i), "", employee.RoleManager); err != nil {
			return err
		}
	}
	ids := make([]string, employees)
	for i := range ids {
		ids[i] = uuid.NewString()
		if err := register(ids[i], fmt.Sprintf("Employee %d", i), managerIDs[i%managers], employee.RoleEmployee); err != nil {
			return err
		}
	}

	type key struct{ employee, date string }
	var mu sync.Mutex
	committed := map[key]time.Time{}
	pushed := map[key]time.Time{}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	err = projections.SubscribeNotifications(pctx, app.Bus, app.Store.Codec(), func(v query.NotificationView, _ string) {
		at := time.Now()
		emp, _ := v.Data["employee_id"].(string)
		date, _ := v.Data["date"].(string)
		mu.Lock()
		defer mu.Unlock()
		if k := (key{emp, date}); pushed[k].IsZero() {
			pushed[k] = at
		}
	})
	if err != nil {
		return err
	}
	done := b.runPipeline(pctx, app)
	// The sagas read managers from the employees' streams, but wait for the
	// directory so that the start-up backlog is behind us.
	for {
		var n int
		if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM employees`).Scan(&n); err != nil {
			return err
		}
		if n == managers+employees {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	streams := make([]string, employees)
	for i, id := range ids {
		streams[i] = attendance.Stream(id)
	}
	meter, closeMeter, err := b.cpuMeter()
	if err != nil {
		return err
	}
	defer closeMeter()
	before, err := meter.sample(ctx)
	if err != nil {
		return err
	}
	// An employee's check-ins come a second apart, each on the day after the last.
	dayOf := func(v int64) calendar.Date { return day.AddDays(int(v - 1)) }
	took, err := b.appendPaced(ctx, app.Store, streams,
		func(i int, v int64) eventstore.Payload {
			d := dayOf(v)
			return attendance.CheckedIn{EmployeeID: ids[i], At: d.In(time.UTC).Add(9 * time.Hour), LocalDate: d, Timezone: "UTC",
				Workday: true, Late: true, LateMinutes: 60}
		},
		func(i int, v int64, at time.Time) {
			mu.Lock()
			defer mu.Unlock()
			committed[key{ids[i], dayOf(v).String()}] = at
		})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(pushed)
		mu.Unlock()
		if n >= len(committed) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	after, err := meter.sample(ctx)
	if err != nil {
		return err
	}
	stop()
	if err := <-done; err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	var lats []time.Duration
	for k, at := range committed {
		if p, ok := pushed[k]; ok {
			lats = append(lats, max(0, p.Sub(at)))
		}
	}
	if len(lats) < len(committed) {
		return fmt.Errorf("push: only %d of %d late check-ins were pushed", len(lats), len(committed))
	}
	push := stats{latencies: lats}
	fmt.Fprintln(b.stdout, "push:     projections.SubscribeNotifications beside the pipeline, as in the server; append committed -> handler call")
	b.table([][3]string{
		{fmt.Sprintf("push p50 (%d check-ins, %s)", len(lats), b.achieved(len(lats), took)), round(push.percentile(50)).String(), ""},
		{fmt.Sprintf("push p99 (%d check-ins, %s)", len(lats), b.achieved(len(lats), took)), round(push.percentile(99)).String(), verdict("p99 <= 25ms", push.percentile(99) <= 25*time.Millisecond)},
		{"CPU per check-in, its notification and the appends included", costBetween(before, after).perEvent(len(lats)), ""},
	})
	return nil
}
