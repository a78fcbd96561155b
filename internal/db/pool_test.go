package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/testdb"
)

// Pool must be usable wherever sqlc expects a DBTX, and by InTx.
var (
	_ sqlc.DBTX   = (*db.Pool)(nil)
	_ db.Beginner = (*db.Pool)(nil)
	_ db.Beginner = (*pgxpool.Pool)(nil)
)

// newTestPool returns a Pool on a fresh test database, closed at cleanup.
func newTestPool(t testing.TB, cfg db.PoolConfig) *db.Pool {
	t.Helper()
	cfg.URL = testdb.NewURL(t)
	p, err := db.NewPool(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(func() {
		// Close waits for every acquired connection: with a leaked one it
		// would hang, so report the leak instead.
		if n := p.Stat().AcquiredConns(); n > 0 {
			t.Errorf("%d connections still acquired at cleanup; pool left open", n)
			return
		}
		p.Close()
	})
	return p
}

// mustExec runs sql on p and fails the test on error.
func mustExec(t testing.TB, p sqlc.DBTX, sql string, args ...any) {
	t.Helper()
	if _, err := p.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

func TestPoolStatements(t *testing.T) {
	ctx := context.Background()
	p := newTestPool(t, db.PoolConfig{MaxConns: 2})
	mustExec(t, p, `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)`)

	tag, err := p.Exec(ctx, `INSERT INTO items VALUES ($1, $2), ($3, $4)`, 1, "one", 2, "two")
	if err != nil || tag.RowsAffected() != 2 {
		t.Fatalf("Exec: tag %v, err %v", tag, err)
	}

	n, err := p.CopyFrom(ctx, pgx.Identifier{"items"}, []string{"id", "name"},
		pgx.CopyFromRows([][]any{{3, "three"}, {4, "four"}}))
	if err != nil || n != 2 {
		t.Fatalf("CopyFrom: n %d, err %v", n, err)
	}

	rows, err := p.Query(ctx, `SELECT name FROM items ORDER BY id`)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || strings.Join(got, ",") != "one,two,three,four" {
		t.Fatalf("CollectRows: %v, %v", got, err)
	}

	var name string
	if err := p.QueryRow(ctx, `SELECT name FROM items WHERE id = $1`, 3).Scan(&name); err != nil || name != "three" {
		t.Fatalf("QueryRow: %q, %v", name, err)
	}

	// Generated queries run on Pool, and their errors translate.
	if _, err := sqlc.New(p).GetUser(ctx, -1); !errors.Is(db.Translate(err), db.ErrNotFound) {
		t.Fatalf("GetUser(-1): %v, want ErrNotFound after Translate", err)
	}

	if err := p.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if acquired := p.Stat().AcquiredConns(); acquired != 0 {
		t.Fatalf("AcquiredConns after all statements = %d, want 0", acquired)
	}
}

// TestPoolReleasesConnections checks every way a statement can end returns
// the single connection of the pool: otherwise the next statement would fail
// with ErrPoolExhausted.
func TestPoolReleasesConnections(t *testing.T) {
	ctx := context.Background()
	p := newTestPool(t, db.PoolConfig{MaxConns: 1, AcquireTimeout: 2 * time.Second})

	steps := []struct {
		name string
		run  func() error
	}{
		{"Exec", func() error { _, err := p.Exec(ctx, `SELECT 1`); return err }},
		{"Exec error", func() error {
			if _, err := p.Exec(ctx, `SELECT 1/0`); err == nil {
				return errors.New("want division by zero")
			}
			return nil
		}},
		{"Query read to end", func() error {
			rows, err := p.Query(ctx, `SELECT generate_series(1, 3)`)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			return rows.Err()
		}},
		{"Query closed early", func() error {
			rows, err := p.Query(ctx, `SELECT generate_series(1, 1000)`)
			if err != nil {
				return err
			}
			rows.Next()
			rows.Close()
			return rows.Err()
		}},
		{"Query scan error", func() error {
			rows, err := p.Query(ctx, `SELECT 'x'::text`)
			if err != nil {
				return err
			}
			rows.Next()
			var n int
			if err := rows.Scan(&n); err == nil {
				return errors.New("want scan error")
			}
			return nil
		}},
		{"Query error", func() error {
			rows, err := p.Query(ctx, `SELECT * FROM no_such_table`)
			if err == nil || rows.Err() == nil {
				return errors.New("want error from Query and rows.Err")
			}
			rows.Close()
			return nil
		}},
		{"QueryRow", func() error { var n int; return p.QueryRow(ctx, `SELECT 1`).Scan(&n) }},
		{"QueryRow no rows", func() error {
			var n int
			if err := p.QueryRow(ctx, `SELECT 1 WHERE false`).Scan(&n); !errors.Is(err, pgx.ErrNoRows) {
				return errors.New("want pgx.ErrNoRows")
			}
			return nil
		}},
		{"BeginTx commit", func() error {
			tx, err := p.BeginTx(ctx, pgx.TxOptions{})
			if err != nil {
				return err
			}
			return tx.Commit(ctx)
		}},
		{"BeginTx rollback", func() error {
			tx, err := p.BeginTx(ctx, pgx.TxOptions{})
			if err != nil {
				return err
			}
			return tx.Rollback(ctx)
		}},
		{"Ping", func() error { return p.Ping(ctx) }},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if acquired := p.Stat().AcquiredConns(); acquired != 0 {
			t.Fatalf("%s: AcquiredConns = %d, want 0", s.name, acquired)
		}
	}
}

func TestPoolAcquireTimeout(t *testing.T) {
	p := newTestPool(t, db.PoolConfig{MaxConns: 1, AcquireTimeout: 50 * time.Millisecond})

	held, err := p.Raw().Acquire(context.Background())
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	defer held.Release()

	// The caller's context allows far longer than AcquireTimeout: only the
	// acquire bound can end these calls with ErrPoolExhausted.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var n int
	calls := map[string]func() error{
		"Exec":     func() error { _, err := p.Exec(ctx, `SELECT 1`); return err },
		"Query":    func() error { _, err := p.Query(ctx, `SELECT 1`); return err },
		"QueryRow": func() error { return p.QueryRow(ctx, `SELECT 1`).Scan(&n) },
		"CopyFrom": func() error {
			_, err := p.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"a"}, pgx.CopyFromRows(nil))
			return err
		},
		"Ping":    func() error { return p.Ping(ctx) },
		"BeginTx": func() error { _, err := p.BeginTx(ctx, pgx.TxOptions{}); return err },
		"InTx": func() error {
			return p.InTx(ctx, pgx.TxOptions{}, func(pgx.Tx) error { return nil })
		},
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, db.ErrPoolExhausted) {
			t.Errorf("%s: err = %v, want ErrPoolExhausted", name, err)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: err = %v, want it to wrap context.DeadlineExceeded", name, err)
		}
		if db.Translate(err) != err {
			t.Errorf("%s: Translate changed ErrPoolExhausted into %v", name, db.Translate(err))
		}
	}

	// A caller deadline that ends before AcquireTimeout is the caller's
	// deadline, not an exhausted pool.
	p2 := newTestPool(t, db.PoolConfig{MaxConns: 1, AcquireTimeout: time.Minute})
	held2, err := p2.Raw().Acquire(context.Background())
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	defer held2.Release()
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	_, err = p2.Exec(short, `SELECT 1`)
	if errors.Is(err, db.ErrPoolExhausted) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("caller deadline: err = %v, want DeadlineExceeded without ErrPoolExhausted", err)
	}
}

