package migrate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// project is a scratch project: a schema and a migrations directory.
type project struct {
	t      *testing.T
	root   string
	engine *migrate.Engine
}

func newProject(t *testing.T) *project {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"schema", "migrations"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// One dev database per project, emptied by Diff after each use: cheaper than a
	// throwaway database per Diff, and it exercises DEV_DATABASE_URL.
	e, err := migrate.New(migrate.Config{
		MigrationsDir: filepath.Join(root, "migrations"),
		SchemaDir:     filepath.Join(root, "schema"),
		DevURL:        testdb.EmptyURL(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &project{t: t, root: root, engine: e}
}

func (p *project) write(rel, content string) {
	p.t.Helper()
	if err := os.WriteFile(filepath.Join(p.root, rel), []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// migration writes a hand-made migration file and rehashes the directory.
func (p *project) migration(name, content string) {
	p.t.Helper()
	p.write(filepath.Join("migrations", name), content)
	if err := p.engine.Hash(); err != nil {
		p.t.Fatal(err)
	}
}

func (p *project) migrationFiles() []string {
	p.t.Helper()
	names, err := filepath.Glob(filepath.Join(p.root, "migrations", "*.sql"))
	if err != nil {
		p.t.Fatal(err)
	}
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	return names
}

func query[T any](t *testing.T, url, sql string, args ...any) T {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v T
	if err := conn.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func tableExists(t *testing.T, url, table string) bool {
	return query[bool](t, url, `SELECT to_regclass($1) IS NOT NULL`, table)
}

// The repository's own schema and migrations must be in sync: this is what
// `make check` enforces with `migrate diff --check`.
func TestRepositoryMigrationsMatchSchema(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	e, err := migrate.New(migrate.Config{
		MigrationsDir: filepath.Join(root, "migrations"),
		SchemaDir:     filepath.Join(root, "schema"),
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Diff(context.Background(), testdb.ServerURL(), migrate.DiffOptions{Name: "check", Check: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() {
		t.Fatalf("schema/ and migrations/ differ; pending statements: %q", res.Statements)
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

func TestDiffApplyStatusLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newProject(t)
	p.write("schema/users.sql", `CREATE TABLE users (
	id bigint GENERATED ALWAYS AS IDENTITY,
	email text NOT NULL,
	CONSTRAINT users_pkey PRIMARY KEY (id)
);`)
	// posts.sql sorts before users.sql although it depends on it.
	p.write("schema/posts.sql", `CREATE TABLE posts (
	id bigint GENERATED ALWAYS AS IDENTITY,
	author_id bigint NOT NULL,
	CONSTRAINT posts_pkey PRIMARY KEY (id),
	CONSTRAINT posts_author_id_fkey FOREIGN KEY (author_id) REFERENCES users (id)
);
CREATE INDEX posts_author_id_idx ON posts (author_id);`)

	res, err := p.engine.Diff(ctx, testdb.ServerURL(), migrate.DiffOptions{Name: "init"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed() || len(p.migrationFiles()) != 1 {
		t.Fatalf("init: want one migration, got %v (files %v)", res, p.migrationFiles())
	}
	if err := p.engine.Validate(); err != nil {
		t.Fatalf("atlas.sum after diff: %v", err)
	}

	// Unchanged schema: nothing to write.
	res, err = p.engine.Diff(ctx, testdb.ServerURL(), migrate.DiffOptions{Name: "noop"})
	if err != nil || res.Changed() || len(p.migrationFiles()) != 1 {
		t.Fatalf("noop diff: res=%v err=%v files=%v", res, err, p.migrationFiles())
	}

	// A new table in a new file gives exactly one new, date-named file.
	p.write("schema/things.sql", `CREATE TABLE things (id bigint GENERATED ALWAYS AS IDENTITY, name text NOT NULL, CONSTRAINT things_pkey PRIMARY KEY (id));`)
	res, err = p.engine.Diff(ctx, testdb.ServerURL(), migrate.DiffOptions{Name: "add_thing", Check: true})
	if err != nil || !res.Changed() || len(p.migrationFiles()) != 1 {
		t.Fatalf("check mode must report without writing: res=%v err=%v files=%v", res, err, p.migrationFiles())
	}
	res, err = p.engine.Diff(ctx, testdb.ServerURL(), migrate.DiffOptions{Name: "add_thing"})
	if err != nil {
		t.Fatal(err)
	}
	files := p.migrationFiles()
	if len(files) != 2 || !regexp.MustCompile(`^[0-9]{14}_add_thing\.sql$`).MatchString(files[1]) || files[1] != res.File {
		t.Fatalf("want a second file NNNNNNNNNNNNNN_add_thing.sql, got %v (result %q)", files, res.File)
	}
	if files[0] >= files[1] {
		t.Fatalf("versions must be ordered: %v", files)
	}
	b, err := os.ReadFile(filepath.Join(p.root, "migrations", files[1]))
	if err != nil {
		t.Fatal(err)
	}
	if want := `CREATE TABLE "things"`; !strings.Contains(string(b), want) || strings.Contains(string(b), `"users"`) {
		t.Fatalf("migration should create only things:\n%s", b)
	}

	// Apply, re-apply, status.
	url := testdb.EmptyURL(t)
	st, err := p.engine.Status(ctx, url)
	if err != nil || len(st.Pending) != 2 || st.Current != "" {
		t.Fatalf("status before apply: %+v %v", st, err)
	}
	applied, err := p.engine.Apply(ctx, url, migrate.ApplyOptions{})
	if err != nil || len(applied.Files) != 2 {
		t.Fatalf("apply: %+v %v", applied, err)
	}
	for _, table := range []string{"users", "posts", "things"} {
		if !tableExists(t, url, table) {
			t.Errorf("table %s missing after apply", table)
		}
	}
	applied, err = p.engine.Apply(ctx, url, migrate.ApplyOptions{})
	if err != nil || len(applied.Files) != 0 {
		t.Fatalf("re-apply must be a no-op: %+v %v", applied, err)
	}
	st, err = p.engine.Status(ctx, url)
	if err != nil || !st.UpToDate() || st.Current != strings.SplitN(files[1], "_", 2)[0] || st.Applied != 2 {
		t.Fatalf("status after apply: %+v %v", st, err)
	}
	// Revisions are kept where and how the Atlas CLI keeps them.
	if n := query[int64](t, url, `SELECT count(*) FROM atlas_schema_revisions.atlas_schema_revisions WHERE applied = total AND error IS NULL`); n != 2 {
		t.Fatalf("want 2 revisions, got %d", n)
	}

	// Editing an applied file is refused, naming it, by validate and apply.
	p.write(filepath.Join("migrations", files[1]), string(b)+"\nDROP TABLE things;\n")
	for name, err := range map[string]error{
		"validate": p.engine.Validate(),
		"apply":    func() error { _, err := p.engine.Apply(ctx, url, migrate.ApplyOptions{}); return err }(),
	} {
		if !errors.Is(err, migrate.ErrChecksum) || !strings.Contains(err.Error(), files[1]) {
			t.Errorf("%s of an edited file: want ErrChecksum naming %s, got %v", name, files[1], err)
		}
	}
	if !tableExists(t, url, "things") {
		t.Fatal("refused apply must not run the edited file")
	}
}

func TestDiffReportsSchemaErrors(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.write("schema/a.sql", "CREATE TABLE a (id bigint PRIMARY KEY);\n")
	p.write("schema/b.sql", "CREATE TABLE b (id bigint PRIMARY KEY);\n\nCREATE TABEL broken (id int);\n")
	_, err := p.engine.Diff(context.Background(), testdb.ServerURL(), migrate.DiffOptions{Name: "init"})
	var serr *migrate.SchemaError
	if !errors.As(err, &serr) {
		t.Fatalf("want a SchemaError, got %v", err)
	}
	if filepath.Base(serr.File) != "b.sql" || serr.Line != 3 || !strings.Contains(serr.Statement, "CREATE TABEL broken") {
		t.Fatalf("error must name file, line and statement: %+v", serr)
	}
	if !strings.Contains(err.Error(), "b.sql:3") {
		t.Fatalf("message: %v", err)
	}
	if len(p.migrationFiles()) != 0 {
		t.Fatal("nothing must be written")
	}
}

func TestDiffRejectsBadName(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	if _, err := p.engine.Diff(context.Background(), testdb.ServerURL(), migrate.DiffOptions{Name: "Bad Name"}); err == nil {
		t.Fatal("want an error for a name with spaces")
	}
}

func TestConcurrentAppliesApplyEachFileOnce(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.migration("20260101000001_a.sql", "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n")
	p.migration("20260101000002_b.sql", "SELECT pg_sleep(0.2);\nINSERT INTO a VALUES (2);\n")
	p.migration("20260101000003_c.sql", "INSERT INTO a VALUES (3);\n")
	url := testdb.EmptyURL(t)

	const instances = 4
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
		errs  []error
	)
	for range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := p.engine.Apply(context.Background(), url, migrate.ApplyOptions{})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			total += len(res.Files)
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("concurrent applies failed: %v", errs)
	}
	if total != 3 {
		t.Fatalf("files applied across instances: want 3, got %d", total)
	}
	if n := query[int64](t, url, `SELECT count(*) FROM a`); n != 3 {
		t.Fatalf("each file must run once: want 3 rows, got %d", n)
	}
}

func TestTxModeNone(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.migration("20260101000001_a.sql", "CREATE TABLE a (id int, name text);\n")
	p.migration("20260101000002_idx.sql", "-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY a_name_idx ON a (name);\n")
	url := testdb.EmptyURL(t)
	res, err := p.engine.Apply(context.Background(), url, migrate.ApplyOptions{})
	if err != nil {
		t.Fatalf("CREATE INDEX CONCURRENTLY outside a transaction: %v", err)
	}
	if len(res.Files) != 2 || res.Files[1].TxMode != "none" || res.Files[0].TxMode != "file" {
		t.Fatalf("tx modes: %+v", res.Files)
	}
	if !tableExists(t, url, "a_name_idx") {
		t.Fatal("index missing")
	}

	// Without the directive the same statement fails inside the file's transaction.
	q := newProject(t)
	q.migration("20260101000001_a.sql", "CREATE TABLE a (id int, name text);\n")
	q.migration("20260101000002_idx.sql", "CREATE INDEX CONCURRENTLY a_name_idx ON a (name);\n")
	if _, err := q.engine.Apply(context.Background(), testdb.EmptyURL(t), migrate.ApplyOptions{}); err == nil ||
		!strings.Contains(err.Error(), "transaction block") {
		t.Fatalf("want the transaction-block error, got %v", err)
	}
}

func TestFailingFileIsRolledBackWithoutRevision(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newProject(t)
	p.migration("20260101000001_a.sql", "CREATE TABLE a (id int PRIMARY KEY);\n")
	p.migration("20260101000002_b.sql", "CREATE TABLE b (id int);\n-- a duplicate\nINSERT INTO a VALUES (1), (1);\nCREATE TABLE c (id int);\n")
	url := testdb.EmptyURL(t)

	_, err := p.engine.Apply(ctx, url, migrate.ApplyOptions{})
	var serr *migrate.StatementError
	if !errors.As(err, &serr) {
		t.Fatalf("want a StatementError, got %v", err)
	}
	if serr.File != "20260101000002_b.sql" || serr.Line != 3 || !strings.Contains(serr.Statement, "INSERT INTO a") ||
		!strings.Contains(err.Error(), "duplicate key") || !strings.Contains(err.Error(), "DETAIL: Key (id)=(1) already exists.") ||
		!strings.Contains(err.Error(), "20260101000002_b.sql:3:") {
		t.Fatalf("error must name file, line, statement, cause and detail: %v", err)
	}
	if !tableExists(t, url, "a") {
		t.Error("the earlier file must stay applied")
	}
	if tableExists(t, url, "b") || tableExists(t, url, "c") {
		t.Error("the failing file must be rolled back as a whole")
	}
	if n := query[int64](t, url, `SELECT count(*) FROM atlas_schema_revisions.atlas_schema_revisions WHERE version = '20260101000002'`); n != 0 {
		t.Fatalf("a rolled-back file must leave no revision row, found %d", n)
	}
	st, err := p.engine.Status(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != "20260101000001" || st.Failed != nil || len(st.Pending) != 1 || st.UpToDate() {
		t.Fatalf("status must show the file pending: %+v failed=%+v", st, st.Failed)
	}

	// The file was never applied, so it may be fixed and rehashed, or discarded.
	if err := os.Remove(filepath.Join(p.root, "migrations", "20260101000002_b.sql")); err != nil {
		t.Fatal(err)
	}
	if err := p.engine.Hash(); err != nil {
		t.Fatal(err)
	}
	if st, err := p.engine.Status(ctx, url); err != nil || !st.UpToDate() {
		t.Fatalf("status after discarding the file: %+v %v", st, err)
	}
	p.migration("20260101000002_b.sql", "CREATE TABLE b (id int);\nINSERT INTO a VALUES (1);\nCREATE TABLE c (id int);\n")
	if _, err := p.engine.Apply(ctx, url, migrate.ApplyOptions{}); err != nil {
		t.Fatalf("apply after the fix: %v", err)
	}
	st, err = p.engine.Status(ctx, url)
	if err != nil || !st.UpToDate() || st.Failed != nil {
		t.Fatalf("status after the fix: %+v %v", st, err)
	}
}

func TestApplyToDryRunAndBaseline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newProject(t)
	p.migration("20260101000001_a.sql", "CREATE TABLE a (id int);\n")
	p.migration("20260101000002_b.sql", "CREATE TABLE b (id int);\n")
	p.migration("20260101000003_c.sql", "CREATE TABLE c (id int);\n")

	url := testdb.EmptyURL(t)
	res, err := p.engine.Apply(ctx, url, migrate.ApplyOptions{DryRun: true})
	if err != nil || len(res.Files) != 3 || len(res.Files[0].Statements) != 1 {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	if tableExists(t, url, "a") || tableExists(t, url, "atlas_schema_revisions.atlas_schema_revisions") {
		t.Fatal("a dry run must change nothing")
	}
	if _, err := p.engine.Apply(ctx, url, migrate.ApplyOptions{To: "20260101000009"}); err == nil {
		t.Fatal("--to with an unknown version must fail")
	}
	res, err = p.engine.Apply(ctx, url, migrate.ApplyOptions{To: "20260101000002"})
	if err != nil || len(res.Files) != 2 || tableExists(t, url, "c") {
		t.Fatalf("apply --to: %+v %v", res, err)
	}

	// A database that already has the first two tables but no history.
	legacy := testdb.EmptyURL(t)
	conn, err := pgx.Connect(ctx, legacy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE a (id int); CREATE TABLE b (id int);"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if _, err := p.engine.Apply(ctx, legacy, migrate.ApplyOptions{}); err == nil || !strings.Contains(err.Error(), "--baseline") {
		t.Fatalf("a non-empty database without history needs a baseline: %v", err)
	}
	res, err = p.engine.Apply(ctx, legacy, migrate.ApplyOptions{Baseline: "20260101000002"})
	if err != nil || len(res.Files) != 1 || res.Files[0].Version != "20260101000003" {
		t.Fatalf("apply --baseline: %+v %v", res, err)
	}
	st, err := p.engine.Status(ctx, legacy)
	if err != nil || !st.UpToDate() || st.Current != "20260101000003" {
		t.Fatalf("status after baseline: %+v %v", st, err)
	}
}
