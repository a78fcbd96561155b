// Package metrics exposes the application's Prometheus metrics: HTTP requests by route
// pattern, method and status, latency, requests in flight, database pool statistics,
// rate-limit rejections, authentication failures and the Go runtime.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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
	mu              sync.RWMutex
	routes          map[routeKey]*routeSeries
	boundQueries    map[string]*[3]prometheus.Observer // bound series of queries
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
		registry:     prometheus.NewRegistry(),
		routes:       map[routeKey]*routeSeries{},
		boundQueries: map[string]*[3]prometheus.Observer{},
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

// Observe counts a request served by route pattern (never the raw path, which would
// make one series per id), method and status, and times it. The series of each route
// and status are looked up once and kept, so counting costs no label hashing.
func (m *Metrics) Observe(route, method string, status int, elapsed time.Duration) {
	s := m.route(route, method)
	s.latency.Observe(elapsed.Seconds())
	if status < 0 || status >= len(s.requests) {
		m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
		return
	}
	c := s.requests[status].Load()
	if c == nil {
		c = &counter{m.requests.WithLabelValues(route, method, strconv.Itoa(status))}
		s.requests[status].Store(c)
	}
	c.Inc()
}

// InFlight adds delta to the requests in flight.
func (m *Metrics) InFlight(delta float64) { m.inFlight.Add(delta) }

// routeSeries are the series of one route and method, bound to their labels.
type routeSeries struct {
	latency  prometheus.Observer
	requests [600]atomic.Pointer[counter] // by status
}

type counter struct{ prometheus.Counter }

type routeKey struct{ route, method string }

// route returns the series of route and method, binding them the first time.
func (m *Metrics) route(route, method string) *routeSeries {
	k := routeKey{route, method}
	m.mu.RLock()
	s := m.routes[k]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.routes[k]; s == nil {
		s = &routeSeries{latency: m.latency.WithLabelValues(route, method)}
		m.routes[k] = s
	}
	return s
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

// QueryHook returns the store hook timing every query by name and outcome; the zero
// hook on a nil *Metrics.
func (m *Metrics) QueryHook() db.QueryHook {
	if m == nil {
		return db.QueryHook{}
	}
	return db.QueryHook{End: func(_ context.Context, name string, elapsed time.Duration, err error) {
		outcome := 0
		switch {
		case err == nil:
		case errors.Is(err, db.ErrNotFound):
			outcome = 1
		default:
			outcome = 2
		}
		m.query(name)[outcome].Observe(elapsed.Seconds())
	}}
}

// queryOutcomes are the outcome labels of the query series, in the order query
// binds them.
var queryOutcomes = [3]string{"ok", "not_found", "error"}

// query returns the series of query name by outcome, binding them the first time.
func (m *Metrics) query(name string) *[3]prometheus.Observer {
	m.mu.RLock()
	s := m.boundQueries[name]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.boundQueries[name]; s == nil {
		s = new([3]prometheus.Observer)
		for i, o := range queryOutcomes {
			s[i] = m.queries.WithLabelValues(name, o)
		}
		m.boundQueries[name] = s
	}
	return s
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
