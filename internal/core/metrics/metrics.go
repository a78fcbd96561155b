// Package metrics exposes the application's Prometheus metrics: HTTP requests by route
// pattern, method and status, latency, requests in flight, database pool statistics,
// rate-limit rejections, authentication failures and the Go runtime.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/quarrydev/quarry/internal/db"
)

const namespace = "quarry"

// Metrics holds the application's collectors in a registry of its own (never the
// process-global default one).
type Metrics struct {
	registry        *prometheus.Registry
	requests        *prometheus.CounterVec
	latency         *prometheus.HistogramVec
	inFlight        prometheus.Gauge
	rateLimited     *prometheus.CounterVec
	rateLimitErrors *prometheus.CounterVec
	authFailures    *prometheus.CounterVec
	queries         *prometheus.HistogramVec
	breakerChanges  *prometheus.CounterVec
	breakerOpen     prometheus.Gauge
}

// New returns Metrics with the Go runtime and process collectors registered, and the
// statistics of pool when it is not nil.
func New(pool *pgxpool.Pool) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests served, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rate_limit_rejections_total",
			Help: "Requests rejected with 429, by rate-limit policy.",
		}, []string{"policy"}),
		rateLimitErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rate_limit_backend_errors_total",
			Help: "Rate-limit checks that failed because the backend (Redis) was unreachable, by policy.",
		}, []string{"policy"}),
		breakerChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rate_limit_breaker_transitions_total",
			Help: "Changes of state of the circuit breaker around the rate limiter's Redis, by new state.",
		}, []string{"to"}),
		breakerOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "rate_limit_breaker_open",
			Help: "1 while the rate limiter skips Redis (breaker open or half-open), else 0.",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "auth_failures_total",
			Help: "Rejected access tokens and failed sign-ins, by reason.",
		}, []string{"reason"}),
		queries: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "db_query_duration_seconds",
			Help:    "Time to run database queries, by query name and outcome (ok, not_found or error).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"query", "outcome"}),
	}
	m.registry.MustRegister(
		m.requests, m.latency, m.inFlight, m.rateLimited, m.rateLimitErrors, m.authFailures, m.queries,
		m.breakerChanges, m.breakerOpen,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if pool != nil {
		m.registry.MustRegister(newPoolCollector(pool))
	}
	return m
}

// Registry returns the registry, e.g. to register more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Middleware counts every request by route pattern (never the raw path, which would
// make one series per id), method and status, and times it.
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		m.inFlight.Inc()
		start := time.Now()
		c.Next()
		m.inFlight.Dec()
		route := c.FullPath()
		if route == "" {
			route = "(unmatched)"
		}
		method := c.Request.Method
		m.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(route, method, strconv.Itoa(c.Writer.Status())).Inc()
	}
}

// The counting methods do nothing on a nil *Metrics (metrics turned off).

// RateLimited counts a request rejected by policy.
func (m *Metrics) RateLimited(policy string) {
	if m != nil {
		m.rateLimited.WithLabelValues(policy).Inc()
	}
}

// RateLimitBackendError counts a rate-limit check the backend could not answer.
func (m *Metrics) RateLimitBackendError(policy string) {
	if m != nil {
		m.rateLimitErrors.WithLabelValues(policy).Inc()
	}
}

// RateLimitBreakerChange counts a change of state of the rate limiter's circuit
// breaker and sets the open gauge.
func (m *Metrics) RateLimitBreakerChange(_, to string) {
	if m == nil {
		return
	}
	m.breakerChanges.WithLabelValues(to).Inc()
	if to == "closed" {
		m.breakerOpen.Set(0)
	} else {
		m.breakerOpen.Set(1)
	}
}

// AuthFailure counts a rejected token or sign-in by reason.
func (m *Metrics) AuthFailure(reason string) {
	if m != nil {
		m.authFailures.WithLabelValues(reason).Inc()
	}
}

// QueryHook returns the store hook timing every query by name and outcome; nil on a
// nil *Metrics.
func (m *Metrics) QueryHook() db.QueryHook {
	if m == nil {
		return nil
	}
	return func(ctx context.Context, name string) (context.Context, func(error)) {
		start := time.Now()
		return ctx, func(err error) {
			outcome := "ok"
			switch {
			case errors.Is(err, db.ErrNotFound):
				outcome = "not_found"
			case err != nil:
				outcome = "error"
			}
			m.queries.WithLabelValues(name, outcome).Observe(time.Since(start).Seconds())
		}
	}
}

// poolCollector reports pgxpool statistics at scrape time.
type poolCollector struct {
	pool  *pgxpool.Pool
	descs map[string]*prometheus.Desc
}

func newPoolCollector(pool *pgxpool.Pool) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_pool", name), help, nil, nil)
	}
	return &poolCollector{pool: pool, descs: map[string]*prometheus.Desc{
		"acquired":        d("acquired_connections", "Connections in use."),
		"idle":            d("idle_connections", "Idle connections."),
		"total":           d("total_connections", "Open connections."),
		"max":             d("max_connections", "Maximum pool size."),
		"acquires":        d("acquires_total", "Successful acquires."),
		"empty_acquires":  d("empty_acquires_total", "Acquires that had to wait for a connection."),
		"canceled":        d("canceled_acquires_total", "Acquires canceled by their context."),
		"acquire_seconds": d("acquire_seconds_total", "Time spent waiting to acquire connections."),
	}}
}

func (p *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range p.descs {
		ch <- d
	}
}

func (p *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.pool.Stat()
	gauge := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(p.descs[k], prometheus.GaugeValue, v) }
	counter := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(p.descs[k], prometheus.CounterValue, v) }
	gauge("acquired", float64(s.AcquiredConns()))
	gauge("idle", float64(s.IdleConns()))
	gauge("total", float64(s.TotalConns()))
	gauge("max", float64(s.MaxConns()))
	counter("acquires", float64(s.AcquireCount()))
	counter("empty_acquires", float64(s.EmptyAcquireCount()))
	counter("canceled", float64(s.CanceledAcquireCount()))
	counter("acquire_seconds", s.AcquireDuration().Seconds())
}
