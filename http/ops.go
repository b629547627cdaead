package http

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/acme/employee-tracking/projections"
)

// HealthJSON answers /healthz and /readyz.
type HealthJSON struct {
	Status string            `json:"status" example:"ok"`
	Checks map[string]string `json:"checks,omitempty"`
}

// handleHealthz godoc
//
//	@Summary	Liveness
//	@Tags		operations
//	@Produce	json
//	@Success	200	{object}	HealthJSON
//	@Router		/healthz [get]
func handleHealthz() echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.JSON(http.StatusOK, HealthJSON{Status: "ok"})
	}
}

// handleReadyz godoc
//
//	@Summary		Readiness
//	@Description	Ready when the database and the bus answer and no projection is more than two minutes behind the event store. A check that fails names the dependency, never its address.
//	@Tags			operations
//	@Produce		json
//	@Success		200	{object}	HealthJSON
//	@Failure		503	{object}	HealthJSON
//	@Router			/readyz [get]
func handleReadyz(log *slog.Logger, pool *pgxpool.Pool, bus func(context.Context) error, status func(context.Context) (projections.ProjectionStatus, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		checks, ready := projections.Readiness(c.Request().Context(), log, pool.Ping, bus, status)
		if !ready {
			return c.JSON(http.StatusServiceUnavailable, HealthJSON{Status: "unavailable", Checks: checks})
		}
		return c.JSON(http.StatusOK, HealthJSON{Status: "ok", Checks: checks})
	}
}

// metrics are the server's Prometheus metrics.
type metrics struct {
	registry   *prometheus.Registry
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	wsSessions prometheus.Gauge
	// wsSlowDropped counts sessions closed because their client stopped
	// reading.
	wsSlowDropped prometheus.Counter
}

// newMetrics registers the HTTP and WebSocket metrics; the pipeline
// registers its own (consumer lag, parked messages) in the same registry.
func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
		wsSessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "websocket_sessions_open", Help: "Open WebSocket notification sessions.",
		}),
		wsSlowDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "websocket_slow_clients_dropped_total", Help: "WebSocket sessions closed because the client stopped reading.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.wsSessions, m.wsSlowDropped)
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}
