// Package config loads Quarry's configuration with koanf.
//
// Sources, later wins: defaults in Go structs → .env → .env.$APP_ENV → environment
// variables → command-line flags. Core settings are flat keys (DATABASE_URL,
// HTTP_ADDR, …); each module declares a section whose keys carry its name as a prefix
// (POSTS_MAX_PAGE_SIZE is key max_page_size of section posts).
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/go-viper/mapstructure/v2"
	"github.com/joho/godotenv"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/structs"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"

	"github.com/quarrydev/quarry/internal/core/password"
	"github.com/quarrydev/quarry/internal/core/ratelimit"
	"github.com/quarrydev/quarry/internal/db"
)

// Environments APP_ENV may name.
const (
	EnvDev  = "dev"
	EnvTest = "test"
	EnvProd = "prod"
)

// Core holds the settings shared by the whole application.
type Core struct {
	AppEnv    string `koanf:"app_env" validate:"oneof=dev test prod" doc:"dev, test or prod"`
	HTTPAddr  string `koanf:"http_addr" validate:"required,hostname_port" doc:"address the API listens on"`
	LogLevel  string `koanf:"log_level" validate:"oneof=debug info warn error"`
	LogFormat string `koanf:"log_format" validate:"omitempty,oneof=text json" doc:"text or json; default json in prod, text otherwise"`

	DatabaseURL      string        `koanf:"database_url" validate:"required,pgurl" secret:"url"`
	DBMaxConns       int32         `koanf:"db_max_conns" validate:"min=1,max=1000"`
	DBMinConns       int32         `koanf:"db_min_conns" validate:"min=0,ltefield=DBMaxConns"`
	DBConnectTimeout time.Duration `koanf:"db_connect_timeout" validate:"gt=0"`
	DBAcquireTimeout time.Duration `koanf:"db_acquire_timeout" validate:"gt=0"`
	// DBPlanCacheMode is PostgreSQL's plan_cache_mode for the API's connections
	// (see db.PoolConfig.PlanCacheMode).
	DBPlanCacheMode     string        `koanf:"db_plan_cache_mode" validate:"oneof=auto force_generic_plan force_custom_plan"`
	DBHealthCheckPeriod time.Duration `koanf:"db_health_check_period" validate:"gt=0"`

	// DatabaseReplicaURLs are streaming replicas of DATABASE_URL for read-only queries.
	DatabaseReplicaURLs  []string      `koanf:"database_replica_urls" validate:"dive,pgurl" secret:"urls" doc:"streaming replicas of DATABASE_URL (postgres:// URLs, comma-separated) serving read-only queries; empty sends everything to the primary"`
	ReplicaMaxLag        time.Duration `koanf:"replica_max_lag" validate:"gt=0" doc:"a replica whose unreplayed changes are older than this serves no reads until it catches up"`
	ReplicaCheckInterval time.Duration `koanf:"replica_check_interval" validate:"gt=0" doc:"how often each replica's replay position, lag and health are read"`

	// EnabledModules lists the modules that mount routes; empty means all.
	EnabledModules []string `koanf:"enabled_modules"`

	RequestTimeout    time.Duration `koanf:"request_timeout" validate:"gt=0"`
	ShutdownTimeout   time.Duration `koanf:"shutdown_timeout" validate:"gt=0" doc:"how long in-flight requests may run after a shutdown signal"`
	ShutdownDelay     time.Duration `koanf:"shutdown_delay" validate:"min=0" doc:"pause between failing readiness and closing the listener"`
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout" validate:"gt=0" doc:"how long a client may take to send the request headers"`
	ReadTimeout       time.Duration `koanf:"read_timeout" validate:"gt=0" doc:"how long a client may take to send a whole request, headers and body"`
	BodyReadTimeout   time.Duration `koanf:"body_read_timeout" validate:"gt=0" doc:"how long a handler waits for the request body once the headers are in (408 after)"`
	IdleTimeout       time.Duration `koanf:"idle_timeout" validate:"gt=0"`
	BodyLimit         int64         `koanf:"body_limit" validate:"min=1024" doc:"maximum request body in bytes"`

	CORSAllowedOrigins []string      `koanf:"cors_allowed_origins" doc:"origins allowed to call the API; empty disables CORS"`
	CORSAllowedMethods []string      `koanf:"cors_allowed_methods"`
	CORSAllowedHeaders []string      `koanf:"cors_allowed_headers"`
	CORSMaxAge         time.Duration `koanf:"cors_max_age"`
	TrustedProxies     []string      `koanf:"trusted_proxies" doc:"proxy addresses or CIDRs whose X-Forwarded-For is believed"`
	HSTS               bool          `koanf:"hsts" doc:"send Strict-Transport-Security (serve behind HTTPS only)"`
	DocsEnabled        bool          `koanf:"docs_enabled" doc:"serve the API document (/openapi.json, /openapi.yaml) and the interactive docs (/docs)"`

	MetricsEnabled      bool    `koanf:"metrics_enabled" doc:"serve Prometheus metrics at /metrics"`
	MetricsAddr         string  `koanf:"metrics_addr" validate:"omitempty,hostname_port" doc:"serve /metrics on this address instead of HTTP_ADDR"`
	TracingOTLPEndpoint string  `koanf:"tracing_otlp_endpoint" validate:"omitempty,url" doc:"OTLP/HTTP endpoint (e.g. http://collector:4318); empty disables tracing"`
	TracingServiceName  string  `koanf:"tracing_service_name" validate:"required"`
	TracingSampleRatio  float64 `koanf:"tracing_sample_ratio" validate:"min=0,max=1" doc:"fraction of new traces recorded"`

	CursorSecret string `koanf:"cursor_secret" validate:"min=32" secret:"true" doc:"signs pagination cursors; at least 32 bytes"`

	JWTSecret      string        `koanf:"jwt_secret" validate:"min=32" secret:"true" doc:"HS256 key signing access tokens; at least 32 bytes"`
	JWTKeyID       string        `koanf:"jwt_key_id" validate:"required,max=64" doc:"kid of JWT_SECRET"`
	JWTVerifyKeys  []string      `koanf:"jwt_verify_keys" secret:"true" doc:"previous keys still accepted, as kid:secret pairs, comma-separated"`
	JWTIssuer      string        `koanf:"jwt_issuer" validate:"required"`
	JWTAudience    string        `koanf:"jwt_audience" validate:"required"`
	AccessTokenTTL time.Duration `koanf:"access_token_ttl" validate:"gt=0,max=24h"`
	JWTLeeway      time.Duration `koanf:"jwt_leeway" validate:"min=0,max=2m" doc:"clock skew tolerated when checking token times"`

	PasswordMemoryKiB     uint32        `koanf:"password_memory_kib" validate:"min=8,max=1048576" doc:"argon2id memory per hash in KiB (19456 = 19 MiB)"`
	PasswordIterations    uint32        `koanf:"password_iterations" validate:"min=1,max=100" doc:"argon2id passes"`
	PasswordParallelism   uint8         `koanf:"password_parallelism" validate:"min=1" doc:"argon2id lanes per hash"`
	PasswordMaxConcurrent int           `koanf:"password_max_concurrent" validate:"min=0,max=4096" doc:"password hashes running at once; 0 means one per CPU but one (at least one)"`
	PasswordMaxWait       time.Duration `koanf:"password_max_wait" validate:"gt=0" doc:"how long a request waits for a hashing slot before 503"`
	PasswordNice          int           `koanf:"password_nice" validate:"min=0,max=19" doc:"nice value of the threads that hash passwords (Linux); 0 hashes at the priority of request serving"`

	RedisURL           string   `koanf:"redis_url" secret:"url" doc:"Redis holding the rate-limit counts shared by every instance (redis://[:password@]host:port/db); empty keeps them in each instance's memory"`
	RateLimitDefault   string   `koanf:"rate_limit_default" validate:"required" doc:"requests per client to API routes, N/PERIOD[:BURST] (e.g. 600/1m) or off"`
	RateLimitOverrides []string `koanf:"rate_limit_overrides" doc:"per-module budgets, module=N/PERIOD[:BURST] or module=off, comma-separated (e.g. auth=30/1m)"`
	RateLimitFailMode  string   `koanf:"rate_limit_fail_mode" validate:"oneof=open closed" doc:"when Redis cannot answer: open (each instance limits in memory) or closed (503)"`
	RateLimitMaxKeys   int      `koanf:"rate_limit_max_keys" validate:"min=1,max=100000000" doc:"clients each policy remembers in memory; the least recently seen are forgotten beyond it"`
	RateLimitKeyPrefix string   `koanf:"rate_limit_key_prefix" validate:"max=64" doc:"prefix of the rate-limit keys in Redis"`

	RateLimitBreakerFailures int           `koanf:"rate_limit_breaker_failures" validate:"min=1,max=1000" doc:"Redis failures in a row after which the rate limiter stops asking Redis for RATE_LIMIT_BREAKER_COOLOFF"`
	RateLimitBreakerCooloff  time.Duration `koanf:"rate_limit_breaker_cooloff" validate:"gt=0" doc:"how long the rate limiter skips Redis once its breaker opened, before one request probes it"`

	// Background jobs (internal/jobs).
	WorkersEnabled         bool          `koanf:"workers_enabled" doc:"api serve also works background jobs; default true in dev, false otherwise (run api worker)"`
	JobsQueues             []string      `koanf:"jobs_queues" validate:"min=1" doc:"queues worked and their concurrency, queue=N comma-separated (e.g. default=10,maintenance=2)"`
	JobsPollInterval       time.Duration `koanf:"jobs_poll_interval" validate:"min=10ms,max=1m" doc:"how often a worker looks for jobs besides being notified of new ones"`
	JobsTokenPruneInterval time.Duration `koanf:"jobs_token_prune_interval" validate:"min=0" doc:"how often expired refresh tokens are deleted; 0 turns it off"`
	JobsTokenPruneGrace    time.Duration `koanf:"jobs_token_prune_grace" validate:"min=0" doc:"refresh tokens are deleted this long after they expired"`
	JobsConsoleEnabled     bool          `koanf:"jobs_console_enabled" doc:"serve the jobs console at /admin/jobs (admins only)"`
	JobsKeyPruneInterval   time.Duration `koanf:"jobs_key_prune_interval" validate:"min=0" doc:"how often expired idempotency keys are deleted; 0 turns it off"`
	AuditRetention         time.Duration `koanf:"audit_retention" validate:"omitempty,min=24h" doc:"audit events older than this are deleted by a periodic job; 0 (the default) keeps them forever"`
	JobsAuditPruneInterval time.Duration `koanf:"jobs_audit_prune_interval" validate:"gt=0" doc:"how often the audit retention job runs (when AUDIT_RETENTION is set)"`
}

