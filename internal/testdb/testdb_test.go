package testdb

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/db"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// userTables returns the tables outside the system schemas of the database at dbURL.
func userTables(t *testing.T, dbURL string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return tables
}

// hasMigrations reports whether the repository has migration files, i.e. whether the
// template should hold tables.
func hasMigrations(t *testing.T) bool {
	t.Helper()
	dir, err := migrationsDir()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.sql"))
	return len(files) > 0
}

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	var exists bool
	err := current.admin.QueryRow(context.Background(),
		"SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		t.Fatal(err)
	}
	return exists
}

func TestNewDatabasesAreIsolatedCopiesOfTheTemplate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := New(t), New(t)
	dbA, dbB := a.Config().ConnConfig.Database, b.Config().ConnConfig.Database
	if dbA == dbB || !strings.HasPrefix(dbA, current.names.test) {
		t.Fatalf("databases %q and %q: want two distinct %s* names", dbA, dbB, current.names.test)
	}

	tablesA := userTables(t, urlFor(dbA))
	tablesB := userTables(t, urlFor(dbB))
	if strings.Join(tablesA, ",") != strings.Join(tablesB, ",") {
		t.Errorf("tables differ between clones:\n%v\n%v", tablesA, tablesB)
	}
	if hasMigrations(t) && len(tablesA) == 0 {
		t.Error("a clone of the template has no tables although there are migrations")
	}

	if _, err := a.Exec(ctx, "CREATE TABLE only_in_a (id int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := a.QueryRow(ctx, "SELECT count(*) FROM only_in_a").Scan(&n); err != nil {
		t.Fatal(err)
	}
	err := b.QueryRow(ctx, "SELECT count(*) FROM only_in_a").Scan(&n)
	if err == nil {
		t.Error("a table created in one test database is visible in another")
	}
}

// urlFor returns the URL of database name on the test server.
func urlFor(name string) string { return mustWithDatabase(current.serverURL, name) }

// dbName returns the database named by dbURL.
func dbName(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func TestDatabaseIsDroppedAfterTheTest(t *testing.T) {
	t.Parallel()
	var poolDB, urlDB, emptyDB string
	t.Run("inner", func(t *testing.T) {
		pool := New(t)
		if err := pool.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		poolDB = pool.Config().ConnConfig.Database

		// A connection left open must not keep the database alive.
		conn, err := pgx.Connect(context.Background(), NewURL(t))
		if err != nil {
			t.Fatal(err)
		}
		urlDB = conn.Config().Database
		emptyDB = dbName(t, EmptyURL(t))
		for _, name := range []string{poolDB, urlDB, emptyDB} {
			if !databaseExists(t, name) {
				t.Fatalf("database %s does not exist during the test", name)
			}
		}
	})
	for _, name := range []string{poolDB, urlDB, emptyDB} {
		if name == "" || databaseExists(t, name) {
			t.Errorf("database %q still exists after its test ended", name)
		}
	}
}

func TestEmptyURLHasNoTables(t *testing.T) {
	t.Parallel()
	if tables := userTables(t, EmptyURL(t)); len(tables) != 0 {
		t.Errorf("empty database has tables %v", tables)
	}
	if got, want := userTables(t, NewURL(t)), userTables(t, NewURL(t)); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("two NewURL databases differ: %v vs %v", got, want)
	}
}

func TestManyParallelDatabases(t *testing.T) {
	t.Parallel()
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			pool := New(t)
			var one int
			if err := pool.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
				t.Fatalf("SELECT 1 = %d, %v", one, err)
			}
		})
	}
}

func TestTemplateIsCompleteAndClosed(t *testing.T) {
	t.Parallel()
	var isTemplate, allowConn bool
	var comment string
	err := current.admin.QueryRow(context.Background(),
		`SELECT datistemplate, datallowconn, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1`,
		current.template).Scan(&isTemplate, &allowConn, &comment)
	if err != nil {
		t.Fatal(err)
	}
	if !isTemplate || allowConn || !strings.HasPrefix(comment, templateMarker) {
		t.Errorf("template %s: datistemplate=%v datallowconn=%v comment=%q", current.template, isTemplate, allowConn, comment)
	}
	if _, ok := templateLastUsed(comment); !ok {
		t.Errorf("template comment %q records no last use", comment)
	}
}

