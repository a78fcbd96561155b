package app_test

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/modules"
	"github.com/quarrydev/quarry/internal/testredis"
)

const listPosts = "/api/v1/posts"

// limited starts the application with the rate-limit settings kv (key, value pairs).
func limited(t *testing.T, kv ...string) *apptest.Server {
	t.Helper()
	env := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return apptest.New(t, apptest.Options{Env: env})
}

// statuses sends n requests and counts the answers by status.
func statuses(srv *apptest.Server, n int, method, path string, headers ...string) map[int]int {
	out := map[int]int{}
	for range n {
		out[srv.Do(method, path, nil, headers...).Status]++
	}
	return out
}

// TestInstancesShareTheBudget runs two instances on one Redis: together they allow a
// client its budget once, not once each.
func TestInstancesShareTheBudget(t *testing.T) {
	t.Parallel()
	url := testredis.URL(t)
	prefix := testredis.Prefix(t, url)
	kv := []string{"REDIS_URL", url, "RATE_LIMIT_KEY_PREFIX", prefix, "RATE_LIMIT_DEFAULT", "10/1h"}
	instances := []*apptest.Server{limited(t, kv...), limited(t, kv...)}
	got := map[int]int{}
	for i := range 20 {
		r := instances[i%2].Do(http.MethodGet, listPosts, nil)
		got[r.Status]++
		if r.Status == http.StatusTooManyRequests {
			apptest.ExpectError(t, r, http.StatusTooManyRequests, "rate_limited")
		}
	}
	if got[http.StatusOK] != 10 || got[http.StatusTooManyRequests] != 10 {
		t.Errorf("20 requests alternating between two instances: %v, want 10 × 200 and 10 × 429", got)
	}
	for i, srv := range instances {
		if s := srv.App.RateLimiter().Stats(); s.Rejected == 0 || s.BackendErrors != 0 {
			t.Errorf("instance %d: %+v, want rejections and no backend error", i+1, s)
		}
	}
	if keys := testredis.Keys(t, url, "*"+prefix+"*"); len(keys) != 1 || keys[0] != "rate:"+prefix+"default:ip:192.0.2.1" {
		t.Errorf("Redis keys %v, want the one of the client's address under the default policy", keys)
	}
}

func TestHeadersAndRefusal(t *testing.T) {
	t.Parallel()
	srv := limited(t, "RATE_LIMIT_DEFAULT", "5/1m") // one request every 12s, bursts of 5
	for i := range 5 {
		r := srv.Do(http.MethodGet, listPosts, nil)
		apptest.Expect[any](t, r, http.StatusOK)
		if p := r.Header.Get("RateLimit-Policy"); p != `"default";q=5;w=60` {
			t.Errorf("RateLimit-Policy %q", p)
		}
		if l, want := r.Header.Get("RateLimit"), `"default";r=`+strconv.Itoa(4-i)+`;t=`+strconv.Itoa(12*(i+1)); l != want {
			t.Errorf("request %d: RateLimit %q, want %q", i+1, l, want)
		}
		if r.Header.Get("Retry-After") != "" {
			t.Errorf("request %d: Retry-After on a success", i+1)
		}
	}
	r := srv.Do(http.MethodGet, listPosts, nil)
	data := apptest.ExpectError(t, r, http.StatusTooManyRequests, "rate_limited")
	if data.RequestID == "" {
		t.Error("no request id in the 429")
	}
	if ra := r.Header.Get("Retry-After"); ra != "12" {
		t.Errorf("Retry-After %q, want 12 (one request every 12s)", ra)
	}
	if l := r.Header.Get("RateLimit"); l != `"default";r=0;t=60` {
		t.Errorf("RateLimit %q on the 429, want r=0 and whole again in 60s", l)
	}
	if p := r.Header.Get("RateLimit-Policy"); p != `"default";q=5;w=60` {
		t.Errorf("RateLimit-Policy %q on the 429", p)
	}
	// Health, docs and unknown paths are never limited, and carry no rate-limit headers.
	for _, path := range []string{"/livez", "/readyz", "/openapi.json", "/docs", "/nothing/here", "/api/v1/nothing"} {
		r := srv.Do(http.MethodGet, path, nil)
		if r.Status == http.StatusTooManyRequests || r.Header.Get("RateLimit") != "" || r.Header.Get("RateLimit-Policy") != "" {
			t.Errorf("%s: %d with RateLimit %q, want no limit", path, r.Status, r.Header.Get("RateLimit"))
		}
	}
	if s := srv.App.RateLimiter().Stats(); s.Rejected != 1 {
		t.Errorf("stats %+v, want 1 rejection", s)
	}
}

