package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/metrics"
	"github.com/quarrydev/quarry/internal/core/tracing"
	"github.com/quarrydev/quarry/internal/db"
)

// contentTypeMetrics is the media type of the Prometheus text exposition format.
const contentTypeMetrics = "text/plain"

// observability holds the metrics and tracing of an App.
type observability struct {
	metrics *metrics.Metrics // nil when METRICS_ENABLED is false
	tracing *tracing.Tracing
}

// newTracing builds tracing from the configuration (before the pool, whose queries
// it traces). It fails when the exporter cannot be built.
func newTracing(ctx context.Context, cfg *config.Config, exp sdktrace.SpanExporter) (*tracing.Tracing, error) {
	t, err := tracing.New(ctx, tracing.Config{
		Endpoint:    cfg.TracingOTLPEndpoint,
		ServiceName: cfg.TracingServiceName,
		SampleRatio: cfg.TracingSampleRatio,
		Exporter:    exp,
	})
	if err != nil {
		return nil, fmt.Errorf("TRACING_OTLP_ENDPOINT: %w", err)
	}
	return t, nil
}

// queryHooks returns the store hooks of the metrics and tracing that are on.
func (o *observability) queryHooks() []db.QueryHook {
	var hooks []db.QueryHook
	for _, h := range []db.QueryHook{o.metrics.QueryHook(), o.tracing.QueryHook()} {
		if h.Start != nil || h.End != nil {
			hooks = append(hooks, h)
		}
	}
	return hooks
}

// routes returns GET /metrics for the API router when metrics are served there.
func (o *observability) routes(separateAddr string) []httpx.Route {
	if o.metrics == nil || separateAddr != "" {
		return nil
	}
	h := o.metrics.Handler()
	return []httpx.Route{{
		Method: http.MethodGet, Path: "/metrics", OperationID: "getMetrics",
		Summary:      "Prometheus metrics",
		Description:  "Requests by route, latency, requests in flight, database pool, rate-limit rejections, authentication failures and the Go runtime, in the Prometheus text format.",
		Raw:          gin.WrapH(h),
		ContentTypes: []string{contentTypeMetrics},
	}}
}

// serveMetrics serves /metrics on addr until ctx ends; it returns at once when metrics
// are off or served by the API router. It fails when addr cannot be listened on.
func (o *observability) serveMetrics(ctx context.Context, addr string, log *slog.Logger) error {
	if o.metrics == nil || addr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", o.metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("METRICS_ADDR %s: %w", addr, err)
	}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "addr", addr, "error", err)
		}
	}()
	return nil
}
