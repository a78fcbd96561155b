// Package tracing sets up OpenTelemetry tracing: a span for each HTTP request and for
// each database query, both carrying the request id. It is off unless an OTLP endpoint
// is configured.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/quarrydev/quarry/internal/core/reqctx"
	"github.com/quarrydev/quarry/internal/db"
)

// requestIDKey is the span attribute holding the request id.
const requestIDKey = attribute.Key("http.request.id")

// Config configures tracing.
type Config struct {
	// Endpoint is the OTLP/HTTP endpoint URL (e.g. http://collector:4318); empty
	// disables tracing unless Exporter is set.
	Endpoint string
	// ServiceName names the service in traces.
	ServiceName string
	// SampleRatio is the fraction of new traces sampled (parent decisions are kept).
	SampleRatio float64
	// Exporter replaces the OTLP exporter, e.g. to keep spans in memory.
	Exporter sdktrace.SpanExporter
}

// Tracing is a configured tracer provider; the zero value (from a disabled config)
// traces nothing.
type Tracing struct {
	provider *sdktrace.TracerProvider
}

// New returns Tracing for cfg: disabled (nil provider, no overhead) when neither an
// endpoint nor an exporter is configured. It fails when the exporter cannot be built.
func New(ctx context.Context, cfg Config) (*Tracing, error) {
	exp := cfg.Exporter
	if exp == nil {
		if cfg.Endpoint == "" {
			return &Tracing{}, nil
		}
		var err error
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.Endpoint))
		if err != nil {
			return nil, fmt.Errorf("OTLP exporter for %s: %w", cfg.Endpoint, err)
		}
	}
	res := resource.NewSchemaless(semconv.ServiceName(cfg.ServiceName))
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	)
	return &Tracing{provider: provider}, nil
}

// Enabled reports whether spans are recorded.
func (t *Tracing) Enabled() bool { return t.provider != nil }

// Middleware returns the gin middleware starting a span per request (continuing a
// W3C traceparent from the caller) and tagging it with the request id; nil when
// disabled. It must follow the request id middleware.
func (t *Tracing) Middleware(service string) []gin.HandlerFunc {
	if !t.Enabled() {
		return nil
	}
	return []gin.HandlerFunc{
		otelgin.Middleware(service,
			otelgin.WithTracerProvider(t.provider),
			otelgin.WithPropagators(propagation.TraceContext{}),
		),
		func(c *gin.Context) {
			ctx := c.Request.Context()
			trace.SpanFromContext(ctx).SetAttributes(requestIDKey.String(reqctx.From(ctx).RequestID))
			c.Next()
		},
	}
}

// QueryTracer returns the pgx tracer recording a span per query, tagged with the
// request id; nil when disabled.
func (t *Tracing) QueryTracer() pgx.QueryTracer {
	if !t.Enabled() {
		return nil
	}
	return queryTracer{otelpgx.NewTracer(otelpgx.WithTracerProvider(t.provider), otelpgx.WithTrimSQLInSpanName())}
}

// QueryHook returns the store hook recording a span per query named db.<query>
// (e.g. db.GetPost), around the driver's own span; nil when disabled.
func (t *Tracing) QueryHook() db.QueryHook {
	if !t.Enabled() {
		return db.QueryHook{}
	}
	tracer := t.provider.Tracer("github.com/quarrydev/quarry/internal/db")
	return db.QueryHook{
		Start: func(ctx context.Context, name string) context.Context {
			ctx, _ = tracer.Start(ctx, "db."+name, trace.WithSpanKind(trace.SpanKindClient))
			return ctx
		},
		End: func(ctx context.Context, _ string, _ time.Duration, err error) {
			span := trace.SpanFromContext(ctx)
			if err != nil && !errors.Is(err, db.ErrNotFound) {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		},
	}
}

// Shutdown flushes pending spans.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

// queryTracer adds the request id to otelpgx's query spans.
type queryTracer struct{ *otelpgx.Tracer }

func (q queryTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	ctx = q.Tracer.TraceQueryStart(ctx, conn, data)
	if id := reqctx.From(ctx).RequestID; id != "" {
		trace.SpanFromContext(ctx).SetAttributes(requestIDKey.String(id))
	}
	return ctx
}
