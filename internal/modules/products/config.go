package products

// Config is the products module's configuration (keys PRODUCTS_*).
type Config struct {
	// DefaultPageSize is the page size when a list request gives no limit.
	DefaultPageSize int `koanf:"default_page_size" validate:"min=1,ltefield=MaxPageSize"`
	// MaxPageSize caps the limit of list requests; a larger limit is rejected (422).
	MaxPageSize int `koanf:"max_page_size" validate:"min=1,max=1000"`
}

func defaultConfig() *Config {
	return &Config{DefaultPageSize: 20, MaxPageSize: 100}
}
