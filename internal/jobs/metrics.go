package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/quarrydev/quarry/internal/db"
)

// Metrics are the Prometheus metrics of background jobs: jobs by queue and state (read
// from river_job at scrape time, so every instance reports the same shared backlog),
// and, for the jobs this process works, attempts by kind and outcome, run time and
// time spent waiting in the queue.
type Metrics struct {
	attempts *prometheus.CounterVec
	run      *prometheus.HistogramVec
	wait     *prometheus.HistogramVec
}

// jobBuckets span a few milliseconds to an hour.
var jobBuckets = []float64{.005, .025, .1, .5, 1, 5, 15, 60, 300, 900, 3600}

// NewMetrics registers the job metrics in reg; pool, when not nil, is read at scrape
// time for the jobs by queue and state. It fails when reg already holds them.
func NewMetrics(reg prometheus.Registerer, pool *db.Pool) (*Metrics, error) {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "quarry", Name: "job_attempts_total",
			Help: "Job attempts worked by this process, by kind and outcome (completed, failed, cancelled, snoozed).",
		}, []string{"kind", "outcome"}),
		run: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "quarry", Name: "job_run_duration_seconds",
			Help: "Time a job attempt ran, by kind.", Buckets: jobBuckets,
		}, []string{"kind"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "quarry", Name: "job_queue_wait_seconds",
			Help: "Time from a job's scheduled time to the start of its attempt (latency), by kind.", Buckets: jobBuckets,
		}, []string{"kind"}),
	}
	cs := []prometheus.Collector{m.attempts, m.run, m.wait}
	if pool != nil {
		cs = append(cs, &stateCollector{pool: pool, desc: prometheus.NewDesc("quarry_jobs",
			"Jobs by queue and state (available and scheduled are queued; running; retryable failed and wait for a retry; discarded failed for good).",
			[]string{"queue", "state"}, nil)})
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// middleware times and counts each attempt.
func (m *Metrics) middleware() rivertype.WorkerMiddleware {
	return river.WorkerMiddlewareFunc(func(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
		start := time.Now()
		if job.AttemptedAt != nil {
			m.wait.WithLabelValues(job.Kind).Observe(max(job.AttemptedAt.Sub(job.ScheduledAt), 0).Seconds())
		}
		err := doInner(ctx)
		m.run.WithLabelValues(job.Kind).Observe(time.Since(start).Seconds())
		m.attempts.WithLabelValues(job.Kind, outcome(err)).Inc()
		return err
	})
}

// outcome names what became of an attempt that returned err.
func outcome(err error) string {
	var cancel *rivertype.JobCancelError
	var snooze *rivertype.JobSnoozeError
	switch {
	case err == nil:
		return "completed"
	case errors.As(err, &cancel):
		return "cancelled"
	case errors.As(err, &snooze):
		return "snoozed"
	}
	return "failed"
}

// stateCollector counts river_job rows by queue and state when scraped. Completed and
// cancelled jobs are left out: River deletes them after a day, and they are no backlog.
type stateCollector struct {
	pool *db.Pool
	desc *prometheus.Desc
}

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT queue, state::text, count(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'pending', 'running', 'retryable', 'discarded')
		GROUP BY queue, state`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(s.desc, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var queue, state string
		var n int64
		if err := rows.Scan(&queue, &state, &n); err != nil {
			ch <- prometheus.NewInvalidMetric(s.desc, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(n), queue, state)
	}
	if err := rows.Err(); err != nil {
		ch <- prometheus.NewInvalidMetric(s.desc, err)
	}
}
