package orders

import "time"

// Config is the orders module's configuration (keys ORDERS_*).
type Config struct {
	// DefaultPageSize is the page size when a list request gives no limit.
	DefaultPageSize int `koanf:"default_page_size" validate:"min=1,ltefield=MaxPageSize"`
	// MaxPageSize caps the limit of list requests; a larger limit is rejected (422).
	MaxPageSize int `koanf:"max_page_size" validate:"min=1,max=1000"`
	// IdempotencyKeyTTL is how long an Idempotency-Key is remembered after the
	// placement that used it; afterwards the same key places a new order.
	IdempotencyKeyTTL time.Duration `koanf:"idempotency_key_ttl" validate:"min=1m,max=8760h" doc:"how long an Idempotency-Key of a placed order is remembered"`
}

func defaultConfig() *Config {
	return &Config{DefaultPageSize: 20, MaxPageSize: 100, IdempotencyKeyTTL: 24 * time.Hour}
}
