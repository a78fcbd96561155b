package db

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults for the [PoolConfig] fields that pgx leaves unbounded.
const (
	// DefaultConnectTimeout bounds establishing one connection when neither
	// PoolConfig.ConnectTimeout nor the URL's connect_timeout is set.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultAcquireTimeout bounds the wait for a free pool connection when
	// PoolConfig.AcquireTimeout is zero.
	DefaultAcquireTimeout = 3 * time.Second
)

// DefaultPlanCacheMode is the plan_cache_mode of the pool's connections when
// PoolConfig.PlanCacheMode is empty.
const DefaultPlanCacheMode = "force_generic_plan"

// PoolConfig configures [NewPool]. A zero field means "not set": the value
// then comes from the URL's query parameters (pool_max_conns,
// pool_min_conns, pool_health_check_period, pool_max_conn_lifetime,
// pool_max_conn_idle_time, connect_timeout) and otherwise from these
// defaults: MaxConns = max(4, number of CPUs), MinConns = 0,
// HealthCheckPeriod = 1m, MaxConnLifetime = 1h, MaxConnIdleTime = 30m
// (pgxpool's defaults), ConnectTimeout = [DefaultConnectTimeout],
// AcquireTimeout = [DefaultAcquireTimeout].
type PoolConfig struct {
	// URL is the PostgreSQL connection string, as a URL
	// (postgres://user:password@host:5432/db?sslmode=disable) or in
	// keyword/value form. Required.
	URL string
	// MaxConns and MinConns bound the number of open connections.
	MaxConns, MinConns int32
	// ConnectTimeout bounds establishing one connection.
	ConnectTimeout time.Duration
	// AcquireTimeout bounds how long a statement waits for a free connection
	// when all MaxConns are in use. It does not bound the statement itself;
	// use the context for that.
	AcquireTimeout time.Duration
	// HealthCheckPeriod is the interval between checks of idle connections.
	HealthCheckPeriod time.Duration
	// MaxConnLifetime and MaxConnIdleTime close connections that are older,
	// or idle longer, than this.
	MaxConnLifetime, MaxConnIdleTime time.Duration
	// Tracer, when set, traces every query (e.g. OpenTelemetry spans).
	Tracer pgx.QueryTracer
	// PlanCacheMode is PostgreSQL's plan_cache_mode, set on each connection as it
	// opens: "force_generic_plan" (the default, [DefaultPlanCacheMode]) plans each
	// prepared statement once per connection and reuses the plan; "auto" leaves
	// PostgreSQL's choice, which re-plans every execution of a statement whose generic
	// plan it estimates dearer than a custom one (as for the generated lists' one branch
	// per filter shape, whose plans the plan tests hold to the generic form);
	// "force_custom_plan" re-plans every execution.
	PlanCacheMode string
}

// Pool is a PostgreSQL connection pool. It wraps a *pgxpool.Pool and
// implements sqlc's DBTX interface (Exec, Query, QueryRow, CopyFrom), so
// sqlc.New(pool) works; unlike pgxpool, every statement waits at most
// AcquireTimeout for a connection and otherwise fails with
// [ErrPoolExhausted]. Statements use pgx's default execution mode, which
// prepares and caches statements per connection.
//
// A Pool is safe for concurrent use.
type Pool struct {
	pool           *pgxpool.Pool
	acquireTimeout time.Duration
}

// errAcquireTimeout is the cancellation cause of an acquire that ran out of
// AcquireTimeout, as opposed to one whose caller's context ended.
var errAcquireTimeout = errors.New("acquire timeout")

