package argon2

import (
	"bytes"
	"fmt"
	"testing"

	upstream "golang.org/x/crypto/argon2"
)

// TestSameKeysAsUpstream derives keys with the parameters Quarry uses and around
// them, with one lane (the changed path) and several, and wants upstream's keys.
func TestSameKeysAsUpstream(t *testing.T) {
	t.Parallel()
	cases := []struct {
		time, memory uint32
		threads      uint8
	}{
		{2, 19456, 1}, {1, 8, 1}, {3, 1024, 1}, {1, 4096, 1}, {2, 1024, 2}, {1, 4096, 4},
	}
	for _, c := range cases {
		for i, pw := range []string{"", "correct horse battery staple", "pässwörd"} {
			salt := []byte(fmt.Sprintf("salt for case %d", i))
			want := upstream.IDKey([]byte(pw), salt, c.time, c.memory, c.threads, 32)
			if got := IDKey([]byte(pw), salt, c.time, c.memory, c.threads, 32); !bytes.Equal(got, want) {
				t.Errorf("IDKey(%q, t=%d, m=%d, p=%d) = %x, upstream %x", pw, c.time, c.memory, c.threads, got, want)
			}
			want = upstream.Key([]byte(pw), salt, c.time, c.memory, c.threads, 16)
			if got := Key([]byte(pw), salt, c.time, c.memory, c.threads, 16); !bytes.Equal(got, want) {
				t.Errorf("Key(%q, t=%d, m=%d, p=%d) = %x, upstream %x", pw, c.time, c.memory, c.threads, got, want)
			}
		}
	}
}
