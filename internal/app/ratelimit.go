package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/middleware"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/core/ratelimit"
	"github.com/quarrydev/quarry/internal/core/ratelimit/redisstore"
)

// rateLimits is the application's rate limiting: the policy of each module's routes,
// the limiter, and the Redis store it may own.
type rateLimits struct {
	rules   ratelimit.Rules
	limiter *ratelimit.Limiter
	store   *redisstore.Store // nil when the counts are in memory
}

// newRateLimits builds the rate limiting cfg describes: counts in Redis when
// REDIS_URL is set and shared is true, in memory otherwise. all is the module
// registry. It fails, naming the key, on an unreadable policy or REDIS_URL, on an
// override of a module that does not exist, and on an unknown fail mode.
// onBreakerChange, when not nil, is told of each change of the Redis circuit
// breaker's state.
func newRateLimits(cfg *config.Config, all []module.Module, log *slog.Logger, shared bool, onBreakerChange func(from, to string)) (*rateLimits, error) {
	rules, err := ratelimit.ParseRules(cfg.RateLimitDefault, cfg.RateLimitOverrides)
	if err != nil {
		return nil, err
	}
	names := module.Names(all)
	for name := range rules.Overrides {
		if !slices.Contains(names, name) {
			return nil, fmt.Errorf("RATE_LIMIT_OVERRIDES: unknown module %q (known: %s)", name, strings.Join(names, ", "))
		}
	}
	opts := ratelimit.Options{
		FailMode: ratelimit.FailMode(cfg.RateLimitFailMode), MaxKeys: cfg.RateLimitMaxKeys, Log: log,
		BreakerFailures: cfg.RateLimitBreakerFailures, BreakerCooloff: cfg.RateLimitBreakerCooloff,
		OnBreakerChange: onBreakerChange,
	}
	rl := &rateLimits{rules: rules}
	if shared && cfg.RedisURL != "" {
		if log != nil {
			redis.SetLogger(redisstore.SlogLogger(log)) // go-redis has one process-wide logger
		}
		if rl.store, err = redisstore.Open(cfg.RedisURL, cfg.RateLimitKeyPrefix); err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		opts.Backend = rl.store
	}
	if rl.limiter, err = ratelimit.NewLimiter(opts); err != nil {
		return nil, errors.Join(fmt.Errorf("RATE_LIMIT_FAIL_MODE: %w", err), rl.close())
	}
	return rl, nil
}

// check logs a warning when the Redis store does not answer: requests are then
// decided by the fail mode until it does.
func (rl *rateLimits) check(ctx context.Context, log *slog.Logger) {
	if rl.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := rl.store.Ping(ctx); err != nil {
		log.WarnContext(ctx, "rate limits: Redis does not answer; requests are decided by RATE_LIMIT_FAIL_MODE until it does",
			"fail_mode", string(rl.limiter.FailMode()), "error", err)
	}
}

// middleware returns the middleware limiting API routes.
func (rl *rateLimits) middleware(tokens *authn.Tokens) gin.HandlerFunc {
	return middleware.RateLimit(rl.limiter, rl.rules, tokens)
}

// document returns routes of module with 429 among the statuses each can answer
// with, when a policy limits the module; the module's slices are left as they were.
func (rl *rateLimits) document(module string, routes []httpx.Route) []httpx.Route {
	if rl.rules.For(module).Off() {
		return routes
	}
	out := slices.Clone(routes)
	for i, r := range out {
		if !slices.Contains(r.Errors, http.StatusTooManyRequests) {
			out[i].Errors = append(slices.Clip(r.Errors), http.StatusTooManyRequests)
		}
	}
	return out
}

// close releases the Redis store, if any.
func (rl *rateLimits) close() error {
	if rl == nil || rl.store == nil {
		return nil
	}
	return rl.store.Close()
}