// NewPool builds a pool from cfg and pings the server once, so a bad URL,
// wrong credentials or an unreachable server fail at start-up. ctx bounds
// only that first connection.
//
// It returns an error if cfg is invalid (empty or unparsable URL, negative
// values, MinConns > MaxConns) or if the ping fails. Error messages show the
// URL with its password replaced by "xxxxx" and never contain the password.
func NewPool(ctx context.Context, cfg PoolConfig) (*Pool, error) {
	p, err := openPool(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// The start-up ping goes to pgxpool directly: establishing the first
	// connection is bounded by ConnectTimeout, not AcquireTimeout, and its
	// failure should read as what it is rather than as an exhausted pool.
	if err := p.pool.Ping(ctx); err != nil {
		p.pool.Close()
		return nil, redact(err, "db: connect to "+RedactURL(cfg.URL)+": ", p.pool.Config().ConnConfig.Password)
	}
	return p, nil
}

// openPool builds a pool from cfg without connecting (connections open on first
// use). Errors are NewPool's, but for the ping.
func openPool(ctx context.Context, cfg PoolConfig) (*Pool, error) {
	if strings.TrimSpace(cfg.URL) == "" {
		return nil, errors.New("db: database URL is empty")
	}
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, redact(err, "db: parse database URL: ", urlPassword(cfg.URL))
	}
	if err := applyConfig(pcfg, cfg); err != nil {
		return nil, err
	}
	acquireTimeout := cfg.AcquireTimeout
	if acquireTimeout == 0 {
		acquireTimeout = DefaultAcquireTimeout
	}

	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, redact(err, "db: create pool for "+RedactURL(cfg.URL)+": ", pcfg.ConnConfig.Password)
	}
	return &Pool{pool: pool, acquireTimeout: acquireTimeout}, nil
}

// applyConfig copies the set fields of cfg onto pcfg, fills in the defaults
// that pgxpool lacks, and returns an error if the result is invalid.
func applyConfig(pcfg *pgxpool.Config, cfg PoolConfig) error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ConnectTimeout", cfg.ConnectTimeout},
		{"AcquireTimeout", cfg.AcquireTimeout},
		{"HealthCheckPeriod", cfg.HealthCheckPeriod},
		{"MaxConnLifetime", cfg.MaxConnLifetime},
		{"MaxConnIdleTime", cfg.MaxConnIdleTime},
	} {
		if d.v < 0 {
			return fmt.Errorf("db: pool config: %s must not be negative, got %s", d.name, d.v)
		}
	}
	if cfg.MaxConns < 0 || cfg.MinConns < 0 {
		return fmt.Errorf("db: pool config: MaxConns and MinConns must not be negative, got %d and %d",
			cfg.MaxConns, cfg.MinConns)
	}

	if cfg.MaxConns > 0 {
		pcfg.MaxConns = cfg.MaxConns
	}
	if cfg.MinConns > 0 {
		pcfg.MinConns = cfg.MinConns
	}
	if cfg.HealthCheckPeriod > 0 {
		pcfg.HealthCheckPeriod = cfg.HealthCheckPeriod
	}
	if cfg.MaxConnLifetime > 0 {
		pcfg.MaxConnLifetime = cfg.MaxConnLifetime
	}
	if cfg.MaxConnIdleTime > 0 {
		pcfg.MaxConnIdleTime = cfg.MaxConnIdleTime
	}
	switch {
	case cfg.ConnectTimeout > 0:
		pcfg.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	case pcfg.ConnConfig.ConnectTimeout == 0:
		pcfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Tracer != nil {
		pcfg.ConnConfig.Tracer = cfg.Tracer
	}
	mode := cfg.PlanCacheMode
	if mode == "" {
		mode = DefaultPlanCacheMode
	}
	switch mode {
	case "auto":
	case "force_generic_plan", "force_custom_plan":
		// A SET after connecting rather than a startup parameter, which poolers
		// such as PgBouncer refuse unless told to ignore it.
		set := "SET plan_cache_mode TO " + mode
		pcfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			if _, err := c.Exec(ctx, set); err != nil {
				return fmt.Errorf("db: %s: %w", set, err)
			}
			return nil
		}
	default:
		return fmt.Errorf("db: pool config: PlanCacheMode must be auto, force_generic_plan or force_custom_plan, got %q", mode)
	}

	if pcfg.MaxConns < 1 {
		return fmt.Errorf("db: pool config: MaxConns must be at least 1, got %d", pcfg.MaxConns)
	}
	if pcfg.MinConns > pcfg.MaxConns {
		return fmt.Errorf("db: pool config: MinConns (%d) exceeds MaxConns (%d)", pcfg.MinConns, pcfg.MaxConns)
	}
	return nil
}

