// Package testdb gives tests real PostgreSQL databases: each test gets a fresh database
// cloned from a template to which the repository's migrations have been applied, so
// tests are isolated, parallel and fast.
//
// A test package opts in with
//
//	func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }
//
// and then calls New, NewURL or EmptyURL from its tests. The server is the one at
// TEST_DATABASE_URL (default DefaultURL); when nothing answers there, Main starts a
// temporary cluster from the PostgreSQL binaries installed on the machine and removes it
// afterwards. With no PostgreSQL at all, Main fails and says how to get one: tests are
// never skipped for want of a database.
//
// Every database the harness makes is named <prefix>_tpl_<checkout>_… (templates) or
// <prefix>_test_<checkout>_… (test databases), where prefix is TEST_DATABASE_PREFIX
// (default quarry) and checkout a hash of the repository's directory. Clean-up drops
// only databases of its own prefix and checkout, so checkouts and projects sharing a
// server never drop each other's.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/pgcluster"
)

const (
	// DefaultURL is the server used when TEST_DATABASE_URL is not set.
	DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	// EnvURL names the environment variable that points tests at a server.
	EnvURL = "TEST_DATABASE_URL"
	// MinServerVersion is the oldest server accepted (server_version_num).
	MinServerVersion = 140000

	// EnvPrefix names the environment variable holding the prefix of every database
	// the harness creates (DefaultPrefix when unset).
	EnvPrefix = "TEST_DATABASE_PREFIX"
	// DefaultPrefix is the prefix when TEST_DATABASE_PREFIX is not set.
	DefaultPrefix = "quarry"
	// poolMaxConns bounds the pool returned by New.
	poolMaxConns = 4
	// setupTimeout bounds Main's preparation, including waiting for another package
	// that is building the template.
	setupTimeout = 5 * time.Minute
	// opTimeout bounds creating or dropping one database.
	opTimeout = time.Minute
	// sqlstateObjectInUse is reported by CREATE DATABASE while someone is connected to
	// the template.
	sqlstateObjectInUse = "55006"
	// noMain is the message for helpers called from a package without testdb.Main.
	noMain = "testdb: Main has not run: add `func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }` to the package's tests"
)

// harness is what Main resolves once per test binary.
type harness struct {
	serverURL string             // admin URL, database postgres
	names     names              // prefixes of the databases this checkout makes
	template  string             // name of the migrated template database
	admin     *pgxpool.Pool      // creates and drops databases
	cluster   *pgcluster.Cluster // temporary cluster started by Main, or nil
	replica   *pgcluster.Cluster // streaming replica of cluster started by MainWithReplica, or nil
}

// current is set by Main before the tests run; the TestMain pattern leaves no other way
// to hand the resolved server to the tests.
var current *harness

// Main prepares the database server and the migrated template, runs the tests and tears
// down what it started. It returns the exit code for os.Exit: m.Run's, or 1 after
// printing the reason when no server can be had or the template cannot be built.
func Main(m *testing.M) int { return run(m, false) }

// run is Main, on a primary with a streaming replica when replicated is set.
func run(m *testing.M, replicated bool) int {
	h, err := setup(replicated)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
		h.close()
		return 1
	}
	current = h
	code := m.Run()
	h.close()
	return code
}

// New returns a pool (at most 4 connections) on a fresh database cloned from the
// migrated template. The pool is closed and the database dropped when t ends. Safe for
// parallel tests; failures end the test with t.Fatal.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dbURL := create(t, true)
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatalf("testdb: parse %s: %v", db.RedactURL(dbURL), err)
	}
	cfg.MaxConns = poolMaxConns
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("testdb: open pool: %v", err)
	}
	t.Cleanup(pool.Close) // runs before the drop registered by create
	return pool
}

