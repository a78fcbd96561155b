package jobs_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/jobs"
	"github.com/quarrydev/quarry/internal/migrate/catalog"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// recordArgs is a test job that counts its runs by Key; Fail makes the first attempts
// fail, Block makes it wait until released or cancelled.
type recordArgs struct {
	Key   string `json:"key"`
	Fail  int    `json:"fail,omitempty"`
	Block bool   `json:"block,omitempty"`
}

func (recordArgs) Kind() string { return "test_record" }

type recorder struct {
	mu      sync.Mutex
	runs    map[string]int
	by      map[string][]string // client ids that ran each key
	started chan string
	release chan struct{}
}

func newRecorder() *recorder {
	return &recorder{runs: map[string]int{}, by: map[string][]string{}, started: make(chan string, 100), release: make(chan struct{})}
}

func (r *recorder) register(w *river.Workers) error {
	return river.AddWorkerSafely(w, river.WorkFunc(func(ctx context.Context, job *river.Job[recordArgs]) error {
		r.mu.Lock()
		r.runs[job.Args.Key]++
		r.by[job.Args.Key] = append(r.by[job.Args.Key], job.AttemptedBy[len(job.AttemptedBy)-1])
		r.mu.Unlock()
		r.started <- job.Args.Key
		if job.Args.Block {
			select {
			case <-r.release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if job.Attempt <= job.Args.Fail {
			return errors.New("failing on purpose")
		}
		return nil
	}))
}

func (r *recorder) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[key]
}

// fastRetry retries a failed job after 100ms times its attempt number.
type fastRetry struct{}

func (fastRetry) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(time.Duration(job.Attempt) * 100 * time.Millisecond)
}

// newClient returns a client on pool that works the default and maintenance queues
// with the recorder's job, stopped when the test ends.
func newClient(t *testing.T, store *db.Store, pool *db.Pool, rec *recorder, cfg jobs.Config) *jobs.Client {
	t.Helper()
	cfg.Work = true
	cfg.Queues = map[string]int{jobs.QueueDefault: 4, jobs.QueueMaintenance: 1}
	cfg.PollInterval = 50 * time.Millisecond
	cfg.RetryPolicy = fastRetry{}
	if rec != nil {
		cfg.Register = rec.register
	}
	c, err := jobs.New(pool, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func start(t *testing.T, c *jobs.Client) {
	t.Helper()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = jobs.Stop(ctx, c)
	})
}

