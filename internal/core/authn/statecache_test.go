package authn

import (
	"context"
	"errors"
	"testing"
	"time"
)

// source is a user state source counting its reads.
type source struct {
	role   string
	active bool
	err    error
	reads  int
	// during runs inside a read, after the state was read.
	during func()
}

func (s *source) load(context.Context, int64) (string, bool, error) {
	s.reads++
	role, active := s.role, s.active
	if s.during != nil {
		s.during()
	}
	return role, active, s.err
}

func state(t *testing.T, c *StateCache, id int64) (string, bool) {
	t.Helper()
	role, active, err := c.State(context.Background(), id)
	if err != nil {
		t.Fatalf("State(%d): %v", id, err)
	}
	return role, active
}

func TestStateCacheReadsThroughUntilLive(t *testing.T) {
	src := &source{role: RoleUser, active: true}
	c := NewStateCache(src.load, time.Hour, 10)
	state(t, c, 1)
	state(t, c, 1)
	if src.reads != 2 {
		t.Fatalf("not live: %d reads for 2 requests, want 2", src.reads)
	}
	c.Live(true)
	state(t, c, 1)
	state(t, c, 1)
	if src.reads != 3 {
		t.Fatalf("live: %d reads, want 3 (one more)", src.reads)
	}
	// Losing the notifications forgets everything and reads through again.
	c.Live(false)
	src.active = false
	if _, active := state(t, c, 1); active {
		t.Fatal("after Live(false) the cached state was served")
	}
}

func TestStateCacheForgetsNotifiedUsers(t *testing.T) {
	src := &source{role: RoleUser, active: true}
	c := NewStateCache(src.load, time.Hour, 10)
	c.Live(true)
	state(t, c, 1)
	state(t, c, 2)
	src.active, src.role = false, RoleAdmin
	c.Notified("1")
	if role, active := state(t, c, 1); active || role != RoleAdmin {
		t.Fatalf("user 1 after its notification: %s %v, want admin false", role, active)
	}
	if _, active := state(t, c, 2); !active {
		t.Fatal("user 2 was forgotten by user 1's notification")
	}
	c.Notified("")
	if _, active := state(t, c, 2); active {
		t.Fatal("user 2 after a notification for everyone: still active")
	}
}

func TestStateCacheDoesNotStoreAStateReadBeforeAChange(t *testing.T) {
	src := &source{role: RoleUser, active: true}
	c := NewStateCache(src.load, time.Hour, 10)
	c.Live(true)
	// The user is deactivated (and notified) while its old state is being read.
	src.during = func() { src.active = false; c.Notified("1"); src.during = nil }
	if _, active := state(t, c, 1); !active {
		t.Fatal("the read itself returns the state it read")
	}
	if _, active := state(t, c, 1); active {
		t.Fatal("the state read before the change was stored and served after it")
	}
}

func TestStateCacheExpiresAndBounds(t *testing.T) {
	src := &source{role: RoleUser, active: true}
	c := NewStateCache(src.load, -time.Second, 2) // every entry is stale at once
	c.Live(true)
	state(t, c, 1)
	state(t, c, 1)
	if src.reads != 2 {
		t.Fatalf("%d reads of an expired entry, want 2", src.reads)
	}
	c = NewStateCache(src.load, time.Hour, 2)
	c.Live(true)
	for id := range int64(5) {
		state(t, c, id)
	}
	if n := len(c.entries); n > 2 {
		t.Fatalf("%d entries kept, want at most 2", n)
	}
}

func TestStateCacheErrorsAreNotStored(t *testing.T) {
	src := &source{err: errors.New("database down")}
	c := NewStateCache(src.load, time.Hour, 10)
	c.Live(true)
	if _, _, err := c.State(context.Background(), 1); err == nil {
		t.Fatal("want the source's error")
	}
	src.err, src.active = nil, true
	if _, active := state(t, c, 1); !active {
		t.Fatal("after the error: not active")
	}
}
