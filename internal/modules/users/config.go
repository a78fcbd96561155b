package users

import (
	"time"

	"github.com/quarrydev/quarry/internal/core/password"
)

// Config is the users module's configuration (keys USERS_*).
//
// The password hashing settings live here while this module is the only one that
// hashes; they move to core along with the Hasher once authentication needs it too.
type Config struct {
	// DefaultPageSize is the page size when a list request gives no limit.
	DefaultPageSize int `koanf:"default_page_size" validate:"min=1,ltefield=MaxPageSize"`
	// MaxPageSize caps the limit of list requests; a larger limit is rejected (422).
	MaxPageSize int `koanf:"max_page_size" validate:"min=1,max=1000"`

	// HashMemoryKiB is argon2id's memory cost per hash, in KiB.
	HashMemoryKiB uint32 `koanf:"hash_memory_kib" validate:"min=8,max=1048576" doc:"argon2id memory per hash in KiB (default 19456 = 19 MiB)"`
	// HashIterations is argon2id's number of passes.
	HashIterations uint32 `koanf:"hash_iterations" validate:"min=1,max=100" doc:"argon2id passes (default 2)"`
	// HashParallelism is argon2id's number of lanes per hash.
	HashParallelism uint8 `koanf:"hash_parallelism" validate:"min=1" doc:"argon2id lanes per hash (default 1)"`
	// HashMaxConcurrent bounds the password hashes computed at once; 0 means one per CPU.
	HashMaxConcurrent int `koanf:"hash_max_concurrent" validate:"min=0,max=4096" doc:"password hashes computed at once; 0 = number of CPUs"`
	// HashMaxWait is how long a request waits for a hashing slot before it is
	// answered 503.
	HashMaxWait time.Duration `koanf:"hash_max_wait" validate:"gt=0" doc:"wait for a hashing slot before answering 503"`
}

func defaultConfig() *Config {
	p := password.DefaultParams()
	return &Config{
		DefaultPageSize: 20, MaxPageSize: 100,
		HashMemoryKiB: p.Memory, HashIterations: p.Iterations, HashParallelism: p.Parallelism,
		HashMaxConcurrent: 0, HashMaxWait: password.DefaultMaxWait,
	}
}

// hashParams returns the argon2id parameters the configuration selects.
func (c *Config) hashParams() password.Params {
	p := password.DefaultParams()
	p.Memory, p.Iterations, p.Parallelism = c.HashMemoryKiB, c.HashIterations, c.HashParallelism
	return p
}
