package pgcluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// binariesOrSkip returns the installed binaries. Without them the test fails, unless
// TEST_DATABASE_URL names an external server, in which case clusters are never started
// and the test is skipped with the reason.
func binariesOrSkip(t *testing.T) Binaries {
	t.Helper()
	b, err := FindBinaries()
	if err == nil {
		return b
	}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		t.Skipf("TEST_DATABASE_URL is set and %v", err)
	}
	t.Fatal(err)
	return Binaries{}
}

func TestTemporaryCluster(t *testing.T) {
	t.Parallel()
	bins := binariesOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	start := time.Now()
	c, err := Ensure(ctx, Options{Binaries: &bins, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("temporary cluster up in %v", time.Since(start))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = c.Stop(context.Background())
		}
	})
	if !c.Temporary || c.Reused || c.Port == 0 {
		t.Fatalf("cluster = %+v, want a new temporary cluster on a port", c)
	}

	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	var fsync, user string
	if err := conn.QueryRow(ctx, "SELECT current_setting('fsync'), current_user").Scan(&fsync, &user); err != nil {
		t.Fatal(err)
	}
	if fsync != "off" || user != "postgres" {
		t.Errorf("fsync=%s current_user=%s, want off and postgres", fsync, user)
	}
	if err := conn.Close(ctx); err != nil {
		t.Fatal(err)
	}

	stopped = true
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data directory after Stop: %v, want it gone", err)
	}
	if Reachable(ctx, c.URL("postgres")) {
		t.Error("server still answers after Stop")
	}
	if err := c.Stop(ctx); err != nil {
		t.Errorf("second Stop = %v, want the first result (nil)", err)
	}
}

func TestPersistentCluster(t *testing.T) {
	t.Parallel()
	bins := binariesOrSkip(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Not t.TempDir: its 0700 parent would keep the postgres user out when running as root.
	parent, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(parent, ".data", "pg")
	opts := Options{DataDir: dataDir, Binaries: &bins, Logf: t.Logf}

	first, err := Ensure(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Stop(context.Background()) })
	if first.Temporary || first.Reused || first.Dir != dataDir {
		t.Fatalf("first Ensure = %+v, want a new persistent cluster in %s", first, dataDir)
	}
	var fsync string
	if err := queryOne(ctx, first.URL("postgres"), "SELECT current_setting('fsync')", &fsync); err != nil {
		t.Fatal(err)
	}
	if fsync != "on" {
		t.Errorf("fsync = %s on a persistent cluster, want on", fsync)
	}

	second, err := Ensure(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Reused || second.Port != first.Port || second.SocketDir != first.SocketDir {
		t.Errorf("second Ensure = %+v, want the running cluster on port %d reused", second, first.Port)
	}

	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "PG_VERSION")); err != nil {
		t.Fatalf("data directory gone after stopping a persistent cluster: %v", err)
	}

	third, err := Ensure(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = third.Stop(context.Background()) })
	if third.Reused || third.Port != first.Port {
		t.Errorf("third Ensure = %+v, want a restart on the previous port %d", third, first.Port)
	}
	if err := third.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func queryOne(ctx context.Context, url, sql string, dest any) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, sql).Scan(dest)
}

func TestPingNothingListening(t *testing.T) {
	if Reachable(context.Background(), "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=1") {
		t.Error("Reachable on port 1 = true")
	}
}

func TestParsePidFile(t *testing.T) {
	pf, err := parsePidFile("2200\n/var/lib/postgresql/15/main\n1795771469\n5432\n/var/run/postgresql\n127.0.0.1\n   745552         4\nready   \n")
	if err != nil {
		t.Fatal(err)
	}
	if pf.pid != 2200 || pf.port != 5432 || pf.socketDir != "/var/run/postgresql" || pf.status != "ready" {
		t.Errorf("parsePidFile = %+v", pf)
	}
	if _, err := parsePidFile("2200\n/x\n"); err == nil {
		t.Error("parsePidFile without a port line: want an error")
	}
}

func TestParseOptsPort(t *testing.T) {
	for opts, want := range map[string]int{
		`/usr/lib/postgresql/15/bin/postgres "-D" "/d" "-p" "54321" "-k" "/d"`:      54321,
		`/usr/bin/postgres "-D" "/d" "-c" "port=6000"`:                              6000,
		`/usr/lib/postgresql/15/bin/postgres "-D" "/var/lib/postgresql/15/main"`:    0,
		`/usr/lib/postgresql/15/bin/postgres "-D" "/d" "-p" "1" "-c" "port=2"`:      2,
		`/usr/lib/postgresql/15/bin/postgres "-D" "/d with -p" "-p" "7000" "-k" ""`: 7000,
	} {
		if got := parseOptsPort(opts); got != want {
			t.Errorf("parseOptsPort(%s) = %d, want %d", opts, got, want)
		}
	}
}

func TestParseMajor(t *testing.T) {
	for out, want := range map[string]int{
		"postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n": 15,
		"postgres (PostgreSQL) 17beta1\n":                        17,
		"postgres (PostgreSQL) 9.6.24\n":                         9,
	} {
		got, err := parseMajor(out)
		if err != nil || got != want {
			t.Errorf("parseMajor(%q) = %d, %v; want %d", out, got, err, want)
		}
	}
	if _, err := parseMajor("something else"); err == nil {
		t.Error("parseMajor without a number: want an error")
	}
}

func TestFindBinaries(t *testing.T) {
	b, err := FindBinaries()
	if errors.Is(err, ErrNoBinaries) {
		if os.Getenv("TEST_DATABASE_URL") != "" {
			t.Skipf("TEST_DATABASE_URL is set and %v", err)
		}
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if b.Major < MinMajorVersion || b.Initdb == "" || b.PgCtl == "" || b.Postgres == "" {
		t.Errorf("FindBinaries = %+v", b)
	}
}
