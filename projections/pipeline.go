package projections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/acme/employee-tracking/app/command"
	"github.com/acme/employee-tracking/domain/approval"
	"github.com/acme/employee-tracking/domain/attendance"
	"github.com/acme/employee-tracking/domain/calendar"
	"github.com/acme/employee-tracking/domain/leave"
	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/bus"
	"github.com/acme/employee-tracking/projections/internal/writebehind"
	"github.com/acme/employee-tracking/projections/readmodel"
	"github.com/acme/employee-tracking/projections/relay"
	"github.com/acme/employee-tracking/projections/saga"
)

// checkpointFlushEvery is how often the consumers' checkpoints are saved:
// what /readyz and the lag read, a row per consumer and partition that moved.
const checkpointFlushEvery = 100 * time.Millisecond

// readModelLinger is how long a read model's members wait after a read that
// found less than a full batch: a transaction costs about as much for one
// event as for ten, and a read model may trail the store by a few
// milliseconds (the API answers a command from what it decided). The sagas
// do not wait: a notification is pushed as soon as it can be.
const readModelLinger = 10 * time.Millisecond

// Deps are what the pipeline runs on.
type Deps struct {
	// LeavePolicy is the policy the sagas and the sweep decide by.
	LeavePolicy leave.Policy
	// DailyCheckAt is when, in each employee's local time, the daily sweep
	// looks at their day.
	DailyCheckAt calendar.Clock
	// Attendance are the rules forgotten check-outs are closed by;
	// attendance.DefaultRules when zero.
	Attendance attendance.Rules
	// Approvals are the waits before a pending approval step's reminder and
	// escalation; approval.DefaultTiming when zero.
	Approvals approval.Timing
	// Pool serves the projectors, the sagas' bookkeeping and the relay's
	// checkpoint; Store may use another (the API's), whose appends still
	// wake the relay.
	Pool  *pgxpool.Pool
	Store *eventstore.Store
	Bus   *bus.Bus
	// Queries reads the admins to notify; readmodel.NewQueries(Pool) when nil.
	Queries *readmodel.Queries
	Logger  *slog.Logger
	// Now is the clock of the sagas and the daily sweep; time.Now when nil.
	Now func() time.Time
	// Registry receives the pipeline's metrics; nil registers none.
	Registry prometheus.Registerer
	// APISaturated, when set, tells that the process's API serves more
	// requests than its cores keep up with: the relay then holds its reads
	// of the feed, for at most MaxYield at a time, and hands what piled up
	// to the consumers as one batch.
	APISaturated func() bool
	MaxYield     time.Duration
	// HandOverAlone makes the relay hand every event to this process's
	// consumers directly while no other process runs a pipeline on the bus,
	// rather than through Redis Streams, which then carry the notifications
	// for the hubs only; with it unset, only a backlog is handed over.
	HandOverAlone bool
}

// Pipeline runs the relay, the projectors, the sagas and the daily sweep.
type Pipeline struct {
	pool    *pgxpool.Pool
	store   *eventstore.Store
	bus     *bus.Bus
	logger  *slog.Logger
	now     func() time.Time
	policy  leave.Policy
	checkAt calendar.Clock
	rules   attendance.Rules
	timing  approval.Timing
	queries *readmodel.Queries
	monitor *Monitor
	metrics *metrics
	relay   *relay.Relay
	// consumers are the read models then the saga groups.
	consumers []consumer
	sagas     []*sagaGroup
	// handOverAlone is Deps.HandOverAlone.
	handOverAlone bool

	// afterApply, when set by tests, runs after a consumer handled an event
	// and before its message is acknowledged; an error fails the handling.
	afterApply func(consumer string, e eventstore.Event) error
}

