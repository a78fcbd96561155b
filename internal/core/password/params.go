package password

import (
	"errors"
	"fmt"
)

// Params are the argon2id cost parameters and output sizes.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Iterations is the number of passes over the memory.
	Iterations uint32
	// Parallelism is the number of lanes (threads) used per hash.
	Parallelism uint8
	// SaltLen is the length of the random salt in bytes.
	SaltLen uint32
	// KeyLen is the length of the derived key in bytes.
	KeyLen uint32
}

// Bounds accepted by Params.Validate, and therefore in stored hashes: they keep a
// corrupt or hostile stored hash from making Verify allocate gigabytes or run for
// minutes.
const (
	MinMemory     = 8       // KiB; argon2 needs at least 8 KiB per lane
	MaxMemory     = 1 << 20 // KiB (1 GiB)
	MaxIterations = 100     // passes
	MinSaltLen    = 8       // bytes
	MaxSaltLen    = 64      // bytes
	MinKeyLen     = 16      // bytes
	MaxKeyLen     = 64      // bytes

	// maxEncodedLen is longer than any encoded hash within the bounds (about 215
	// characters); longer input is rejected before parsing.
	maxEncodedLen = 256
)

// DefaultParams returns the recommended parameters (OWASP's argon2id baseline):
// 19 MiB of memory, 2 iterations, 1 lane, a 16-byte salt and a 32-byte key.
func DefaultParams() Params {
	return Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}
}

// Validate returns nil when p is within the supported bounds, otherwise an error
// naming every parameter that is not.
func (p Params) Validate() error {
	var errs []error
	if p.Parallelism < 1 {
		errs = append(errs, errors.New("parallelism must be at least 1"))
	}
	if p.Memory < MinMemory*uint32(max(p.Parallelism, 1)) || p.Memory > MaxMemory {
		errs = append(errs, fmt.Errorf("memory must be between %d*parallelism and %d KiB, got %d", MinMemory, MaxMemory, p.Memory))
	}
	if p.Iterations < 1 || p.Iterations > MaxIterations {
		errs = append(errs, fmt.Errorf("iterations must be between 1 and %d, got %d", MaxIterations, p.Iterations))
	}
	if p.SaltLen < MinSaltLen || p.SaltLen > MaxSaltLen {
		errs = append(errs, fmt.Errorf("salt length must be between %d and %d bytes, got %d", MinSaltLen, MaxSaltLen, p.SaltLen))
	}
	if p.KeyLen < MinKeyLen || p.KeyLen > MaxKeyLen {
		errs = append(errs, fmt.Errorf("key length must be between %d and %d bytes, got %d", MinKeyLen, MaxKeyLen, p.KeyLen))
	}
	if len(errs) > 0 {
		return fmt.Errorf("password: invalid params: %w", errors.Join(errs...))
	}
	return nil
}