// DevDatabaseURL is the default database of a development machine.
const DevDatabaseURL = "postgres://postgres@127.0.0.1:5432/quarry?sslmode=disable"

// Development defaults of secrets; prod refuses them.
const (
	devCursorSecret = "quarry-development-cursor-secret-not-for-production"
	devJWTSecret    = "quarry-development-jwt-secret-not-for-production"
)

// Defaults returns the core defaults.
func Defaults() Core {
	c := Core{
		AppEnv:              EnvDev,
		HTTPAddr:            "127.0.0.1:8080",
		LogLevel:            "info",
		DatabaseURL:         DevDatabaseURL,
		DBMaxConns:          16,
		DBMinConns:          2,
		DBConnectTimeout:    5 * time.Second,
		DBAcquireTimeout:    2 * time.Second,
		DBPlanCacheMode:     db.DefaultPlanCacheMode,
		DBHealthCheckPeriod: 30 * time.Second,
		RequestTimeout:      10 * time.Second,
		ShutdownTimeout:     15 * time.Second,
		ReadHeaderTimeout:   5 * time.Second,
		ReadTimeout:         30 * time.Second,
		BodyReadTimeout:     10 * time.Second,
		IdleTimeout:         60 * time.Second,
		BodyLimit:           1 << 20,
		CORSAllowedMethods:  []string{"GET", "POST", "PUT", "PATCH", "DELETE"},
		CORSAllowedHeaders:  []string{"Authorization", "Content-Type", "X-Request-ID"},
		CORSMaxAge:          10 * time.Minute,
		DocsEnabled:         true,
		MetricsEnabled:      true,
		TracingServiceName:  "quarry",
		TracingSampleRatio:  1,
		CursorSecret:        devCursorSecret,
		JWTSecret:           devJWTSecret,
		JWTKeyID:            "k1",
		JWTIssuer:           "quarry",
		JWTAudience:         "quarry-api",
		AccessTokenTTL:      15 * time.Minute,
		JWTLeeway:           30 * time.Second,
		PasswordMemoryKiB:   19456,
		PasswordIterations:  2,
		PasswordParallelism: 1,
		PasswordMaxWait:     2 * time.Second,
		PasswordNice:        password.DefaultNice,
		RateLimitDefault:    "600/1m",
		RateLimitFailMode:   string(ratelimit.FailOpen),
		RateLimitMaxKeys:    ratelimit.DefaultMaxKeys,
		RateLimitKeyPrefix:  "quarry:rl:",

		RateLimitBreakerFailures: ratelimit.DefaultBreakerFailures,
		RateLimitBreakerCooloff:  ratelimit.DefaultBreakerCooloff,

		JobsQueues:             []string{"default=10", "maintenance=2"},
		JobsPollInterval:       time.Second,
		JobsTokenPruneInterval: time.Hour,
		JobsTokenPruneGrace:    24 * time.Hour,
		JobsConsoleEnabled:     true,
		JobsAuditPruneInterval: time.Hour,
		JobsKeyPruneInterval:   time.Hour,
	}
	c.ReplicaMaxLag, c.ReplicaCheckInterval = 5*time.Second, time.Second
	return c
}

