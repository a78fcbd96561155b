//go:build unix

package argon2

import (
	"runtime"
	"testing"
)

// A derivation's memory is not allocated on the Go heap: deriving with 19 MiB
// allocates a few KiB of Go memory, not the 19 MiB.
func TestDerivationMemoryIsOutsideTheHeap(t *testing.T) {
	const memory = 19 * 1024 // KiB
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	key := IDKey([]byte("password"), []byte("somesalt"), 2, memory, 1, 32)
	runtime.ReadMemStats(&after)
	if len(key) != 32 {
		t.Fatalf("key of %d bytes", len(key))
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 1<<20 {
		t.Fatalf("a derivation with %d KiB allocated %d bytes on the Go heap", memory, grown)
	}
}
