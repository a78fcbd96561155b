package auth

import (
	"fmt"
	"time"

	"github.com/quarrydev/quarry/internal/core/apperr"
)

// Errors of the auth module.
var (
	// ErrInvalidCredentials answers every failed login alike: unknown email, wrong
	// password or deactivated account.
	ErrInvalidCredentials = apperr.New(apperr.KindUnauthenticated, "invalid_credentials", "the email or password is incorrect")
	// ErrInvalidRefreshToken answers every refresh token that cannot be used: unknown,
	// expired, revoked, already used, or of a deactivated account.
	ErrInvalidRefreshToken = apperr.New(apperr.KindUnauthenticated, "invalid_refresh_token", "the refresh token is invalid, expired or revoked")
	// ErrTooManyRequests is the error a ThrottledError carries.
	ErrTooManyRequests = apperr.New(apperr.KindTooManyRequests, "too_many_requests", "too many attempts; retry later")
)

// ThrottledError is returned for an attempt over a limit. It unwraps to
// ErrTooManyRequests (429); RetryAfter is when the next attempt may succeed.
type ThrottledError struct {
	RetryAfter time.Duration
	// Limit names the limit hit ("account" or "address"), for the logs.
	Limit string
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%s: %s limit, retry after %s", ErrTooManyRequests.Code, e.Limit, e.RetryAfter)
}

// Unwrap returns ErrTooManyRequests.
func (e *ThrottledError) Unwrap() error { return ErrTooManyRequests }