// Section is a module's configuration: Target points to its struct, filled with the
// module's defaults, and is filled from keys NAME_<key>.
type Section struct {
	Name   string
	Target any
}

// Options tell Load where to read from.
type Options struct {
	// Dir holds the .env files; "" is the working directory.
	Dir string
	// Environ is the process environment (os.Environ()).
	Environ []string
	// Flags holds command-line flags; only flags that were set override. A flag
	// "http-addr" sets HTTP_ADDR; repeated --set KEY=VALUE sets any key.
	Flags *pflag.FlagSet
	// Sections are the modules' configuration sections.
	Sections []Section
}

// Config is the loaded configuration.
type Config struct {
	Core
	sections []Section
	keys     *keySet
}

// Error reports an invalid configuration; each problem names its key.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.Problems, "\n  ")
}

// Load reads the configuration from every source and validates it. It returns an
// *Error naming each missing, unknown or invalid key, and in prod each insecure default.
func Load(opts Options) (*Config, error) {
	core := Defaults()
	keys, err := newKeySet(&core, opts.Sections)
	if err != nil {
		return nil, err
	}
	k := koanf.New(".")
	if err := k.Load(structs.Provider(core, "koanf"), nil); err != nil {
		return nil, fmt.Errorf("config defaults: %w", err)
	}
	for _, s := range opts.Sections {
		sub := koanf.New(".")
		if err := sub.Load(structs.Provider(s.Target, "koanf"), nil); err != nil {
			return nil, fmt.Errorf("config defaults of %s: %w", s.Name, err)
		}
		if err := k.MergeAt(sub, s.Name); err != nil {
			return nil, fmt.Errorf("config defaults of %s: %w", s.Name, err)
		}
	}

	var problems []string
	env := envMap(opts.Environ)
	flags, err := flagValues(opts.Flags, keys)
	if err != nil {
		problems = append(problems, err.Error())
	}
	dotenv, err := readDotenv(filepath.Join(opts.Dir, ".env"))
	if err != nil {
		return nil, err
	}
	appEnv := firstNonEmpty(flags["APP_ENV"], env["APP_ENV"], dotenv["APP_ENV"], core.AppEnv)
	dotenvEnv, err := readDotenv(filepath.Join(opts.Dir, ".env."+appEnv))
	if err != nil {
		return nil, err
	}

	for _, src := range []struct {
		name   string
		values map[string]string
		strict bool
	}{
		{".env", dotenv, true},
		{".env." + appEnv, dotenvEnv, true},
		{"environment", env, false},
		{"flags", flags, true},
	} {
		m := map[string]any{}
		for name, v := range src.values {
			key, ok := keys.byEnv[name]
			if !ok {
				if src.strict && !toolingKeys[name] {
					problems = append(problems, fmt.Sprintf("%s: unknown key (in %s)", name, src.name))
				}
				continue
			}
			m[key] = v
		}
		if err := k.Load(confmap.Provider(m, "."), nil); err != nil {
			return nil, fmt.Errorf("config from %s: %w", src.name, err)
		}
	}

	cfg := &Config{sections: opts.Sections, keys: keys}
	problems = append(problems, unmarshal(k, "", &cfg.Core, keys)...)
	for _, s := range opts.Sections {
		problems = append(problems, unmarshal(k, s.Name, s.Target, keys)...)
	}
	if len(problems) == 0 {
		problems = append(problems, validate(cfg, keys)...)
	}
	if len(problems) == 0 && cfg.AppEnv == EnvProd {
		problems = append(problems, insecure(cfg)...)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, &Error{Problems: problems}
	}
	if !setBy(keys, "WORKERS_ENABLED", dotenv, dotenvEnv, env, flags) {
		cfg.WorkersEnabled = cfg.AppEnv == EnvDev
	}
	if cfg.LogFormat == "" {
		cfg.LogFormat = "text"
		if cfg.AppEnv == EnvProd {
			cfg.LogFormat = "json"
		}
	}
	return cfg, nil
}

