package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/modules/auth"
	"github.com/quarrydev/quarry/internal/testredis"
)

// TestLoginThrottleIsSharedByInstances runs two instances on one Redis: an account's
// login attempts count against one budget wherever they land.
func TestLoginThrottleIsSharedByInstances(t *testing.T) {
	t.Parallel()
	url := testredis.URL(t)
	prefix := testredis.Prefix(t, url)
	kv := []string{"REDIS_URL", url, "RATE_LIMIT_KEY_PREFIX", prefix, "AUTH_LOGIN_PER_ACCOUNT", "3/1h", "AUTH_LOGIN_PER_ADDRESS", "100/1h"}
	a, b := newClient(t, kv...), newClient(t, kv...)
	for i, c := range []*client{a, b, a} {
		r := c.login("target@example.com", "guess")
		apptest.ExpectError(t, r, http.StatusUnauthorized, "invalid_credentials")
		if i == 0 && r.Header.Get("Retry-After") != "" {
			t.Error("Retry-After on a login within the budget")
		}
	}
	for _, c := range []*client{b, a} {
		r := c.login("Target@example.com", pw)
		apptest.ExpectError(t, r, http.StatusTooManyRequests, "rate_limited")
		if ra := r.Header.Get("Retry-After"); ra != "1200" {
			t.Errorf("Retry-After %q, want 1200 (one attempt per 20 minutes)", ra)
		}
	}
	// Another account is unaffected.
	apptest.ExpectError(t, b.login("other@example.com", "guess"), http.StatusUnauthorized, "invalid_credentials")

	keys := testredis.Keys(t, url, "*"+prefix+"*")
	var account, address int
	for _, k := range keys {
		switch {
		case strings.Contains(k, prefix+auth.PolicyLoginPerAccount+":"):
			account++
		case strings.Contains(k, prefix+auth.PolicyLoginPerAddress+":"):
			address++
		default:
			continue // the API's own rate limit, by address
		}
		if strings.Contains(k, "example.com") || strings.Contains(k, "192.0.2.1") {
			t.Errorf("Redis key %s shows an email or an address", k)
		}
	}
	if account != 2 || address != 1 {
		t.Errorf("Redis keys %v: want 2 accounts and 1 address under the login policies", keys)
	}
}

// TestLoginWhenRedisIsDown stops Redis: failing closed, a login is refused as
// unavailable; failing open, the instance throttles on its own.
func TestLoginWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	redis := testredis.Start(t)
	open := newClient(t, "REDIS_URL", redis.URL, "AUTH_LOGIN_PER_ACCOUNT", "2/1h")
	closed := newClient(t, "REDIS_URL", redis.URL, "AUTH_LOGIN_PER_ACCOUNT", "2/1h", "RATE_LIMIT_FAIL_MODE", "closed")
	open.register("ada@example.com", "Ada")
	apptest.Expect[auth.Tokens](t, open.login("ada@example.com", pw), http.StatusOK)
	redis.Stop()

	apptest.ExpectError(t, closed.login("ada@example.com", pw), http.StatusServiceUnavailable, "rate_limiter_unavailable")
	// Failing open: a fresh budget in this instance's memory, then 429.
	apptest.Expect[auth.Tokens](t, open.login("ada@example.com", pw), http.StatusOK)
	apptest.Expect[auth.Tokens](t, open.login("ada@example.com", pw), http.StatusOK)
	apptest.ExpectError(t, open.login("ada@example.com", pw), http.StatusTooManyRequests, "rate_limited")
	if s := open.srv.App.RateLimiter().Stats(); s.BackendErrors == 0 {
		t.Errorf("failing open: %+v, want backend errors counted", s)
	}
}
