package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// FailMode says what a Limiter does with a request its backend cannot decide.
type FailMode string

// The fail modes.
const (
	// FailOpen serves the request: this instance's in-memory limiter decides it, so
	// clients keep being limited, each instance on its own, until the backend is
	// back.
	FailOpen FailMode = "open"
	// FailClosed refuses the request with ErrUnavailable.
	FailClosed FailMode = "closed"
)

// warnEvery spaces the warnings about backend failures.
const warnEvery = 10 * time.Second

// Defaults of the circuit breaker around a shared backend.
const (
	// DefaultBreakerFailures is how many backend failures in a row open the breaker.
	DefaultBreakerFailures = 5
	// DefaultBreakerCooloff is how long an open breaker skips the backend before one
	// request probes it again.
	DefaultBreakerCooloff = 5 * time.Second
)

// ErrBreakerOpen is the backend error while the breaker skips the backend.
var ErrBreakerOpen = errors.New("ratelimit: backend skipped while the circuit breaker is open")

// Options configure a Limiter.
type Options struct {
	// Backend counts requests; nil means an in-memory backend of its own.
	Backend Backend
	// FailMode applies when Backend fails; "" means FailOpen.
	FailMode FailMode
	// MaxKeys bounds the keys held in memory per policy (by the in-memory backend, or
	// by the fallback of FailOpen); <= 0 means DefaultMaxKeys.
	MaxKeys int
	// Log receives a warning when the backend fails, at most one every 10 seconds
	// with the number of failures since the previous one, and every change of the
	// breaker's state. Nil discards them.
	Log *slog.Logger
	// BreakerFailures is how many failures of a shared backend in a row open the
	// circuit breaker: for BreakerCooloff the backend is then not asked at all and
	// every request is decided by the FailMode at once, then one request probes it;
	// a success closes the breaker, a failure opens it again. <= 0 means
	// DefaultBreakerFailures; <= 0 BreakerCooloff means DefaultBreakerCooloff.
	BreakerFailures int
	BreakerCooloff  time.Duration
	// OnBreakerChange, when set, is called with the breaker's old and new state
	// ("closed", "open", "half-open"), e.g. to count it in metrics.
	OnBreakerChange func(from, to string)
}

// Limiter decides requests under policies with a Backend, applies the FailMode when
// the backend fails, and counts what it refused and what failed. It is safe for
// concurrent use; set the hooks before it is used.
type Limiter struct {
	backend  Backend
	fallback *Memory                           // nil when backend is in memory
	breaker  *gobreaker.CircuitBreaker[Result] // nil when backend is in memory
	mode     FailMode
	log      *slog.Logger

	// OnRejected, when set, is called with the policy's name for each request refused
	// (e.g. to count it in metrics).
	OnRejected func(policy string)
	// OnBackendError, when set, is called for each request the backend could not
	// decide, before the fail mode applies.
	OnBackendError func(policy string, err error)

	rejected      atomic.Int64
	backendErrors atomic.Int64
	skipped       atomic.Int64
	lastWarn      atomic.Int64 // Unix nanoseconds of the last warning
	unwarned      atomic.Int64 // failures since the last warning
}

// NewLimiter returns a Limiter for o. It fails on an unknown fail mode.
func NewLimiter(o Options) (*Limiter, error) {
	switch o.FailMode {
	case "":
		o.FailMode = FailOpen
	case FailOpen, FailClosed:
	default:
		return nil, fmt.Errorf("ratelimit: unknown fail mode %q (want open or closed)", o.FailMode)
	}
	l := &Limiter{backend: o.Backend, mode: o.FailMode, log: o.Log}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	switch o.Backend.(type) {
	case nil:
		l.backend = NewMemory(o.MaxKeys)
	case *Memory:
	default:
		l.fallback = NewMemory(o.MaxKeys)
		l.breaker = l.newBreaker(o)
	}
	return l, nil
}

