package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/db"
)

const (
	// ReadAfterHeader carries the primary's WAL position after the request's writes
	// (a response header), and the position a client's reads must see (a request
	// header), in PostgreSQL's notation, e.g. "0/16B3748".
	ReadAfterHeader = "X-Read-After"
	// ReadAfterCookie carries the same position for clients that keep cookies.
	ReadAfterCookie = "quarry_read_after"
	// readAfterCookieAge is how long the cookie lives: far longer than a replica in
	// rotation takes to replay a write.
	readAfterCookieAge = 5 * time.Minute
)

// newReplicas opens the pools of DATABASE_REPLICA_URLS (nil when there are none),
// configured like the primary's. It fails on a replica URL that is the primary's or
// that cannot be parsed, naming the key.
func newReplicas(ctx context.Context, cfg *config.Config, primary *db.Pool, pc db.PoolConfig, log *slog.Logger) (*db.Replicas, error) {
	if len(cfg.DatabaseReplicaURLs) == 0 {
		return nil, nil
	}
	for _, u := range cfg.DatabaseReplicaURLs {
		if strings.TrimSpace(u) == strings.TrimSpace(cfg.DatabaseURL) {
			return nil, fmt.Errorf("DATABASE_REPLICA_URLS: %s is DATABASE_URL itself; list the replicas only", db.RedactURL(u))
		}
	}
	rs, err := db.NewReplicas(ctx, primary, db.ReplicaConfig{
		URLs: cfg.DatabaseReplicaURLs, Pool: pc,
		MaxLag: cfg.ReplicaMaxLag, CheckInterval: cfg.ReplicaCheckInterval, Log: log,
	})
	if err != nil {
		return nil, fmt.Errorf("DATABASE_REPLICA_URLS: %w", err)
	}
	return rs, nil
}

// readYourWrites returns the middleware that gives each request a database session:
// its reads see the WAL position the client sent (X-Read-After header or the
// quarry_read_after cookie, the later of the two), and once it writes, the response
// carries the primary's new position in both. A value that is not a WAL position
// sends the request's reads to the primary.
func readYourWrites(secureCookie bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		after, ok := clientPosition(c.Request)
		s := db.NewSession(after)
		if !ok {
			s.Pin()
		}
		s.OnAdvance = func(l db.LSN) {
			h := c.Writer.Header()
			h.Set(ReadAfterHeader, l.String())
			cookie := (&http.Cookie{
				Name: ReadAfterCookie, Value: l.String(), Path: "/",
				MaxAge: int(readAfterCookieAge / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
				Secure: secureCookie || c.Request.TLS != nil,
			}).String()
			cookies := h.Values("Set-Cookie")
			kept := cookies[:0:0]
			for _, v := range cookies {
				if !strings.HasPrefix(v, ReadAfterCookie+"=") {
					kept = append(kept, v)
				}
			}
			h["Set-Cookie"] = append(kept, cookie)
		}
		c.Request = c.Request.WithContext(db.WithSession(c.Request.Context(), s))
		c.Next()
	}
}

// clientPosition returns the later of the positions in the request's header and
// cookie (0 when neither is there), and false when one is not a WAL position.
func clientPosition(r *http.Request) (db.LSN, bool) {
	var after db.LSN
	ok := true
	take := func(v string) {
		if v == "" {
			return
		}
		l, err := db.ParseLSN(strings.TrimSpace(v))
		if err != nil {
			ok = false
			return
		}
		after = max(after, l)
	}
	take(r.Header.Get(ReadAfterHeader))
	if ck, err := r.Cookie(ReadAfterCookie); err == nil {
		take(ck.Value)
	}
	return after, ok
}