func TestServerURL(t *testing.T) {
	conn, err := pgx.Connect(context.Background(), ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if db := conn.Config().Database; db != "postgres" {
		t.Errorf("ServerURL database = %q, want postgres", db)
	}
}

func TestTemplateName(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	name := func() string {
		t.Helper()
		n, err := templateName(testNames, dir)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	empty := name()
	if !strings.HasPrefix(empty, testNames.template) || len(empty) != len(testNames.template)+12 {
		t.Fatalf("templateName = %q, want %s + 12 hex digits", empty, testNames.template)
	}
	write("20250101000000_a.sql", "CREATE TABLE a (id int);")
	one := name()
	write("README.md", "not a migration")
	if got := name(); got != one {
		t.Errorf("a non-migration file changed the name: %s -> %s", one, got)
	}
	write("atlas.sum", "h1:abc")
	withSum := name()
	write("20250101000000_a.sql", "CREATE TABLE a (id bigint);")
	changed := name()
	if err := os.Rename(filepath.Join(dir, "20250101000000_a.sql"), filepath.Join(dir, "20250101000001_a.sql")); err != nil {
		t.Fatal(err)
	}
	renamed := name()
	seen := map[string]bool{}
	for _, n := range []string{empty, one, withSum, changed, renamed} {
		if seen[n] {
			t.Errorf("name %s repeats for different migrations: %v", n, []string{empty, one, withSum, changed, renamed})
		}
		seen[n] = true
	}
	if again := name(); again != renamed {
		t.Errorf("templateName is not stable: %s then %s", renamed, again)
	}
}

func TestTestDatabaseNames(t *testing.T) {
	now := time.Unix(1_764_000_000, 0)
	name := testNames.newDatabaseName(now)
	if len(name) > 63 {
		t.Errorf("%s is longer than PostgreSQL's 63-byte identifier limit", name)
	}
	created, ok := testNames.testDatabaseCreated(name)
	if !ok || !created.Equal(now) {
		t.Errorf("testDatabaseCreated(%s) = %v, %v; want %v", name, created, ok, now)
	}
	if testNames.newDatabaseName(now) == name {
		t.Error("two names made in the same second are equal")
	}
	other, err := namesFor("quarry", "/elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{testNames.test + "x", testNames.test + "abc_def", "postgres", testNames.template + "0123456789ab", other.newDatabaseName(now)} {
		if _, ok := testNames.testDatabaseCreated(other); ok {
			t.Errorf("testDatabaseCreated(%s) = ok, want not a test database", other)
		}
	}
}

func TestWithDatabase(t *testing.T) {
	got, err := db.WithDatabase("postgresql://u:secret@db.example:6543/app?sslmode=require&application_name=x", "other")
	if err != nil {
		t.Fatal(err)
	}
	if want := "postgresql://u:secret@db.example:6543/other?sslmode=require&application_name=x"; got != want {
		t.Errorf("withDatabase = %s, want %s", got, want)
	}
	if _, err := db.WithDatabase("host=localhost dbname=x", "y"); err == nil {
		t.Error("withDatabase accepted a keyword/value string")
	}
	if r := db.RedactURL("postgres://u:secret@h/db"); strings.Contains(r, "secret") {
		t.Errorf("redact kept the password: %s", r)
	}
}

// testNames are the database names of a checkout in /checkout.
var testNames = func() names {
	n, err := namesFor("", "/checkout")
	if err != nil {
		panic(err)
	}
	return n
}()

func TestNamesFor(t *testing.T) {
	t.Parallel()
	a, _ := namesFor("", "/one")
	b, _ := namesFor("", "/two")
	c, _ := namesFor("proj_x", "/one")
	if a == b || !strings.HasPrefix(a.test, "quarry_test_") || !strings.HasPrefix(c.template, "proj_x_tpl_") {
		t.Errorf("names: %+v, %+v, %+v; want distinct per checkout, under their prefix", a, b, c)
	}
	for _, bad := range []string{"Quarry", "1q", "q-x", "a_very_long_prefix_of_many_chars"} {
		if _, err := namesFor(bad, "/one"); err == nil || !strings.Contains(err.Error(), EnvPrefix) {
			t.Errorf("namesFor(%q) = %v, want an error naming %s", bad, err, EnvPrefix)
		}
	}
}

// Clean-up leaves alone the databases of another checkout, however old.
func TestSweepKeepsOtherCheckouts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	other, err := namesFor("", "/another/checkout")
	if err != nil {
		t.Fatal(err)
	}
	stale := other.newDatabaseName(time.Now().Add(-30 * 24 * time.Hour))
	if _, err := current.admin.Exec(ctx, "CREATE DATABASE "+ident(stale)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = current.admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+ident(stale)) })
	conn, err := pgx.Connect(ctx, current.serverURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	sweep(ctx, conn, current.names, current.template, time.Now())
	var n int
	if err := current.admin.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", stale).Scan(&n); err != nil || n != 1 {
		t.Fatalf("another checkout's database %s after sweep: %d, %v; want it kept", stale, n, err)
	}
}