// newBreaker returns the circuit breaker guarding a shared backend. Requests whose
// own context ended are neither successes nor failures of the backend.
func (l *Limiter) newBreaker(o Options) *gobreaker.CircuitBreaker[Result] {
	failures := o.BreakerFailures
	if failures <= 0 {
		failures = DefaultBreakerFailures
	}
	cooloff := o.BreakerCooloff
	if cooloff <= 0 {
		cooloff = DefaultBreakerCooloff
	}
	return gobreaker.NewCircuitBreaker[Result](gobreaker.Settings{
		Name:        "ratelimit-backend",
		MaxRequests: 1,
		Timeout:     cooloff,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(failures) },
		IsExcluded:  func(err error) bool { return errors.Is(err, errCallerGone) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			level := slog.LevelInfo
			if to == gobreaker.StateOpen {
				level = slog.LevelWarn
			}
			l.log.Log(context.Background(), level, "rate limiter backend circuit breaker changed state",
				"from", from.String(), "to", to.String(), "cooloff", cooloff.String(), "fail_mode", string(l.mode))
			if o.OnBreakerChange != nil {
				o.OnBreakerChange(from.String(), to.String())
			}
		},
	})
}

// errCallerGone marks a backend error that came after the caller's context ended.
var errCallerGone = errors.New("caller's context ended")

// ask asks the backend, through the breaker when there is one. It returns
// ErrBreakerOpen (wrapped) without asking while the breaker is open.
func (l *Limiter) ask(ctx context.Context, key string, p Policy) (Result, error) {
	if l.breaker == nil {
		return l.backend.Allow(ctx, key, p)
	}
	r, err := l.breaker.Execute(func() (Result, error) {
		r, err := l.backend.Allow(ctx, key, p)
		if err != nil && ctx.Err() != nil {
			return r, fmt.Errorf("%w: %w", errCallerGone, err)
		}
		return r, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		l.skipped.Add(1)
		return r, fmt.Errorf("%w: %w", ErrBreakerOpen, err)
	}
	return r, err
}

// BreakerState returns the state of the breaker around the backend: "closed",
// "open" or "half-open"; "" when the backend is in memory.
func (l *Limiter) BreakerState() string {
	if l.breaker == nil {
		return ""
	}
	return l.breaker.State().String()
}

// FailMode returns the Limiter's fail mode.
func (l *Limiter) FailMode() FailMode { return l.mode }

// Allow counts one request of key under p and returns the decision; a policy that is
// Off allows everything and counts nothing. When the backend fails, the request is
// decided in memory (FailOpen) or refused with an error wrapping ErrUnavailable
// (FailClosed). It also returns ctx's error when ctx ended before the backend
// answered.
func (l *Limiter) Allow(ctx context.Context, key string, p Policy) (Result, error) {
	if p.Off() {
		return Result{Allowed: true}, nil
	}
	r, err := l.ask(ctx, key, p)
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("rate limit %s: %w", p.Name, ctx.Err())
		}
		l.failed(ctx, p, err)
		if l.mode == FailClosed || l.fallback == nil {
			return Result{}, ErrUnavailable.Wrap(fmt.Errorf("rate limit %s: %w", p.Name, err))
		}
		r, _ = l.fallback.Allow(ctx, key, p)
	}
	if !r.Allowed {
		l.rejected.Add(1)
		if l.OnRejected != nil {
			l.OnRejected(p.Name)
		}
	}
	return r, nil
}

// failed counts a backend failure, reports it to the hook and, at most once every
// warnEvery, logs it.
func (l *Limiter) failed(ctx context.Context, p Policy, err error) {
	l.backendErrors.Add(1)
	if l.OnBackendError != nil {
		l.OnBackendError(p.Name, err)
	}
	l.unwarned.Add(1)
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if now-last < int64(warnEvery) || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	l.log.WarnContext(ctx, "rate limiter backend failed", "policy", p.Name, "fail_mode", string(l.mode),
		"failures", l.unwarned.Swap(0), "error", err)
}

// Stats are a Limiter's counts since it was made.
type Stats struct {
	// Rejected counts the requests refused for being over their budget.
	Rejected int64
	// BackendErrors counts the requests the backend could not decide, including
	// those it was not asked about while the breaker was open.
	BackendErrors int64
	// Skipped counts the requests decided without asking the backend because the
	// breaker was open.
	Skipped int64
}

// Stats returns the Limiter's counts.
func (l *Limiter) Stats() Stats {
	return Stats{Rejected: l.rejected.Load(), BackendErrors: l.backendErrors.Load(), Skipped: l.skipped.Load()}
}
