package middleware

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/ratelimit"
)

// BenchmarkRateLimit measures what the middleware adds to a request of an API route,
// counts in memory, against the same route with the policy off (both behind
// Core, which it takes the client address from).
//
//	go test -run '^$' -bench RateLimit -benchmem ./internal/core/middleware/
func BenchmarkRateLimit(b *testing.B) {
	for _, spec := range []string{"off", "100000000/1m"} {
		b.Run(spec, func(b *testing.B) {
			p, err := ratelimit.ParsePolicy(ratelimit.DefaultPolicy, spec)
			if err != nil {
				b.Fatal(err)
			}
			l, err := ratelimit.NewLimiter(ratelimit.Options{})
			if err != nil {
				b.Fatal(err)
			}
			gin.SetMode(gin.ReleaseMode)
			e := gin.New()
			e.Use(Core(CoreConfig{Log: slog.New(slog.DiscardHandler), BodyLimit: 1 << 20, BodyReadTimeout: time.Second, RequestTimeout: time.Second}), RateLimit(l, ratelimit.Rules{Default: p}, nil))
			e.GET("/api/v1/posts/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
			req := httptest.NewRequest(http.MethodGet, "/api/v1/posts/42", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				e.ServeHTTP(w, req)
				if w.Code != http.StatusNoContent {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
