package ratelimit

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a manual monotonic clock for Memory under test.
type clock struct {
	mu sync.Mutex
	t  time.Duration
}

func (c *clock) now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t += d
}

func policy(t *testing.T, name, s string) Policy {
	t.Helper()
	p, err := ParsePolicy(name, s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func allow(t *testing.T, m *Memory, key string, p Policy) Result {
	t.Helper()
	r, err := m.Allow(context.Background(), key, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	good := map[string]Policy{
		"600/1m":    {Name: "p", Limit: 600, Period: time.Minute, Burst: 600},
		"100/1h:10": {Name: "p", Limit: 100, Period: time.Hour, Burst: 10},
		" off ":     {Name: "p"},
	}
	for in, want := range good {
		got, err := ParsePolicy("p", in)
		if err != nil || got != want {
			t.Errorf("ParsePolicy(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	if p := policy(t, "p", "off"); !p.Off() {
		t.Error("off is not Off")
	}
	if p := policy(t, "p", "600/1m"); p.Off() || p.Window() != 60 || p.String() != "p=600/1m0s" {
		t.Errorf("600/1m: off %v, window %d, %q", p.Off(), p.Window(), p.String())
	}
	if w := policy(t, "p", "1/500ms").Window(); w != 1 {
		t.Errorf("window of 500ms: %d, want 1 (whole seconds, at least 1)", w)
	}
	for _, in := range []string{"", "600", "0/1m", "600/0s", "600/minute", "600/1m:0", "on", "1/8760h:101"} {
		if p, err := ParsePolicy("p", in); err == nil {
			t.Errorf("ParsePolicy(%q) = %+v, want an error", in, p)
		}
	}
	for _, name := range []string{"", "Posts", "1st", "a b", `x"y`, "_x", strings.Repeat("a", 65)} {
		if _, err := ParsePolicy(name, "1/1m"); err == nil {
			t.Errorf("policy name %q accepted", name)
		}
	}
}

func TestParseRules(t *testing.T) {
	t.Parallel()
	r, err := ParseRules("600/1m", []string{"auth=30/1m", " posts = 1200/1m ", "users=off"})
	if err != nil {
		t.Fatal(err)
	}
	for module, want := range map[string]string{"auth": "auth=30/1m0s", "posts": "posts=1200/1m0s", "users": "users=off", "other": "default=600/1m0s"} {
		if got := r.For(module).String(); got != want {
			t.Errorf("For(%s) = %s, want %s", module, got, want)
		}
	}
	for _, tc := range []struct {
		def       string
		overrides []string
		want      []string
	}{
		{"600 a minute", nil, []string{"RATE_LIMIT_DEFAULT"}},
		{"600/1m", []string{"auth"}, []string{"RATE_LIMIT_OVERRIDES", `"auth"`}},
		{"600/1m", []string{"auth=3/1m", "auth=4/1m"}, []string{"RATE_LIMIT_OVERRIDES", "twice"}},
		{"600/1m", []string{"auth=fast"}, []string{"RATE_LIMIT_OVERRIDES: auth"}},
		{"600/1m", []string{"Auth=3/1m"}, []string{"RATE_LIMIT_OVERRIDES", "Auth"}},
		{"x", []string{"y"}, []string{"RATE_LIMIT_DEFAULT", "RATE_LIMIT_OVERRIDES"}},
	} {
		_, err := ParseRules(tc.def, tc.overrides)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("ParseRules(%q, %q): error %v, want one with %q", tc.def, tc.overrides, err, w)
			}
		}
	}
}

func TestMemoryAppliesGCRA(t *testing.T) {
	t.Parallel()
	c := &clock{}
	m := newMemory(10, c.now)
	p := policy(t, "p", "5/1m") // one request every 12s, bursts of 5
	for i := range 5 {
		r := allow(t, m, "a", p)
		want := Result{Allowed: true, Limit: 5, Remaining: 4 - i, ResetAfter: time.Duration(i+1) * 12 * time.Second}
		if r != want {
			t.Fatalf("request %d: %+v, want %+v", i+1, r, want)
		}
	}
	r := allow(t, m, "a", p)
	if want := (Result{Limit: 5, RetryAfter: 12 * time.Second, ResetAfter: time.Minute}); r != want {
		t.Fatalf("6th request: %+v, want %+v", r, want)
	}
	// A refused request uses up nothing.
	if again := allow(t, m, "a", p); again != r {
		t.Errorf("after a refusal: %+v, want %+v again", again, r)
	}
	// Other keys and other policies have budgets of their own.
	if r := allow(t, m, "b", p); !r.Allowed || r.Remaining != 4 {
		t.Errorf("key b: %+v", r)
	}
	if r := allow(t, m, "a", policy(t, "q", "5/1m")); !r.Allowed || r.Remaining != 4 {
		t.Errorf("key a under another policy: %+v", r)
	}
	c.advance(11 * time.Second)
	if r := allow(t, m, "a", p); r.Allowed || r.RetryAfter != time.Second {
		t.Errorf("after 11s: %+v, want refused for 1s more", r)
	}
	c.advance(time.Second)
	if r := allow(t, m, "a", p); !r.Allowed || r.Remaining != 0 {
		t.Errorf("after 12s: %+v, want one request allowed", r)
	}
	c.advance(time.Hour)
	n := 0
	for allow(t, m, "a", p).Allowed {
		n++
	}
	if n != 5 {
		t.Errorf("after an hour idle: %d requests allowed, want the burst of 5", n)
	}
}

func TestMemoryBurstOtherThanLimit(t *testing.T) {
	t.Parallel()
	m := newMemory(10, (&clock{}).now)
	p := policy(t, "p", "60/1m:2")
	for i := range 2 {
		if r := allow(t, m, "k", p); !r.Allowed || r.Remaining != 1-i {
			t.Fatalf("request %d: %+v", i+1, r)
		}
	}
	if r := allow(t, m, "k", p); r.Allowed || r.RetryAfter != time.Second {
		t.Errorf("3rd request: %+v, want refused for 1s", r)
	}
}

// TestMemoryKeysAreBounded floods a Memory with many more distinct keys than it may
// hold.
func TestMemoryKeysAreBounded(t *testing.T) {
	t.Parallel()
	c := &clock{}
	const capacity = 1000
	m := newMemory(capacity, c.now)
	p := policy(t, "p", "1/1h")
	other := policy(t, "other", "1/1h")
	if !allow(t, m, "victim", p).Allowed || !allow(t, m, "bystander", other).Allowed {
		t.Fatal("first requests refused")
	}
	for i := range 50 * capacity {
		allow(t, m, fmt.Sprintf("ip:10.%d.%d.%d", i>>16, (i>>8)&255, i&255), p)
		if i%97 == 0 && allow(t, m, "victim", p).Allowed {
			// A key in use is never the least recently used one.
			t.Fatalf("after %d other keys, the exhausted key was forgotten while in use", i+1)
		}
		if n := m.Len(); n > capacity+1 {
			t.Fatalf("after %d keys the Memory holds %d, capacity %d per policy (2 policies in use)", i+1, n, capacity)
		}
	}
	if n := m.Len(); n != capacity+1 {
		t.Errorf("holds %d keys, want the capacity %d of the flooded policy + 1 of the other", n, capacity)
	}
	// The flood did not push out the other policy's key.
	if allow(t, m, "bystander", other).Allowed {
		t.Error("a key of another policy was forgotten in the flood")
	}
	// The oldest keys were forgotten and start again with a whole budget; the most
	// recent are remembered.
	if !allow(t, m, "ip:10.0.0.0", p).Allowed {
		t.Error("a forgotten key is still limited")
	}
	last := 50*capacity - 1
	if allow(t, m, fmt.Sprintf("ip:10.%d.%d.%d", last>>16, (last>>8)&255, last&255), p).Allowed {
		t.Error("the most recent key was forgotten")
	}
}

func TestMemoryConcurrentUseNeverExceedsTheBurst(t *testing.T) {
	t.Parallel()
	m := newMemory(64, (&clock{}).now) // time stands still: nothing refills
	p := policy(t, "p", "10/1h")
	var allowed [4]atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range 500 {
				if r, _ := m.Allow(context.Background(), fmt.Sprint(i%4), p); r.Allowed {
					allowed[i%4].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for k := range allowed {
		if n := allowed[k].Load(); n != 10 {
			t.Errorf("key %d: %d requests allowed, want exactly the burst of 10", k, n)
		}
	}
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	if _, err := NewLimiter(Options{FailMode: "sometimes"}); err == nil || !strings.Contains(err.Error(), "sometimes") {
		t.Errorf("unknown fail mode: %v", err)
	}
	l, err := NewLimiter(Options{MaxKeys: 10})
	if err != nil {
		t.Fatal(err)
	}
	if l.FailMode() != FailOpen {
		t.Errorf("default fail mode %q, want open", l.FailMode())
	}
	var rejected []string
	l.OnRejected = func(policy string) { rejected = append(rejected, policy) }
	ctx := context.Background()
	off := policy(t, "free", "off")
	for range 100 {
		if r, err := l.Allow(ctx, "k", off); err != nil || !r.Allowed {
			t.Fatalf("an Off policy refused: %+v, %v", r, err)
		}
	}
	p := policy(t, "tight", "2/1h")
	var n int
	for range 5 {
		r, err := l.Allow(ctx, "k", p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Allowed {
			n++
		}
	}
	if n != 2 || l.Stats() != (Stats{Rejected: 3}) || strings.Join(rejected, ",") != "tight,tight,tight" {
		t.Errorf("%d allowed, stats %+v, hooks %v; want 2 allowed and 3 rejections of tight", n, l.Stats(), rejected)
	}
	if m := l.backend.(*Memory); m.Len() != 1 || m.Capacity() != 10 {
		t.Errorf("in-memory backend holds %d keys with capacity %d; want 1 (Off counts nothing), 10", m.Len(), m.Capacity())
	}
}

// BenchmarkMemoryAllow measures one decision of the in-memory backend, callers in
// parallel over 1000 clients.
//
//	go test -run '^$' -bench MemoryAllow ./internal/core/ratelimit/
func BenchmarkMemoryAllow(b *testing.B) {
	m := NewMemory(DefaultMaxKeys)
	p := Policy{Name: "default", Limit: 100_000_000, Period: time.Minute, Burst: 100_000_000}
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("ip:10.0.%d.%d", i/256, i%256)
	}
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)) * 7919
		for pb.Next() {
			i++
			if r, _ := m.Allow(context.Background(), keys[i%len(keys)], p); !r.Allowed {
				b.Error("refused")
				return
			}
		}
	})
}
