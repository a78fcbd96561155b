// Package app is the composition root: config → logger → pool → modules → router →
// server. Everything is built here and passed down explicitly.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/riverqueue/river"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/quarrydev/quarry/internal/core/apperr"
	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/logging"
	"github.com/quarrydev/quarry/internal/core/metrics"
	"github.com/quarrydev/quarry/internal/core/middleware"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/core/openapi"
	"github.com/quarrydev/quarry/internal/core/password"
	"github.com/quarrydev/quarry/internal/core/ratelimit"
	"github.com/quarrydev/quarry/internal/core/tracing"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/jobs"
	"github.com/quarrydev/quarry/internal/migrate"
)

// App is a configured API server.
type App struct {
	cfg      *config.Config
	log      *slog.Logger
	access   *logging.AccessLog
	pool     *db.Pool
	replicas *db.Replicas // nil without DATABASE_REPLICA_URLS
	store    *db.Store
	router   *httpx.Router
	modules  []module.Module
	schema   *migrate.Engine
	tokens   *authn.Tokens
	limits   *rateLimits
	observe  *observability
	jobs     *jobs.Client // nil in RouteTable
	// jobWorkers registers job kinds besides the modules' (Options.JobWorkers).
	jobWorkers func(*river.Workers) error
	console    *console // nil when JOBS_CONSOLE_ENABLED is false
	// states caches users' role and activity for the guard; listening stops it
	// listening to the database's notifications of changed users.
	states    *authn.StateCache
	listening context.CancelFunc
	listened  sync.WaitGroup
	// passwords is the hasher every module gets.
	passwords *password.Hasher

	ready    atomic.Bool // false until serving and again once shutdown starts
	migrated atomic.Bool // set once the database was seen up to date
}

// Options carry what New needs besides the configuration.
type Options struct {
	// Modules is the registry: every module the binary has.
	Modules []module.Module
	// Migrations are the migration files the binary was built with; readiness
	// requires the database to have them all applied. Nil skips that check.
	Migrations *migrate.Engine
	Log        *slog.Logger
	// AccessLog, when set, writes the access log lines (JSON) in place of Log.
	AccessLog *logging.AccessLog
	// SpanExporter, when set, receives the trace spans instead of the OTLP exporter
	// configured by TRACING_OTLP_ENDPOINT.
	SpanExporter sdktrace.SpanExporter
	// JobWorkers, when set, registers more job kinds (see jobs.Config.Register).
	JobWorkers func(*river.Workers) error
}

// New builds the application: it selects the enabled modules, opens the database pool
// and mounts every route. It fails on an unknown module, an unreachable database or an
// invalid route table.
func New(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	mods, err := module.Select(opts.Modules, cfg.EnabledModules)
	if err != nil {
		return nil, err
	}
	tr, err := newTracing(ctx, cfg, opts.SpanExporter)
	if err != nil {
		return nil, err
	}
	poolCfg := db.PoolConfig{
		URL:               cfg.DatabaseURL,
		MaxConns:          cfg.DBMaxConns,
		MinConns:          cfg.DBMinConns,
		ConnectTimeout:    cfg.DBConnectTimeout,
		AcquireTimeout:    cfg.DBAcquireTimeout,
		HealthCheckPeriod: cfg.DBHealthCheckPeriod,
		Tracer:            tr.QueryTracer(),
		PlanCacheMode:     cfg.DBPlanCacheMode,
	}
	pool, err := db.NewPool(ctx, poolCfg)
	if err != nil {
		_ = tr.Shutdown(ctx)
		return nil, err
	}
	replicas, err := newReplicas(ctx, cfg, pool, poolCfg, opts.Log)
	if err != nil {
		pool.Close()
		_ = tr.Shutdown(ctx)
		return nil, err
	}
	observe := &observability{tracing: tr}
	if cfg.MetricsEnabled {
		observe.metrics = metrics.New(pool.Raw())
		observe.metrics.Replicas(replicas)
	}
	limits, err := newRateLimits(cfg, opts.Modules, opts.Log, true, observe.metrics.RateLimitBreakerChange)
	if err != nil {
		if replicas != nil {
			replicas.Close()
		}
		pool.Close()
		_ = tr.Shutdown(ctx)
		return nil, err
	}
	limits.limiter.OnRejected = observe.metrics.RateLimited
	limits.limiter.OnBackendError = func(policy string, _ error) { observe.metrics.RateLimitBackendError(policy) }
	a := &App{cfg: cfg, log: opts.Log, access: opts.AccessLog, pool: pool, replicas: replicas, modules: mods, schema: opts.Migrations, limits: limits, observe: observe, jobWorkers: opts.JobWorkers}
	if err := a.mount(mods); err != nil {
		a.Close()
		return nil, err
	}
	limits.check(ctx, opts.Log)
	a.listenUserStates()
	return a, nil
}