// Raw returns the underlying pgxpool.Pool, for features the wrapper does not
// cover (SendBatch, Acquire, Config). Statements sent through it are not
// bounded by AcquireTimeout.
func (p *Pool) Raw() *pgxpool.Pool { return p.pool }

// Close closes all connections. It waits for acquired connections to be
// released.
func (p *Pool) Close() { p.pool.Close() }

// Stat returns a snapshot of the pool's statistics.
func (p *Pool) Stat() *pgxpool.Stat { return p.pool.Stat() }

// Ping acquires a connection and checks that the server answers. It returns
// [ErrPoolExhausted] if no connection is free within AcquireTimeout, or the
// connection or context error.
func (p *Pool) Ping(ctx context.Context) error {
	c, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return c.Ping(ctx)
}

// acquire returns a pool connection, waiting at most p.acquireTimeout on top
// of ctx. When that wait runs out it returns an error matching both
// ErrPoolExhausted and context.DeadlineExceeded; when ctx ends first it
// returns ctx's error, wrapped.
func (p *Pool) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeoutCause(ctx, p.acquireTimeout, errAcquireTimeout)
	defer cancel()
	c, err := p.pool.Acquire(actx)
	if err != nil {
		if errors.Is(context.Cause(actx), errAcquireTimeout) {
			return nil, fmt.Errorf("%w: no connection free within %s: %w", ErrPoolExhausted, p.acquireTimeout, err)
		}
		return nil, fmt.Errorf("acquire connection: %w", err)
	}
	return c, nil
}

// Exec runs a statement that returns no rows and returns its command tag.
// Errors are [ErrPoolExhausted], context errors, or the statement's error
// (use [Translate]).
func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	return c.Conn().Exec(ctx, sql, args...)
}

// Query runs a query and returns its rows. The connection goes back to the
// pool when the rows are closed, which Next does after the last row; callers
// must close the rows (defer rows.Close()). On error the returned rows are
// closed and report the same error from Err.
func (p *Pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return errRows{err: err}, err
	}
	r, err := c.Conn().Query(ctx, sql, args...)
	if err != nil {
		c.Release()
		return errRows{err: err}, err
	}
	return &poolRows{Rows: r, c: c}, nil
}

// QueryRow runs a query expected to return at most one row. Errors,
// including pgx.ErrNoRows and [ErrPoolExhausted], are returned by the row's
// Scan, which also returns the connection to the pool; Scan must be called.
func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c, err := p.acquire(ctx)
	if err != nil {
		return errRows{err: err}
	}
	return &poolRow{r: c.Conn().QueryRow(ctx, sql, args...), c: c}
}

// CopyFrom bulk-loads rows into table with the COPY protocol and returns the
// number of rows copied. Errors are as for [Pool.Exec].
func (p *Pool) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Release()
	return c.Conn().CopyFrom(ctx, table, columns, src)
}

// BeginTx acquires a connection and starts a transaction on it. The
// connection goes back to the pool when the transaction is committed or
// rolled back. Most callers want [Pool.InTx] instead. It returns
// [ErrPoolExhausted], a context error, or the BEGIN error.
func (p *Pool) BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error) {
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := c.Conn().BeginTx(ctx, opts)
	if err != nil {
		c.Release()
		return nil, err
	}
	return &poolTx{Tx: tx, c: c}, nil
}

// poolRows releases its connection once the rows are closed, explicitly or
// by Next returning false or Scan/Values failing (pgx closes rows then).
type poolRows struct {
	pgx.Rows
	c *pgxpool.Conn
}

func (r *poolRows) Close() {
	r.Rows.Close()
	if r.c != nil {
		r.c.Release()
		r.c = nil
	}
}

func (r *poolRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *poolRows) Scan(dest ...any) error {
	err := r.Rows.Scan(dest...)
	if err != nil {
		r.Close()
	}
	return err
}

func (r *poolRows) Values() ([]any, error) {
	v, err := r.Rows.Values()
	if err != nil {
		r.Close()
	}
	return v, err
}

// poolRow releases its connection after Scan, even if Scan panics.
type poolRow struct {
	r pgx.Row
	c *pgxpool.Conn
}

