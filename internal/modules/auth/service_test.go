package auth

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/password"
	"github.com/quarrydev/quarry/internal/core/ratelimit"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/testdb"
)

func newService(t *testing.T, perAccount, perAddress ratelimit.Limit) *Service {
	t.Helper()
	pool, err := db.NewPool(context.Background(), db.PoolConfig{URL: testdb.NewURL(t), MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	tokens, err := authn.NewTokens(authn.TokenConfig{
		Signing: authn.Key{ID: "k1", Secret: []byte("a test signing key of at least 32 bytes")},
		Issuer:  "test", Audience: "test", TTL: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	params := password.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	limiter, err := ratelimit.NewLimiter(ratelimit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	policy := func(name string, l ratelimit.Limit) ratelimit.Policy {
		return ratelimit.Policy{Name: name, Limit: l.Events, Period: l.Per, Burst: l.Burst}
	}
	limits := Limits{
		PerAccount: Shared{L: limiter, Policy: policy("account", perAccount)},
		PerAddress: Shared{L: limiter, Policy: policy("address", perAddress)},
	}
	return NewService(db.NewStore(pool), password.NewHasher(params, 2, time.Second), tokens, limits, time.Hour, nil)
}

// TestThrottleComesFirst shows that a throttled login does no database or hashing
// work: with a canceled context either would fail with the context's error.
func TestThrottleComesFirst(t *testing.T) {
	t.Parallel()
	s := newService(t, ratelimit.Limit{Events: 1, Per: time.Hour, Burst: 1}, ratelimit.Off)
	ctx := context.Background()
	if _, err := s.Register(ctx, RegisterInput{Email: "first@example.com", DisplayName: "First", Password: "a long password"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, LoginInput{Email: "first@example.com", Password: "a long password", ClientAddr: "192.0.2.7"}); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.Login(canceled, LoginInput{Email: "FIRST@example.com", Password: "a long password", ClientAddr: "192.0.2.7"})
	var te *ThrottledError
	if !errors.As(err, &te) || te.Limit != "account" || te.RetryAfter <= 0 || te.RetryAfter > time.Hour {
		t.Fatalf("over the limit: %v, want a ThrottledError of the account limit", err)
	}
	if !errors.Is(err, ratelimit.ErrLimited) {
		t.Error("a ThrottledError is not ratelimit.ErrLimited")
	}
	e := httpx.Classify(err)
	if httpx.Status(e.Kind) != http.StatusTooManyRequests || e.Code != "rate_limited" {
		t.Errorf("classified as %d %s, want 429 rate_limited", httpx.Status(e.Kind), e.Code)
	}
	// Below the limit the canceled context is what fails.
	if _, err := s.Login(canceled, LoginInput{Email: "other@example.com", Password: "a long password", ClientAddr: "192.0.2.7"}); errors.As(err, &te) || err == nil {
		t.Errorf("another account with a canceled context: %v, want the context's error", err)
	}
}

type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string) (bool, time.Duration, error) {
	return false, 0, errors.New("limiter store down")
}

func TestLimiterFailureRefusesTheAttempt(t *testing.T) {
	t.Parallel()
	s := newService(t, ratelimit.Off, ratelimit.Off)
	s.limits.PerAddress = failingLimiter{}
	_, err := s.Login(context.Background(), LoginInput{Email: "x@example.com", Password: "a long password", ClientAddr: "192.0.2.1"})
	if err == nil || errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("login with a failing limiter: %v, want the limiter's error", err)
	}
}

func TestRefreshTokenEncoding(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		tok, hash, err := newRefreshToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 43 || seen[tok] {
			t.Fatalf("token %q: want 43 fresh characters", tok)
		}
		seen[tok] = true
		got, ok := hashRefreshToken(tok)
		if !ok || string(got) != string(hash) || len(hash) != 32 {
			t.Fatalf("hashRefreshToken(%q) = %x, %v; want %x", tok, got, ok, hash)
		}
	}
	for _, bad := range []string{"", "short", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"} {
		if _, ok := hashRefreshToken(bad); ok {
			t.Errorf("hashRefreshToken(%q) accepted a malformed token", bad)
		}
	}
	f, err := newFamily()
	if err != nil {
		t.Fatal(err)
	}
	if s := f.String(); len(s) != 36 || s[14] != '4' || parseFamily(s).UUID != f {
		t.Errorf("family %s: want a version 4 UUID that parses back", s)
	}
	if parseFamily("").Valid || parseFamily("not-a-uuid").Valid {
		t.Error("an empty or malformed session parsed as a family")
	}
}
