package app

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// BenchmarkReadYourWrites measures the per-request cost of the session middleware
// that replicas add: reading the client's position from the header or cookie and
// putting a session in the request's context.
func BenchmarkReadYourWrites(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	for _, tc := range []struct {
		name   string
		header string
		cookie string
	}{
		{"no position", "", ""},
		{"header", "0/16B3748", ""},
		{"cookie", "", "0/16B3748"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			engine := gin.New()
			engine.Use(readYourWrites(false))
			engine.GET("/", func(c *gin.Context) { c.Status(http.StatusNoContent) })
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.header != "" {
				req.Header.Set(ReadAfterHeader, tc.header)
			}
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: ReadAfterCookie, Value: tc.cookie})
			}
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				engine.ServeHTTP(w, req)
			}
		})
	}
	b.Run("baseline without the middleware", func(b *testing.B) {
		engine := gin.New()
		engine.GET("/", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		w := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			engine.ServeHTTP(w, req)
		}
	})
}