// userStateChannel is where the database announces changed users (the trigger
// users_notify_auth_state of schema/users.sql).
const userStateChannel = "user_auth_state"

// userStateMaxAge and userStateMaxUsers bound the guard's cache of users' state; the
// notifications keep it exact meanwhile.
const (
	userStateMaxAge   = time.Minute
	userStateMaxUsers = 100_000
)

// listenUserStates keeps the guard's cache of users' state live while the database's
// notifications of changed users arrive, until Close: a deactivation or role change
// made anywhere (any instance, the CLI, SQL) applies to the next request. While the
// notifications cannot be received the cache is bypassed.
func (a *App) listenUserStates() {
	ctx, cancel := context.WithCancel(context.Background())
	a.listening = cancel
	a.listened.Go(func() {
		a.pool.Listen(ctx, userStateChannel, db.Listener{
			Ready:  func() { a.states.Live(true) },
			Notify: a.states.Notified,
			Lost: func(err error) {
				a.states.Live(false)
				a.log.Warn("user state notifications lost; reading users' state from the database on every request until they are back", "error", err)
			},
		})
	})
}

// mount builds what modules depend on, the engine with its middleware, and mounts
// the core routes and every enabled module's.
func (a *App) mount(mods []module.Module) error {
	deps, err := a.deps()
	if err != nil {
		return err
	}
	if a.pool != nil { // RouteTable has no database
		a.jobs, err = NewJobs(a.cfg, a.pool, a.store, a.observe.metrics, a.log, ModuleWorkers(mods, deps, a.jobWorkers))
		if err != nil {
			return err
		}
		deps.Jobs = jobs.NewEnqueuer(a.jobs)
	}
	engine, err := a.engine()
	if err != nil {
		return err
	}
	a.router = httpx.NewRouter(engine, httpx.NewValidator())
	site, err := a.mountCore()
	if err != nil {
		return err
	}
	if err := a.mountModules(mods, deps); err != nil {
		return err
	}
	if a.jobs != nil && a.cfg.JobsConsoleEnabled {
		secure := a.cfg.AppEnv == config.EnvProd || a.cfg.HSTS
		if a.console, err = newConsole(a.jobs, deps.Guard, a.tokens, secure, a); err != nil {
			return fmt.Errorf("jobs console: %w", err)
		}
		a.console.mount(engine)
	}
	if site != nil {
		return site.Publish(a.router.Routes(), mods)
	}
	return nil
}

