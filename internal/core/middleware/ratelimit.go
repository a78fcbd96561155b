package middleware

import (
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/ratelimit"
	"github.com/quarrydev/quarry/internal/core/reqctx"
)

// Rate-limit response headers, as draft-ietf-httpapi-ratelimit-headers-11 (May 2026)
// defines them: structured-field lists of a quoted policy name with parameters,
//
//	RateLimit-Policy: "default";q=600;w=60   (quota q requests per window w seconds)
//	RateLimit: "default";r=599;t=1           (r requests left; whole again in t seconds)
const (
	HeaderRateLimitPolicy = "RateLimit-Policy"
	HeaderRateLimit       = "RateLimit"
)

// The canonical forms of the header names (net/http's), to set them without
// canonicalizing on every request.
var (
	keyRateLimitPolicy = textproto.CanonicalMIMEHeaderKey(HeaderRateLimitPolicy)
	keyRateLimit       = textproto.CanonicalMIMEHeaderKey(HeaderRateLimit)
)

// apiPrefix starts the route patterns that are rate limited: /api/<version>/<module>/….
const apiPrefix = "/api/"

// unavailableRetry is the Retry-After of a 503 while the limiter's backend is down.
const unavailableRetry = 5 * time.Second

// RateLimit limits the requests to API routes (route patterns under /api/; health,
// metrics, docs and unmatched paths are never limited) per client under the policy
// rules choose for the route's module (the segment after the version). The client is
// the user of a valid bearer access token ("u:<id>"; the signature and claims are
// checked, the database is not), else the client address as gin's ClientIP gives it,
// which honours X-Forwarded-For only from TRUSTED_PROXIES ("ip:<addr>"; IPv6
// addresses by their /64 network, which one host usually holds whole).
//
// A limited response carries the RateLimit-Policy and RateLimit headers. Over the
// budget it answers 429 rate_limited with Retry-After (whole seconds, at least 1);
// when the limiter cannot decide and fails closed, 503 rate_limiter_unavailable with
// Retry-After. tokens may be nil: every client is then keyed by address.
func RateLimit(l *ratelimit.Limiter, rules ratelimit.Rules, tokens *authn.Tokens) gin.HandlerFunc {
	// The RateLimit-Policy value of each policy, made once and shared by every
	// response (capacity one: an Add copies instead of writing into it).
	policies := map[string][]string{rules.Default.Name: {policyHeader(rules.Default)}}
	for _, p := range rules.Overrides {
		policies[p.Name] = []string{policyHeader(p)}
	}
	return func(c *gin.Context) {
		module, ok := apiModule(c.FullPath())
		if !ok {
			c.Next()
			return
		}
		p := rules.For(module)
		if p.Off() {
			c.Next()
			return
		}
		h := c.Writer.Header()
		h[keyRateLimitPolicy] = policies[p.Name]
		r, err := l.Allow(c.Request.Context(), clientKey(c, tokens), p)
		if err != nil {
			h.Set("Retry-After", strconv.FormatInt(ratelimit.RetryAfterSeconds(unavailableRetry), 10))
			httpx.Fail(c, err)
			return
		}
		h[keyRateLimit] = []string{limitHeader(p, r)}
		if !r.Allowed {
			h.Set("Retry-After", strconv.FormatInt(ratelimit.RetryAfterSeconds(r.RetryAfter), 10))
			httpx.Fail(c, ratelimit.ErrLimited)
			return
		}
		c.Next()
	}
}

// apiModule returns the module of an API route pattern: "posts" for
// /api/v1/posts/:id; false for any other pattern.
func apiModule(pattern string) (string, bool) {
	rest, ok := strings.CutPrefix(pattern, apiPrefix)
	if !ok {
		return "", false
	}
	_, rest, ok = strings.Cut(rest, "/") // the version
	if !ok {
		return "", false
	}
	module, _, _ := strings.Cut(rest, "/")
	return module, module != ""
}

// clientKey returns the key a request is counted under.
func clientKey(c *gin.Context, tokens *authn.Tokens) string {
	if tokens != nil {
		if scheme, raw, ok := strings.Cut(httpx.Header(c.Request, "Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
			if _, id, err := tokens.Verify(strings.TrimSpace(raw)); err == nil {
				return "u:" + strconv.FormatInt(id, 10)
			}
		}
	}
	ip := reqctx.From(c.Request.Context()).ClientIP // gin's ClientIP, kept by RequestID
	if ip == "" {
		ip = c.ClientIP()
	}
	return "ip:" + addressKey(ip)
}

// addressKey returns ip, or its /64 network for an IPv6 address.
func addressKey(ip string) string {
	if !strings.Contains(ip, ":") { // IPv4: no need to parse it
		return ip
	}
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// policyHeader returns the RateLimit-Policy value of p, e.g. "default";q=600;w=60.
func policyHeader(p ratelimit.Policy) string {
	return strconv.Quote(p.Name) + ";q=" + strconv.Itoa(p.Limit) + ";w=" + strconv.FormatInt(p.Window(), 10)
}

// limitHeader returns the RateLimit value of r under p, e.g. "default";r=599;t=1:
// r requests may be made at once, and the budget is whole again in t seconds.
func limitHeader(p ratelimit.Policy, r ratelimit.Result) string {
	t := int64(0)
	if r.ResetAfter > 0 {
		t = ratelimit.RetryAfterSeconds(r.ResetAfter)
	}
	b := make([]byte, 0, 96)
	b = strconv.AppendQuote(b, p.Name)
	b = append(b, ";r="...)
	b = strconv.AppendInt(b, int64(r.Remaining), 10)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, t, 10)
	return string(b)
}
