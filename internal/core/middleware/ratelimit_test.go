package middleware

import (
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/core/ratelimit"
)

func TestAPIModule(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]string{
		"/api/v1/posts":           "posts",
		"/api/v1/posts/:id":       "posts",
		"/api/v2/users/by-email":  "users",
		"/api/v1/":                "",
		"/api/v1":                 "",
		"/livez":                  "",
		"/docs/:file":             "",
		"":                        "",
		"/apix/v1/posts":          "",
		"/api/v1/auth/login/more": "auth",
	} {
		got, ok := apiModule(pattern)
		if got != want || ok != (want != "") {
			t.Errorf("apiModule(%q) = %q, %v; want %q", pattern, got, ok, want)
		}
	}
}

func TestAddressKey(t *testing.T) {
	t.Parallel()
	for ip, want := range map[string]string{
		"192.0.2.1":                     "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":          "2001:db8:1:2::/64",
		"2001:db8:1:2::ffff":            "2001:db8:1:2::/64",
		"::ffff:192.0.2.1":              "::ffff:192.0.2.1",
		"not an address":                "not an address",
		"fe80::1%eth0":                  "fe80::/64",
		"2001:db8:ffff:ffff:ffff::1234": "2001:db8:ffff:ffff::/64",
	} {
		if got := addressKey(ip); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", ip, got, want)
		}
	}
}

// TestHeaders checks the header values against draft-ietf-httpapi-ratelimit-headers-11.
func TestHeaders(t *testing.T) {
	t.Parallel()
	p := ratelimit.Policy{Name: "default", Limit: 600, Period: time.Minute, Burst: 600}
	if got := policyHeader(p); got != `"default";q=600;w=60` {
		t.Errorf("RateLimit-Policy %s", got)
	}
	for r, want := range map[ratelimit.Result]string{
		{Allowed: true, Limit: 600, Remaining: 599, ResetAfter: 100 * time.Millisecond}: `"default";r=599;t=1`,
		{Limit: 600, RetryAfter: 100 * time.Millisecond, ResetAfter: time.Minute}:       `"default";r=0;t=60`,
		{Allowed: true, Limit: 600, Remaining: 3, ResetAfter: 59*time.Second + 1}:       `"default";r=3;t=60`,
	} {
		if got := limitHeader(p, r); got != want {
			t.Errorf("RateLimit of %+v: %s, want %s", r, got, want)
		}
	}
	if got := policyHeader(ratelimit.Policy{Name: "auth", Limit: 30, Period: 90 * time.Second, Burst: 5}); got != `"auth";q=30;w=90` {
		t.Errorf("RateLimit-Policy %s", got)
	}
}