// deps builds the capabilities every module gets: the store, cursors, password
// hasher, tokens, the authentication guard and the rate limiter. It fails naming
// the setting at fault.
func (a *App) deps() (module.Deps, error) {
	cursors, err := db.NewCursorCodec([]byte(a.cfg.CursorSecret))
	if err != nil {
		return module.Deps{}, fmt.Errorf("CURSOR_SECRET: %w", err)
	}
	// The guard's users' state is read from the primary: the notifications that keep
	// the cache exact are about the primary, which a replica may not have caught up with.
	primary := db.NewStore(a.pool, a.observe.queryHooks()...)
	a.states = authn.NewStateCache(func(ctx context.Context, id int64) (string, bool, error) {
		st, err := primary.GetUserAuthState(ctx, id)
		if errors.Is(err, db.ErrNotFound) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		return st.Role, st.IsActive, nil
	}, userStateMaxAge, userStateMaxUsers)
	a.store = db.NewReplicatedStore(a.pool, a.replicas, append(a.observe.queryHooks(), forgetChangedUsers(a.states))...)
	store := a.store
	params := password.DefaultParams()
	params.Memory, params.Iterations, params.Parallelism = a.cfg.PasswordMemoryKiB, a.cfg.PasswordIterations, a.cfg.PasswordParallelism
	if err := params.Validate(); err != nil {
		return module.Deps{}, fmt.Errorf("PASSWORD_*: %w", err)
	}
	tokens, err := newTokens(a.cfg)
	if err != nil {
		return module.Deps{}, err
	}
	a.tokens = tokens
	guard := authn.NewGuard(tokens, a.states.State)
	guard.OnFailure = a.observe.metrics.AuthFailure
	passwords := password.NewHasher(params, a.cfg.PasswordMaxConcurrent, a.cfg.PasswordMaxWait)
	a.passwords = passwords
	// A lower priority for hashing is an optimisation: where it cannot be had, hashing
	// runs at the priority of request serving, as it does with PASSWORD_NICE=0.
	if err := passwords.SetNice(a.cfg.PasswordNice); errors.Is(err, password.ErrPriorityUnsupported) {
		a.log.Info("PASSWORD_NICE has no effect on this system; passwords are hashed at the priority of request serving", "error", err)
	} else if err != nil {
		a.log.Warn("PASSWORD_NICE could not be applied; passwords are hashed at the priority of request serving", "error", err)
	}
	return module.Deps{
		Store: store, Cursors: cursors, Log: a.log,
		Passwords:  passwords,
		Tokens:     tokens,
		Guard:      guard,
		RateLimits: a.limits.limiter,
	}, nil
}

// LowPriorityHashingThreads returns how many threads may hash passwords at once at a
// lower priority than request serving (PASSWORD_NICE): the hasher's capacity, or 0
// when hashing runs at the priority of request serving.
func (a *App) LowPriorityHashingThreads() int {
	if a.passwords.Nice() == 0 {
		return 0
	}
	return a.passwords.Capacity()
}

// forgetChangedUsers is the store hook that makes this instance's own changes of users
// apply to its next request without waiting for the notification: a successful
// UpdateUser or DeleteUser empties the cache (again at commit, by the notification, in
// case a request read the old state meanwhile).
func forgetChangedUsers(states *authn.StateCache) db.QueryHook {
	return db.QueryHook{End: func(_ context.Context, name string, _ time.Duration, err error) {
		if err == nil && (name == "UpdateUser" || name == "DeleteUser") {
			states.ForgetAll()
		}
	}}
}

