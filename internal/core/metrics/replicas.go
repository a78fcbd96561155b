package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarrydev/quarry/internal/db"
)

// Replicas registers the statistics of the read replicas, read from replicas at
// scrape time: per replica whether it is in rotation, its lag in seconds and WAL
// bytes, the queries it served and the reads that fell back to the primary (reason
// behind: it had not replayed the client's writes; error: it failed to answer), and
// the reads that found no replica at all. A nil *Metrics or nil replicas registers
// nothing.
func (m *Metrics) Replicas(replicas *db.Replicas) {
	if m == nil || replicas == nil {
		return
	}
	m.registry.MustRegister(&replicaCollector{replicas: replicas})
}

var (
	replicaLabels = []string{"replica"}
	replicaUp     = prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_replica", "up"),
		"1 while the replica is in rotation (reachable, a standby, within REPLICA_MAX_LAG), else 0.", replicaLabels, nil)
	replicaLag = prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_replica", "lag_seconds"),
		"Age of the oldest change the replica has not replayed (0 when caught up).", replicaLabels, nil)
	replicaLagBytes = prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_replica", "lag_bytes"),
		"WAL bytes the replica is behind the primary at the last check.", replicaLabels, nil)
	replicaRouted = prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_replica", "routed_queries_total"),
		"Read-only queries sent to the replica.", replicaLabels, nil)
	replicaFallbacks = prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_replica", "fallbacks_total"),
		"Reads the replica did not serve: behind (it had not replayed the client's writes) or error (it failed to answer and the primary served them).",
		[]string{"replica", "reason"}, nil)
	replicaPrimaryReads = prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_replica", "primary_reads_total"),
		"Read-only queries served by the primary because no replica was in rotation and past the client's writes.", nil, nil)
)

// replicaCollector reports db.Replicas statistics at scrape time.
type replicaCollector struct{ replicas *db.Replicas }

func (c *replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{replicaUp, replicaLag, replicaLagBytes, replicaRouted, replicaFallbacks, replicaPrimaryReads} {
		ch <- d
	}
}

func (c *replicaCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.replicas.Stats() {
		up := 0.0
		if s.Usable {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(replicaUp, prometheus.GaugeValue, up, s.Name)
		ch <- prometheus.MustNewConstMetric(replicaLag, prometheus.GaugeValue, s.Lag.Seconds(), s.Name)
		ch <- prometheus.MustNewConstMetric(replicaLagBytes, prometheus.GaugeValue, float64(s.LagBytes), s.Name)
		ch <- prometheus.MustNewConstMetric(replicaRouted, prometheus.CounterValue, float64(s.Routed), s.Name)
		ch <- prometheus.MustNewConstMetric(replicaFallbacks, prometheus.CounterValue, float64(s.Behind), s.Name, "behind")
		ch <- prometheus.MustNewConstMetric(replicaFallbacks, prometheus.CounterValue, float64(s.Failures), s.Name, "error")
	}
	ch <- prometheus.MustNewConstMetric(replicaPrimaryReads, prometheus.CounterValue, float64(c.replicas.PrimaryReads()))
}
