package logging

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// Buffered collects log lines in memory and writes them to the underlying writer in
// batches: when the buffer fills, and at least every interval. One write system call
// per batch instead of per line takes the access log off the request path's cost. At
// most one interval of lines is lost if the process dies without Close.
type Buffered struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// NewBuffered returns a Buffered writer over w with a buffer of size bytes, flushed at
// least every interval. Close flushes and stops it.
func NewBuffered(w io.Writer, size int, interval time.Duration) *Buffered {
	b := &Buffered{w: bufio.NewWriterSize(w, size), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushEvery(interval)
	return b
}

// Write buffers p; it is safe for concurrent use, and a line is never split between
// two batches.
func (b *Buffered) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(p) > b.w.Available() && b.w.Buffered() > 0 {
		if err := b.w.Flush(); err != nil {
			return 0, err
		}
	}
	return b.w.Write(p)
}

// Flush writes out what is buffered.
func (b *Buffered) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}

// Close stops the periodic flush and flushes what is buffered.
func (b *Buffered) Close() error {
	close(b.stop)
	<-b.done
	return b.Flush()
}

func (b *Buffered) flushEvery(interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			_ = b.Flush() // a failing log sink must not stop the process
		}
	}
}
