//go:build !unix

package argon2

// allocBlocks returns n zeroed blocks on the Go heap, and a free that does nothing.
func allocBlocks(n uint32) ([]block, func()) { return make([]block, n), func() {} }
