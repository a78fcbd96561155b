package review_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/migrate/lint"
	"github.com/quarrydev/quarry/internal/migrate/review"
	"github.com/quarrydev/quarry/internal/testdb"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// change is a pull request's migration on top of the project's own migrations.
const change = `-- Tags for posts.
CREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, post_id bigint NOT NULL REFERENCES posts (id), name text NOT NULL);
CREATE INDEX tags_post_id_idx ON tags (post_id);
-- atlas:nolint QP101 posts holds a few hundred rows in every deployment
CREATE INDEX posts_status_idx ON posts (status);
ALTER TABLE posts ALTER COLUMN title TYPE varchar(300);
ALTER TABLE posts DROP COLUMN body;
`

// project returns the project's migrations plus change, hashed, and the analysis of
// change.
func project(t *testing.T) (migrate.Dir, *lint.Report) {
	t.Helper()
	local, err := migrate.NewLocalDir(filepath.Join("..", "..", "..", "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := local.Files()
	if err != nil {
		t.Fatal(err)
	}
	dir := &migrate.MemDir{}
	for _, f := range files {
		if err := dir.WriteFile(f.Name(), f.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if err := dir.WriteFile("20990101000000_tags.sql", []byte(change)); err != nil {
		t.Fatal(err)
	}
	sum, err := dir.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate.WriteSumFile(dir, sum); err != nil {
		t.Fatal(err)
	}
	all, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	n := len(all) - 1
	rep, err := lint.Run(context.Background(), lint.Options{Base: all[:n], Files: all[n:], DirPath: "migrations", DevURL: testdb.EmptyURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	return dir, rep
}

func TestMarkdownGolden(t *testing.T) {
	t.Parallel()
	dir, rep := project(t)
	rv, err := review.Build(context.Background(), dir, rep, review.Options{From: "the latest 1 file(s)"})
	if err != nil {
		t.Fatal(err)
	}
	got := review.Markdown(rv)
	golden := filepath.Join("testdata", "review.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("review differs from %s (run go test -run TestMarkdownGolden -update to accept):\n%s", golden, got)
	}
}

func TestTargetSizesFlagLargeRewrites(t *testing.T) {
	t.Parallel()
	dir, rep := project(t)
	target := testdb.NewURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`INSERT INTO users (email, display_name, password_hash) VALUES ('a@example.com', 'A', 'x')`,
		`INSERT INTO posts (author_id, title) SELECT (SELECT id FROM users), 'post ' || g FROM generate_series(1, 500) g`,
		`ANALYZE posts`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rv, err := review.Build(ctx, dir, rep, review.Options{TargetURL: target, RowsThreshold: 100})
	if err != nil {
		t.Fatal(err)
	}
	if s := rv.Tables["posts"]; s == nil || s.Rows != 500 || s.Bytes <= 0 {
		t.Fatalf("posts on the target: got %+v, want 500 rows and a size", s)
	}
	var flagged []string
	for _, fl := range rv.Files[0].Flags {
		flagged = append(flagged, fl.Message)
	}
	text := strings.Join(flagged, "\n")
	if !strings.Contains(text, "rewrites posts (≈500 rows") || !strings.Contains(text, "ACCESS EXCLUSIVE") {
		t.Fatalf("want the varchar(300) rewrite of posts flagged, got %q", text)
	}
	md := review.Markdown(rv)
	if !strings.Contains(md, "| posts | 500 |") {
		t.Errorf("markdown lacks the target's table sizes:\n%s", md)
	}
}

func TestChecksumState(t *testing.T) {
	t.Parallel()
	dir, rep := project(t)
	if err := dir.WriteFile("20990101000000_tags.sql", []byte(change+"-- edited\n")); err != nil {
		t.Fatal(err)
	}
	rv, err := review.Build(context.Background(), dir, rep, review.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rv.Files[0].Checksum; got != review.ChecksumEdited {
		t.Fatalf("checksum state: got %q, want %q", got, review.ChecksumEdited)
	}
}
