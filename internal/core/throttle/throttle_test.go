package throttle

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a manual clock for limiters under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestParseLimit(t *testing.T) {
	t.Parallel()
	good := map[string]Limit{
		"5/1m":      {Events: 5, Per: time.Minute, Burst: 5},
		" 20/1m ":   {Events: 20, Per: time.Minute, Burst: 20},
		"100/1h:10": {Events: 100, Per: time.Hour, Burst: 10},
		"1/500ms":   {Events: 1, Per: 500 * time.Millisecond, Burst: 1},
		"off":       Off,
		"OFF":       Off,
	}
	for in, want := range good {
		got, err := ParseLimit(in)
		if err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", in, got, err, want)
			continue
		}
		if again, err := ParseLimit(got.String()); err != nil || again != got {
			t.Errorf("ParseLimit(%q.String() = %q) = %+v, %v", in, got.String(), again, err)
		}
	}
	for _, in := range []string{"", "5", "5/", "/1m", "0/1m", "-1/1m", "5/0s", "5/-1m", "5/minute", "x/1m", "5/1m:", "5/1m:0", "5/1m:x", "5/1m:-2", "on"} {
		if l, err := ParseLimit(in); err == nil {
			t.Errorf("ParseLimit(%q) = %+v, want an error", in, l)
		}
	}
}

func TestAllowRefillsAtTheRate(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := newLimiter(Limit{Events: 5, Per: time.Minute, Burst: 5}, 10, c.now)
	for i := range 5 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait != 12*time.Second {
		t.Fatalf("6th event: %v, retry after %s; want refused, 12s (one token per 12s)", ok, wait)
	}
	// A refusal takes nothing: the wait does not grow.
	if _, again := l.Allow("a"); again != wait {
		t.Errorf("retry after %s after a second refusal, want %s", again, wait)
	}
	// Other keys have their own bucket.
	if ok, _ := l.Allow("b"); !ok {
		t.Error("key b refused because of key a")
	}
	c.advance(11 * time.Second)
	if ok, wait := l.Allow("a"); ok || wait != time.Second {
		t.Errorf("after 11s: %v, %s; want refused, 1s", ok, wait)
	}
	c.advance(time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("after 12s: refused, want one event allowed")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Error("two events allowed after one refill period")
	}
	c.advance(time.Hour)
	n := 0
	for {
		if ok, _ := l.Allow("a"); !ok {
			break
		}
		n++
	}
	if n != 5 {
		t.Errorf("after an hour idle: %d events allowed, want the burst of 5", n)
	}
}

func TestBurstOtherThanRate(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := newLimiter(Limit{Events: 60, Per: time.Minute, Burst: 2}, 10, c.now)
	for i := range 2 {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatalf("event %d refused", i+1)
		}
	}
	if ok, wait := l.Allow("k"); ok || wait != time.Second {
		t.Errorf("3rd event: %v, %s; want refused, 1s", ok, wait)
	}
}

func TestOffAllowsEverything(t *testing.T) {
	t.Parallel()
	l := New(Off, 1)
	for i := range 1000 {
		if ok, _ := l.Allow(fmt.Sprint(i % 3)); !ok {
			t.Fatal("an Off limiter refused")
		}
	}
	if l.Len() != 0 {
		t.Errorf("an Off limiter holds %d keys", l.Len())
	}
}

func TestNewPanicsOnInvalidLimit(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New(burst 0) did not panic")
		}
	}()
	New(Limit{Events: 1, Per: time.Second}, 1)
}

// TestKeysAreBounded floods a limiter with many more distinct keys than it may hold.
func TestKeysAreBounded(t *testing.T) {
	t.Parallel()
	c := newClock()
	const capacity = 1000
	l := newLimiter(Limit{Events: 1, Per: time.Hour, Burst: 1}, capacity, c.now)
	if ok, _ := l.Allow("victim"); !ok {
		t.Fatal("first event refused")
	}
	for i := range 50 * capacity {
		l.Allow(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		if i%97 == 0 {
			// A key in use stays: it is never the least recently used.
			if ok, _ := l.Allow("victim"); ok {
				t.Fatalf("after %d other keys, the exhausted key was forgotten while in use", i+1)
			}
		}
		if n := l.Len(); n > capacity {
			t.Fatalf("after %d keys the limiter holds %d, capacity %d", i+1, n, capacity)
		}
	}
	if l.Len() != capacity {
		t.Errorf("holds %d keys, want exactly the capacity %d", l.Len(), capacity)
	}
	// The oldest keys were forgotten and start with a full bucket again.
	if ok, _ := l.Allow("10.0.0.0"); !ok {
		t.Error("a forgotten key is still limited")
	}
	// The most recent keys are remembered.
	last := 50*capacity - 1
	if ok, _ := l.Allow(fmt.Sprintf("10.0.%d.%d", last/256, last%256)); ok {
		t.Error("the most recent key was forgotten")
	}
}

func TestConcurrentUseNeverExceedsTheBurst(t *testing.T) {
	t.Parallel()
	c := newClock() // time stands still: no refill
	l := newLimiter(Limit{Events: 10, Per: time.Hour, Burst: 10}, 64, c.now)
	var allowed [4]atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range 500 {
				if ok, _ := l.Allow(fmt.Sprint(i % 4)); ok {
					allowed[i%4].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for k := range allowed {
		if n := allowed[k].Load(); n != 10 {
			t.Errorf("key %d: %d events allowed, want exactly the burst of 10", k, n)
		}
	}
}

func TestConcurrentChurnStaysBounded(t *testing.T) {
	t.Parallel()
	l := New(Limit{Events: 1, Per: time.Minute, Burst: 1}, 64)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 2000 {
				l.Allow(fmt.Sprintf("%d-%d", g, i))
				if n := l.Len(); n > 64 {
					t.Errorf("holds %d keys, capacity 64", n)
					return
				}
			}
		})
	}
	wg.Wait()
	if l.Len() != 64 {
		t.Errorf("holds %d keys after the churn, want the capacity 64", l.Len())
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]int64{
		0: 1, -time.Second: 1, time.Nanosecond: 1, time.Second: 1,
		time.Second + time.Millisecond: 2, 12 * time.Second: 12, 59*time.Second + 1: 60,
	} {
		if got := RetryAfterSeconds(d); got != want {
			t.Errorf("RetryAfterSeconds(%s) = %d, want %d", d, got, want)
		}
	}
}

// TestMemoryPerKey reports what a full limiter costs; it asserts only a generous bound.
func TestMemoryPerKey(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a full limiter")
	}
	const capacity = 100_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	l := New(Limit{Events: 20, Per: time.Minute, Burst: 20}, capacity)
	for i := range 2 * capacity {
		l.Allow(fmt.Sprintf("2001:db8::%x", i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perKey := float64(after.HeapAlloc-before.HeapAlloc) / capacity
	t.Logf("%d keys: %.0f bytes per key, %.1f MiB in all", l.Len(), perKey, perKey*capacity/(1<<20))
	if l.Len() != capacity || perKey > 1024 {
		t.Errorf("%d keys at %.0f bytes each; want %d keys under 1 KiB each", l.Len(), perKey, capacity)
	}
	runtime.KeepAlive(l)
}
