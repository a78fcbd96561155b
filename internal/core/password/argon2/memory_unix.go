//go:build unix

package argon2

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// allocBlocks returns n zeroed blocks in an anonymous private mapping outside the Go
// heap, and the function that unmaps them (the blocks must not be used after it).
// When the mapping fails it falls back to the Go heap, with a free that does nothing.
func allocBlocks(n uint32) ([]block, func()) {
	mem, err := unix.Mmap(-1, 0, int(n)*blockLength*8, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return make([]block, n), func() {}
	}
	return unsafe.Slice((*block)(unsafe.Pointer(unsafe.SliceData(mem))), n), func() { _ = unix.Munmap(mem) }
}
