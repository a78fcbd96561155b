// Package timeline is the per-request record bench/load writes with -timeline and
// the fault suite (bench/faults) reads: one line per request,
//
//	<start unix µs> <latency µs> <status, 0 for a transport error> <Retry-After present: 0|1> <seq> <error class>
//
// where the error class is "-" for a response, "refused" for a connection that was
// never made and "failed" for any other transport error (reset, timeout, EOF).
package timeline

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"
)

// Event is one request.
type Event struct {
	Start      time.Time
	Latency    time.Duration
	Status     int // 0 for a transport error
	RetryAfter bool
	Seq        int64
	ErrClass   string // "-", "refused" or "failed"
}

// End returns when the request ended.
func (e Event) End() time.Time { return e.Start.Add(e.Latency) }

// ErrorClass returns the class of a transport error: "refused" for a connection that
// was never made, "failed" otherwise.
func ErrorClass(err error) string {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "refused"
	}
	return "failed"
}

// Write writes events to w, one line each, and returns the write error.
func Write(w io.Writer, events []Event) error {
	bw := bufio.NewWriter(w)
	for _, e := range events {
		ra := 0
		if e.RetryAfter {
			ra = 1
		}
		fmt.Fprintf(bw, "%d %d %d %d %d %s\n", e.Start.UnixMicro(), e.Latency.Microseconds(), e.Status, ra, e.Seq, e.ErrClass)
	}
	return bw.Flush()
}

// Read reads the events Write wrote. It fails on a malformed line, naming it.
func Read(r io.Reader) ([]Event, error) {
	var out []Event
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var us, lat, status, ra, seq int64
		var class string
		if _, err := fmt.Sscan(sc.Text(), &us, &lat, &status, &ra, &seq, &class); err != nil {
			return nil, fmt.Errorf("timeline line %q: %w", sc.Text(), err)
		}
		out = append(out, Event{Start: time.UnixMicro(us), Latency: time.Duration(lat) * time.Microsecond,
			Status: int(status), RetryAfter: ra == 1, Seq: seq, ErrClass: class})
	}
	return out, sc.Err()
}
