package posts

// Config is the posts module's configuration (keys POSTS_*).
type Config struct {
	// DefaultPageSize is the page size when a list request gives no limit.
	DefaultPageSize int `koanf:"default_page_size" validate:"min=1,ltefield=MaxPageSize"`
	// MaxPageSize caps the limit of list requests; a larger limit is rejected (422).
	MaxPageSize int `koanf:"max_page_size" validate:"min=1,max=1000"`
	// MaxBulk caps the number of posts one bulk create may insert.
	MaxBulk int `koanf:"max_bulk" validate:"min=1,max=100000"`
}

func defaultConfig() *Config {
	return &Config{DefaultPageSize: 20, MaxPageSize: 100, MaxBulk: 1000}
}
