package auth

import (
	"fmt"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/ratelimit"
)

// Errors of the auth module.
var (
	// ErrInvalidCredentials answers every failed login alike: unknown email, wrong
	// password or deactivated account.
	ErrInvalidCredentials = apperr.New(apperr.KindUnauthenticated, "invalid_credentials", "the email or password is incorrect")
	// ErrInvalidRefreshToken answers every refresh token that cannot be used: unknown,
	// expired, revoked, already used, or of a deactivated account.
	ErrInvalidRefreshToken = apperr.New(apperr.KindUnauthenticated, "invalid_refresh_token", "the refresh token is invalid, expired or revoked")
)

// ThrottledError is returned for an attempt over a limit. It unwraps to
// ratelimit.ErrLimited (429 rate_limited, like every other limit); RetryAfter is when the next attempt may succeed.
type ThrottledError struct {
	RetryAfter time.Duration
	// Limit names the limit hit ("account" or "address"), for the logs.
	Limit string
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%s: %s limit, retry after %s", ratelimit.ErrLimited.Code, e.Limit, e.RetryAfter)
}

// Unwrap returns ratelimit.ErrLimited.
func (e *ThrottledError) Unwrap() error { return ratelimit.ErrLimited }
