package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/quarrydev/quarry/internal/core/ratelimit"
)

// Shared adapts the core rate limiter to Limiter, under one policy. It is what the
// module uses: with Redis configured (REDIS_URL) every instance of the API draws on
// the same budget per key. Keys are hashed, so Redis holds no email addresses. When
// the limiter's backend fails, its fail mode applies: open decides in this instance's
// memory, closed returns an error wrapping ratelimit.ErrUnavailable (503).
type Shared struct {
	L      *ratelimit.Limiter
	Policy ratelimit.Policy
}

// Allow implements Limiter.
func (s Shared) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	r, err := s.L.Allow(ctx, hashKey(key), s.Policy)
	if err != nil {
		return false, 0, err
	}
	return r.Allowed, r.RetryAfter, nil
}

// hashKey returns a fixed-length digest of key.
func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}