// setBy reports whether any of sources sets the key named env (a known key).
func setBy(keys *keySet, env string, sources ...map[string]string) bool {
	if _, ok := keys.byEnv[env]; !ok {
		return false
	}
	for _, src := range sources {
		if _, ok := src[env]; ok {
			return true
		}
	}
	return false
}

// toolingKeys may appear in .env files for the tooling and tests; the app ignores them.
var toolingKeys = map[string]bool{"DEV_DATABASE_URL": true, "TEST_DATABASE_URL": true}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// readDotenv parses a .env file; a missing file is empty.
func readDotenv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	m, err := godotenv.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return m, nil
}

// flagValues returns the values of the flags that were set, by env-style key.
func flagValues(fs *pflag.FlagSet, keys *keySet) (map[string]string, error) {
	out := map[string]string{}
	if fs == nil {
		return out, nil
	}
	var errs []error
	fs.Visit(func(f *pflag.Flag) {
		if f.Name == "set" {
			vals, _ := fs.GetStringArray("set")
			for _, kv := range vals {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					errs = append(errs, fmt.Errorf("--set %q: want KEY=VALUE", kv))
					continue
				}
				out[strings.ToUpper(strings.TrimSpace(k))] = v
			}
			return
		}
		name := strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if _, ok := keys.byEnv[name]; ok {
			out[name] = f.Value.String()
		}
	})
	return out, errors.Join(errs...)
}

