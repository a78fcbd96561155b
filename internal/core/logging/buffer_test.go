package logging_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/core/logging"
)

type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.buf.Write(p)
}

func (l *lockedBuffer) snapshot() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String(), l.writes
}

func TestBufferedBatchesAndFlushes(t *testing.T) {
	sink := &lockedBuffer{}
	b := logging.NewBuffered(sink, 1024, 20*time.Millisecond)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				b.Write([]byte(strings.Repeat(string(rune('a'+i)), 39) + "\n"))
			}
		}()
	}
	wg.Wait()
	// The periodic flush writes out what remains.
	deadline := time.Now().Add(2 * time.Second)
	for {
		out, _ := sink.snapshot()
		if strings.Count(out, "\n") == 400 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	out, writes := sink.snapshot()
	if n := strings.Count(out, "\n"); n != 400 {
		t.Fatalf("lines written: %d, want 400", n)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if len(line) != 39 || strings.Count(line, line[:1]) != 39 {
			t.Fatalf("a line was split or interleaved: %q", line)
		}
	}
	if writes >= 400 {
		t.Fatalf("%d writes for 400 lines: not batched", writes)
	}
	b.Write([]byte("last\n"))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if out, _ := sink.snapshot(); !strings.HasSuffix(out, "last\n") {
		t.Fatal("Close must flush")
	}
}
