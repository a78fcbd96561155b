package authn

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// StateCache remembers users' role and activity between requests, so a signed-in
// request does not read them from the database every time. It serves from memory only
// while it is live, that is while something tells it about every change (see Live and
// Forget: the API listens to the database's notifications of changed users), and reads
// through to the source otherwise. Entries also expire after maxAge. It is safe for
// concurrent use.
type StateCache struct {
	load    UserState
	maxAge  time.Duration
	maxSize int

	live atomic.Bool
	mu   sync.Mutex
	// gen counts invalidations: a state loaded before one is not stored after it.
	gen     uint64
	entries map[int64]cachedState
}

type cachedState struct {
	role    string
	active  bool
	expires time.Time
}

// NewStateCache returns a cache in front of load keeping at most maxSize users for at
// most maxAge each. It starts not live: it reads through until Live(true).
func NewStateCache(load UserState, maxAge time.Duration, maxSize int) *StateCache {
	return &StateCache{load: load, maxAge: maxAge, maxSize: max(maxSize, 1), entries: map[int64]cachedState{}}
}

// State is a UserState: the cached state of user id while live and fresh, else the
// source's (stored for next time). Errors: the source's.
func (c *StateCache) State(ctx context.Context, id int64) (string, bool, error) {
	if !c.live.Load() {
		return c.load(ctx, id)
	}
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.role, e.active, nil
	}
	role, active, err := c.load(ctx, id)
	if err != nil {
		return "", false, err
	}
	c.mu.Lock()
	if c.gen == gen && c.live.Load() {
		if len(c.entries) >= c.maxSize {
			clear(c.entries)
		}
		c.entries[id] = cachedState{role: role, active: active, expires: now.Add(c.maxAge)}
	}
	c.mu.Unlock()
	return role, active, nil
}

// Live turns serving from memory on or off; either way everything remembered is
// forgotten (changes may have been missed while nothing was telling).
func (c *StateCache) Live(on bool) {
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.live.Store(on)
	c.mu.Unlock()
}

// Forget drops what is remembered of user id.
func (c *StateCache) Forget(id int64) {
	c.mu.Lock()
	c.gen++
	delete(c.entries, id)
	c.mu.Unlock()
}

// ForgetAll drops everything remembered.
func (c *StateCache) ForgetAll() {
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.mu.Unlock()
}

// Notified handles the payload of a notification of changed users: a user id forgets
// that user; anything else forgets every user.
func (c *StateCache) Notified(payload string) {
	if id, err := strconv.ParseInt(payload, 10, 64); err == nil {
		c.Forget(id)
		return
	}
	c.ForgetAll()
}
