package testdb

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/pgcluster"
)

// MainWithReplica is Main on a pair started for the test binary from the installed
// PostgreSQL binaries, whatever TEST_DATABASE_URL says: a temporary primary and a
// hot standby streaming from it (pg_basebackup -R). Databases are made on the
// primary as with Main; NewReplicated returns a database's URL on both servers.
// Both servers are stopped and removed when the tests end.
//
//	func TestMain(m *testing.M) { os.Exit(testdb.MainWithReplica(m)) }
func MainWithReplica(m *testing.M) int { return run(m, true) }

// startPair starts the primary and its replica.
func (h *harness) startPair(ctx context.Context) error {
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "testdb: "+format+"\n", args...)
	}
	var err error
	if h.cluster, err = pgcluster.Ensure(ctx, pgcluster.Options{Logf: logf}); err != nil {
		return fmt.Errorf("start the primary of a replicated pair: %w", err)
	}
	if h.replica, err = h.cluster.StartReplica(ctx); err != nil {
		return fmt.Errorf("start the replica of a replicated pair: %w", err)
	}
	h.serverURL = h.cluster.URL("postgres")
	return nil
}

// NewReplicated returns the URLs of a fresh database cloned from the migrated
// template, on the primary and on the replica of MainWithReplica, once the replica
// has it. The database is dropped when t ends. Failures end the test with t.Fatal.
func NewReplicated(t testing.TB) (primaryURL, replicaURL string) {
	t.Helper()
	h := current
	if h == nil || h.replica == nil {
		t.Fatal("testdb: NewReplicated needs `func TestMain(m *testing.M) { os.Exit(testdb.MainWithReplica(m)) }`")
	}
	primaryURL = create(t, true)
	replicaURL = mustWithDatabase(h.replica.URL("postgres"), db.DatabaseName(primaryURL))
	WaitReplayed(t, primaryURL, replicaURL)
	return primaryURL, replicaURL
}

// Replica returns the replica started by MainWithReplica (to stop it, or to find
// its port); it fails t when there is none.
func Replica(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	if current == nil || current.replica == nil {
		t.Fatal("testdb: no replica: the package's TestMain must call MainWithReplica")
	}
	return current.replica
}

// StartReplica starts another streaming replica of MainWithReplica's primary, for a
// test that stops it; it is stopped and removed when t ends. The database of
// primaryURL is waited for on it and its URL there returned with it.
func StartReplica(t testing.TB, primaryURL string) (*pgcluster.Cluster, string) {
	t.Helper()
	if current == nil || current.replica == nil {
		t.Fatal("testdb: no primary: the package's TestMain must call MainWithReplica")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	r, err := current.cluster.StartReplica(ctx)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Stop(context.Background()); err != nil {
			t.Errorf("testdb: stop replica: %v", err)
		}
	})
	replicaURL := mustWithDatabase(r.URL("postgres"), db.DatabaseName(primaryURL))
	WaitReplayed(t, primaryURL, replicaURL)
	return r, replicaURL
}

// WaitReplayed waits until the replica at replicaURL has replayed the primary's
// WAL up to its position now, so what was committed on the primary is visible there.
// It fails t after a minute.
func WaitReplayed(t testing.TB, primaryURL, replicaURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var target string
	if err := queryRow(ctx, primaryURL, "SELECT pg_current_wal_insert_lsn()::text", &target); err != nil {
		t.Fatalf("testdb: the primary's WAL position: %v", err)
	}
	for {
		var done bool
		// The replica's admin database exists from the start; the test's appears on replay.
		err := queryRow(ctx, mustWithDatabase(replicaURL, "postgres"),
			"SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", &done, target)
		if err == nil && done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("testdb: the replica did not replay up to %s within %s (last error: %v)", target, opTimeout, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// queryRow runs one query on a connection of its own and scans its row into dest.
func queryRow(ctx context.Context, url, sql string, dest any, args ...any) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.QueryRow(ctx, sql, args...).Scan(dest)
}
