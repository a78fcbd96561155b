// Package ratelimit limits how often a client may call the API, with budgets that
// every instance of the API shares when they share a backend.
//
// A Policy is a named budget ("600 requests a minute"); a Backend counts requests per
// key (a user, a client address) under a policy with the generic cell rate algorithm
// (GCRA): in the long run Limit requests per Period, in bursts of up to Burst. The
// in-memory backend (Memory) limits each instance on its own; the Redis backend
// (package redisstore) keeps the counts in Redis, so all instances draw on one budget.
// A Limiter puts a backend to use: it decides what happens when the backend fails
// (FailMode), counts rejections and failures, and reports them to hooks.
package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Policy is a named budget: Limit requests per Period, in bursts of up to Burst. The
// zero Limit switches limiting off. Requests under different policies draw on
// different budgets, even for the same key.
type Policy struct {
	// Name identifies the policy in keys, headers, logs and metrics.
	Name   string
	Limit  int
	Period time.Duration
	Burst  int
}

// DefaultPolicy names the policy of API routes without an override.
const DefaultPolicy = "default"

// Off reports whether p allows everything.
func (p Policy) Off() bool { return p.Limit == 0 }

// String returns p as "name=N/PERIOD[:BURST]", or "name=off".
func (p Policy) String() string {
	return p.Name + "=" + Limit{Events: p.Limit, Per: p.Period, Burst: p.Burst}.String()
}

// Window returns the period in whole seconds, rounded up and at least 1: the "w" of
// the RateLimit-Policy header.
func (p Policy) Window() int64 { return ceilSeconds(p.Period) }

// emission returns the time one request uses up: Period / Limit, at least 1ns.
func (p Policy) emission() time.Duration { return max(p.Period/time.Duration(p.Limit), 1) }

// ParsePolicy returns the policy name with the limit s, written "N/PERIOD" or
// "N/PERIOD:BURST" (e.g. "600/1m", "100/1h:10"), or "off". It returns an error saying
// what is wrong with s; a name that is not a plain identifier (see ValidName), and a
// burst that would take more than a century to earn, are errors too.
func ParsePolicy(name, s string) (Policy, error) {
	if !ValidName(name) {
		return Policy{}, fmt.Errorf("policy name %q: want lower-case letters, digits, '_' or '-', starting with a letter", name)
	}
	l, err := ParseLimit(s)
	if err != nil {
		return Policy{}, err
	}
	p := Policy{Name: name, Limit: l.Events, Period: l.Per, Burst: l.Burst}
	if !p.Off() && p.emission() > maxSpan/time.Duration(p.Burst) {
		return Policy{}, fmt.Errorf("%q: a burst of %d at that rate spans more than %s", s, p.Burst, maxSpan)
	}
	return p, nil
}

// maxSpan bounds how far ahead a key's budget may reach (Burst × Period / Limit), so
// that the in-memory arithmetic cannot overflow.
const maxSpan = 100 * 365 * 24 * time.Hour

// ValidName reports whether name may name a policy: 1 to 64 lower-case ASCII letters,
// digits, '_' or '-', starting with a letter. Such names need no quoting in keys and
// no escaping in headers.
func ValidName(name string) bool {
	if name == "" || len(name) > 64 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// Rules choose the policy of each module's routes: the module's override, else the
// default policy.
type Rules struct {
	Default   Policy
	Overrides map[string]Policy
}

// For returns the policy of module's routes.
func (r Rules) For(module string) Policy {
	if p, ok := r.Overrides[module]; ok {
		return p
	}
	return r.Default
}

// ParseRules reads the default limit def (see ParsePolicy) and the overrides, each
// written "module=N/PERIOD[:BURST]" or "module=off" (e.g. "auth=30/1m"). An override
// is a policy named after its module. Errors name the setting at fault:
// RATE_LIMIT_DEFAULT or RATE_LIMIT_OVERRIDES (an unreadable entry, or a module listed
// twice).
func ParseRules(def string, overrides []string) (Rules, error) {
	var errs []error
	d, err := ParsePolicy(DefaultPolicy, def)
	if err != nil {
		errs = append(errs, fmt.Errorf("RATE_LIMIT_DEFAULT: %w", err))
	}
	r := Rules{Default: d, Overrides: map[string]Policy{}}
	for _, o := range overrides {
		name, limit, ok := strings.Cut(strings.TrimSpace(o), "=")
		name = strings.TrimSpace(name)
		if !ok {
			errs = append(errs, fmt.Errorf("RATE_LIMIT_OVERRIDES: %q: want module=N/PERIOD[:BURST] or module=off, e.g. auth=30/1m", o))
			continue
		}
		if _, dup := r.Overrides[name]; dup {
			errs = append(errs, fmt.Errorf("RATE_LIMIT_OVERRIDES: module %q is listed twice", name))
			continue
		}
		p, err := ParsePolicy(name, limit)
		if err != nil {
			errs = append(errs, fmt.Errorf("RATE_LIMIT_OVERRIDES: %s: %w", name, err))
			continue
		}
		r.Overrides[name] = p
	}
	if len(errs) > 0 {
		return Rules{}, errors.Join(errs...)
	}
	return r, nil
}

// ceilSeconds returns d in whole seconds, rounded up, at least 1.
func ceilSeconds(d time.Duration) int64 {
	return max(int64(math.Ceil(d.Seconds())), 1)
}
