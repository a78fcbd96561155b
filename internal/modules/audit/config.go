package audit

// Config is the audit module's configuration (keys AUDIT_*).
type Config struct {
	// DefaultPageSize is the page size when a list request gives no limit.
	DefaultPageSize int `koanf:"default_page_size" validate:"min=1,ltefield=MaxPageSize" doc:"page size when a request gives no limit"`
	// MaxPageSize caps the limit of list requests; a larger limit is rejected (422).
	MaxPageSize int `koanf:"max_page_size" validate:"min=1,max=1000" doc:"largest limit a request may ask for"`
}

func defaultConfig() *Config {
	return &Config{DefaultPageSize: 50, MaxPageSize: 200}
}
