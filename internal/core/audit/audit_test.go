package audit_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/core/reqctx"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// events returns every audit event, newest first.
func events(t *testing.T, pool sqlc.DBTX) []sqlc.AuditEvent {
	t.Helper()
	rows, err := sqlc.New(pool).ListAuditEvents(context.Background(), sqlc.ListAuditEventsParams{PageLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func count(t *testing.T, pool sqlc.DBTX, table string) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func inRequest(info reqctx.Info) context.Context {
	return reqctx.With(context.Background(), &info, nil)
}

func TestRecordTakesTheRequestFromTheContext(t *testing.T) {
	t.Parallel()
	store, pool := testdb.NewStore(t)
	start := time.Now()
	ctx := inRequest(reqctx.Info{RequestID: "req-1", ClientIP: "203.0.113.7", UserAgent: "tester/1.0", ActorID: 42})
	err := audit.RecordAlone(ctx, store, audit.Entry{
		Action: "thing.update", ResourceType: "thing", ResourceID: audit.ID(7),
		Before: map[string]any{"name": "old", "token": "t0p"}, After: map[string]any{"name": "new"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := events(t, pool)
	if len(got) != 1 {
		t.Fatalf("want one event, got %d", len(got))
	}
	e := got[0]
	switch {
	case e.ActorID == nil || *e.ActorID != 42:
		t.Errorf("actor %v, want 42", e.ActorID)
	case e.Action != "thing.update" || e.ResourceType != "thing" || e.ResourceID == nil || *e.ResourceID != "7":
		t.Errorf("what: %s %s %v", e.Action, e.ResourceType, e.ResourceID)
	case e.RequestID == nil || *e.RequestID != "req-1":
		t.Errorf("request id %v", e.RequestID)
	case e.ClientIp == nil || e.ClientIp.String() != "203.0.113.7":
		t.Errorf("client ip %v", e.ClientIp)
	case e.UserAgent == nil || *e.UserAgent != "tester/1.0":
		t.Errorf("user agent %v", e.UserAgent)
	case e.Outcome != string(audit.Success):
		t.Errorf("outcome %q", e.Outcome)
	case string(e.Before) != `{"name": "old", "token": "[redacted]"}` || string(e.After) != `{"name": "new"}`:
		t.Errorf("before %s, after %s", e.Before, e.After)
	case e.OccurredAt.Before(start.Add(-time.Minute)) || e.OccurredAt.After(time.Now().Add(time.Minute)):
		t.Errorf("occurred_at %v, want about %v", e.OccurredAt, start)
	}
}

func TestRecordOutsideARequest(t *testing.T) {
	t.Parallel()
	store, pool := testdb.NewStore(t)
	ctx := context.Background()
	if err := audit.RecordAlone(ctx, store, audit.Entry{Action: "job.run", ResourceType: "job", Outcome: audit.Failure}); err != nil {
		t.Fatal(err)
	}
	// An explicit actor wins over the request's; a client address that is not an IP
	// is left out; an oversized user agent is cut, invalid UTF-8 and NUL cleaned.
	ctx = inRequest(reqctx.Info{ActorID: 1, ClientIP: "not an address", UserAgent: strings.Repeat("é", 400) + "\xff\x00"})
	if err := audit.RecordAlone(ctx, store, audit.Entry{Action: "job.run", ResourceType: "job", ActorID: 5}); err != nil {
		t.Fatal(err)
	}
	got := events(t, pool)
	if len(got) != 2 {
		t.Fatalf("want two events, got %d", len(got))
	}
	second, first := got[0], got[1]
	if first.ActorID != nil || first.RequestID != nil || first.ClientIp != nil || first.UserAgent != nil ||
		first.ResourceID != nil || first.Before != nil || first.After != nil || first.Outcome != "failure" {
		t.Errorf("outside a request every request field is NULL: %+v", first)
	}
	if second.ActorID == nil || *second.ActorID != 5 || second.ClientIp != nil || second.UserAgent == nil ||
		len(*second.UserAgent) > 512 || strings.ContainsAny(*second.UserAgent, "\x00") {
		t.Errorf("second: %+v", second)
	}
}

func TestRecordRejectsInvalidEntries(t *testing.T) {
	t.Parallel()
	store, pool := testdb.NewStore(t)
	for name, e := range map[string]audit.Entry{
		"no action":         {ResourceType: "post"},
		"action shape":      {Action: "Post.Create", ResourceType: "post"},
		"no resource type":  {Action: "post.create"},
		"outcome":           {Action: "post.create", ResourceType: "post", Outcome: "maybe"},
		"before not object": {Action: "post.create", ResourceType: "post", Before: []int{1}},
		"after not object":  {Action: "post.create", ResourceType: "post", After: "text"},
		"after not JSON":    {Action: "post.create", ResourceType: "post", After: map[string]any{"c": make(chan int)}},
	} {
		if err := audit.RecordAlone(context.Background(), store, e); !errors.Is(err, audit.ErrInvalidEntry) {
			t.Errorf("%s: got %v, want ErrInvalidEntry", name, err)
		}
	}
	if n := count(t, pool, "audit_events"); n != 0 {
		t.Fatalf("invalid entries wrote %d rows", n)
	}
}

// A change and its audit event commit together or not at all.
func TestRecordSharesTheChangesTransaction(t *testing.T) {
	t.Parallel()
	_, pool := testdb.NewStore(t)
	ctx := context.Background()
	insertUser := func(tx pgx.Tx, email string) (sqlc.User, error) {
		return sqlc.New(tx).CreateUser(ctx, sqlc.CreateUserParams{Email: email, DisplayName: "X", PasswordHash: "h", Role: "user", IsActive: true})
	}
	later := errors.New("a later step failed")
	for name, fn := range map[string]func(tx pgx.Tx) error{
		// The audit event cannot be encoded: the insert before it is rolled back.
		"unencodable event": func(tx pgx.Tx) error {
			u, err := insertUser(tx, "a@example.com")
			if err != nil {
				return err
			}
			return audit.Record(ctx, sqlc.New(tx), audit.Entry{Action: "user.create", ResourceType: "user", ResourceID: audit.ID(u.ID), After: map[string]any{"c": make(chan int)}})
		},
		// The event is written, then a later step fails: both are rolled back.
		"later failure": func(tx pgx.Tx) error {
			u, err := insertUser(tx, "b@example.com")
			if err != nil {
				return err
			}
			if err := audit.Record(ctx, sqlc.New(tx), audit.Entry{Action: "user.create", ResourceType: "user", ResourceID: audit.ID(u.ID), After: u}); err != nil {
				return err
			}
			return later
		},
	} {
		if err := db.InTx(ctx, pool, pgx.TxOptions{}, fn); err == nil {
			t.Errorf("%s: transaction committed", name)
		}
	}
	if users, evs := count(t, pool, "users"), count(t, pool, "audit_events"); users != 0 || evs != 0 {
		t.Fatalf("after rollbacks: %d users, %d audit events; want none", users, evs)
	}
	// And the same statements commit together.
	err := db.InTx(ctx, pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		u, err := insertUser(tx, "c@example.com")
		if err != nil {
			return err
		}
		return audit.Record(ctx, sqlc.New(tx), audit.Entry{Action: "user.create", ResourceType: "user", ResourceID: audit.ID(u.ID), After: u})
	})
	if err != nil {
		t.Fatal(err)
	}
	if users, evs := count(t, pool, "users"), count(t, pool, "audit_events"); users != 1 || evs != 1 {
		t.Fatalf("after commit: %d users, %d audit events; want one each", users, evs)
	}
}

// The audit table is append-only in the database itself, whoever asks.
func TestAuditEventsAreAppendOnly(t *testing.T) {
	t.Parallel()
	store, pool := testdb.NewStore(t)
	ctx := context.Background()
	if err := audit.RecordAlone(ctx, store, audit.Entry{Action: "post.create", ResourceType: "post", ResourceID: "1"}); err != nil {
		t.Fatal(err)
	}
	for op, stmt := range map[string]string{
		"UPDATE":   `UPDATE audit_events SET action = 'post.delete'`,
		"DELETE":   `DELETE FROM audit_events`,
		"TRUNCATE": `TRUNCATE audit_events`,
		// Statement-level: even a change that matches no row is refused.
		"UPDATE no rows": `UPDATE audit_events SET action = 'post.delete' WHERE id < 0`,
	} {
		_, err := pool.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" ||
			pgErr.Message != "audit_events is append-only: "+strings.Fields(op)[0]+" is not allowed" {
			t.Errorf("%s: got %v, want the append-only trigger's error", op, err)
		}
	}
	if n := count(t, pool, "audit_events"); n != 1 {
		t.Fatalf("audit events after the attempts: %d, want 1", n)
	}
}

// The append-only function and trigger ship in a hand-written migration and are
// described in schema/audit.sql too; both copies must define the same objects.
func TestSchemaAndMigrationDefineTheSameTrigger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := repoRoot(t)
	schema, err := os.ReadFile(filepath.Join(root, "schema", "audit.sql"))
	if err != nil {
		t.Fatal(err)
	}
	fromSchema, err := pgx.Connect(ctx, testdb.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fromSchema.Close(ctx)
	if _, err := fromSchema.Exec(ctx, string(schema)); err != nil {
		t.Fatalf("execute schema/audit.sql: %v", err)
	}
	fromMigrations := testdb.New(t)
	const defs = `SELECT pg_get_functiondef('audit_events_append_only'::regproc) || pg_get_triggerdef(t.oid)
		FROM pg_trigger t WHERE t.tgrelid = 'audit_events'::regclass AND NOT t.tgisinternal`
	var want, got string
	if err := fromSchema.QueryRow(ctx, defs).Scan(&want); err != nil {
		t.Fatalf("schema/audit.sql: %v", err)
	}
	if err := fromMigrations.QueryRow(ctx, defs).Scan(&got); err != nil {
		t.Fatalf("migrations (test template): %v", err)
	}
	if got != want {
		t.Fatalf("the migrations define\n%s\nbut schema/audit.sql defines\n%s", got, want)
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}