// engine returns the gin engine with the middleware chain every request passes.
// It fails on an unusable TRUSTED_PROXIES.
func (a *App) engine() (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	engine.HandleMethodNotAllowed = true
	// A path with a trailing slash is not redirected (gin answers 301 with an HTML
	// body): it is an unknown route, answered 404 in the envelope.
	engine.RedirectTrailingSlash = false
	engine.RedirectFixedPath = false
	engine.ContextWithFallback = true
	if err := engine.SetTrustedProxies(a.cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	core := middleware.CoreConfig{
		Log: a.log, Access: a.access, HSTS: a.cfg.HSTS,
		BodyLimit: a.cfg.BodyLimit, BodyReadTimeout: a.cfg.BodyReadTimeout, RequestTimeout: a.cfg.RequestTimeout,
	}
	if m := a.observe.metrics; m != nil {
		core.Observe, core.InFlight = m.Observe, m.InFlight
	}
	chain := []gin.HandlerFunc{middleware.Core(core)}
	chain = append(chain, a.observe.tracing.Middleware(a.cfg.TracingServiceName)...)
	if cors := middleware.CORS(middleware.CORSConfig{
		AllowedOrigins: a.cfg.CORSAllowedOrigins,
		AllowedMethods: a.cfg.CORSAllowedMethods,
		AllowedHeaders: a.cfg.CORSAllowedHeaders,
		MaxAge:         a.cfg.CORSMaxAge,
	}); cors != nil {
		chain = append(chain, cors)
	}
	chain = append(chain, a.limits.middleware(a.tokens))
	if a.replicas != nil {
		chain = append(chain, readYourWrites(a.cfg.HSTS))
	}
	engine.Use(chain...)
	engine.NoRoute(func(c *gin.Context) {
		httpx.Fail(c, httpx.ErrRouteNotFound)
	})
	engine.NoMethod(func(c *gin.Context) {
		httpx.Fail(c, apperr.New(apperr.KindMethodNotAllowed, "method_not_allowed", "this path does not accept this method"))
	})
	return engine, nil
}

// mountCore mounts the health, metrics and docs routes; it returns the docs site
// (nil when DOCS_ENABLED is false), which publishes the document once every route is
// mounted.
func (a *App) mountCore() (*openapi.Site, error) {
	if err := a.router.Mount("health", openapi.SystemTag.Name, "", a.healthRoutes()); err != nil {
		return nil, err
	}
	if err := a.router.Mount("metrics", openapi.SystemTag.Name, "", a.observe.routes(a.cfg.MetricsAddr)); err != nil {
		return nil, err
	}
	var site *openapi.Site
	var err error
	if a.cfg.DocsEnabled {
		if site, err = openapi.NewSite(openapi.DefaultInfo()); err != nil {
			return nil, err
		}
		if err := a.router.Mount("docs", openapi.SystemTag.Name, "", site.Routes()); err != nil {
			return nil, err
		}
	}
	return site, nil
}

// mountModules mounts every enabled module's routes: its own under its base path,
// nested ones under the resource they name. It fails naming the module, on a route
// nested under a disabled module or one that conflicts with a mounted route.
func (a *App) mountModules(mods []module.Module, deps module.Deps) error {
	deps.Module = func(name string) module.Module {
		for _, m := range mods {
			if m.Name() == name {
				return m
			}
		}
		return nil
	}
	for _, m := range mods {
		routes, err := m.Routes(deps)
		if err != nil {
			return fmt.Errorf("module %s: %w", m.Name(), err)
		}
		bases, byBase, err := module.Mounts(m, a.limits.document(m.Name(), routes), mods)
		if err != nil {
			return fmt.Errorf("module %s: %w", m.Name(), err)
		}
		for _, base := range bases {
			if err := a.router.Mount(m.Name(), m.Tag().Name, base, byBase[base]); err != nil {
				return fmt.Errorf("module %s: %w", m.Name(), err)
			}
		}
	}
	return nil
}

// newTokens builds the access token issuer and verifier from JWT_* settings.
func newTokens(cfg *config.Config) (*authn.Tokens, error) {
	tc := authn.TokenConfig{
		Signing:  authn.Key{ID: cfg.JWTKeyID, Secret: []byte(cfg.JWTSecret)},
		Issuer:   cfg.JWTIssuer,
		Audience: cfg.JWTAudience,
		TTL:      cfg.AccessTokenTTL,
		Leeway:   cfg.JWTLeeway,
	}
	for _, kv := range cfg.JWTVerifyKeys {
		id, secret, ok := strings.Cut(kv, ":")
		if !ok {
			return nil, errors.New("JWT_VERIFY_KEYS: each entry must be kid:secret")
		}
		tc.Verify = append(tc.Verify, authn.Key{ID: id, Secret: []byte(secret)})
	}
	t, err := authn.NewTokens(tc)
	if err != nil {
		return nil, fmt.Errorf("JWT_*: %w", err)
	}
	return t, nil
}

// Handler returns the HTTP handler serving the API.
func (a *App) Handler() http.Handler { return a.router.Engine() }

// Routes returns the mounted route table.
func (a *App) Routes() []httpx.MountedRoute { return a.router.Routes() }

// Modules returns the enabled modules.
func (a *App) Modules() []module.Module { return a.modules }

// Tokens returns the access token issuer.
func (a *App) Tokens() *authn.Tokens { return a.tokens }

// Pool returns the database pool.
func (a *App) Pool() *db.Pool { return a.pool }

// Store returns the store the modules use.
func (a *App) Store() *db.Store { return a.store }

// RateLimiter returns the limiter of API requests and login attempts.
func (a *App) RateLimiter() *ratelimit.Limiter { return a.limits.limiter }

// Jobs returns the River client: it inserts jobs, and works them once started (with
// WORKERS_ENABLED, Serve starts it).
func (a *App) Jobs() *jobs.Client { return a.jobs }

// Replicas returns the read replicas, nil without DATABASE_REPLICA_URLS.
func (a *App) Replicas() *db.Replicas { return a.replicas }

// Close releases the database pools and the rate limiter's Redis client.
func (a *App) Close() {
	a.console.close()
	if a.listening != nil {
		a.listening()
		a.listened.Wait()
	}
	if a.replicas != nil {
		a.replicas.Close()
	}
	a.pool.Close()
	if err := a.limits.close(); err != nil {
		a.log.Warn("closing the rate limiter's Redis client", "error", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.observe.tracing.Shutdown(ctx); err != nil {
		a.log.Warn("flushing trace spans", "error", err)
	}
}

// Serve serves on ln until ctx ends, then shuts down gracefully: readiness turns false,
// the listener closes, in-flight requests get up to SHUTDOWN_TIMEOUT to finish, and the
// pool closes. It returns nil after a clean shutdown.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: a.cfg.ReadHeaderTimeout,
		ReadTimeout:       a.cfg.ReadTimeout,
		WriteTimeout:      a.cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       a.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if err := a.observe.serveMetrics(ctx, a.cfg.MetricsAddr, a.log); err != nil {
		a.Close()
		return err
	}
	if a.cfg.WorkersEnabled {
		if err := a.jobs.Start(context.WithoutCancel(ctx)); err != nil {
			a.Close()
			return fmt.Errorf("start job workers: %w", err)
		}
		a.log.Info("working jobs", "queues", a.cfg.JobsQueues)
	}
	errc := make(chan error, 1)
	// Ready before the first request can be served: ln already accepts connections.
	a.ready.Store(true)
	go func() { errc <- srv.Serve(middleware.EnvelopeListener(ln)) }()
	a.log.Info("serving", "addr", ln.Addr().String(), "env", a.cfg.AppEnv, "modules", module.Names(a.modules))

	select {
	case err := <-errc:
		a.ready.Store(false)
		_ = a.stopJobs(context.Background())
		a.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.ready.Store(false)
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout.String())
	if d := a.cfg.ShutdownDelay; d > 0 {
		time.Sleep(d) // let load balancers see readiness fail before the listener closes
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	// Running jobs finish within the same timeout as in-flight requests.
	jobsErr := make(chan error, 1)
	go func() { jobsErr <- a.stopJobs(shutCtx) }()
	err := srv.Shutdown(shutCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("shutdown: in-flight requests still running after %s", a.cfg.ShutdownTimeout)
		srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if jerr := <-jobsErr; jerr != nil {
		err = errors.Join(err, jerr)
	}
	a.Close()
	a.log.Info("stopped")
	return err
}

// RouteTable returns the routes the enabled modules of cfg would mount, without
// connecting to the database.
func RouteTable(cfg *config.Config, all []module.Module, log *slog.Logger) ([]httpx.MountedRoute, error) {
	mods, err := module.Select(all, cfg.EnabledModules)
	if err != nil {
		return nil, err
	}
	limits, err := newRateLimits(cfg, all, log, false, nil)
	if err != nil {
		return nil, err
	}
	observe := &observability{tracing: &tracing.Tracing{}}
	if cfg.MetricsEnabled {
		observe.metrics = metrics.New(nil)
	}
	a := &App{cfg: cfg, log: log, modules: mods, limits: limits, observe: observe}
	if err := a.mount(mods); err != nil {
		return nil, err
	}
	return a.Routes(), nil
}