// Run runs the pipeline of d until ctx ends.
func Run(ctx context.Context, d Deps) error {
	p, err := New(d)
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// New returns a pipeline; Run starts it.
func New(d Deps) (*Pipeline, error) {
	p := &Pipeline{
		pool: d.Pool, store: d.Store, bus: d.Bus, logger: d.Logger, now: d.Now, queries: d.Queries,
		monitor: NewMonitor(d.Pool),
		checkAt: d.DailyCheckAt, rules: d.Attendance, timing: d.Approvals, policy: d.LeavePolicy, metrics: newMetrics(),
		handOverAlone: d.HandOverAlone,
	}
	if p.timing == (approval.Timing{}) {
		p.timing = approval.DefaultTiming()
	}
	if p.rules == (attendance.Rules{}) {
		p.rules = attendance.DefaultRules()
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if p.queries == nil {
		p.queries = readmodel.NewQueries(d.Pool)
	}
	for _, m := range readmodel.All() {
		p.consumers = append(p.consumers, &liveModel{Model: m, pool: d.Pool})
	}
	deps := p.sagaDeps()
	p.sagas = sagaGroups(saga.All(deps), d.Pool, deps.RaiseNotification)
	for _, g := range p.sagas {
		p.consumers = append(p.consumers, g)
	}
	readers := make([]relay.Reader, len(p.consumers))
	for i, c := range p.consumers {
		readers[i] = relay.Reader{Group: c.name(), Category: c.reads()}
	}
	p.relay = relay.New(d.Pool, d.Store, d.Bus, p.logger, readers)
	if d.APISaturated != nil {
		p.relay.YieldTo(d.APISaturated, d.MaxYield)
	}
	if d.Registry != nil {
		if err := p.metrics.register(d.Registry, p.relay.Metrics(), p.monitor); err != nil {
			return nil, fmt.Errorf("projections: register metrics: %w", err)
		}
	}
	return p, nil
}

// sagaDeps are what the sagas and the sweep work with.
func (p *Pipeline) sagaDeps() saga.Deps {
	return saga.Deps{
		Pool: p.pool, Store: p.store, Queries: p.queries, LeavePolicy: p.policy, DailyCheckAt: p.checkAt,
		RaiseNotification:      command.NewRaiseNotificationHandler(p.store, p.now),
		DeductLateness:         command.NewDeductLatenessHandler(p.store, p.policy),
		GrantLeaveYear:         command.NewGrantLeaveYearHandler(p.store, p.policy, p.now),
		NoteLeaveLapses:        command.NewNoteLeaveLapsesHandler(p.store, p.policy, p.now),
		CloseForgottenCheckOut: command.NewCloseForgottenCheckOutHandler(p.store, p.rules, p.now),
		ChaseApproval:          command.NewChaseApprovalHandler(p.store, p.policy, p.timing, p.now),
		Attendance:             p.rules,
		Approvals:              p.timing,
		Now:                    p.now, Logger: p.logger,
	}
}

// Status reports how far behind the feed each consumer is.
func (p *Pipeline) Status(ctx context.Context) (ProjectionStatus, error) {
	return p.monitor.Status(ctx)
}

// Run runs everything until ctx ends. A read model new to a store with
// history is built from the store first (bootstrap.go). The consumers
// subscribe before the relay starts, so the in-process bus loses nothing at
// start.
func (p *Pipeline) Run(ctx context.Context) error {
	if err := p.buildNewReadModels(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	marks := newCheckpointMarks()
	rt := &runtime{pool: p.pool, store: p.store, logger: p.logger, metrics: p.metrics, marks: marks, afterApply: p.afterApply,
		decoded: newDecodedEvents(p.store.Codec())}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, p.bus.WatermillLogger())
	if err != nil {
		return fmt.Errorf("projections: router: %w", err)
	}
	health := bus.NewHealth(p.logger)
	var peers *bus.Instances
	if !p.bus.Memory() {
		if peers, err = bus.JoinInstances(p.bus); err != nil {
			return err
		}
		defer peers.Leave()
		// Before the members read: the others must not take this instance,
		// restarted under its former name, for dead.
		if err := peers.Heartbeat(ctx); err != nil && ctx.Err() == nil {
			health.Failed(err)
		}
		// The in-process bus hands batches over as it is.
		h := &handOver{rt: rt, consumers: p.consumers, partitions: p.bus.Partitions()}
		if p.handOverAlone {
			h.peers = peers
		}
		p.relay.HandOverTo(h)
	}
	if err := p.bus.DestroyGroups(ctx, p.topics(), saga.Retired); err != nil {
		return err
	}
	if err := p.bus.DropUnusedPartitions(ctx, p.categories()); err != nil {
		return err
	}
	for _, c := range p.consumers {
		for member := range p.bus.GroupMembers() {
			sub, err := p.bus.GroupSubscriber(c.name(), bus.Member{Name: peers.ConsumerName(member), Peers: peers, Health: health, Linger: c.linger()})
			if err != nil {
				return err
			}
			for part := range p.bus.Partitions() {
				router.AddConsumerHandler(c.name()+"/"+strconv.Itoa(part)+"/"+strconv.Itoa(member),
					p.bus.EventTopic(c.reads(), part), sub, rt.handler(c, part))
			}
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(ctx) }()
	select {
	case <-router.Running():
	case err := <-routerDone:
		if ctx.Err() != nil {
			return nil // stopped while it started
		}
		return fmt.Errorf("projections: router: %w", cmp.Or(err, errors.New("stopped before it ran")))
	case <-ctx.Done():
		<-routerDone
		return nil
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.relay.Run(gctx) })
	g.Go(func() error {
		return p.sweep().Run(gctx)
	})
	g.Go(func() error { return p.autoCheckout().Run(gctx) })
	g.Go(func() error { return p.chaseApprovals().Run(gctx) })
	g.Go(func() error {
		p.every(gctx, bus.TrimEvery, "trim the bus", func(ctx context.Context) error {
			return p.bus.Trim(ctx, p.topics())
		})
		return nil
	})
	if peers != nil {
		g.Go(func() error {
			p.every(gctx, bus.HeartbeatEvery, "heartbeat", func(ctx context.Context) error {
				// An outage is the members' to report, once; a shutdown is none.
				if err := peers.Heartbeat(ctx); err != nil && ctx.Err() == nil {
					health.Failed(err)
				}
				return nil
			})
			return nil
		})
	}
	g.Go(func() error {
		p.every(gctx, checkpointFlushEvery, "save checkpoints", func(ctx context.Context) error {
			return marks.flush(ctx, p.pool)
		})
		return nil
	})
	g.Go(func() error {
		select {
		case err := <-routerDone:
			if ctx.Err() == nil {
				return fmt.Errorf("projections: router stopped: %w", errors.Join(err, errors.New("all handlers stopped")))
			}
			return nil
		case <-gctx.Done():
			router.Close()
			<-routerDone
			return nil
		}
	})
	err = g.Wait()
	if ferr := marks.flush(context.WithoutCancel(ctx), p.pool); ferr != nil {
		p.logger.Warn("projections: save checkpoints at shutdown", "err", ferr)
	}
	return err
}

// every runs fn every d until ctx ends; a failure is logged as what fn does,
// and tried again at the next tick.
func (p *Pipeline) every(ctx context.Context, d time.Duration, what string, fn func(context.Context) error) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				p.logger.Warn("projections: "+what, "err", err)
			}
		}
	}
}

