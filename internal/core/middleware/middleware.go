// Package middleware holds the gin middleware every module shares: request id, panic
// recovery, access log, body limit, per-request deadline, CORS, security headers and
// rate limiting.
package middleware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/reqctx"
)

// maxRequestIDLen bounds an accepted incoming request id.
const maxRequestIDLen = 128

// RequestID takes a sane incoming X-Request-ID (1–128 characters from [A-Za-z0-9._:-])
// or generates one, echoes it in the response, and puts the request's reqctx.Info
// (id, client address, user agent) and log into the request context.
func RequestID(log *slog.Logger) gin.HandlerFunc {
	ids := newRequestIDs()
	return func(c *gin.Context) {
		id := c.GetHeader(httpx.HeaderRequestID)
		if !saneRequestID(id) {
			id = ids.next()
		}
		c.Header(httpx.HeaderRequestID, id)
		info := &reqctx.Info{RequestID: id, ClientIP: c.ClientIP(), UserAgent: c.Request.UserAgent()}
		c.Request = c.Request.WithContext(reqctx.With(c.Request.Context(), info, log))
		c.Next()
	}
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch ch := id[i]; {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9',
			ch == '-', ch == '_', ch == '.', ch == ':':
		default:
			return false
		}
	}
	return true
}

// requestIDs generates request ids: a random per-process prefix and a counter, so ids
// are unique across instances and cost no system call per request.
type requestIDs struct {
	prefix [12]byte
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	g := &requestIDs{}
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	hex.Encode(g.prefix[:], b[:])
	return g
}

// next returns the next id: 12 hex digits of prefix and 12 of counter.
func (g *requestIDs) next() string {
	var buf [24]byte
	copy(buf[:12], g.prefix[:])
	n := g.n.Add(1)
	const digits = "0123456789abcdef"
	for i := 23; i >= 12; i-- {
		buf[i] = digits[n&0xf]
		n >>= 4
	}
	return string(buf[:])
}

// Recover turns a panic into a 500 envelope and logs it with its stack and request id.
// http.ErrAbortHandler is re-raised, as net/http expects.
func Recover() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if err, ok := rec.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(rec)
			}
			ctx := c.Request.Context()
			reqctx.Logger(ctx).ErrorContext(ctx, "panic serving request", "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			httpx.Fail(c, apperr.ErrInternal.Wrap(fmt.Errorf("panic: %v", rec)))
		}()
		c.Next()
	}
}

// AccessLog writes one line per request: method, route pattern, path,
// status, latency, response size and client address, with the request id that the
// logger (see logging.RequestHandler) takes from the context. Query strings and headers
// are never logged: they may carry tokens.
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "(unmatched)"
		}
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		ctx := c.Request.Context()
		log.LogAttrs(ctx, level, "request",
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
			slog.String("client_ip", reqctx.From(ctx).ClientIP),
		)
	}
}

// BodyLimit answers 413 when a request body exceeds limit bytes: at once when the
// declared length is larger, else when reading passes the limit.
func BodyLimit(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			httpx.Fail(c, apperr.ErrTooLarge)
			return
		}
		if c.Request.Body != nil && c.Request.Body != http.NoBody {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		}
		c.Next()
	}
}

// BodyDeadline cuts off a request body that has not arrived timeout after the
// handler started: reading it fails then, and the request is answered 408
// (apperr.ErrBodyTimeout). The server's ReadTimeout still bounds the whole request.
// Where the connection does not support read deadlines (tests with a recorder) it does
// nothing.
func BodyDeadline(timeout time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body != nil && c.Request.Body != http.NoBody {
			_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(timeout))
		}
		c.Next()
	}
}

// Deadline gives each request a context that ends after timeout; every query run with
// the request's context stops then, and the error maps to a 504 envelope.
func Deadline(timeout time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// CORSConfig configures cross-origin requests.
type CORSConfig struct {
	// AllowedOrigins lists origins allowed to call the API; empty disables CORS.
	AllowedOrigins []string
	AllowedMethods []string
	AllowedHeaders []string
	MaxAge         time.Duration
}

// CORS answers preflight requests and sets CORS headers for the configured origins; it
// returns nil when no origin is configured.
func CORS(cfg CORSConfig) gin.HandlerFunc {
	if len(cfg.AllowedOrigins) == 0 {
		return nil
	}
	c := cors.Config{
		AllowOrigins:  cfg.AllowedOrigins,
		AllowMethods:  cfg.AllowedMethods,
		AllowHeaders:  cfg.AllowedHeaders,
		ExposeHeaders: []string{httpx.HeaderRequestID, "Retry-After", "RateLimit", "RateLimit-Policy"},
		MaxAge:        cfg.MaxAge,
	}
	for _, o := range cfg.AllowedOrigins {
		if o == "*" {
			c.AllowOrigins, c.AllowAllOrigins = nil, true
		}
	}
	return cors.New(c)
}

// securityHeaders are set on every response. The values are shared, immutable slices
// under canonical keys, so setting them allocates nothing (capacity equals length: an
// Add copies instead of writing into them). They follow the OWASP REST guidance for
// JSON APIs; /docs relaxes the policy for its page.
var securityHeaders = []struct {
	key   string
	value []string
}{
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	{"Content-Security-Policy", []string{"default-src 'none'; frame-ancestors 'none'"}},
	{"Referrer-Policy", []string{"no-referrer"}},
	{"Cache-Control", []string{"no-store"}},
}

var hstsValue = []string{"max-age=63072000; includeSubDomains"}

// SecurityHeaders sets headers that keep browsers from sniffing, framing, caching or
// leaking API responses; hsts adds Strict-Transport-Security (only behind HTTPS).
func SecurityHeaders(hsts bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		for _, sh := range securityHeaders {
			h[sh.key] = sh.value[:1:1]
		}
		if hsts {
			h["Strict-Transport-Security"] = hstsValue[:1:1]
		}
		c.Next()
	}
}