func TestPolicyPerModule(t *testing.T) {
	t.Parallel()
	srv := limited(t, "RATE_LIMIT_DEFAULT", "3/1h", "RATE_LIMIT_OVERRIDES", "users=2/1h,auth=off")
	// users has a budget of its own, which 401s use up like any answer.
	got := statuses(srv, 3, http.MethodGet, "/api/v1/users")
	if got[http.StatusUnauthorized] != 2 || got[http.StatusTooManyRequests] != 1 {
		t.Errorf("users: %v, want 2 × 401 then 429", got)
	}
	r := srv.Do(http.MethodGet, "/api/v1/users/1", nil)
	apptest.ExpectError(t, r, http.StatusTooManyRequests, "rate_limited")
	if p := r.Header.Get("RateLimit-Policy"); p != `"users";q=2;w=3600` {
		t.Errorf("users: RateLimit-Policy %q", p)
	}
	// posts draws on the default budget, untouched by users.
	if got := statuses(srv, 4, http.MethodGet, listPosts); got[http.StatusOK] != 3 || got[http.StatusTooManyRequests] != 1 {
		t.Errorf("posts: %v, want 3 × 200 then 429", got)
	}
	// auth is not limited (but for its login throttle).
	for range 5 {
		r := srv.Do(http.MethodGet, "/api/v1/auth/me", nil)
		apptest.ExpectError(t, r, http.StatusUnauthorized, "unauthenticated")
		if r.Header.Get("RateLimit") != "" {
			t.Fatal("auth=off: RateLimit header present")
		}
	}
	// The API document lists 429 exactly where a policy applies.
	for _, rt := range srv.App.Routes() {
		limitedRoute := strings.HasPrefix(rt.FullPath, "/api/") && rt.Module != "auth"
		if has := slices.Contains(rt.Statuses(), http.StatusTooManyRequests); has != limitedRoute && rt.OperationID != "login" && rt.OperationID != "changePassword" {
			t.Errorf("%s %s: 429 documented %v, want %v", rt.Method, rt.FullPath, has, limitedRoute)
		}
	}
}

// TestClientKey checks whom requests are counted for: the address gin trusts, or the
// user of a valid access token.
func TestClientKey(t *testing.T) {
	t.Parallel()
	t.Run("forwarded by an untrusted peer", func(t *testing.T) {
		t.Parallel()
		srv := limited(t, "RATE_LIMIT_DEFAULT", "2/1h")
		for i, xff := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
			r := srv.Do(http.MethodGet, listPosts, nil, "X-Forwarded-For", xff, "X-Real-IP", xff)
			if want := []int{200, 200, 429}[i]; r.Status != want {
				t.Errorf("request %d (X-Forwarded-For %s): %d, want %d: a spoofed header must not give a new budget", i+1, xff, r.Status, want)
			}
		}
	})
	t.Run("forwarded by a trusted proxy", func(t *testing.T) {
		t.Parallel()
		// httptest requests come from 192.0.2.1.
		srv := limited(t, "RATE_LIMIT_DEFAULT", "2/1h", "TRUSTED_PROXIES", "192.0.2.1")
		for i, xff := range []string{"203.0.113.1", "203.0.113.1", "203.0.113.1", "203.0.113.2", "2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3"} {
			r := srv.Do(http.MethodGet, listPosts, nil, "X-Forwarded-For", xff)
			if want := []int{200, 200, 429, 200, 200, 200, 429}[i]; r.Status != want {
				t.Errorf("request %d (X-Forwarded-For %s): %d, want %d", i+1, xff, r.Status, want)
			}
		}
	})
	t.Run("bearer token", func(t *testing.T) {
		t.Parallel()
		srv := limited(t, "RATE_LIMIT_DEFAULT", "2/1h")
		ada := srv.Bearer(t, srv.SeedUser(t, "ada@example.com", "user"))
		bob := srv.Bearer(t, srv.SeedUser(t, "bob@example.com", "user"))
		if got := statuses(srv, 3, http.MethodGet, listPosts); got[http.StatusTooManyRequests] != 1 {
			t.Fatalf("anonymous: %v, want the third refused", got)
		}
		// Each user has a budget of their own, from any address.
		for _, who := range [][]string{ada, bob} {
			r := srv.Do(http.MethodGet, listPosts, nil, who...)
			apptest.Expect[any](t, r, http.StatusOK)
			if l := r.Header.Get("RateLimit"); !strings.HasPrefix(l, `"default";r=1;`) {
				t.Errorf("first request of a user: RateLimit %q, want r=1", l)
			}
		}
		if got := statuses(srv, 2, http.MethodGet, listPosts, ada...); got[http.StatusOK] != 1 || got[http.StatusTooManyRequests] != 1 {
			t.Errorf("ada's 2nd and 3rd requests: %v, want one 200 and one 429", got)
		}
		// An invalid token counts against the address (and is refused there).
		r := srv.Do(http.MethodGet, listPosts, nil, "Authorization", "Bearer not.a.token")
		apptest.ExpectError(t, r, http.StatusTooManyRequests, "rate_limited")
	})
}

