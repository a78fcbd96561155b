package migrate_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/testdb"
)

// A migration behind a session holding a lock fails after lock_timeout × (retries+1),
// names the blocker, and leaves the database and the revisions as they were.
func TestApplyBehindABlockerFailsNamingIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newProject(t)
	p.migration("20260101000001_a.sql", "CREATE TABLE posts (id int PRIMARY KEY, title text);\n")
	p.migration("20260101000002_b.sql", "CREATE TABLE other (id int);\nALTER TABLE posts ADD COLUMN body text;\n")
	url := testdb.EmptyURL(t)
	if _, err := p.engine.Apply(ctx, url, migrate.ApplyOptions{To: "20260101000001"}); err != nil {
		t.Fatal(err)
	}

	blocker, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Close(ctx)
	tx, err := blocker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var blockerPID int
	if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&blockerPID); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT count(*) FROM posts /* long report */"); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	e, err := migrate.New(migrate.Config{MigrationsDir: filepath.Join(p.root, "migrations"), Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Apply(ctx, url, migrate.ApplyOptions{LockTimeout: 300 * time.Millisecond, LockRetries: 2})
	var serr *migrate.StatementError
	if !errors.As(err, &serr) {
		t.Fatalf("want a StatementError, got %v", err)
	}
	if serr.Attempts != 3 || serr.Line != 2 || len(serr.Blockers) == 0 ||
		!strings.Contains(serr.Blockers[0], "pid "+strconv.Itoa(blockerPID)) || !strings.Contains(serr.Blockers[0], "idle in transaction") ||
		!strings.Contains(serr.Blockers[0], "long report") || !strings.Contains(err.Error(), "lock timeout") {
		t.Fatalf("error must name the blocker and the attempts: %v (%+v)", err, serr)
	}
	if strings.Count(out.String(), "retrying") != 2 {
		t.Errorf("each retry must be reported:\n%s", out.String())
	}
	if tableExists(t, url, "other") {
		t.Error("the file must be rolled back")
	}
	if n := query[int64](t, url, `SELECT count(*) FROM atlas_schema_revisions.atlas_schema_revisions WHERE version = '20260101000002'`); n != 0 {
		t.Fatalf("no revision row for a rolled-back file, found %d", n)
	}

	// Once the blocker is gone, the same apply succeeds.
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(ctx, url, migrate.ApplyOptions{LockTimeout: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
}

// A txmode none file that fails part way records how far it got; apply resumes after
// the statements that ran, dropping the INVALID index a failed concurrent build left.
func TestFailedConcurrentFileRecovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newProject(t)
	p.migration("20260101000001_a.sql", "CREATE TABLE posts (id int PRIMARY KEY, slug text);\nINSERT INTO posts VALUES (1, 'x'), (2, 'x');\n")
	p.migration("20260101000002_b_concurrent.sql", `-- atlas:txmode none

CREATE INDEX CONCURRENTLY posts_id_slug_idx ON posts (id, slug);
CREATE UNIQUE INDEX CONCURRENTLY posts_slug_key ON posts (slug);
`)
	url := testdb.EmptyURL(t)
	var out bytes.Buffer
	e, err := migrate.New(migrate.Config{MigrationsDir: filepath.Join(p.root, "migrations"), Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Apply(ctx, url, migrate.ApplyOptions{})
	var serr *migrate.StatementError
	if !errors.As(err, &serr) || serr.Line != 4 || !strings.Contains(err.Error(), "DETAIL: Key (slug)=(x) is duplicated.") {
		t.Fatalf("want the unique build to fail with its detail: %v", err)
	}
	if valid := query[bool](t, url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'posts_slug_key'::regclass`); valid {
		t.Fatal("the failed concurrent build should leave an INVALID index")
	}
	st, err := e.Status(ctx, url)
	if err != nil || st.Failed == nil || st.Failed.File != "20260101000002_b_concurrent.sql" || !strings.Contains(st.Failed.Statement, "posts_slug_key") {
		t.Fatalf("status must show the failure: %+v %v", st, err)
	}
	if applied := query[int64](t, url, `SELECT applied FROM atlas_schema_revisions.atlas_schema_revisions WHERE version = '20260101000002'`); applied != 1 {
		t.Fatalf("revision must record 1 applied statement, got %d", applied)
	}

	// Fix the data; apply resumes at the second statement and rebuilds the index.
	if err := exec2(ctx, url, "UPDATE posts SET slug = 'y' WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if _, err := e.Apply(ctx, url, migrate.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "resuming after the 1 statement") || !strings.Contains(out.String(), "posts_slug_key is INVALID") {
		t.Errorf("apply must say it resumed and dropped the invalid index:\n%s", out.String())
	}
	if valid := query[bool](t, url, `SELECT indisvalid FROM pg_index WHERE indexrelid = 'posts_slug_key'::regclass`); !valid {
		t.Fatal("the index must be valid after recovery")
	}
	if st, err := e.Status(ctx, url); err != nil || !st.UpToDate() {
		t.Fatalf("status after recovery: %+v %v", st, err)
	}
}

func exec2(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// set repairs the history after a manual fix; the Atlas Cloud identifier row is not a
// revision.
func TestSetAndCloudIdentifier(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newProject(t)
	p.migration("20260101000001_a.sql", "CREATE TABLE a (id int);\n")
	p.migration("20260101000002_b.sql", "-- atlas:txmode none\n\nCREATE TABLE b (id int);\nSELECT 1/0;\n")
	p.migration("20260101000003_c.sql", "CREATE TABLE c (id int);\n")
	url := testdb.EmptyURL(t)
	if _, err := p.engine.Apply(ctx, url, migrate.ApplyOptions{}); err == nil {
		t.Fatal("b must fail")
	}
	if err := exec2(ctx, url, `INSERT INTO atlas_schema_revisions.atlas_schema_revisions
	(version, description, type, applied, total, executed_at, execution_time, hash, operator_version)
	VALUES ('.atlas_cloud_identifier', 'x', 2, 0, 0, now(), 0, '', 'atlas')`); err != nil {
		t.Fatal(err)
	}
	// Discarding the partly applied file leaves a visible failure and a way out.
	b := p.content("20260101000002_b.sql")
	if err := os.Remove(filepath.Join(p.root, "migrations", "20260101000002_b.sql")); err != nil {
		t.Fatal(err)
	}
	if err := p.engine.Hash(); err != nil {
		t.Fatal(err)
	}
	if st, err := p.engine.Status(ctx, url); err != nil || st.Failed == nil {
		t.Fatalf("status with the failed file discarded: %+v %v", st, err)
	}
	if _, err := p.engine.Apply(ctx, url, migrate.ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "migrate set") {
		t.Fatalf("apply with the failed file discarded must point at migrate set: %v", err)
	}
	p.migration("20260101000002_b.sql", b)
	changed, err := p.engine.Set(ctx, url, "20260101000002", 0)
	if err != nil || len(changed) != 1 || !strings.Contains(changed[0], "20260101000002_b.sql: was failed or partial (1 of 2 statements)") {
		t.Fatalf("set: %q %v", changed, err)
	}
	st, err := p.engine.Status(ctx, url)
	if err != nil || st.Failed != nil || st.Current != "20260101000002" || len(st.Pending) != 1 || st.Applied != 2 {
		t.Fatalf("status after set: %+v %v", st, err)
	}
	if _, err := p.engine.Apply(ctx, url, migrate.ApplyOptions{}); err != nil || !tableExists(t, url, "c") {
		t.Fatalf("apply after set: %v", err)
	}
	changed, err = p.engine.Set(ctx, url, "20260101000001", 0)
	if err != nil || len(changed) != 2 {
		t.Fatalf("set back: %q %v", changed, err)
	}
	if _, err := p.engine.Set(ctx, url, "20269999999999", 0); err == nil {
		t.Fatal("set to an unknown version must fail")
	}
}
