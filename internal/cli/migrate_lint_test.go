package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/testdb"
)

// migrateCmd runs `api migrate args…` against dbURL and returns its standard and
// error output together.
func migrateCmd(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	out, errOut, err := runAPI(t, append(append([]string{"migrate"}, args...), "--database-url", dbURL, "--app-env", "test")...)
	return out + errOut, err
}

// projectWith copies the project's migrations to a temporary directory, adds a file
// with body and rehashes. It returns the directory.
func projectWith(t *testing.T, name, body string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "..", "migrations")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := migrate.New(migrate.Config{MigrationsDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Hash(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMigrateLintPlainIndexOnPosts(t *testing.T) {
	t.Parallel()
	server := testdb.EmptyURL(t)
	dir := projectWith(t, "20991231000000_posts_status.sql", "-- Lists posts by status.\nCREATE INDEX posts_status_idx ON posts (status);\n")
	out, err := migrateCmd(t, server, "lint", "--dir", dir, "--latest", "1")
	if !errors.Is(err, ErrLintFailed) {
		t.Fatalf("want ErrLintFailed, got %v\n%s", err, out)
	}
	if !strings.Contains(out, "20991231000000_posts_status.sql:2: QP101") {
		t.Fatalf("output does not name the rule, file and line:\n%s", out)
	}

	dir = projectWith(t, "20991231000000_posts_status.sql", "-- Lists posts by status.\n-- atlas:nolint QP101 posts is small everywhere\nCREATE INDEX posts_status_idx ON posts (status);\n")
	out, err = migrateCmd(t, server, "lint", "--dir", dir, "--latest", "1")
	if err != nil || !strings.Contains(out, "accepted: posts is small everywhere") {
		t.Fatalf("nolint with a reason must pass and say so: %v\n%s", err, out)
	}
	out, err = migrateCmd(t, server, "review", "--dir", dir, "--latest", "1", "--format", "markdown")
	if err != nil {
		t.Fatalf("review: %v\n%s", err, out)
	}
	if !strings.Contains(out, "| Line | Statement | What it does | Lock |") || !strings.Contains(out, "| SHARE on posts |") {
		t.Fatalf("review lacks the statement table with its lock:\n%s", out)
	}
}

func TestMigrateDriftNamesDroppedIndexAndTrigger(t *testing.T) {
	t.Parallel()
	live := testdb.EmptyURL(t)
	dir := filepath.Join("..", "..", "migrations")
	if out, err := migrateCmd(t, live, "apply", "--dir", dir); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if out, err := migrateCmd(t, live, "drift", "--dir", dir); err != nil {
		t.Fatalf("a freshly migrated database must be in sync: %v\n%s", err, out)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{`DROP INDEX posts_author_id_created_at_id_idx`, `DROP TRIGGER audit_events_append_only ON audit_events`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	out, err := migrateCmd(t, live, "drift", "--dir", dir)
	if !errors.Is(err, ErrDrift) {
		t.Fatalf("want ErrDrift, got %v\n%s", err, out)
	}
	for _, name := range []string{"index public.posts_author_id_created_at_id_idx: missing", "trigger public.audit_events.audit_events_append_only: missing"} {
		if !strings.Contains(out, name) {
			t.Errorf("drift output lacks %q:\n%s", name, out)
		}
	}
}
