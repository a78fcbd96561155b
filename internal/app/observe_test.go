package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/app/apptest"
)

func TestMetricsExposeTheSeries(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{Env: map[string]string{"RATE_LIMIT_DEFAULT": "3/1m"}})
	srv.Do(http.MethodGet, "/api/v1/posts/1", nil)
	srv.Do(http.MethodGet, "/api/v1/auth/me", nil, "Authorization", "Bearer forged")
	for range 4 {
		srv.Do(http.MethodGet, "/api/v1/posts", nil)
	}
	r := srv.Do(http.MethodGet, "/metrics", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("/metrics: %d", r.Status)
	}
	body := string(r.Body)
	for _, want := range []string{
		`quarry_http_requests_total{method="GET",route="/api/v1/posts/:id",status="404"} 1`,
		`quarry_http_request_duration_seconds_bucket{method="GET",route="/api/v1/posts/:id"`,
		`quarry_http_requests_in_flight`,
		`quarry_db_pool_max_connections`,
		`quarry_db_pool_acquires_total`,
		`quarry_auth_failures_total{reason="invalid"} 1`,
		`quarry_rate_limit_rejections_total{policy="default"}`,
		`go_goroutines`,
		`process_cpu_seconds_total`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `route="/api/v1/posts/1"`) {
		t.Error("raw paths must not become label values")
	}
}

func TestMetricsOnASeparateAddressOrOff(t *testing.T) {
	t.Parallel()
	off := apptest.New(t, apptest.Options{Env: map[string]string{"METRICS_ENABLED": "false"}})
	apptest.ExpectError(t, off.Do(http.MethodGet, "/metrics", nil), http.StatusNotFound, "route_not_found")
	apart := apptest.New(t, apptest.Options{Env: map[string]string{"METRICS_ADDR": "127.0.0.1:9464"}})
	apptest.ExpectError(t, apart.Do(http.MethodGet, "/metrics", nil), http.StatusNotFound, "route_not_found")
}

func TestTracingSpansCarryTheRequestID(t *testing.T) {
	t.Parallel()
	exp := keepSpans{tracetest.NewInMemoryExporter()}
	cfg, mods := apptest.Config(t, apptest.Options{})
	a, err := app.New(context.Background(), cfg, app.Options{Modules: mods, Log: slog.New(slog.DiscardHandler), SpanExporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/v1/posts/7", nil)
	req.Header.Set("X-Request-ID", "trace-me-1")
	a.Handler().ServeHTTP(httptest.NewRecorder(), req)
	a.Close() // flushes the spans

	var httpSpan, querySpan bool
	for _, s := range exp.GetSpans() {
		var id string
		for _, kv := range s.Attributes {
			if kv.Key == "http.request.id" {
				id = kv.Value.AsString()
			}
		}
		if id != "trace-me-1" {
			continue
		}
		switch {
		case strings.Contains(s.Name, "/api/v1/posts/:id"):
			httpSpan = true
		case strings.Contains(strings.ToLower(s.Name), "query") || strings.Contains(s.Name, "SELECT") || strings.Contains(s.Name, "GetPost"):
			querySpan = true
		}
	}
	if !httpSpan || !querySpan {
		for _, s := range exp.GetSpans() {
			t.Logf("span %q %v", s.Name, s.Attributes)
		}
		t.Fatalf("want an HTTP span and a query span tagged with the request id (http %v, query %v)", httpSpan, querySpan)
	}
}

// keepSpans keeps the spans past the provider's shutdown, which flushes them.
type keepSpans struct{ *tracetest.InMemoryExporter }

func (keepSpans) Shutdown(context.Context) error { return nil }
