package seal

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Progress is how far the chain is behind the feed.
type Progress struct {
	LastSeq int64
	// Lag is the age of the oldest event below the feed's fence that no seal
	// holds yet, by its recorded_at; zero when every such event is sealed.
	Lag time.Duration
}

// Progress reads the chain's progress: one index lookup past the last seal.
func (s *Store) Progress(ctx context.Context) (Progress, error) {
	var p Progress
	var lag float64
	err := s.pool.QueryRow(ctx, `WITH last AS (SELECT seq, through_tx_id, through_position FROM seals ORDER BY seq DESC LIMIT 1)
		SELECT coalesce((SELECT seq FROM last), 0),
		       coalesce(extract(epoch FROM clock_timestamp() - (
		           SELECT recorded_at FROM events
		           WHERE (tx_id, position) > (coalesce((SELECT through_tx_id FROM last), '0'::xid8), coalesce((SELECT through_position FROM last), 0))
		             AND `+feedFence+`
		           ORDER BY tx_id, position LIMIT 1)), 0)::float8`).Scan(&p.LastSeq, &lag)
	if err != nil {
		return Progress{}, fmt.Errorf("seal: progress: %w", err)
	}
	p.Lag = time.Duration(max(lag, 0) * float64(time.Second))
	return p, nil
}

var (
	lastSeqDesc = prometheus.NewDesc("et_seal_last_seq", "Seq of the newest seal of the audit chain.", nil, nil)
	lagDesc     = prometheus.NewDesc("et_seal_lag_seconds", "Age of the oldest committed event no seal holds yet; 0 when the chain is caught up.", nil, nil)
)

// Collector exports Progress at each scrape, read from Postgres: every
// instance reports the whole chain, whichever holds the sealer lock.
func (s *Store) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Store }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lastSeqDesc
	ch <- lagDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := c.s.Progress(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(lagDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(lastSeqDesc, prometheus.GaugeValue, float64(p.LastSeq))
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, p.Lag.Seconds())
}
