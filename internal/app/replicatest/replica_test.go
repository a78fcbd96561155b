// Package replicatest runs the application on a real primary and streaming replica,
// started once for the package from the installed PostgreSQL binaries.
package replicatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/cli"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/modules/posts"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.MainWithReplica(m)) }

// serve starts the app on primaryURL with replicaURL as its one replica (see
// replicaEnv).
func serve(t *testing.T, primaryURL, replicaURL string, env map[string]string) *apptest.Server {
	t.Helper()
	srv := apptest.New(t, apptest.Options{DatabaseURL: primaryURL, Env: replicaEnv(replicaURL, env)})
	if srv.App.Replicas() == nil {
		t.Fatal("DATABASE_REPLICA_URLS set but the app has no replicas")
	}
	return srv
}

// replicaEnv returns the configuration of an app with replicaURL as its one replica,
// checked every 20ms, with env on top.
func replicaEnv(replicaURL string, env map[string]string) map[string]string {
	e := map[string]string{
		"DATABASE_REPLICA_URLS":  replicaURL,
		"REPLICA_MAX_LAG":        "1h",
		"REPLICA_CHECK_INTERVAL": "20ms",
		"RATE_LIMIT_DEFAULT":     "off",
	}
	for k, v := range env {
		e[k] = v
	}
	return e
}

// flushStats closes the app's replica connections: a backend reports its statistics
// when it exits, so the replica's counts are then complete.
func flushStats(srv *apptest.Server) { srv.App.Replicas().Close() }