func (r *poolRow) Scan(dest ...any) error {
	defer func() {
		if r.c != nil {
			r.c.Release()
			r.c = nil
		}
	}()
	return r.r.Scan(dest...)
}

// errRows is the closed rows (and row) returned when a query could not start.
type errRows struct{ err error }

func (errRows) Close()                                       {}
func (e errRows) Err() error                                 { return e.err }
func (errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (errRows) Next() bool                                   { return false }
func (e errRows) Scan(...any) error                          { return e.err }
func (e errRows) Values() ([]any, error)                     { return nil, e.err }
func (errRows) RawValues() [][]byte                          { return nil }
func (errRows) Conn() *pgx.Conn                              { return nil }
func (errRows) TypeMap() *pgtype.Map                         { return nil }

// poolTx releases its connection when the transaction ends.
type poolTx struct {
	pgx.Tx
	c *pgxpool.Conn
}

func (t *poolTx) Commit(ctx context.Context) error {
	err := t.Tx.Commit(ctx)
	t.release()
	return err
}

func (t *poolTx) Rollback(ctx context.Context) error {
	err := t.Tx.Rollback(ctx)
	t.release()
	return err
}

func (t *poolTx) release() {
	if t.c != nil {
		t.c.Release()
		t.c = nil
	}
}

// RedactURL returns the connection string s with every password replaced by
// "xxxxx", for logs and error messages. It handles URLs (userinfo password
// and password/sslpassword query parameters) and keyword/value strings. A
// URL that net/url cannot parse is replaced entirely.
func RedactURL(s string) string {
	if !isURL(s) {
		return scanKV(s, func(key, val string) string {
			if isPasswordKey(key) {
				return "xxxxx"
			}
			return val
		})
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable database URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	changed := false
	for k := range q {
		if isPasswordKey(k) {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

func isPasswordKey(k string) bool {
	return strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword")
}

// urlPassword returns the password in connection string s, or "" if none is
// recognisable.
func urlPassword(s string) string {
	if isURL(s) {
		if u, err := url.Parse(s); err == nil {
			p, _ := u.User.Password()
			return p
		}
		return ""
	}
	var pw string
	scanKV(s, func(key, val string) string {
		if strings.EqualFold(key, "password") {
			pw = strings.Trim(val, "'")
		}
		return val
	})
	return pw
}

// kvSpace is the whitespace that separates keyword/value pairs.
const kvSpace = " \t\n\r\v\f"

// scanKV walks a keyword/value connection string (key=value pairs separated
// by whitespace, values optionally single-quoted with backslash escapes) and
// returns it with each value replaced by repl(key, value); whitespace and
// keys are copied unchanged.
func scanKV(s string, repl func(key, val string) string) string {
	var b strings.Builder
	for s != "" {
		t := strings.TrimLeft(s, kvSpace)
		b.WriteString(s[:len(s)-len(t)])
		s = t
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			b.WriteString(s)
			break
		}
		key := strings.TrimSpace(s[:eq])
		b.WriteString(s[:eq+1])
		s = s[eq+1:]
		t = strings.TrimLeft(s, kvSpace)
		b.WriteString(s[:len(s)-len(t)])
		s = t
		n := kvValueLen(s)
		b.WriteString(repl(key, s[:n]))
		s = s[n:]
	}
	return b.String()
}

// kvValueLen returns the length of the value at the start of s: a quoted
// string including its quotes, or everything up to the next whitespace.
func kvValueLen(s string) int {
	quoted := strings.HasPrefix(s, "'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case quoted && c == '\'' && i > 0:
			return i + 1
		case !quoted && strings.IndexByte(kvSpace, c) >= 0:
			return i
		}
	}
	return len(s)
}

// redactedError carries a message from which a password was removed while
// keeping the original error in the chain for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with its message prefixed and every occurrence of
// password replaced by "xxxxx". pgx already redacts connection strings in
// its errors; this is the second line of defence.
func redact(err error, prefix, password string) error {
	msg := prefix + err.Error()
	if password != "" {
		msg = strings.ReplaceAll(msg, password, "xxxxx")
	}
	return &redactedError{msg: msg, err: err}
}
