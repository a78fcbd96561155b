// Package throttle limits how often a key (an account, a client address) may do
// something, with one token bucket per key held in memory.
//
// The number of keys held is bounded: when a new key would exceed the capacity, the
// least recently used key is forgotten, so a flood of distinct keys (e.g. spoofed or
// rotating client addresses) costs bounded memory. A forgotten key starts again with a
// full bucket, which is the price of the bound; size the capacity well above the
// number of keys active within one refill period.
package throttle

import (
	"container/list"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a rate of Events per Per, allowing bursts of up to Burst events.
type Limit struct {
	Events int
	Per    time.Duration
	Burst  int
}

// Off is the zero Limit: a Limiter with it allows everything.
var Off = Limit{}

// IsOff reports whether l disables limiting.
func (l Limit) IsOff() bool { return l == Off }

// Validate returns nil when l is Off or has positive Events, Per and Burst, otherwise
// an error naming what is not.
func (l Limit) Validate() error {
	if l.IsOff() || l.Events >= 1 && l.Per > 0 && l.Burst >= 1 {
		return nil
	}
	return fmt.Errorf("throttle: invalid limit %d/%s:%d: events, period and burst must be positive", l.Events, l.Per, l.Burst)
}

// String returns l in the format ParseLimit reads.
func (l Limit) String() string {
	if l.IsOff() {
		return "off"
	}
	s := strconv.Itoa(l.Events) + "/" + l.Per.String()
	if l.Burst != l.Events {
		s += ":" + strconv.Itoa(l.Burst)
	}
	return s
}

// ParseLimit reads a limit written "N/PERIOD" or "N/PERIOD:BURST", e.g. "5/1m" (five
// per minute, bursts of five) or "100/1h:10" (a hundred an hour, bursts of ten); the
// burst defaults to N. "off" disables limiting. It returns an error saying what is
// wrong when N or BURST is not a positive integer, or PERIOD is not a positive Go
// duration.
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return Off, nil
	}
	const want = `want N/PERIOD[:BURST] such as "5/1m", or "off"`
	n, rest, ok := strings.Cut(s, "/")
	if !ok {
		return Off, fmt.Errorf("%q: %s", s, want)
	}
	period, burst, hasBurst := strings.Cut(rest, ":")
	l := Limit{}
	var err error
	if l.Events, err = strconv.Atoi(n); err != nil || l.Events < 1 {
		return Off, fmt.Errorf("%q: the number of events must be a positive integer; %s", s, want)
	}
	if l.Per, err = time.ParseDuration(period); err != nil || l.Per <= 0 {
		return Off, fmt.Errorf("%q: the period must be a positive duration such as 30s, 1m or 1h; %s", s, want)
	}
	l.Burst = l.Events
	if hasBurst {
		if l.Burst, err = strconv.Atoi(burst); err != nil || l.Burst < 1 {
			return Off, fmt.Errorf("%q: the burst must be a positive integer; %s", s, want)
		}
	}
	return l, nil
}

// DefaultCapacity is a key bound that keeps a Limiter within a few tens of MiB.
const DefaultCapacity = 100_000

// Limiter holds one token bucket per key for up to a fixed number of keys. It is safe
// for concurrent use.
type Limiter struct {
	limit    rate.Limit
	burst    int
	off      bool
	capacity int
	now      func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // values of the list are *entry
	lru  *list.List               // most recently used first
}

type entry struct {
	key    string
	bucket *rate.Limiter
}

// New returns a Limiter applying l to each key and holding at most capacity keys
// (DefaultCapacity when capacity <= 0). It panics when l is invalid: check
// configuration with ParseLimit or l.Validate first.
func New(l Limit, capacity int) *Limiter {
	return newLimiter(l, capacity, time.Now)
}

func newLimiter(l Limit, capacity int, now func() time.Time) *Limiter {
	if err := l.Validate(); err != nil {
		panic(err)
	}
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	lim := &Limiter{
		off:      l.IsOff(),
		burst:    l.Burst,
		capacity: capacity,
		now:      now,
		keys:     map[string]*list.Element{},
		lru:      list.New(),
	}
	if !lim.off {
		lim.limit = rate.Limit(float64(l.Events) / l.Per.Seconds())
	}
	return lim
}

// Allow takes one event from key's bucket. It returns true, or false and how long to
// wait until the next event would be allowed (always positive). A refused event takes
// nothing from the bucket.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if l.off {
		return true, 0
	}
	now := l.now()
	r := l.bucket(key).ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// bucket returns key's bucket, creating it (and forgetting the least recently used
// key when over capacity), and marks key as the most recently used.
func (l *Limiter) bucket(key string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.keys[key]; ok {
		l.lru.MoveToFront(el)
		return el.Value.(*entry).bucket
	}
	if l.lru.Len() >= l.capacity {
		oldest := l.lru.Back()
		l.lru.Remove(oldest)
		delete(l.keys, oldest.Value.(*entry).key)
	}
	e := &entry{key: key, bucket: rate.NewLimiter(l.limit, l.burst)}
	l.keys[key] = l.lru.PushFront(e)
	return e.bucket
}

// Len returns the number of keys held.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// Capacity returns the most keys the Limiter holds.
func (l *Limiter) Capacity() int { return l.capacity }

// RetryAfterSeconds returns d rounded up to whole seconds, at least 1: the value of a
// Retry-After header.
func RetryAfterSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 1
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return max(s, 1)
}