// waitState waits until job id is in state and returns it.
func waitState(t *testing.T, c *jobs.Client, id int64, state rivertype.JobState) *rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		row, err := c.JobGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if row.State == state {
			return row
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d (%s) is %s after 30s, want %s (errors: %v)", id, row.Kind, row.State, state, row.Errors)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRolledBackEnqueueLeavesNoJobAndCommittedOnesRunOnceAcrossTwoWorkers(t *testing.T) {
	store, pool := testdb.NewStore(t)
	rec := newRecorder()
	ctx := context.Background()
	inserter, err := jobs.New(pool, store, jobs.Config{Register: rec.register})
	if err != nil {
		t.Fatal(err)
	}
	enq := jobs.NewEnqueuer(inserter)

	// Outside a transaction there is nothing to enqueue with.
	if _, err := enq.Enqueue(ctx, store, recordArgs{Key: "no-tx"}, nil); !errors.Is(err, jobs.ErrNotInTx) {
		t.Fatalf("Enqueue on the store = %v, want ErrNotInTx", err)
	}

	// A write and its job in one transaction that fails: neither is kept.
	errBoom := errors.New("boom")
	user, err := store.CreateUser(ctx, sqlc.CreateUserParams{Email: "kept@example.com", DisplayName: "K", PasswordHash: "x", Role: "user"})
	if err != nil {
		t.Fatal(err)
	}
	err = store.InTx(ctx, func(q db.Querier) error {
		if _, err := q.UpdateUser(ctx, sqlc.UpdateUserParams{ID: user.ID, DisplayName: ptr("changed")}); err != nil {
			return err
		}
		if _, err := enq.Enqueue(ctx, q, recordArgs{Key: "rolled-back"}, nil); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	if u, err := store.GetUser(ctx, user.ID); err != nil || u.DisplayName != "K" {
		t.Fatalf("user after the rollback: %+v, %v", u, err)
	}

	const n = 40
	var ids []int64
	err = store.InTx(ctx, func(q db.Querier) error {
		ids = ids[:0] // the transaction may run again
		for i := range n {
			id, err := enq.Enqueue(ctx, q, recordArgs{Key: "committed-" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)}, nil)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	a, b := newClient(t, store, pool, rec, jobs.Config{}), newClient(t, store, pool, rec, jobs.Config{})
	start(t, a)
	start(t, b)
	for _, id := range ids {
		waitState(t, a, id, rivertype.JobStateCompleted)
	}
	var total int
	clients := map[string]bool{}
	rec.mu.Lock()
	for key, runs := range rec.runs {
		if key == "rolled-back" {
			t.Errorf("the job of the rolled-back transaction ran %d time(s)", runs)
		}
		if runs != 1 {
			t.Errorf("job %s ran %d times, want once", key, runs)
		}
		total += runs
		for _, c := range rec.by[key] {
			clients[c] = true
		}
	}
	rec.mu.Unlock()
	if total != n {
		t.Errorf("%d runs, want %d", total, n)
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE args->>'key' = 'rolled-back'`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("%d job rows of the rolled-back transaction, want 0", rows)
	}
	t.Logf("%d jobs worked by %d clients", total, len(clients))
}

func TestFailingJobRetriesWithBackoffThenCompletes(t *testing.T) {
	store, pool := testdb.NewStore(t)
	rec := newRecorder()
	reg := prometheus.NewRegistry()
	m, err := jobs.NewMetrics(reg, pool)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, store, pool, rec, jobs.Config{Metrics: m})
	res, err := c.Insert(context.Background(), recordArgs{Key: "flaky", Fail: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	start(t, c)

	row := waitState(t, c, res.Job.ID, rivertype.JobStateCompleted)
	if row.Attempt != 3 || len(row.Errors) != 2 {
		t.Fatalf("attempt %d with %d errors, want the third attempt after two errors", row.Attempt, len(row.Errors))
	}
	for i, e := range row.Errors {
		if e.Attempt != i+1 || !strings.Contains(e.Error, "failing on purpose") {
			t.Errorf("error %d = %+v, want attempt %d's worker error", i, e, i+1)
		}
	}
	// fastRetry waits 100ms after the first failure and 200ms after the second.
	if gap := row.Errors[1].At.Sub(row.Errors[0].At); gap < 100*time.Millisecond {
		t.Errorf("second attempt failed %s after the first, want the backoff of at least 100ms between them", gap)
	}
	if gap := row.AttemptedAt.Sub(row.Errors[1].At); gap < 200*time.Millisecond {
		t.Errorf("third attempt started %s after the second failed, want at least 200ms", gap)
	}
	if got := rec.count("flaky"); got != 3 {
		t.Errorf("ran %d times, want 3", got)
	}
	const want = `
# HELP quarry_job_attempts_total Job attempts worked by this process, by kind and outcome (completed, failed, cancelled, snoozed).
# TYPE quarry_job_attempts_total counter
quarry_job_attempts_total{kind="test_record",outcome="completed"} 1
quarry_job_attempts_total{kind="test_record",outcome="failed"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "quarry_job_attempts_total"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "quarry_job_run_duration_seconds", "quarry_job_queue_wait_seconds"); err != nil || n != 2 {
		t.Errorf("duration and wait series: %d (%v), want one each", n, err)
	}
	if _, err := testutil.GatherAndCount(reg, "quarry_jobs"); err != nil {
		t.Errorf("jobs by queue and state: %v", err)
	}
}

func TestPeriodicPruneDeletesOnlyExpiredTokens(t *testing.T) {
	store, pool := testdb.NewStore(t)
	ctx := context.Background()
	user, err := store.CreateUser(ctx, sqlc.CreateUserParams{Email: "prune@example.com", DisplayName: "P", PasswordHash: "x", Role: "user"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tokens := map[string]time.Time{
		"long expired":         now.Add(-48 * time.Hour),
		"expired within grace": now.Add(-time.Hour),
		"valid":                now.Add(time.Hour),
	}
	for name, exp := range tokens {
		hash := make([]byte, 32)
		_, _ = rand.Read(hash)
		// created_at must precede expires_at (a CHECK); set both directly.
		if _, err := pool.Exec(ctx, `INSERT INTO refresh_tokens (user_id, family_id, token_hash, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, user.ID, uuid.New(), hash, exp.Add(-72*time.Hour), exp); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}

	c := newClient(t, store, pool, nil, jobs.Config{TokenPruneInterval: time.Hour, TokenPruneGrace: 24 * time.Hour})
	start(t, c)
	var id int64
	deadline := time.Now().Add(30 * time.Second)
	for id == 0 {
		err := pool.QueryRow(ctx, `SELECT id FROM river_job WHERE kind = 'prune_refresh_tokens' AND state = 'completed'`).Scan(&id)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no completed prune job after 30s: the periodic job did not run at start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var left []time.Time
	rows, err := pool.Query(ctx, `SELECT expires_at FROM refresh_tokens ORDER BY expires_at`)
	if err != nil {
		t.Fatal(err)
	}
	left, err = pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || !left[0].Round(time.Second).Equal(tokens["expired within grace"].Round(time.Second)) {
		t.Fatalf("tokens left expire at %v, want the one expired within the grace and the valid one", left)
	}
	row, err := c.JobGet(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var out jobs.PruneResult
	if err := json.Unmarshal(row.Output(), &out); err != nil || out.Deleted != 1 {
		t.Errorf("recorded output %s (%v), want deleted 1", row.Output(), err)
	}
}

func TestStopLetsRunningJobFinish(t *testing.T) {
	store, pool := testdb.NewStore(t)
	rec := newRecorder()
	c := newClient(t, store, pool, rec, jobs.Config{})
	res, err := c.Insert(context.Background(), recordArgs{Key: "finishes", Block: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	start(t, c)
	<-rec.started
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		stopped <- jobs.Stop(ctx, c)
	}()
	time.Sleep(100 * time.Millisecond) // the stop is under way; the job still runs
	close(rec.release)
	if err := <-stopped; err != nil {
		t.Fatalf("Stop = %v, want a clean stop", err)
	}
	row, err := c.JobGet(context.Background(), res.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.State != rivertype.JobStateCompleted {
		t.Errorf("job is %s after a graceful stop, want completed", row.State)
	}
}

func TestStopCancelsJobAtTimeoutAndItIsRetried(t *testing.T) {
	store, pool := testdb.NewStore(t)
	rec := newRecorder()
	c := newClient(t, store, pool, rec, jobs.Config{})
	res, err := c.Insert(context.Background(), recordArgs{Key: "cut-off", Block: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	start(t, c)
	<-rec.started
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := jobs.Stop(ctx, c); err == nil || !strings.Contains(err.Error(), "retried") {
		t.Fatalf("Stop = %v, want the error saying jobs were cancelled and will be retried", err)
	}
	row, err := c.JobGet(context.Background(), res.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if row.State != rivertype.JobStateRetryable && row.State != rivertype.JobStateAvailable {
		t.Fatalf("cut-off job is %s, want retryable", row.State)
	}

	// Another worker picks it up and finishes it.
	close(rec.release)
	other := newClient(t, store, pool, rec, jobs.Config{})
	start(t, other)
	waitState(t, other, res.Job.ID, rivertype.JobStateCompleted)
	if got := rec.count("cut-off"); got != 2 {
		t.Errorf("ran %d times, want 2 (cut off, then retried)", got)
	}
}

func TestParseQueues(t *testing.T) {
	q, err := jobs.ParseQueues([]string{"default=10", " maintenance = 2", "mail=3"})
	if err != nil || q["default"] != 10 || q["maintenance"] != 2 || q["mail"] != 3 {
		t.Fatalf("ParseQueues = %v, %v", q, err)
	}
	for _, bad := range [][]string{
		{"default=10"},                              // maintenance missing
		{"default=x", "maintenance=1"},              // not a number
		{"default=0", "maintenance=1"},              // out of range
		{"default=1", "maintenance=1", "default=2"}, // twice
		{"default", "maintenance=1"},                // no =
	} {
		if _, err := jobs.ParseQueues(bad); err == nil {
			t.Errorf("ParseQueues(%q) succeeded", bad)
		}
	}
}

// TestSchemaMatchesRiverMigrations checks that schema/river.sql, as migrated into the
// test template, equals what River's own migrations build for the pinned version.
func TestSchemaMatchesRiverMigrations(t *testing.T) {
	ctx := context.Background()
	riverURL := testdb.EmptyURL(t)
	rpool, err := pgxpool.New(ctx, riverURL)
	if err != nil {
		t.Fatal(err)
	}
	defer rpool.Close()
	m, err := rivermigrate.New(riverpgxv5.New(rpool), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		t.Fatal(err)
	}
	want := riverObjects(t, riverURL)
	got := riverObjects(t, testdb.NewURL(t))
	if len(want.Objects) < 20 {
		t.Fatalf("River's migrations built only %d objects", len(want.Objects))
	}
	for _, d := range catalog.Compare(want, got) {
		t.Errorf("schema/river.sql differs from River's migrations: %s", d)
	}
}

// riverObjects reads the catalog of the database at url and keeps River's objects,
// without river_migration (River's record of its own migrations, left out on purpose).
func riverObjects(t *testing.T, url string) *catalog.Catalog {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	sdb := stdlib.OpenDB(*cfg)
	defer sdb.Close()
	c, err := catalog.Read(context.Background(), sdb)
	if err != nil {
		t.Fatal(err)
	}
	out := &catalog.Catalog{}
	for _, o := range c.Objects {
		name := o.Name + " " + o.Table
		if strings.Contains(name, "river_") && !strings.Contains(name, "river_migration") {
			out.Objects = append(out.Objects, o)
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestAuditRetentionDeletesOnlyOldEventsAndNothingElseCan(t *testing.T) {
	store, pool := testdb.NewStore(t)
	ctx := context.Background()
	for _, age := range []time.Duration{10 * 24 * time.Hour, 2 * 24 * time.Hour, 0} {
		if _, err := pool.Exec(ctx, `INSERT INTO audit_events (occurred_at, action, resource_type, outcome)
			VALUES (now() - $1::interval, 'test.retention', 'test', 'success')`, age.String()); err != nil {
			t.Fatal(err)
		}
	}
	// The append-only guard still refuses a plain DELETE, and the prune function a
	// retention under a day.
	if _, err := pool.Exec(ctx, `DELETE FROM audit_events`); err == nil {
		t.Fatal("DELETE FROM audit_events succeeded")
	}
	if _, err := store.PruneAuditEvents(ctx, sqlc.PruneAuditEventsParams{KeepSeconds: 3600, BatchSize: 10}); err == nil {
		t.Fatal("a retention of an hour was accepted")
	}

	c := newClient(t, store, pool, nil, jobs.Config{AuditRetention: 5 * 24 * time.Hour, AuditPruneInterval: time.Hour})
	start(t, c)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var done bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM river_job WHERE kind = 'prune_audit_events' AND state = 'completed')`).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no completed audit retention job after 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var left int
	var oldest time.Duration
	if err := pool.QueryRow(ctx, `SELECT count(*), coalesce(max(extract(epoch FROM now() - occurred_at)), 0)::bigint * 1000000000
		FROM audit_events WHERE action = 'test.retention'`).Scan(&left, &oldest); err != nil {
		t.Fatal(err)
	}
	if left != 2 || oldest > 3*24*time.Hour {
		t.Fatalf("%d events left, the oldest %s old; want the two younger than the retention", left, oldest)
	}
}

func TestPeriodicPruneDeletesOnlyExpiredIdempotencyKeys(t *testing.T) {
	store, pool := testdb.NewStore(t)
	ctx := context.Background()
	user, err := store.CreateUser(ctx, sqlc.CreateUserParams{Email: "keys@example.com", DisplayName: "K", PasswordHash: "x", Role: "user"})
	if err != nil {
		t.Fatal(err)
	}
	for key, expires := range map[string]string{"expired": "-1 hour", "valid": "1 hour"} {
		if _, err := pool.Exec(ctx, `INSERT INTO order_idempotency_keys (user_id, key, request_hash, expires_at)
			VALUES ($1, $2, decode(repeat('ab', 32), 'hex'), now() + $3::interval)`, user.ID, key, expires); err != nil {
			t.Fatal(err)
		}
	}
	c := newClient(t, store, pool, nil, jobs.Config{KeyPruneInterval: time.Hour})
	start(t, c)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var done bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM river_job WHERE kind = 'prune_idempotency_keys' AND state = 'completed')`).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no completed idempotency key prune after 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	rows, err := pool.Query(ctx, `SELECT key FROM order_idempotency_keys ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(left) != 1 || left[0] != "valid" {
		t.Fatalf("keys left %v (%v), want only the valid one", left, err)
	}
}
