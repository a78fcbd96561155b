package auth

import (
	"context"
	"time"

	"github.com/quarrydev/quarry/internal/core/throttle"
)

// Memory adapts an in-memory throttle.Limiter to Limiter. It never fails, and it
// limits each instance of the API on its own.
type Memory struct {
	L *throttle.Limiter
}

// Allow implements Limiter.
func (m Memory) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	ok, wait := m.L.Allow(key)
	return ok, wait, nil
}
