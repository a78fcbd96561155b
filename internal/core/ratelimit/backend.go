package ratelimit

import (
	"context"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
)

// Result is the decision on one request.
type Result struct {
	Allowed bool
	// Limit is the policy's Limit: its quota per Period.
	Limit int
	// Remaining is how many more requests the key may make at once right now.
	Remaining int
	// RetryAfter is how long until the next request would be allowed; 0 when this one
	// was.
	RetryAfter time.Duration
	// ResetAfter is how long until the key's budget is whole again.
	ResetAfter time.Duration
}

// Backend counts requests under policies.
type Backend interface {
	// Allow counts one request of key under p, unless it is over p's budget (a
	// refused request uses up nothing). p is never Off. It returns an error only
	// when the backend cannot decide (e.g. Redis is unreachable).
	Allow(ctx context.Context, key string, p Policy) (Result, error)
}

// Errors a Limiter's caller answers with.
var (
	// ErrLimited answers a request over its budget (429, with Retry-After).
	ErrLimited = apperr.New(apperr.KindTooManyRequests, "rate_limited",
		"too many requests; retry after the number of seconds in Retry-After")
	// ErrUnavailable answers a request that could not be counted because the backend
	// is unreachable and the fail mode is closed (503, with Retry-After).
	ErrUnavailable = apperr.New(apperr.KindUnavailable, "rate_limiter_unavailable",
		"the rate limiter is unavailable; retry later")
)
