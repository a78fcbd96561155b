package redisstore_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/ratelimit"
	"github.com/quarrydev/quarry/internal/core/ratelimit/redisstore"
	"github.com/quarrydev/quarry/internal/testredis"
)

func open(t *testing.T, url, prefix string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func policy(t *testing.T, name, s string) ratelimit.Policy {
	t.Helper()
	p, err := ratelimit.ParsePolicy(name, s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInstancesShareOneBudget counts the requests of one client through two stores
// with clients of their own, as two instances of the API would.
func TestInstancesShareOneBudget(t *testing.T) {
	t.Parallel()
	url := testredis.URL(t)
	prefix := testredis.Prefix(t, url)
	stores := []*redisstore.Store{open(t, url, prefix), open(t, url, prefix)}
	p := policy(t, "default", "10/1h")
	ctx := context.Background()
	allowed := 0
	for i := range 20 {
		r, err := stores[i%2].Allow(ctx, "ip:192.0.2.1", p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Limit != 10 {
			t.Errorf("request %d: limit %d, want 10", i+1, r.Limit)
		}
		if r.Allowed {
			allowed++
			if r.RetryAfter != 0 || r.Remaining > 10-allowed || r.Remaining < 9-allowed {
				t.Errorf("request %d: %+v, want about %d remaining and no retry", i+1, r, 10-allowed)
			}
			continue
		}
		if r.Remaining != 0 || r.RetryAfter < 5*time.Minute || r.RetryAfter > 6*time.Minute || r.ResetAfter < 59*time.Minute {
			t.Errorf("request %d refused: %+v, want 0 remaining, a retry within 6 minutes, whole again in an hour", i+1, r)
		}
	}
	if allowed != 10 {
		t.Errorf("%d of 20 requests allowed through two stores, want the budget of 10", allowed)
	}
	// Another key, another policy and another prefix have budgets of their own.
	for _, c := range []struct {
		s   *redisstore.Store
		key string
		p   ratelimit.Policy
	}{
		{stores[0], "ip:192.0.2.2", p},
		{stores[1], "ip:192.0.2.1", policy(t, "posts", "10/1h")},
		{open(t, url, testredis.Prefix(t, url)), "ip:192.0.2.1", p},
	} {
		if r, err := c.s.Allow(ctx, c.key, c.p); err != nil || !r.Allowed || r.Remaining != 9 {
			t.Errorf("%s under %s: %+v, %v; want a whole budget", c.key, c.p.Name, r, err)
		}
	}
	// The counts live under the prefix and expire.
	keys := testredis.Keys(t, url, "*"+prefix+"*")
	want := []string{"rate:" + prefix + "default:ip:192.0.2.1", "rate:" + prefix + "default:ip:192.0.2.2", "rate:" + prefix + "posts:ip:192.0.2.1"}
	if len(keys) != len(want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	for _, k := range want {
		if !strings.Contains(strings.Join(keys, " "), k) {
			t.Errorf("no key %s among %v", k, keys)
		}
	}
}

// TestSameNumbersAsMemory runs one sequence through both backends.
func TestSameNumbersAsMemory(t *testing.T) {
	t.Parallel()
	url := testredis.URL(t)
	s := open(t, url, testredis.Prefix(t, url))
	m := ratelimit.NewMemory(10)
	ctx := context.Background()
	for _, spec := range []string{"5/1h", "3/1m:2", "600/1m"} {
		p := policy(t, "p", spec)
		for i := range 8 {
			rr, err := s.Allow(ctx, spec, p)
			if err != nil {
				t.Fatal(err)
			}
			mr, _ := m.Allow(ctx, spec, p)
			// Redis computes in floating point: allow a unit and a millisecond of
			// difference, and a little time passing between the two calls.
			if rr.Allowed != mr.Allowed || abs(rr.Remaining-mr.Remaining) > 1 ||
				(rr.RetryAfter-mr.RetryAfter).Abs() > 50*time.Millisecond || (rr.ResetAfter-mr.ResetAfter).Abs() > 50*time.Millisecond {
				t.Errorf("%s, request %d: Redis %+v, memory %+v", spec, i+1, rr, mr)
			}
		}
	}
}

func abs(n int) int { return max(n, -n) }

// TestRedisStopped stops a Redis server under a limiter: failing open, requests are
// decided in memory; failing closed, they are refused with ErrUnavailable. Either way
// each failure is counted and reported.
func TestRedisStopped(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	store := open(t, srv.URL, "quarry:rl:")
	var logs strings.Builder // the limiters log from the test's goroutine
	var hooked atomic.Int64
	limiter := func(mode ratelimit.FailMode) *ratelimit.Limiter {
		l, err := ratelimit.NewLimiter(ratelimit.Options{
			Backend: store, FailMode: mode, MaxKeys: 100,
			Log: slog.New(slog.NewTextHandler(&logs, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		l.OnBackendError = func(policy string, err error) {
			if policy == "default" && err != nil {
				hooked.Add(1)
			}
		}
		return l
	}
	failOpen, failClosed := limiter(ratelimit.FailOpen), limiter(ratelimit.FailClosed)
	p := policy(t, "default", "3/1h")
	ctx := context.Background()
	for i := range 2 {
		if r, err := failOpen.Allow(ctx, "ip:192.0.2.1", p); err != nil || !r.Allowed || r.Remaining != 2-i {
			t.Fatalf("request %d with Redis up: %+v, %v", i+1, r, err)
		}
	}
	if err := store.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	if err := store.Ping(ctx); err == nil {
		t.Fatal("Redis still answers after Stop")
	}
	// Failing open: this instance's memory decides, with a budget of its own.
	allowed := 0
	for range 5 {
		r, err := failOpen.Allow(ctx, "ip:192.0.2.1", p)
		if err != nil {
			t.Fatalf("failing open: %v", err)
		}
		if r.Allowed {
			allowed++
		}
	}
	if allowed != 3 || failOpen.Stats().BackendErrors != 5 || failOpen.Stats().Rejected != 2 {
		t.Errorf("failing open: %d of 5 allowed, stats %+v; want 3 allowed in memory, 5 backend errors, 2 rejections", allowed, failOpen.Stats())
	}
	// Failing closed: refused as unavailable.
	r, err := failClosed.Allow(ctx, "ip:192.0.2.1", p)
	if !errors.Is(err, ratelimit.ErrUnavailable) || r.Allowed {
		t.Errorf("failing closed: %+v, %v; want ErrUnavailable", r, err)
	}
	if e, ok := apperr.As(err); !ok || e.Code != "rate_limiter_unavailable" || e.Kind != apperr.KindUnavailable {
		t.Errorf("failing closed: %v, want the 503 rate_limiter_unavailable", err)
	}
	if failClosed.Stats().BackendErrors != 1 || hooked.Load() != 6 {
		t.Errorf("closed stats %+v, hooks called %d times; want 1 backend error, 6 calls in all", failClosed.Stats(), hooked.Load())
	}
	// The first failure of each limiter is logged; the next ones are not for a while.
	if n := strings.Count(logs.String(), "rate limiter backend failed"); n != 2 {
		t.Errorf("%d warnings logged, want 2 (one per limiter):\n%s", n, logs.String())
	}
	// A request whose context has ended is not a backend failure.
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := failOpen.Allow(ended, "ip:192.0.2.1", p); !errors.Is(err, context.Canceled) || failOpen.Stats().BackendErrors != 5 {
		t.Errorf("ended context: %v, stats %+v; want context.Canceled, not counted", err, failOpen.Stats())
	}
}

func TestOpenRejectsBadURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://127.0.0.1:6379", "redis://:s3cret@127.0.0.1:notaport/0", "redis://127.0.0.1:6379/x"} {
		s, err := redisstore.Open(u, "p:")
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): the error shows the password: %v", u, err)
		}
	}
}

// BenchmarkStoreAllow measures one decision in Redis (one script call: a round trip),
// callers in parallel over 1000 clients.
//
//	go test -run '^$' -bench StoreAllow ./internal/core/ratelimit/redisstore/
func BenchmarkStoreAllow(b *testing.B) {
	url := testredis.URL(b)
	s, err := redisstore.Open(url, testredis.Prefix(b, url))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := ratelimit.Policy{Name: "default", Limit: 100_000_000, Period: time.Minute, Burst: 100_000_000}
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)) * 7919
		for pb.Next() {
			i++
			if r, err := s.Allow(context.Background(), "ip:10.0.0."+strconv.Itoa(i%1000), p); err != nil || !r.Allowed {
				b.Errorf("%+v, %v", r, err)
				return
			}
		}
	})
}

// TestBreakerSkipsHungRedis freezes Redis under a limiter: after BreakerFailures
// failures in a row the breaker opens and requests are decided in memory without
// waiting on Redis; once Redis is back, a probe after the cool-off closes it again.
func TestBreakerSkipsHungRedis(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	store := open(t, srv.URL, "quarry:rl:")
	var changes []string
	var mu sync.Mutex
	l, err := ratelimit.NewLimiter(ratelimit.Options{
		Backend: store, FailMode: ratelimit.FailOpen, MaxKeys: 100,
		BreakerFailures: 3, BreakerCooloff: 500 * time.Millisecond,
		OnBreakerChange: func(from, to string) {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, from+">"+to)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := policy(t, "default", "1000/1h")
	ctx := context.Background()
	if _, err := l.Allow(ctx, "ip:192.0.2.9", p); err != nil || l.BreakerState() != "closed" {
		t.Fatalf("with Redis up: %v, breaker %s", err, l.BreakerState())
	}

	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Resume() }()
	for i := range 10 {
		if r, err := l.Allow(ctx, "ip:192.0.2.9", p); err != nil || !r.Allowed {
			t.Fatalf("request %d with Redis hung: %+v, %v; want it served from memory", i, r, err)
		}
	}
	st := l.Stats()
	if l.BreakerState() != "open" || st.BackendErrors != 10 || st.Skipped != 7 {
		t.Fatalf("breaker %s, stats %+v; want open after 3 failures, 7 requests skipping Redis", l.BreakerState(), st)
	}

	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	for l.BreakerState() == "open" {
		time.Sleep(50 * time.Millisecond) // the cool-off
	}
	if _, err := l.Allow(ctx, "ip:192.0.2.9", p); err != nil || l.BreakerState() != "closed" {
		t.Fatalf("probe after the cool-off: %v, breaker %s; want closed", err, l.BreakerState())
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(changes, ","); got != "closed>open,open>half-open,half-open>closed" {
		t.Errorf("state changes %s", got)
	}
}