// categories lists the stream categories that the consumers read.
func (p *Pipeline) categories() []string {
	var categories []string
	for _, c := range p.consumers {
		if !slices.Contains(categories, c.reads()) {
			categories = append(categories, c.reads())
		}
	}
	return categories
}

// topics lists the event topics that the consumers read.
func (p *Pipeline) topics() []string {
	var topics []string
	for _, c := range p.consumers {
		for part := range p.bus.Partitions() {
			if t := p.bus.EventTopic(c.reads(), part); !slices.Contains(topics, t) {
				topics = append(topics, t)
			}
		}
	}
	return topics
}

func (p *Pipeline) sweep() *saga.Sweep { return saga.NewSweep(p.sagaDeps()) }

func (p *Pipeline) autoCheckout() *saga.AutoCheckout { return saga.NewAutoCheckout(p.sagaDeps()) }

func (p *Pipeline) chaseApprovals() *saga.ChaseApprovals { return saga.NewChaseApprovals(p.sagaDeps()) }

// liveModel runs a read model's fold on the live tables.
type liveModel struct {
	*readmodel.Model
	pool *pgxpool.Pool
}

func (m *liveModel) name() string { return m.Name }

func (m *liveModel) reads() string { return m.Category }

func (m *liveModel) linger() time.Duration { return readModelLinger }

// handleBatch applies events in one transaction with the record of their
// streams' versions. The transaction first takes the projection's lock shared
// (a rebuild takes it exclusively to swap tables) and then the locks of the
// events' streams, so that two consumers of one group never apply a stream's
// events side by side.
//
// Round trips are what an apply costs: BEGIN goes out with the locks, the
// version check and the reads of every row the batch's fold will read (found
// by folding the batch once into empty tables), and the last state of each
// row written with the version records and COMMIT: a batch costs two round
// trips, whatever its size, and one or two more when it reads rows found by
// what other rows hold.
func (m *liveModel) handleBatch(ctx context.Context, events []eventstore.Event) (err error) {
	conn, err := m.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", m.Name, err)
	}
	// A connection left inside a transaction is closed by Release.
	defer conn.Release()
	defer func() {
		if conn.Conn().PgConn().TxStatus() != 'I' {
			conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	streams := streamsOf(events)
	last := make(map[string]int64, len(streams))
	w := writebehind.New(conn.Conn())
	fold := m.Batch(w)
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(writebehind.AsyncCommit)
	b.Queue(`SELECT pg_advisory_xact_lock_shared($1)`, projectionLockKey(m.Name))
	b.Queue(lockStreamsSQL, m.Name, streams)
	b.Queue(selectVersionsSQL, m.Name, streams).Query(func(rows pgx.Rows) error {
		return scanVersions(rows, last)
	})
	fold.QueueReads(ctx, b, events)
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("%s: lock streams: %w", m.Name, err)
	}
	// Rows found by what other rows hold: a round trip for all of them.
	for range 2 {
		more := &pgx.Batch{}
		if !fold.QueueMoreReads(ctx, more, events) {
			break
		}
		if err := conn.SendBatch(ctx, more).Close(); err != nil {
			return fmt.Errorf("%s: read: %w", m.Name, err)
		}
	}
	applied, err := nextVersions(events, last, func(e eventstore.Event) error {
		if err := fold.Apply(ctx, e); err != nil {
			return fmt.Errorf("%s: apply %s %s v%d: %w", m.Name, e.Type, e.StreamID, e.Version, err)
		}
		return nil
	})
	if err != nil || len(applied) == 0 {
		return err // the deferred ROLLBACK undoes any write
	}
	if err := fold.QueueWrites(w.Batch); err != nil {
		return fmt.Errorf("%s: %w", m.Name, err)
	}
	queueSaveVersions(w.Batch, m.Name, applied)
	w.Batch.Queue("COMMIT")
	if err := w.Flush(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", m.Name, err)
	}
	return nil
}

// projectionLockKey is the advisory lock of a projection's tables.
func projectionLockKey(name string) int64 { return lockKey("projection", name) }

// lockKey is the advisory lock of what kind names name.
func lockKey(kind, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(kind + ":" + name))
	return int64(h.Sum64())
}
