package ratelimit

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// DefaultMaxKeys is the number of keys a Memory holds per policy by default: some
// tens of MiB at most.
const DefaultMaxKeys = 100_000

// Memory is the in-memory Backend: each key's state is one timestamp (GCRA's
// theoretical arrival time), held in this process only, so each instance of the API
// limits on its own. It never fails and is safe for concurrent use.
//
// The number of keys held is bounded per policy: when a new key would exceed the
// capacity, the least recently used key of that policy is forgotten, so a flood of
// distinct keys (e.g. rotating client addresses) costs bounded memory, and cannot
// push out the keys of another policy. A forgotten key starts again with a whole
// budget, which is the price of the bound; size the capacity well above the number
// of keys active within one period.
type Memory struct {
	capacity int
	now      func() time.Duration // monotonic time since the Memory was made
	tables   sync.Map             // policy name → *table
}

// table holds the keys of one policy, most recently used first.
type table struct {
	mu   sync.Mutex
	keys map[string]*list.Element // values of the list are *cell
	lru  *list.List
}

type cell struct {
	key string
	tat time.Duration // when the key's budget is whole again, on the Memory's clock
}

// NewMemory returns a Memory holding at most capacity keys per policy
// (DefaultMaxKeys when capacity <= 0).
func NewMemory(capacity int) *Memory {
	start := time.Now()
	return newMemory(capacity, func() time.Duration { return time.Since(start) })
}

func newMemory(capacity int, now func() time.Duration) *Memory {
	if capacity <= 0 {
		capacity = DefaultMaxKeys
	}
	return &Memory{capacity: capacity, now: now}
}

// Allow implements Backend; it never returns an error.
func (m *Memory) Allow(_ context.Context, key string, p Policy) (Result, error) {
	t := m.table(p.Name)
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.cell(key, m.capacity)
	return decide(&c.tat, m.now(), p), nil
}

func (m *Memory) table(policy string) *table {
	if t, ok := m.tables.Load(policy); ok {
		return t.(*table)
	}
	t, _ := m.tables.LoadOrStore(policy, &table{keys: map[string]*list.Element{}, lru: list.New()})
	return t.(*table)
}

// cell returns key's cell, marked most recently used; a new key takes the place of
// the least recently used one when the table is full. The caller holds t.mu.
func (t *table) cell(key string, capacity int) *cell {
	if el, ok := t.keys[key]; ok {
		t.lru.MoveToFront(el)
		return el.Value.(*cell)
	}
	if t.lru.Len() >= capacity {
		el := t.lru.Back()
		c := el.Value.(*cell)
		delete(t.keys, c.key)
		*c = cell{key: key}
		t.keys[key] = el
		t.lru.MoveToFront(el)
		return c
	}
	c := &cell{key: key}
	t.keys[key] = t.lru.PushFront(c)
	return c
}

// Len returns the number of keys held, over all policies.
func (m *Memory) Len() int {
	n := 0
	m.tables.Range(func(_, v any) bool {
		t := v.(*table)
		t.mu.Lock()
		n += t.lru.Len()
		t.mu.Unlock()
		return true
	})
	return n
}

// Capacity returns the most keys held per policy.
func (m *Memory) Capacity() int { return m.capacity }

// decide applies GCRA to one request of a key whose theoretical arrival time is
// *tat, at time now (both on the same clock), and advances *tat when the request is
// allowed. The arithmetic is that of redis_rate's script, so both backends report the
// same numbers.
func decide(tat *time.Duration, now time.Duration, p Policy) Result {
	e := p.emission()
	t := max(*tat, now)
	next := t + e
	diff := now - (next - e*time.Duration(p.Burst))
	if diff < 0 {
		return Result{Limit: p.Limit, RetryAfter: -diff, ResetAfter: t - now}
	}
	*tat = next
	return Result{Allowed: true, Limit: p.Limit, Remaining: int(diff / e), ResetAfter: next - now}
}