// exec runs sql on url on a connection of its own.
func exec(t *testing.T, url, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// postScans returns how many scans of posts the server at url has counted (its own
// statistics: a standby counts the queries it runs).
func postScans(t *testing.T, url string) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, `SELECT COALESCE(seq_scan, 0) + COALESCE(idx_scan, 0)
		FROM pg_stat_user_tables WHERE relname = 'posts'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitScans waits until the server at url has counted at least want scans of posts
// (statistics are flushed about once a second) and returns the count; it fails t
// after 15s.
func waitScans(t *testing.T, url string, want int64) int64 {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		n := postScans(t, url)
		if n >= want {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server at %s counted %d scans of posts, want at least %d", url, n, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// anonymousReads sends n anonymous list requests and fails t on any that is not 200.
func anonymousReads(t *testing.T, srv *apptest.Server, n int) {
	t.Helper()
	for i := range n {
		if r := srv.Anonymous().Do(http.MethodGet, "/api/v1/posts?limit=5", nil); r.Status != http.StatusOK {
			t.Fatalf("anonymous read %d: %d %s", i, r.Status, r.Body)
		}
	}
}

func TestReadsLandOnTheReplica(t *testing.T) {
	primaryURL, replicaURL := testdb.NewReplicated(t)
	srv := serve(t, primaryURL, replicaURL, nil)
	onReplica, onPrimary := postScans(t, replicaURL), postScans(t, primaryURL)

	anonymousReads(t, srv, 100)
	st := srv.App.Replicas().Stats()
	if len(st) != 1 || !st[0].Usable || st[0].Routed < 100 {
		t.Errorf("replica stats = %+v, want it in rotation with at least 100 routed queries", st)
	}

	metrics := srv.Do(http.MethodGet, "/metrics", nil)
	for _, want := range []string{"quarry_db_replica_up{replica=", "quarry_db_replica_routed_queries_total{replica=",
		"quarry_db_replica_lag_seconds{replica=", `quarry_db_replica_fallbacks_total{reason="behind",replica=`} {
		if !strings.Contains(string(metrics.Body), want) {
			t.Errorf("/metrics has no %s…", want)
		}
	}
	if !strings.Contains(string(metrics.Body), "quarry_db_replica_up{replica=\"postgres://postgres@127.0.0.1:") {
		t.Errorf("/metrics does not name the replica by its URL")
	}

	flushStats(srv)
	waitScans(t, replicaURL, onReplica+100)
	if got := postScans(t, primaryURL) - onPrimary; got >= 100 {
		t.Errorf("the primary scanned posts %d times for 100 reads meant for the replica", got)
	}
}

func TestPausedReplicaStillReadsOwnWrites(t *testing.T) {
	primaryURL, replicaURL := testdb.NewReplicated(t)
	srv := serve(t, primaryURL, replicaURL, nil)
	author := srv.SignIn(t, "ada@example.com", "user") // seeded on the primary
	testdb.WaitReplayed(t, primaryURL, replicaURL)     // … and visible on the replica
	exec(t, replicaURL, "SELECT pg_wal_replay_pause()")
	t.Cleanup(func() { exec(t, replicaURL, "SELECT pg_wal_replay_resume()") })

	created := author.Do(http.MethodPost, "/api/v1/posts", map[string]string{"title": "Fresh", "status": "published"})
	post := apptest.Expect[posts.Post](t, created, http.StatusCreated).Data
	after := created.Header.Get(app.ReadAfterHeader)
	if after == "" {
		t.Fatalf("no %s header after a write; headers %v", app.ReadAfterHeader, created.Header)
	}
	cookie := ""
	for _, c := range created.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, app.ReadAfterCookie+"="+after+";") {
			cookie = app.ReadAfterCookie + "=" + after
		}
	}
	if cookie == "" {
		t.Fatalf("no %s cookie carrying %s: %v", app.ReadAfterCookie, after, created.Header.Values("Set-Cookie"))
	}

	// The author reads the new post at once, with the header or with the cookie.
	path := fmt.Sprintf("/api/v1/posts/%d", post.ID)
	if got := apptest.Expect[posts.Post](t, author.Do(http.MethodGet, path, nil, app.ReadAfterHeader, after), http.StatusOK).Data; got.Title != "Fresh" {
		t.Errorf("read back %+v", got)
	}
	list := apptest.Expect[posts.PostList](t, author.Do(http.MethodGet, "/api/v1/posts?limit=5&sort=-id", nil, "Cookie", cookie), http.StatusOK).Data
	if len(list.Items) == 0 || list.Items[0].ID != post.ID {
		t.Errorf("the author's list with the cookie does not start with the new post: %+v", list.Items)
	}

	// Everyone else keeps reading from the paused replica, which has not seen it.
	onReplica := postScans(t, replicaURL)
	routed := srv.App.Replicas().Stats()[0].Routed
	anonymousReads(t, srv, 100)
	apptest.ExpectError(t, srv.Anonymous().Do(http.MethodGet, path, nil), http.StatusNotFound, "post_not_found")
	if st := srv.App.Replicas().Stats()[0]; st.Routed-routed < 101 || !st.Usable {
		t.Errorf("replica stats = %+v, want 101 more routed queries (had %d)", st, routed)
	}
	flushStats(srv)
	waitScans(t, replicaURL, onReplica+101)
}

func TestLaggingReplicaLeavesAndReturns(t *testing.T) {
	primaryURL, replicaURL := testdb.NewReplicated(t)
	srv := serve(t, primaryURL, replicaURL, map[string]string{"REPLICA_MAX_LAG": "100ms"})
	author := srv.SignIn(t, "lag@example.com", "user")
	testdb.WaitReplayed(t, primaryURL, replicaURL)
	exec(t, replicaURL, "SELECT pg_wal_replay_pause()")
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			exec(t, replicaURL, "SELECT pg_wal_replay_resume()")
		}
	})
	apptest.Expect[posts.Post](t, author.Do(http.MethodPost, "/api/v1/posts", map[string]string{"title": "Behind"}), http.StatusCreated)
	waitUsable(t, srv, false)
	primaryReads := srv.App.Replicas().PrimaryReads()
	anonymousReads(t, srv, 10)
	if got := srv.App.Replicas().PrimaryReads() - primaryReads; got < 10 {
		t.Errorf("reads served by the primary while the replica lags: %d, want 10", got)
	}

	exec(t, replicaURL, "SELECT pg_wal_replay_resume()")
	resumed = true
	waitUsable(t, srv, true)
}

// waitUsable waits until the app's replica is in rotation (want) or out of it.
func waitUsable(t *testing.T, srv *apptest.Server, want bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for srv.App.Replicas().Stats()[0].Usable != want {
		if time.Now().After(deadline) {
			t.Fatalf("replica usable = %v after 15s, want %v: %+v", !want, want, srv.App.Replicas().Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStoppedReplicaFallsBackWithoutClientErrors(t *testing.T) {
	primaryURL, _ := testdb.NewReplicated(t)
	replica, replicaURL := testdb.StartReplica(t, primaryURL)
	cfg, mods := apptest.Config(t, apptest.Options{DatabaseURL: primaryURL, Env: replicaEnv(replicaURL, nil)})
	a, err := app.New(context.Background(), cfg, app.Options{Modules: mods, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	waitStatus := func(path string, want int) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			status, body := get(path)
			if status == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s = %d %s, want %d", path, status, body, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitStatus("/readyz", http.StatusOK)

	var served, failed atomic.Int64
	var firstFailure atomic.Pointer[string]
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if status, body := get("/api/v1/posts?limit=5"); status != http.StatusOK {
					msg := fmt.Sprintf("%d %s", status, body)
					firstFailure.CompareAndSwap(nil, &msg)
					failed.Add(1)
				}
				served.Add(1)
			}
		}()
	}
	waitServed := func(n int64) {
		deadline := time.Now().Add(15 * time.Second)
		for served.Load() < n && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitServed(100)
	routed := a.Replicas().Stats()[0].Routed
	if err := replica.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitServed(served.Load() + 200)
	close(stop)
	wg.Wait()

	if n := failed.Load(); n > 0 {
		t.Fatalf("%d of %d reads failed while the replica stopped; first: %s", n, served.Load(), *firstFailure.Load())
	}
	if routed == 0 {
		t.Error("no read reached the replica before it stopped")
	}
	if st := a.Replicas().Stats()[0]; st.Usable {
		t.Errorf("stopped replica still in rotation: %+v", st)
	}
	if a.Replicas().PrimaryReads() == 0 {
		t.Error("no read went to the primary after the replica stopped")
	}
	if status, body := get("/readyz"); status != http.StatusOK {
		t.Errorf("/readyz with the replica down = %d %s, want 200: readiness depends on the primary only", status, body)
	}
}

func TestMigrationsGoToThePrimaryOnly(t *testing.T) {
	primaryURL := testdb.EmptyURL(t)
	replicaURL, err := db.WithDatabase(testdb.Replica(t).URL("postgres"), db.DatabaseName(primaryURL))
	if err != nil {
		t.Fatal(err)
	}
	testdb.WaitReplayed(t, primaryURL, replicaURL)
	migrate := func(url string) error {
		root := cli.NewRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs([]string{"migrate", "apply", "--dir", "../../../migrations", "--schema", "../../../schema",
			"--database-url", url, "--set", "DATABASE_REPLICA_URLS=" + replicaURL})
		if err := root.ExecuteContext(context.Background()); err != nil {
			return fmt.Errorf("%w\n%s", err, out.String())
		}
		return nil
	}

	// Pointed at the replica, nothing can be applied: a standby refuses every write.
	if err := migrate(replicaURL); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("migrate apply on the replica = %v, want a read-only refusal", err)
	}
	// With replicas configured, apply writes to DATABASE_URL; the replica gets the
	// result by replaying the primary's WAL.
	if err := migrate(primaryURL); err != nil {
		t.Fatalf("migrate apply with replicas configured: %v", err)
	}
	testdb.WaitReplayed(t, primaryURL, replicaURL)
	revisions := func(url string) (n int) {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM atlas_schema_revisions.atlas_schema_revisions").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if p, r := revisions(primaryURL), revisions(replicaURL); p == 0 || p != r {
		t.Errorf("applied revisions: primary %d, replica %d; want the same, more than none", p, r)
	}
}

func TestStoreRoutesReadsWritesAndTransactions(t *testing.T) {
	primaryURL, replicaURL := testdb.NewReplicated(t)
	ctx := context.Background()
	pool, err := db.NewPool(ctx, db.PoolConfig{URL: primaryURL, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	rs, err := db.NewReplicas(ctx, pool, db.ReplicaConfig{URLs: []string{replicaURL}, Pool: db.PoolConfig{MaxConns: 4}, MaxLag: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	store := db.NewReplicatedStore(pool, rs)
	author := testdb.User(t, store, sqlc.CreateUserParams{Email: "store@example.com"})
	testdb.WaitReplayed(t, primaryURL, replicaURL)
	exec(t, replicaURL, "SELECT pg_wal_replay_pause()")
	t.Cleanup(func() { exec(t, replicaURL, "SELECT pg_wal_replay_resume()") })

	// Without a session, a read-only query goes to the (paused) replica.
	p := testdb.Post(t, store, sqlc.CreatePostParams{AuthorID: author.ID})
	if _, err := store.GetPost(ctx, p.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("GetPost outside a transaction = %v, want ErrNotFound from the paused replica", err)
	}
	// In a transaction every query runs on the primary.
	if err := store.InTx(ctx, func(q db.Querier) error {
		_, err := q.GetPost(ctx, p.ID)
		return err
	}); err != nil {
		t.Fatalf("GetPost in a transaction: %v", err)
	}
	// A session that wrote reads its write; the position it carries is the primary's.
	s := db.NewSession(0)
	sctx := db.WithSession(ctx, s)
	p2, err := store.CreatePost(sctx, sqlc.CreatePostParams{AuthorID: author.ID, Title: "mine", Status: "draft"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Advanced() || s.After() == 0 {
		t.Fatalf("session after a write: advanced %v at %s", s.Advanced(), s.After())
	}
	if _, err := store.GetPost(sctx, p2.ID); err != nil {
		t.Fatalf("GetPost in the writing session: %v", err)
	}
	// So does a session whose transaction wrote.
	s2 := db.NewSession(0)
	changed := "changed"
	if err := store.InTx(db.WithSession(ctx, s2), func(q db.Querier) error {
		_, err := q.UpdatePost(ctx, sqlc.UpdatePostParams{ID: p2.ID, Title: &changed})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !s2.Advanced() || s2.After() < s.After() {
		t.Errorf("session after a writing transaction: advanced %v at %s (earlier write at %s)", s2.Advanced(), s2.After(), s.After())
	}
	if rs.PrimaryReads() != 1 {
		t.Errorf("primary reads = %d, want the one of the writing session", rs.PrimaryReads())
	}
}

func TestAPrimaryListedAsReplicaIsNeverReadFrom(t *testing.T) {
	primaryURL, _ := testdb.NewReplicated(t)

	cfg, mods := apptest.Config(t, apptest.Options{DatabaseURL: primaryURL, Env: replicaEnv(primaryURL, nil)})
	if _, err := app.New(context.Background(), cfg, app.Options{Modules: mods, Log: slog.New(slog.DiscardHandler)}); err == nil ||
		!strings.Contains(err.Error(), "DATABASE_REPLICA_URLS") {
		t.Fatalf("app.New with DATABASE_URL among the replicas = %v, want a refusal naming DATABASE_REPLICA_URLS", err)
	}

	// The same server under another URL is not a standby: it stays out of rotation.
	srv := serve(t, primaryURL, primaryURL+"&application_name=not_a_replica", nil)
	anonymousReads(t, srv, 5)
	st := srv.App.Replicas().Stats()[0]
	if st.Usable || st.Routed != 0 || srv.App.Replicas().PrimaryReads() < 5 {
		t.Errorf("stats = %+v, primary reads %d; want the primary out of rotation and every read on DATABASE_URL",
			st, srv.App.Replicas().PrimaryReads())
	}
}