func unmarshal(k *koanf.Koanf, path string, target any, keys *keySet) []string {
	dc := &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			trimmedSliceHook,
		),
		WeaklyTypedInput: true,
		ErrorUnused:      false,
	}
	var problems []string
	// Decode key by key, so that an error names exactly one key.
	t := reflect.TypeOf(target).Elem()
	v := reflect.ValueOf(target).Elem()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("koanf")
		if tag == "" {
			continue
		}
		full := tag
		if path != "" {
			full = path + "." + tag
		}
		if !k.Exists(full) {
			continue
		}
		ptr := reflect.New(f.Type)
		c := *dc
		c.Result = ptr.Interface()
		d, err := mapstructure.NewDecoder(&c)
		if err == nil {
			err = d.Decode(k.Get(full))
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: invalid value %q (want %s)", keys.envOf[full], fmt.Sprint(k.Get(full)), typeName(f.Type)))
			continue
		}
		v.Field(i).Set(ptr.Elem())
	}
	return problems
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(time.Duration(0)):
		return "a duration such as 5s or 2m"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "an integer"
	case t.Kind() == reflect.Slice:
		return "a comma-separated list"
	}
	return t.String()
}

// trimmedSliceHook turns "a, b,c" into []string{"a","b","c"} and "" into none.
func trimmedSliceHook(from, to reflect.Type, data any) (any, error) {
	if from.Kind() != reflect.String || to.Kind() != reflect.Slice || to.Elem().Kind() != reflect.String {
		return data, nil
	}
	var out []string
	for _, p := range strings.Split(data.(string), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

func validate(cfg *Config, keys *keySet) []string {
	v := validator.New()
	v.RegisterTagNameFunc(func(f reflect.StructField) string { return f.Tag.Get("koanf") })
	_ = v.RegisterValidation("pgurl", func(fl validator.FieldLevel) bool {
		s := fl.Field().String()
		return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
	})
	var problems []string
	check := func(section string, s any) {
		err := v.Struct(s)
		var verrs validator.ValidationErrors
		if !errors.As(err, &verrs) {
			if err != nil {
				problems = append(problems, err.Error())
			}
			return
		}
		for _, fe := range verrs {
			key, item, _ := strings.Cut(fe.Field(), "[") // an element of a list: "key[1]"
			if item != "" {
				item = " (item " + strings.TrimSuffix(item, "]") + ")"
			}
			if section != "" {
				key = section + "." + key
			}
			problems = append(problems, fmt.Sprintf("%s%s: %s", keys.envOf[key], item, rule(fe)))
		}
	}
	check("", &cfg.Core)
	for _, s := range cfg.sections {
		check(s.Name, s.Target)
	}
	return append(problems, rateLimitProblems(&cfg.Core)...)
}

// rateLimitProblems checks the rate-limit policies and REDIS_URL; each problem names
// its key.
func rateLimitProblems(c *Core) []string {
	var p []string
	if _, err := ratelimit.ParseRules(c.RateLimitDefault, c.RateLimitOverrides); err != nil {
		p = append(p, strings.Split(err.Error(), "\n")...)
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			p = append(p, "REDIS_URL: must be a redis://, rediss:// or unix:// URL")
		}
	}
	return p
}

func rule(fe validator.FieldError) string {
	switch fe.Tag() {
	case "required":
		return "is required"
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "hostname_port":
		return "must be host:port, e.g. 127.0.0.1:8080"
	case "pgurl":
		return "must be a postgres:// URL"
	case "min", "gte":
		if fe.Kind() == reflect.String {
			return "must be at least " + fe.Param() + " characters long"
		}
		return "must be at least " + fe.Param()
	case "max", "lte":
		return "must be at most " + fe.Param()
	case "gt":
		return "must be greater than " + fe.Param()
	case "ltefield":
		return "must not exceed " + fe.Param()
	}
	return "fails rule " + fe.Tag()
}

// insecure lists the development defaults that prod refuses.
func insecure(cfg *Config) []string {
	var p []string
	if cfg.DatabaseURL == DevDatabaseURL {
		p = append(p, "DATABASE_URL: must be set explicitly in prod")
	}
	if cfg.CursorSecret == devCursorSecret {
		p = append(p, "CURSOR_SECRET: the development default is not allowed in prod")
	}
	if cfg.PasswordMemoryKiB < 19456 || cfg.PasswordIterations < 2 {
		p = append(p, "PASSWORD_MEMORY_KIB, PASSWORD_ITERATIONS: below the argon2id minimum (19456 KiB, 2 passes) in prod")
	}
	if cfg.JWTSecret == devJWTSecret {
		p = append(p, "JWT_SECRET: the development default is not allowed in prod")
	}
	if slices.Contains(cfg.CORSAllowedOrigins, "*") {
		p = append(p, "CORS_ALLOWED_ORIGINS: * is not allowed in prod; list the origins")
	}
	if d, err := ratelimit.ParsePolicy(ratelimit.DefaultPolicy, cfg.RateLimitDefault); err == nil && d.Off() {
		p = append(p, "RATE_LIMIT_DEFAULT: off is not allowed in prod (behind a gateway that limits, set a budget above the gateway's)")
	}
	for _, s := range cfg.sections {
		if c, ok := s.Target.(interface{ InsecureInProd() []string }); ok {
			for _, msg := range c.InsecureInProd() {
				p = append(p, strings.ToUpper(s.Name)+"_"+msg)
			}
		}
	}
	return p
}