// NewStore returns a store (pool of at most 4 connections) on a fresh database cloned
// from the migrated template, and that pool for statements of the test's own. Both
// are closed and the database dropped when t ends. Failures end the test with t.Fatal.
func NewStore(t testing.TB) (*db.Store, *db.Pool) {
	t.Helper()
	pool, err := db.NewPool(context.Background(), db.PoolConfig{URL: create(t, true), MaxConns: poolMaxConns})
	if err != nil {
		t.Fatalf("testdb: open pool: %v", err)
	}
	t.Cleanup(pool.Close) // runs before the drop registered by create
	return db.NewStore(pool), pool
}

// NewURL returns the URL of a fresh database cloned from the migrated template; the
// database is dropped (with any connections still open to it) when t ends. Failures end
// the test with t.Fatal.
func NewURL(t testing.TB) string {
	t.Helper()
	return create(t, true)
}

// EmptyURL returns the URL of a fresh, empty database (cloned from template0), dropped
// when t ends, for tests of the migration engine. Failures end the test with t.Fatal.
func EmptyURL(t testing.TB) string {
	t.Helper()
	return create(t, false)
}

// ServerURL returns an administrator URL (database postgres) on the server that Main
// resolved, for tests that create databases themselves. It panics when Main has not run.
func ServerURL() string {
	if current == nil {
		panic(noMain)
	}
	return current.serverURL
}

// setup resolves the server (or starts a primary and its replica when replicated is
// set) and ensures the template. It returns the harness built so far together with
// any error, so that Main can release it.
func setup(replicated bool) (*harness, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	h := &harness{}
	var err error
	if replicated {
		err = h.startPair(ctx)
	} else {
		h.serverURL, h.cluster, err = resolveServer(ctx)
	}
	if err != nil {
		return h, err
	}
	cfg, err := pgxpool.ParseConfig(h.serverURL)
	if err != nil {
		return h, fmt.Errorf("parse %s: %w", db.RedactURL(h.serverURL), err)
	}
	cfg.MaxConns = 4
	if h.admin, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return h, fmt.Errorf("open pool on %s: %w", db.RedactURL(h.serverURL), err)
	}
	var version int
	if err := h.admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return h, fmt.Errorf("query server version at %s: %w", db.RedactURL(h.serverURL), err)
	}
	if version < MinServerVersion {
		return h, fmt.Errorf("the server at %s runs PostgreSQL %d.%d; tests need %d or newer: "+
			"upgrade it or set %s to another server", db.RedactURL(h.serverURL), version/10000, version%10000, MinServerVersion/10000, EnvURL)
	}
	dir, err := migrationsDir()
	if err != nil {
		return h, err
	}
	if h.names, err = namesFor(os.Getenv(EnvPrefix), filepath.Dir(dir)); err != nil {
		return h, err
	}
	if h.template, err = templateName(h.names, dir); err != nil {
		return h, err
	}
	if err := ensureTemplate(ctx, h.serverURL, h.names, h.template, dir); err != nil {
		return h, err
	}
	return h, nil
}

// close releases the admin pool and stops a cluster that setup started; problems are
// printed, as the tests have already run.
func (h *harness) close() {
	if h == nil {
		return
	}
	if h.admin != nil {
		h.admin.Close()
	}
	if h.replica != nil {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := h.replica.Stop(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "testdb: stop the temporary replica: %v\n", err)
		}
	}
	if h.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := h.cluster.Stop(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "testdb: stop temporary PostgreSQL: %v\n", err)
		}
	}
}

