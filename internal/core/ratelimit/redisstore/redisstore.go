// Package redisstore is the Redis backend of package ratelimit: the counts live in
// Redis, so every instance of the API that uses the same Redis draws on one budget
// per key. It runs GCRA in one server-side script per request (redis_rate), on
// Redis's clock, so the instances' clocks do not matter.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/quarrydev/quarry/internal/core/ratelimit"
)

// Defaults applied by Open to what the URL leaves unset: a rate-limit check sits in
// the path of every request, so an unreachable Redis must fail it fast.
const (
	DefaultDialTimeout = 500 * time.Millisecond
	DefaultIOTimeout   = 250 * time.Millisecond
	DefaultMaxRetries  = 1
)

// Store is a ratelimit.Backend on Redis. Keys are "rate:" (redis_rate's own prefix)
// + the store's prefix + the policy name + ":" + the key, e.g.
// "rate:quarry:rl:default:ip:192.0.2.1"; each expires once its budget is whole again.
type Store struct {
	client  redis.UniversalClient
	limiter *redis_rate.Limiter
	prefix  string
}

// New returns a Store using client, with keys under prefix. The Store does not own
// client: closing it is the caller's business.
func New(client redis.UniversalClient, prefix string) *Store {
	return &Store{client: client, limiter: redis_rate.NewLimiter(client), prefix: prefix}
}

// Open returns a Store with a client of its own for rawURL
// (redis://[user:password@]host:port/db, rediss:// for TLS, or unix://), with keys
// under prefix; Close releases the client. Options in the URL's query (dial_timeout,
// read_timeout, write_timeout, max_retries, pool_size, …) are honoured; unset
// timeouts default to DefaultDialTimeout and DefaultIOTimeout, and max_retries to
// DefaultMaxRetries; a failed dial is not repeated before the command's retry.
// Nothing is dialled yet: an unreachable server shows at the first
// request (see Ping). It fails when the URL cannot be read.
func Open(rawURL, prefix string) (*Store, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = DefaultDialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = DefaultIOTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = DefaultIOTimeout
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = DefaultDialTimeout
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = DefaultMaxRetries
	}
	// One dial per attempt: the client's default of five, 100ms apart, would hold
	// every request for half a second while Redis is down.
	opt.DialerRetries = 1
	opt.ContextTimeoutEnabled = true
	return New(redis.NewClient(opt), prefix), nil
}

// SlogLogger returns a go-redis logger (for redis.SetLogger) writing its messages to
// log as warnings, instead of the raw lines go-redis prints on stderr by default.
func SlogLogger(log *slog.Logger) interface {
	Printf(ctx context.Context, format string, v ...any)
} {
	return slogLogger{log: log}
}

type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client: "+fmt.Sprintf(format, v...), "component", "go-redis")
}

// Allow implements ratelimit.Backend. It returns Redis's error when Redis cannot
// answer.
func (s *Store) Allow(ctx context.Context, key string, p ratelimit.Policy) (ratelimit.Result, error) {
	res, err := s.limiter.Allow(ctx, s.prefix+p.Name+":"+key, redis_rate.Limit{Rate: p.Limit, Burst: p.Burst, Period: p.Period})
	if err != nil {
		return ratelimit.Result{}, fmt.Errorf("redis: %w", err)
	}
	return ratelimit.Result{
		Allowed:    res.Allowed > 0,
		Limit:      p.Limit,
		Remaining:  max(res.Remaining, 0),
		RetryAfter: max(res.RetryAfter, 0), // redis_rate says -1 when allowed
		ResetAfter: max(res.ResetAfter, 0),
	}, nil
}

// Ping returns nil when Redis answers, else the error.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// Close closes the client; use it only on Stores made by Open. Closing twice is not
// an error.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}
