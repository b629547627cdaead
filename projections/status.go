package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acme/employee-tracking/eventstore"
	"github.com/acme/employee-tracking/projections/relay"
)

// StallAfter is how far behind the feed a consumer may fall before it counts
// as stalled.
const StallAfter = 2 * time.Minute

// ConsumerStatus is how far the relay or a consumer (projection or saga) is
// behind the feed. LagEvents is the difference of positions between the head
// of the feed and the checkpoint (positions of rolled-back appends make it an
// upper bound); LagSeconds is the age of the oldest event not yet handled.
type ConsumerStatus struct {
	Name       string  `json:"name"`
	Checkpoint string  `json:"checkpoint"`
	LagEvents  int64   `json:"lag_events"`
	LagSeconds float64 `json:"lag_seconds"`
	Parked     int64   `json:"parked"`
}

// ProjectionStatus is the state of the pipeline, for /readyz and /metrics.
type ProjectionStatus struct {
	HeadPosition int64            `json:"head_position"`
	Relay        ConsumerStatus   `json:"relay"`
	Consumers    []ConsumerStatus `json:"consumers"`
}

// Stalled names the relay or consumers more than StallAfter behind.
func (s ProjectionStatus) Stalled() []string {
	var out []string
	for _, c := range append([]ConsumerStatus{s.Relay}, s.Consumers...) {
		if c.LagSeconds > StallAfter.Seconds() {
			out = append(out, c.Name)
		}
	}
	return out
}

// Monitor reads how far the relay and the consumers are.
type Monitor struct{ pool *pgxpool.Pool }

// NewMonitor returns a monitor of the pipeline's bookkeeping in pool.
func NewMonitor(pool *pgxpool.Pool) *Monitor { return &Monitor{pool: pool} }

// Status reports the relay and every consumer that has saved a checkpoint,
// plus every read model. A consumer's checkpoint is the lowest over the bus
// partitions: everything before it is handled.
func (m *Monitor) Status(ctx context.Context) (ProjectionStatus, error) {
	var st ProjectionStatus
	tx, err := m.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return st, fmt.Errorf("projections: status: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events`).Scan(&st.HeadPosition); err != nil {
		return st, fmt.Errorf("projections: status: %w", err)
	}
	cursors := map[string]eventstore.Cursor{}
	var order []string
	for _, name := range ReadModelNames() {
		cursors[name] = eventstore.Cursor{}
		order = append(order, name)
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT ON (projection) projection, tx_id, position FROM projection_checkpoints
		ORDER BY projection, tx_id, position`)
	if err != nil {
		return st, fmt.Errorf("projections: status: %w", err)
	}
	for rows.Next() {
		var name string
		var c eventstore.Cursor
		if err := rows.Scan(&name, &c.TxID, &c.Position); err != nil {
			rows.Close()
			return st, fmt.Errorf("projections: status: %w", err)
		}
		if _, ok := cursors[name]; !ok {
			order = append(order, name)
		}
		cursors[name] = c
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("projections: status: %w", err)
	}
	parked := map[string]int64{}
	rows, err = tx.Query(ctx, `SELECT projection, count(*) FROM parked_messages GROUP BY projection`)
	if err != nil {
		return st, fmt.Errorf("projections: status: %w", err)
	}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			rows.Close()
			return st, fmt.Errorf("projections: status: %w", err)
		}
		parked[name] = n
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("projections: status: %w", err)
	}

	var relayAt eventstore.Cursor
	err = tx.QueryRow(ctx, `SELECT tx_id, position FROM checkpoints WHERE name = $1`, relay.Checkpoint).Scan(&relayAt.TxID, &relayAt.Position)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("projections: status: %w", err)
	}
	if st.Relay, err = consumerStatus(ctx, tx, relay.Checkpoint, relayAt, st.HeadPosition); err != nil {
		return st, err
	}
	for _, name := range order {
		cs, err := consumerStatus(ctx, tx, name, cursors[name], st.HeadPosition)
		if err != nil {
			return st, err
		}
		cs.Parked = parked[name]
		st.Consumers = append(st.Consumers, cs)
	}
	return st, nil
}

func consumerStatus(ctx context.Context, tx pgx.Tx, name string, c eventstore.Cursor, head int64) (ConsumerStatus, error) {
	cs := ConsumerStatus{Name: name, Checkpoint: c.String(), LagEvents: max(0, head-c.Position)}
	var oldest time.Time
	err := tx.QueryRow(ctx, `SELECT recorded_at FROM events WHERE (tx_id, position) > ($1, $2) ORDER BY tx_id, position LIMIT 1`,
		c.TxID, c.Position).Scan(&oldest)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		cs.LagEvents = 0
	case err != nil:
		return cs, fmt.Errorf("projections: status of %s: %w", name, err)
	default:
		cs.LagSeconds = max(0, time.Since(oldest).Seconds())
	}
	return cs, nil
}

// metrics are the pipeline's Prometheus metrics.
type metrics struct {
	handled       *prometheus.CounterVec
	handleSeconds *prometheus.HistogramVec
	parked        *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "et_consumer_handled_events_total", Help: "Events applied by a projection or handled by a saga.",
		}, []string{"consumer"}),
		handleSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "et_consumer_handle_seconds", Help: "Time to handle one batch of events (up to 10,000, one transaction).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"consumer"}),
		parked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "et_consumer_parked_messages_total", Help: "Messages parked as impossible to handle.",
		}, []string{"consumer"}),
	}
}

// register registers the metrics, the relay's and the status of mon on r.
func (m *metrics) register(r prometheus.Registerer, relayed *relay.Metrics, mon *Monitor) error {
	collectors := append(relayed.Collectors(), m.handled, m.handleSeconds, m.parked, statusCollector{mon})
	for _, c := range collectors {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// statusCollector exports Status at each scrape.
type statusCollector struct{ mon *Monitor }

var (
	headDesc       = prometheus.NewDesc("et_feed_head_position", "Position of the newest event in the store.", nil, nil)
	lagEventsDesc  = prometheus.NewDesc("et_consumer_lag_events", "Feed positions between the head and the consumer's checkpoint.", []string{"consumer"}, nil)
	lagSecondsDesc = prometheus.NewDesc("et_consumer_lag_seconds", "Age of the oldest event the consumer has not handled.", []string{"consumer"}, nil)
	parkedDesc     = prometheus.NewDesc("et_consumer_parked_messages", "Messages parked by the consumer, in the parked_messages table.", []string{"consumer"}, nil)
)

func (statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{headDesc, lagEventsDesc, lagSecondsDesc, parkedDesc} {
		ch <- d
	}
}

func (s statusCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := s.mon.Status(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(headDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(headDesc, prometheus.GaugeValue, float64(st.HeadPosition))
	for _, c := range append([]ConsumerStatus{st.Relay}, st.Consumers...) {
		ch <- prometheus.MustNewConstMetric(lagEventsDesc, prometheus.GaugeValue, float64(c.LagEvents), c.Name)
		ch <- prometheus.MustNewConstMetric(lagSecondsDesc, prometheus.GaugeValue, c.LagSeconds, c.Name)
		ch <- prometheus.MustNewConstMetric(parkedDesc, prometheus.GaugeValue, float64(c.Parked), c.Name)
	}
}
