// Package middleware holds the gin middleware every module shares: the core every
// request passes (request id, security headers, body limit and deadline, request
// deadline, panic recovery, access log), CORS and rate limiting.
package middleware

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/logging"
	"github.com/quarrydev/quarry/internal/core/reqctx"
)

// maxRequestIDLen bounds an accepted incoming request id.
const maxRequestIDLen = 128

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

// CoreConfig configures Core.
type CoreConfig struct {
	// Log receives the request's own log lines, and the access log unless Access is set.
	Log *slog.Logger
	// Access, when set, writes the access log lines (JSON) instead of Log, at the
	// levels Log is enabled for.
	Access *logging.AccessLog
	// HSTS adds Strict-Transport-Security (serve behind HTTPS only).
	HSTS bool
	// BodyLimit is the largest request body in bytes.
	BodyLimit int64
	// BodyReadTimeout is how long the body may take to arrive once the handler started.
	BodyReadTimeout time.Duration
	// RequestTimeout ends the request's context.
	RequestTimeout time.Duration
	// Observe, when set, is called after every request with its route pattern
	// ("(unmatched)" for none), status and duration (e.g. to count it).
	Observe func(route, method string, status int, elapsed time.Duration)
	// InFlight, when set, is called with +1 when a request starts and -1 when it ends.
	InFlight func(delta float64)
}

// Core is the work every request needs, in one layer rather than a chain of them:
//
//   - request id: a sane incoming X-Request-ID (1–128 characters from
//     [A-Za-z0-9._:-]) or a generated one, echoed in the response; the request's
//     reqctx.Info (id, client address, user agent) and log go into its context;
//   - the security headers, which keep browsers from sniffing, framing, caching or
//     leaking API responses (precomputed, shared values);
//   - the body limit: 413 at once when the declared length is larger, else when
//     reading passes it;
//   - the body deadline: a body that has not arrived BodyReadTimeout after the handler
//     started fails to read, answered 408 (where the connection supports read
//     deadlines; the server's ReadTimeout still bounds the whole request);
//   - the request deadline: the request's context ends after RequestTimeout, and so
//     does every query run with it (504);
//   - panic recovery: a 500 envelope, and the panic logged with its stack and request
//     id (http.ErrAbortHandler is re-raised, as net/http expects);
//   - the access log: one line per request with method, route pattern, path, status,
//     latency, response size and client address, and the request id (query strings
//     and headers are never logged: they may carry tokens); and Observe.
//
// The request gets one new context (and one copy of the request) for all of it.
func Core(cfg CoreConfig) gin.HandlerFunc {
	ids := newRequestIDs()
	headers := securityHeaderValues(cfg.HSTS)
	log := cfg.Log
	return func(c *gin.Context) {
		start := time.Now()
		if cfg.InFlight != nil {
			cfg.InFlight(1)
		}
		id := httpx.Header(c.Request, headerRequestID)
		if !saneRequestID(id) {
			id = ids.next()
		}
		h := c.Writer.Header()
		h[headerRequestID] = []string{id}
		for _, sh := range headers {
			h[sh.key] = sh.value
		}
		ctx, info, cancel := reqctx.WithTimeout(c.Request.Context(),
			reqctx.Info{RequestID: id, ClientIP: c.ClientIP(), UserAgent: httpx.Header(c.Request, "User-Agent")}, log, cfg.RequestTimeout)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)

		serve(c, cfg.BodyLimit, cfg.BodyReadTimeout)

		route := c.FullPath()
		if route == "" {
			route = "(unmatched)"
		}
		status := c.Writer.Status()
		elapsed := time.Since(start)
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		switch {
		case !log.Enabled(ctx, level):
		case cfg.Access != nil:
			_ = cfg.Access.Write(&logging.AccessEntry{
				Time: time.Now(), Level: level, Method: c.Request.Method, Route: route, Path: c.Request.URL.Path,
				Status: status, Latency: elapsed, Bytes: max(c.Writer.Size(), 0), ClientIP: info.ClientIP, RequestID: id,
			})
		default:
			log.LogAttrs(ctx, level, "request",
				slog.String("method", c.Request.Method),
				slog.String("route", route),
				slog.String("path", c.Request.URL.Path),
				slog.Int("status", status),
				slog.Float64("latency_ms", float64(elapsed.Microseconds())/1000),
				slog.Int("bytes", max(c.Writer.Size(), 0)),
				slog.String("client_ip", info.ClientIP),
			)
		}
		if cfg.InFlight != nil {
			cfg.InFlight(-1)
		}
		if cfg.Observe != nil {
			cfg.Observe(route, c.Request.Method, status, elapsed)
		}
	}
}

// headerRequestID is httpx.HeaderRequestID in its canonical form, the header map key.
var headerRequestID = http.CanonicalHeaderKey(httpx.HeaderRequestID)

// serve applies the body limit and deadline and runs the rest of the chain,
// recovering a panic.
func serve(c *gin.Context, limit int64, bodyTimeout time.Duration) {
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
	if c.Request.ContentLength > limit {
		httpx.Fail(c, apperr.ErrTooLarge)
		return
	}
	if c.Request.Body != nil && c.Request.Body != http.NoBody {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(bodyTimeout))
	}
	c.Next()
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

// securityHeaderValues returns the security headers to set, with
// Strict-Transport-Security when hsts.
func securityHeaderValues(hsts bool) []struct {
	key   string
	value []string
} {
	out := slices.Clone(securityHeaders)
	if hsts {
		out = append(out, struct {
			key   string
			value []string
		}{"Strict-Transport-Security", hstsValue})
	}
	for i := range out {
		out[i].value = out[i].value[:1:1]
	}
	return out
}