func TestNewPoolErrorsHidePassword(t *testing.T) {
	const secret = "hunter2-Sup3rSecret"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	urls := []string{
		// Nothing listens on port 1: the start-up ping fails.
		"postgres://postgres:" + secret + "@127.0.0.1:1/postgres?sslmode=disable",
		"host=127.0.0.1 port=1 user=postgres password=" + secret + " sslmode=disable",
		"host=127.0.0.1 port=1 user=postgres password='" + secret + "' sslmode=disable",
		// Unparsable.
		"postgres://postgres:" + secret + "@127.0.0.1:notaport/postgres",
		"postgres://postgres:" + secret + "@127.0.0.1/postgres?pool_max_conns=many",
		"host=127.0.0.1 port=x password=" + secret,
	}
	for _, u := range urls {
		p, err := db.NewPool(ctx, db.PoolConfig{URL: u, ConnectTimeout: 2 * time.Second})
		if err == nil {
			p.Close()
			t.Errorf("NewPool(%s): want error", db.RedactURL(u))
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the password: %v", err)
		}
		if !strings.HasPrefix(err.Error(), "db: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}

func TestNewPoolConfig(t *testing.T) {
	ctx := context.Background()
	url := testdb.NewURL(t)

	invalid := []db.PoolConfig{
		{},
		{URL: url, MaxConns: -1},
		{URL: url, MaxConns: 2, MinConns: 3},
		{URL: url, AcquireTimeout: -time.Second},
		{URL: url, MaxConnLifetime: -time.Second},
	}
	for _, cfg := range invalid {
		if p, err := db.NewPool(ctx, cfg); err == nil {
			p.Close()
			t.Errorf("NewPool(%+v): want error", cfg)
		}
	}

	p, err := db.NewPool(ctx, db.PoolConfig{URL: url})
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	c := p.Raw().Config()
	p.Close()
	if c.ConnConfig.ConnectTimeout != db.DefaultConnectTimeout {
		t.Errorf("ConnectTimeout = %s, want default %s", c.ConnConfig.ConnectTimeout, db.DefaultConnectTimeout)
	}
	if c.MaxConns < 1 || c.MaxConnLifetime <= 0 || c.MaxConnIdleTime <= 0 || c.HealthCheckPeriod <= 0 {
		t.Errorf("zero fields left without defaults: %+v", c)
	}
	if c.ConnConfig.DefaultQueryExecMode != pgx.QueryExecModeCacheStatement {
		t.Errorf("DefaultQueryExecMode = %v, want the statement cache", c.ConnConfig.DefaultQueryExecMode)
	}

	// URL parameters apply to fields left zero; set fields win.
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	withParams := url + sep + "pool_max_conns=7&connect_timeout=9"
	p, err = db.NewPool(ctx, db.PoolConfig{URL: withParams, MaxConnLifetime: 42 * time.Minute})
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	c = p.Raw().Config()
	p.Close()
	if c.MaxConns != 7 || c.ConnConfig.ConnectTimeout != 9*time.Second || c.MaxConnLifetime != 42*time.Minute {
		t.Errorf("MaxConns %d, ConnectTimeout %s, MaxConnLifetime %s; want 7, 9s, 42m",
			c.MaxConns, c.ConnConfig.ConnectTimeout, c.MaxConnLifetime)
	}
	p, err = db.NewPool(ctx, db.PoolConfig{URL: withParams, MaxConns: 3, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	c = p.Raw().Config()
	p.Close()
	if c.MaxConns != 3 || c.ConnConfig.ConnectTimeout != time.Second {
		t.Errorf("MaxConns %d, ConnectTimeout %s; want 3, 1s", c.MaxConns, c.ConnConfig.ConnectTimeout)
	}
}

func TestPoolRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:pw@h:5432/d?sslmode=disable", "postgres://u:xxxxx@h:5432/d?sslmode=disable"},
		{"postgresql://u@h/d", "postgresql://u@h/d"},
		{"postgres://u:p%40ss@h/d", "postgres://u:xxxxx@h/d"},
		{"postgres://h/d?password=pw&sslmode=disable", "postgres://h/d?password=xxxxx&sslmode=disable"},
		{"postgres://u:pw@h:bad/d", "(unparsable database URL)"},
		{"host=h password=pw user=u", "host=h password=xxxxx user=u"},
		{"host=h password = 'p w\\' x' user=u", "host=h password = xxxxx user=u"},
		{"host=h sslpassword=pw", "host=h sslpassword=xxxxx"},
		{"host=h user=u", "host=h user=u"},
	}
	for _, tt := range tests {
		if got := db.RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// BenchmarkQueryRow compares a single-row query through the bare pgxpool
// and through Pool, whose acquire is bounded by AcquireTimeout.
func BenchmarkQueryRow(b *testing.B) {
	ctx := context.Background()
	p := newTestPool(b, db.PoolConfig{MaxConns: 4})
	const sql = `SELECT $1::int8 + 1`

	run := func(b *testing.B, q sqlc.DBTX) {
		var n int64
		for b.Loop() {
			if err := q.QueryRow(ctx, sql, int64(41)).Scan(&n); err != nil || n != 42 {
				b.Fatalf("Scan: %d, %v", n, err)
			}
		}
	}
	b.Run("raw", func(b *testing.B) { run(b, p.Raw()) })
	b.Run("wrapped", func(b *testing.B) { run(b, p) })
	b.Run("raw-parallel", func(b *testing.B) { benchQueryRowParallel(b, p.Raw(), sql) })
	b.Run("wrapped-parallel", func(b *testing.B) { benchQueryRowParallel(b, p, sql) })
}

func benchQueryRowParallel(b *testing.B, q sqlc.DBTX, sql string) {
	b.RunParallel(func(pb *testing.PB) {
		var n int64
		for pb.Next() {
			if err := q.QueryRow(context.Background(), sql, int64(41)).Scan(&n); err != nil || n != 42 {
				b.Errorf("Scan: %d, %v", n, err)
				return
			}
		}
	})
}

// Connections get the configured plan_cache_mode, force_generic_plan by default;
// "auto" leaves the server's; anything else is refused.
func TestPoolPlanCacheMode(t *testing.T) {
	for mode, want := range map[string]string{
		"":                   "force_generic_plan",
		"force_generic_plan": "force_generic_plan",
		"force_custom_plan":  "force_custom_plan",
		"auto":               "auto",
	} {
		p := newTestPool(t, db.PoolConfig{PlanCacheMode: mode})
		var got string
		if err := p.QueryRow(context.Background(), "SHOW plan_cache_mode").Scan(&got); err != nil {
			t.Fatalf("%q: %v", mode, err)
		}
		if got != want {
			t.Errorf("PlanCacheMode %q: connection has %s, want %s", mode, got, want)
		}
	}
	_, err := db.NewPool(context.Background(), db.PoolConfig{URL: "postgres://127.0.0.1/x", PlanCacheMode: "generic"})
	if err == nil || !strings.Contains(err.Error(), "PlanCacheMode") {
		t.Fatalf("an unknown mode must be refused naming PlanCacheMode, got %v", err)
	}
}
