package gen_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/testdb"
)

// commentsTest is the hand-written test file of the throwaway comments module: the
// generated tests read comments of published posts, and a draft hides its comments
// from everyone but its author and admins, as the draft itself.
const commentsTest = `package comments_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/modules/comments"
)

func genAdjust(body map[string]any) {}

func genAdjustParent(p *sqlc.CreatePostParams) { p.Status = "published" }

func TestCommentsOfADraftAreHidden(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	author := srv.SignIn(t, "author@example.com", "user")
	other := srv.SignIn(t, "other@example.com", "user")
	admin := srv.SignIn(t, "admin@example.com", "admin")
	draft, err := srv.App.Store().CreatePost(context.Background(), sqlc.CreatePostParams{AuthorID: author.ID, Title: "Draft", Body: "b", Status: "draft"})
	if err != nil {
		t.Fatal(err)
	}
	coll := fmt.Sprintf("/api/v1/posts/%d/comments", draft.ID)
	c := apptest.Expect[comments.Comment](t, author.Do(http.MethodPost, coll, map[string]any{"body": "mine"}), http.StatusCreated).Data
	one := fmt.Sprintf("/api/v1/comments/%d", c.ID)
	for _, reader := range []*apptest.Client{author, admin} {
		if page := apptest.Expect[comments.CommentList](t, reader.Do(http.MethodGet, coll, nil), http.StatusOK).Data; len(page.Items) != 1 {
			t.Fatalf("user %d lists %+v", reader.ID, page)
		}
		apptest.Expect[comments.Comment](t, reader.Do(http.MethodGet, one, nil), http.StatusOK)
	}
	for _, reader := range []*apptest.Client{other, srv.Anonymous()} {
		apptest.ExpectError(t, reader.Do(http.MethodGet, coll, nil), http.StatusNotFound, "post_not_found")
		apptest.ExpectError(t, reader.Do(http.MethodGet, one, nil), http.StatusNotFound, "comment_not_found")
	}
	apptest.ExpectError(t, other.Do(http.MethodPost, coll, map[string]any{"body": "theirs"}), http.StatusNotFound, "post_not_found")
	apptest.ExpectError(t, other.Do(http.MethodPost, coll+"/bulk", map[string]any{"items": []any{map[string]any{"body": "theirs"}}}), http.StatusNotFound, "post_not_found")
	apptest.ExpectError(t, other.Do(http.MethodPatch, one, map[string]any{"body": "x"}), http.StatusNotFound, "comment_not_found")
	apptest.ExpectError(t, other.Do(http.MethodDelete, one, nil), http.StatusNotFound, "comment_not_found")
}
`

// TestNestedModuleHidesChildrenOfHiddenParents generates a comments module nested
// under posts in a copy of the repository, derives it (sqlc, store, migration, API
// document) and runs its tests: the generated ones, and one that reads the comments
// of a draft as its author, an admin, another user and an anonymous caller.
func TestNestedModuleHidesChildrenOfHiddenParents(t *testing.T) {
	t.Parallel()
	root := copyRepo(t)
	if err := os.WriteFile(filepath.Join(root, "schema", "comments.sql"), []byte(commentsSQL+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("quarrygen%d", os.Getpid())
	env := append(os.Environ(), "DATABASE_URL="+testdb.ServerURL(), "TEST_DATABASE_PREFIX="+prefix)
	t.Cleanup(func() { dropDatabases(t, prefix) })
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = root, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("run", "./cmd/api", "gen", "module", "comments", "--parent", "posts")
	if err := os.WriteFile(filepath.Join(root, "internal", "modules", "comments", "comments_test.go"), []byte(commentsTest), 0o644); err != nil {
		t.Fatal(err)
	}
	run("run", "./cmd/api", "migrate", "diff", "add_comments")
	run("test", "-count=1", "./internal/modules/comments/")
}

// copyRepo copies the repository's files (tracked, and untracked but not ignored)
// to a temporary directory and returns it.
func copyRepo(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", src, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := t.TempDir()
	for _, f := range strings.Fields(string(out)) {
		b, err := os.ReadFile(filepath.Join(src, f))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// dropDatabases drops the databases whose names start with prefix.
func dropDatabases(t *testing.T, prefix string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testdb.ServerURL())
	if err != nil {
		t.Errorf("drop test databases: %v", err)
		return
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Errorf("drop test databases: %v", err)
		return
	}
	for _, n := range names {
		id := pgx.Identifier{n}.Sanitize()
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+id+" IS_TEMPLATE false"); err != nil {
			t.Errorf("drop %s: %v", n, err)
		}
		if _, err := conn.Exec(ctx, "DROP DATABASE "+id+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", n, err)
		}
	}
}