// resolveServer returns the admin URL of the server to use: TEST_DATABASE_URL's (or
// DefaultURL's) when a server answers there, otherwise that of a temporary cluster, which
// it also returns. It returns an error when TEST_DATABASE_URL is set and its server
// refuses the connection (a misconfiguration that a temporary cluster would hide), or
// when no server answers and none can be started.
func resolveServer(ctx context.Context) (string, *pgcluster.Cluster, error) {
	raw, explicit := os.LookupEnv(EnvURL)
	if !explicit || raw == "" {
		raw, explicit = DefaultURL, false
	}
	adminURL, err := db.WithDatabase(raw, "postgres")
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", EnvURL, err)
	}
	pingErr := pgcluster.Ping(ctx, adminURL)
	if pingErr == nil {
		return adminURL, nil, nil
	}
	var refused *pgconn.PgError
	if explicit && errors.As(pingErr, &refused) {
		return "", nil, fmt.Errorf("%s=%s: the server refused the connection: %w", EnvURL, db.RedactURL(raw), pingErr)
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "testdb: "+format+"\n", args...)
	}
	logf("no usable PostgreSQL at %s (%v); starting a temporary cluster", db.RedactURL(adminURL), pingErr)
	cluster, err := pgcluster.Ensure(ctx, pgcluster.Options{Logf: logf})
	if err != nil {
		return "", nil, fmt.Errorf("no PostgreSQL server for the tests: nothing usable answers at %s (%v) and "+
			"a temporary one could not be started: %w.\nTo fix: install PostgreSQL %d or newer (e.g. `apt-get install postgresql`), "+
			"or start a server on 127.0.0.1:5432 with a trusting postgres user, or set %s to a server's URL",
			db.RedactURL(adminURL), pingErr, err, MinServerVersion/10000, EnvURL)
	}
	return cluster.URL("postgres"), cluster, nil
}

// create makes a database for t, from the template when fromTemplate is set and from
// template0 otherwise, registers its removal and returns its URL.
func create(t testing.TB, fromTemplate bool) string {
	t.Helper()
	h := current
	if h == nil {
		t.Fatal(noMain)
	}
	name := h.names.newDatabaseName(time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := h.createDatabase(ctx, name, fromTemplate); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if _, err := h.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
	})
	return mustWithDatabase(h.serverURL, name)
}

// createDatabase creates database name, cloned from the template or empty. While the
// template is briefly in use (SQLSTATE 55006) it retries until ctx ends. It returns the
// last CREATE DATABASE error, wrapped.
func (h *harness) createDatabase(ctx context.Context, name string, fromTemplate bool) error {
	stmt := "CREATE DATABASE " + ident(name) + " TEMPLATE template0 ENCODING 'UTF8'"
	if fromTemplate {
		stmt = "CREATE DATABASE " + ident(name) + " TEMPLATE " + ident(h.template)
	}
	delay := 20 * time.Millisecond
	for {
		_, err := h.admin.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != sqlstateObjectInUse {
			if err != nil {
				return fmt.Errorf("create database %s: %w", name, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create database %s: template still in use: %w", name, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// names are the name prefixes of the databases of one checkout.
type names struct {
	template, test string // <prefix>_tpl_<checkout>_, <prefix>_test_<checkout>_
}

// validPrefix is what TEST_DATABASE_PREFIX may hold: a short lower-case identifier.
var validPrefix = regexp.MustCompile(`^[a-z][a-z0-9_]{0,19}$`)

// namesFor returns the names of the databases of the checkout in root, under prefix
// (DefaultPrefix when empty). It returns an error naming TEST_DATABASE_PREFIX when
// prefix is not a lower-case identifier of at most 20 characters.
func namesFor(prefix, root string) (names, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !validPrefix.MatchString(prefix) {
		return names{}, fmt.Errorf("%s=%q: want a lower-case letter, then up to 19 lower-case letters, digits or _", EnvPrefix, prefix)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return names{}, fmt.Errorf("checkout directory: %w", err)
	}
	sum := sha256.Sum256([]byte(abs))
	checkout := hex.EncodeToString(sum[:])[:8]
	return names{template: prefix + "_tpl_" + checkout + "_", test: prefix + "_test_" + checkout + "_"}, nil
}

// newDatabaseName returns <test prefix><unix seconds>_<12 random hex digits>; the
// time lets Main drop databases left behind by killed test processes.
func (n names) newDatabaseName(now time.Time) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return fmt.Sprintf("%s%d_%s", n.test, now.Unix(), hex.EncodeToString(b))
}

// ident quotes a database name for SQL.
func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// mustWithDatabase is withDatabase for URLs already validated by Main.
func mustWithDatabase(serverURL, dbname string) string {
	s, err := db.WithDatabase(serverURL, dbname)
	if err != nil {
		panic(err)
	}
	return s
}