// TestRedisStops stops the Redis of two instances: the one failing open keeps serving
// and counts the failures, the one failing closed answers 503.
func TestRedisStops(t *testing.T) {
	t.Parallel()
	redis := testredis.Start(t)
	open := limited(t, "REDIS_URL", redis.URL, "RATE_LIMIT_DEFAULT", "3/1h")
	closed := limited(t, "REDIS_URL", redis.URL, "RATE_LIMIT_DEFAULT", "3/1h", "RATE_LIMIT_FAIL_MODE", "closed",
		"RATE_LIMIT_KEY_PREFIX", "other:")
	for _, srv := range []*apptest.Server{open, closed} {
		if got := statuses(srv, 2, http.MethodGet, listPosts); got[http.StatusOK] != 2 {
			t.Fatalf("with Redis up: %v", got)
		}
	}

	redis.Stop()
	// Failing open: served, limited by the instance's memory alone.
	if got := statuses(open, 4, http.MethodGet, listPosts); got[http.StatusOK] != 3 || got[http.StatusTooManyRequests] != 1 {
		t.Errorf("failing open: %v, want 3 × 200 (a fresh budget in memory) then 429", got)
	}
	if s := open.App.RateLimiter().Stats(); s.BackendErrors != 4 {
		t.Errorf("failing open: %+v, want 4 backend errors", s)
	}
	if !strings.Contains(open.Logs.String(), "rate limiter backend failed") {
		t.Error("failing open: no warning logged")
	}
	// Failing closed: 503 with Retry-After.
	r := closed.Do(http.MethodGet, listPosts, nil)
	apptest.ExpectError(t, r, http.StatusServiceUnavailable, "rate_limiter_unavailable")
	if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q on the 503", r.Header.Get("Retry-After"))
	}
	if r.Header.Get("RateLimit-Policy") == "" {
		t.Error("no RateLimit-Policy on the 503")
	}
	if s := closed.App.RateLimiter().Stats(); s.BackendErrors != 1 {
		t.Errorf("failing closed: %+v, want 1 backend error", s)
	}
	// Health is unaffected.
	apptest.Expect[app.Health](t, closed.Do(http.MethodGet, "/livez", nil), http.StatusOK)
}

func TestRateLimitConfiguration(t *testing.T) {
	t.Parallel()
	for key, value := range map[string]string{
		"RATE_LIMIT_DEFAULT":    "600 a minute",
		"RATE_LIMIT_OVERRIDES":  "posts:600/1m",
		"RATE_LIMIT_FAIL_MODE":  "maybe",
		"RATE_LIMIT_MAX_KEYS":   "0",
		"REDIS_URL":             "http://127.0.0.1:6379",
		"RATE_LIMIT_KEY_PREFIX": strings.Repeat("x", 65),
	} {
		_, err := loadConfig(t, key+"="+value)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%s: error %v, want one naming the key", key, value, err)
		}
	}
	// A module that does not exist is refused when the app starts.
	cfg, mods := apptest.Config(t, apptest.Options{Env: map[string]string{"RATE_LIMIT_OVERRIDES": "postz=1/1m"}})
	a, err := app.New(context.Background(), cfg, app.Options{Modules: mods, Log: slog.New(slog.DiscardHandler)})
	if err == nil {
		a.Close()
		t.Fatal("the app started with an override of an unknown module")
	}
	if !strings.Contains(err.Error(), "RATE_LIMIT_OVERRIDES") || !strings.Contains(err.Error(), "postz") {
		t.Errorf("error %q does not name the key and the module", err)
	}
	// prod refuses switching rate limiting off, not a module's override.
	if _, err := loadConfig(t, "APP_ENV=prod", "RATE_LIMIT_DEFAULT=off"); err == nil || !strings.Contains(err.Error(), "RATE_LIMIT_DEFAULT: off is not allowed in prod") {
		t.Errorf("prod with RATE_LIMIT_DEFAULT=off: %v", err)
	}
	if _, err := loadConfig(t, "APP_ENV=prod", "RATE_LIMIT_OVERRIDES=posts=off"); err != nil && strings.Contains(err.Error(), "RATE_LIMIT") {
		t.Errorf("prod with a module's limit off: %v", err)
	}
}

// TestRedisPasswordIsMasked checks that the effective configuration hides the Redis
// password.
func TestRedisPasswordIsMasked(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(t, "REDIS_URL=redis://:s3cret@127.0.0.1:6379/2")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := cfg.Print(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "s3cret") || !strings.Contains(b.String(), "REDIS_URL=redis://:xxxxx@127.0.0.1:6379/2") {
		t.Errorf("printed configuration:\n%s", b.String())
	}
}

// loadConfig loads the configuration of every module from env alone.
func loadConfig(t *testing.T, env ...string) (*config.Config, error) {
	t.Helper()
	var sections []config.Section
	for _, m := range modules.All() {
		if c := m.Config(); c != nil {
			sections = append(sections, config.Section{Name: m.Name(), Target: c})
		}
	}
	return config.Load(config.Options{Dir: t.TempDir(), Environ: env, Sections: sections})
}
