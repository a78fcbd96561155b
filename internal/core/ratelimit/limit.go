package ratelimit

// This file parses and validates rate limits written as "N/PERIOD[:BURST]" or "off".

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limit is a rate of Events per Per, allowing bursts of up to Burst events.
type Limit struct {
	Events int
	Per    time.Duration
	Burst  int
}

// Off is the zero Limit: a Limiter with it allows everything.
var Off = Limit{}

// IsOff reports whether l disables limiting.
func (l Limit) IsOff() bool { return l == Off }

// Validate returns nil when l is Off or has positive Events, Per and Burst, otherwise
// an error naming what is not.
func (l Limit) Validate() error {
	if l.IsOff() || l.Events >= 1 && l.Per > 0 && l.Burst >= 1 {
		return nil
	}
	return fmt.Errorf("throttle: invalid limit %d/%s:%d: events, period and burst must be positive", l.Events, l.Per, l.Burst)
}

// String returns l in the format ParseLimit reads.
func (l Limit) String() string {
	if l.IsOff() {
		return "off"
	}
	s := strconv.Itoa(l.Events) + "/" + l.Per.String()
	if l.Burst != l.Events {
		s += ":" + strconv.Itoa(l.Burst)
	}
	return s
}

// ParseLimit reads a limit written "N/PERIOD" or "N/PERIOD:BURST", e.g. "5/1m" (five
// per minute, bursts of five) or "100/1h:10" (a hundred an hour, bursts of ten); the
// burst defaults to N. "off" disables limiting. It returns an error saying what is
// wrong when N or BURST is not a positive integer, or PERIOD is not a positive Go
// duration.
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return Off, nil
	}
	const want = `want N/PERIOD[:BURST] such as "5/1m", or "off"`
	n, rest, ok := strings.Cut(s, "/")
	if !ok {
		return Off, fmt.Errorf("%q: %s", s, want)
	}
	period, burst, hasBurst := strings.Cut(rest, ":")
	l := Limit{}
	var err error
	if l.Events, err = strconv.Atoi(n); err != nil || l.Events < 1 {
		return Off, fmt.Errorf("%q: the number of events must be a positive integer; %s", s, want)
	}
	if l.Per, err = time.ParseDuration(period); err != nil || l.Per <= 0 {
		return Off, fmt.Errorf("%q: the period must be a positive duration such as 30s, 1m or 1h; %s", s, want)
	}
	l.Burst = l.Events
	if hasBurst {
		if l.Burst, err = strconv.Atoi(burst); err != nil || l.Burst < 1 {
			return Off, fmt.Errorf("%q: the burst must be a positive integer; %s", s, want)
		}
	}
	return l, nil
}

// RetryAfterSeconds returns d rounded up to whole seconds, at least 1: the value of a
// Retry-After header.
func RetryAfterSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 1
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return max(s, 1)
}
