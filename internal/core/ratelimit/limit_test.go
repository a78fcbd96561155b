package ratelimit

import (
	"testing"
	"time"
)

func TestParseLimit(t *testing.T) {
	t.Parallel()
	good := map[string]Limit{
		"5/1m":      {Events: 5, Per: time.Minute, Burst: 5},
		" 20/1m ":   {Events: 20, Per: time.Minute, Burst: 20},
		"100/1h:10": {Events: 100, Per: time.Hour, Burst: 10},
		"1/500ms":   {Events: 1, Per: 500 * time.Millisecond, Burst: 1},
		"off":       Off,
		"OFF":       Off,
	}
	for in, want := range good {
		got, err := ParseLimit(in)
		if err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", in, got, err, want)
			continue
		}
		if again, err := ParseLimit(got.String()); err != nil || again != got {
			t.Errorf("ParseLimit(%q.String() = %q) = %+v, %v", in, got.String(), again, err)
		}
	}
	for _, in := range []string{"", "5", "5/", "/1m", "0/1m", "-1/1m", "5/0s", "5/-1m", "5/minute", "x/1m", "5/1m:", "5/1m:0", "5/1m:x", "5/1m:-2", "on"} {
		if l, err := ParseLimit(in); err == nil {
			t.Errorf("ParseLimit(%q) = %+v, want an error", in, l)
		}
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]int64{
		0: 1, -time.Second: 1, time.Nanosecond: 1, time.Second: 1,
		time.Second + time.Millisecond: 2, 12 * time.Second: 12, 59*time.Second + 1: 60,
	} {
		if got := RetryAfterSeconds(d); got != want {
			t.Errorf("RetryAfterSeconds(%s) = %d, want %d", d, got, want)
		}
	}
}
