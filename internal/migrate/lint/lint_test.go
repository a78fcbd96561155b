package lint_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"

	"github.com/quarrydev/quarry/internal/migrate/lint"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// baseSchema is the state every case starts from: tables that already exist.
const baseSchema = `CREATE TYPE post_state AS ENUM ('draft', 'published');
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
CREATE TABLE posts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  author_id bigint NOT NULL REFERENCES users (id),
  title text NOT NULL,
  body text,
  code varchar(50),
  state post_state NOT NULL DEFAULT 'draft'
);
CREATE INDEX posts_author_idx ON posts (author_id);
CREATE TABLE tags (id int PRIMARY KEY, name text);
CREATE SCHEMA extra;
CREATE TABLE extra.notes (id int PRIMARY KEY);
`

// lintFiles replays baseSchema, then pre (when not empty) as a second base file, and
// analyzes file on a fresh empty database.
func lintFiles(t *testing.T, pre, file string) *lint.Report {
	t.Helper()
	dir := &migrate.MemDir{}
	write := func(name, content string) {
		if err := dir.WriteFile(name, []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	write("20260101000000_base.sql", baseSchema)
	if pre != "" {
		write("20260101000001_pre.sql", pre)
	}
	write("20260102000000_change.sql", file)
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	n := len(files) - 1
	rep, err := lint.Run(context.Background(), lint.Options{Base: files[:n], Files: files[n:], DirPath: "migrations", DevURL: testdb.EmptyURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 1 {
		t.Fatalf("want 1 file report, got %d", len(rep.Files))
	}
	if rep.Files[0].Error != "" {
		t.Fatalf("replay failed: %s", rep.Files[0].Error)
	}
	return rep
}

func codes(rep *lint.Report) []string {
	var out []string
	for _, f := range rep.Files {
		for _, fd := range f.Findings() {
			out = append(out, fd.Code)
		}
	}
	return out
}

const txNone = "-- atlas:txmode none\n\n"

// TestQuarryRules runs each rule on a statement that breaks it and on the safe way to
// do the same thing.
func TestQuarryRules(t *testing.T) {
	cases := []struct {
		code              string
		failPre, fail     string
		passPre, pass     string
		wantFailLine      int
		failSeverityError bool
	}{
		{code: lint.CodeIndexNotConcurrent,
			fail: "CREATE INDEX posts_title_idx ON posts (title);",
			pass: "CREATE TABLE comments (id int PRIMARY KEY, post_id bigint);\nCREATE INDEX comments_post_idx ON comments (post_id);"},
		{code: lint.CodeIndexNotConcurrent,
			fail: "-- a comment\n\nSELECT 1;\nCREATE INDEX posts_title_idx ON posts (title);", wantFailLine: 4,
			pass: txNone + "CREATE INDEX CONCURRENTLY posts_title_idx ON posts (title);"},
		{code: lint.CodeDropIndexNotConcurrent,
			fail: "DROP INDEX posts_author_idx;",
			pass: txNone + "DROP INDEX CONCURRENTLY posts_author_idx;"},
		{code: lint.CodeConcurrentInTx,
			fail: "CREATE INDEX CONCURRENTLY posts_title_idx ON posts (title);",
			pass: txNone + "CREATE INDEX CONCURRENTLY posts_title_idx ON posts (title);"},
		{code: lint.CodeForeignKeyValidated,
			fail: "ALTER TABLE tags ADD COLUMN owner_id bigint;\nALTER TABLE tags ADD CONSTRAINT tags_owner_fkey FOREIGN KEY (owner_id) REFERENCES users (id);", wantFailLine: 2,
			pass: "ALTER TABLE tags ADD COLUMN owner_id bigint;\nALTER TABLE tags ADD CONSTRAINT tags_owner_fkey FOREIGN KEY (owner_id) REFERENCES users (id) NOT VALID;"},
		{code: lint.CodeForeignKeyValidated,
			fail: "ALTER TABLE tags ADD COLUMN owner_id bigint REFERENCES users (id);",
			pass: "CREATE TABLE comments (id int PRIMARY KEY);\nALTER TABLE comments ADD COLUMN owner_id bigint REFERENCES users (id);"},
		{code: lint.CodeCheckValidated,
			fail: "ALTER TABLE tags ADD COLUMN weight int CHECK (weight > 0);",
			pass: "ALTER TABLE tags ADD COLUMN weight int;\nALTER TABLE tags ADD CONSTRAINT tags_weight_check CHECK (weight > 0) NOT VALID;"},
		{code: lint.CodeUniqueWithoutIndex,
			fail: "ALTER TABLE tags ADD COLUMN slug text UNIQUE;",
			pass: "ALTER TABLE tags ADD COLUMN slug text;"},
		{code: lint.CodeCheckValidated,
			fail: "ALTER TABLE posts ADD CONSTRAINT posts_title_len CHECK (char_length(title) <= 200);",
			pass: "ALTER TABLE posts ADD CONSTRAINT posts_title_len CHECK (char_length(title) <= 200) NOT VALID;"},
		{code: lint.CodeSetNotNull,
			fail:    "ALTER TABLE posts ALTER COLUMN body SET NOT NULL;",
			passPre: "ALTER TABLE posts ADD CONSTRAINT posts_body_nn CHECK (body IS NOT NULL) NOT VALID;\nALTER TABLE posts VALIDATE CONSTRAINT posts_body_nn;",
			pass:    "ALTER TABLE posts ALTER COLUMN body SET NOT NULL;\nALTER TABLE posts DROP CONSTRAINT posts_body_nn;"},
		{code: lint.CodeTypeRewrite,
			fail: "ALTER TABLE posts ALTER COLUMN title TYPE varchar(200);",
			pass: "ALTER TABLE posts ALTER COLUMN code TYPE varchar(100);"},
		{code: lint.CodeVolatileDefault,
			fail: "ALTER TABLE posts ADD COLUMN uid uuid DEFAULT gen_random_uuid();",
			pass: "ALTER TABLE posts ADD COLUMN published_at timestamptz DEFAULT now();"},
		{code: lint.CodeRename,
			fail: "ALTER TABLE posts RENAME COLUMN code TO slug;",
			pass: "CREATE TABLE drafts (id int PRIMARY KEY, txt text);\nALTER TABLE drafts RENAME COLUMN txt TO body;"},
		{code: lint.CodeRename,
			fail: "ALTER TABLE tags RENAME TO labels;",
			pass: "CREATE TABLE drafts (id int PRIMARY KEY);\nALTER TABLE drafts RENAME TO sketches;"},
		{code: lint.CodeUniqueWithoutIndex,
			fail:    "ALTER TABLE posts ADD CONSTRAINT posts_code_key UNIQUE (code);",
			passPre: txNone + "CREATE UNIQUE INDEX CONCURRENTLY posts_code_key ON posts (code);",
			pass:    "ALTER TABLE posts ADD CONSTRAINT posts_code_key UNIQUE USING INDEX posts_code_key;"},
		{code: lint.CodeEnumValueUsed,
			fail: "ALTER TYPE post_state ADD VALUE 'archived';\nUPDATE posts SET state = 'archived' WHERE id = 1;", wantFailLine: 2,
			passPre: "ALTER TYPE post_state ADD VALUE 'archived';",
			pass:    "UPDATE posts SET state = 'archived' WHERE id = 1;"},
		{code: lint.CodeUnboundedWrite,
			fail: "UPDATE posts SET body = '';",
			pass: "UPDATE posts SET body = '' WHERE body IS NULL AND id < 1000;"},
		{code: lint.CodeUnboundedWrite,
			fail: "DELETE FROM tags;",
			pass: "DELETE FROM tags WHERE name IS NULL;"},
		{code: lint.CodeVacuumFull,
			fail: txNone + "VACUUM FULL posts;",
			pass: txNone + "VACUUM posts;"},
		{code: lint.CodeCluster,
			fail: "CLUSTER posts USING posts_pkey;",
			pass: "CREATE TABLE drafts (id int PRIMARY KEY);\nCLUSTER drafts USING drafts_pkey;"},
		{code: lint.CodeReindex,
			fail: "REINDEX TABLE posts;",
			pass: txNone + "REINDEX TABLE CONCURRENTLY posts;"},
	}
	for _, c := range cases {
		t.Run(c.code+"/fail", func(t *testing.T) {
			t.Parallel()
			rep := lintFiles(t, c.failPre, c.fail)
			fds := rep.Files[0].Findings()
			i := slices.IndexFunc(fds, func(f lint.Finding) bool { return f.Code == c.code })
			if i < 0 {
				t.Fatalf("%s not reported for %q; got %v", c.code, c.fail, codes(rep))
			}
			fd := fds[i]
			wantLine := max(c.wantFailLine, 1)
			if strings.HasPrefix(c.fail, txNone) {
				wantLine = 3
			}
			if fd.Line != wantLine || fd.File != "migrations/20260102000000_change.sql" {
				t.Errorf("finding at %s:%d, want line %d", fd.File, fd.Line, wantLine)
			}
			if fd.Severity != lint.SeverityError || !rep.Failed() {
				t.Errorf("want a blocking error, got %s (failed=%v)", fd.Severity, rep.Failed())
			}
			if fd.Lock == "" || fd.Alternative == "" || fd.Message == "" {
				t.Errorf("finding lacks lock, alternative or message: %+v", fd)
			}
		})
		t.Run(c.code+"/pass", func(t *testing.T) {
			t.Parallel()
			rep := lintFiles(t, c.passPre, c.pass)
			if got := codes(rep); slices.Contains(got, c.code) {
				t.Fatalf("%s reported for the safe form %q: %v", c.code, c.pass, got)
			}
		})
	}
}

// TestAtlasAnalyzers checks the codes the Atlas analyzers give to the classic cases,
// and that a hand-written RENAME is not taken for a drop.
func TestAtlasAnalyzers(t *testing.T) {
	cases := []struct {
		name, file string
		want, not  []string
	}{
		{"drop column", "ALTER TABLE posts DROP COLUMN body;", []string{"DS103"}, nil},
		{"drop table", "DROP TABLE tags;", []string{"DS102"}, nil},
		{"drop schema", "DROP SCHEMA extra CASCADE;", []string{"DS101"}, nil},
		{"not null without default", "ALTER TABLE posts ADD COLUMN slug text NOT NULL;", []string{"MF103"}, nil},
		{"unique index", "CREATE UNIQUE INDEX posts_title_key ON posts (title);", []string{"MF101", lint.CodeIndexNotConcurrent}, nil},
		{"set not null", "ALTER TABLE posts ALTER COLUMN body SET NOT NULL;", []string{"MF104", lint.CodeSetNotNull}, nil},
		{"set not null after backfill", "UPDATE posts SET body = '' WHERE body IS NULL;\nALTER TABLE posts ALTER COLUMN body SET NOT NULL;", []string{lint.CodeSetNotNull}, []string{"MF104"}},
		{"drop foreign key", "ALTER TABLE posts DROP CONSTRAINT posts_author_id_fkey;", []string{"CD101"}, nil},
		{"rename table", "ALTER TABLE tags RENAME TO labels;", []string{"BC101", lint.CodeRename}, []string{"DS102"}},
		{"rename column", "ALTER TABLE posts RENAME COLUMN title TO headline;", []string{"BC102", lint.CodeRename}, []string{"DS103"}},
		{"new table", "CREATE TABLE comments (id int PRIMARY KEY, body text NOT NULL);\nCREATE UNIQUE INDEX comments_body_key ON comments (body);", nil, []string{"MF101", "MF103", lint.CodeIndexNotConcurrent}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := codes(lintFiles(t, "", c.file))
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("want %s, got %v", w, got)
				}
			}
			for _, n := range c.not {
				if slices.Contains(got, n) {
					t.Errorf("%s must not be reported, got %v", n, got)
				}
			}
			if len(c.want) == 0 && len(got) > 0 {
				t.Errorf("want no findings, got %v", got)
			}
		})
	}
}

func TestNolint(t *testing.T) {
	t.Parallel()
	t.Run("statement directive with a reason", func(t *testing.T) {
		t.Parallel()
		rep := lintFiles(t, "", "-- atlas:nolint QP101 posts holds a few hundred rows\nCREATE INDEX posts_title_idx ON posts (title);")
		fd := rep.Files[0].Findings()[0]
		if !fd.Accepted || fd.Reason != "posts holds a few hundred rows" || rep.Failed() {
			t.Fatalf("want accepted with its reason and a passing report, got %+v failed=%v", fd, rep.Failed())
		}
	})
	t.Run("file directive by analyzer", func(t *testing.T) {
		t.Parallel()
		rep := lintFiles(t, "", "-- atlas:nolint destructive the column was unused since v2\n\nALTER TABLE posts DROP COLUMN body;\nALTER TABLE posts DROP COLUMN code;")
		if rep.Failed() {
			t.Fatalf("file-level nolint must accept both drops: %+v", rep.Files[0].Findings())
		}
		if n := len(rep.Files[0].Findings()); n != 2 {
			t.Fatalf("accepted findings stay in the report: want 2, got %d", n)
		}
	})
	t.Run("other code is not accepted", func(t *testing.T) {
		t.Parallel()
		rep := lintFiles(t, "", "-- atlas:nolint DS103\nCREATE INDEX posts_title_idx ON posts (title);")
		if !rep.Failed() {
			t.Fatal("a nolint for another code must not accept QP101")
		}
	})
	t.Run("only the statement below", func(t *testing.T) {
		t.Parallel()
		rep := lintFiles(t, "", "-- atlas:nolint QP101 small table\nCREATE INDEX posts_title_idx ON posts (title);\nCREATE INDEX posts_body_idx ON posts (body);")
		var blocking []int
		for _, fd := range rep.Files[0].Findings() {
			if fd.Blocking() {
				blocking = append(blocking, fd.Line)
			}
		}
		if !slices.Equal(blocking, []int{3}) {
			t.Fatalf("want only line 3 blocking, got %v", blocking)
		}
	})
}

func TestEffects(t *testing.T) {
	t.Parallel()
	rep := lintFiles(t, "", "ALTER TABLE posts ALTER COLUMN title TYPE varchar(200);\nCREATE TABLE comments (id int PRIMARY KEY, post_id bigint REFERENCES posts (id));\nALTER TABLE posts VALIDATE CONSTRAINT posts_author_id_fkey;")
	st := rep.Files[0].Statements
	want := []lint.Effect{
		{Action: "changes the type of posts.title to varchar(200)", Tables: []string{"posts"}, Lock: "ACCESS EXCLUSIVE", Scans: true, Rewrites: true},
		{Action: "creates table comments", Tables: []string{"posts"}, Lock: "SHARE ROW EXCLUSIVE"},
		{Action: "validates constraint posts_author_id_fkey on posts", Tables: []string{"posts"}, Lock: "SHARE UPDATE EXCLUSIVE", Scans: true},
	}
	for i, w := range want {
		g := st[i].Effect
		w.Blocks = lint.LockBlocks(w.Lock)
		if g.Action != w.Action || !slices.Equal(g.Tables, w.Tables) || g.Lock != w.Lock || g.Scans != w.Scans || g.Rewrites != w.Rewrites || g.Blocks != w.Blocks {
			t.Errorf("statement %d: got %+v, want %+v", i+1, g, w)
		}
	}
}

func TestReplayFailureIsReported(t *testing.T) {
	t.Parallel()
	dir := &migrate.MemDir{}
	_ = dir.WriteFile("20260101000000_base.sql", []byte(baseSchema))
	_ = dir.WriteFile("20260102000000_bad.sql", []byte("SELECT 1;\nALTER TABLE nope ADD COLUMN x int;"))
	files, _ := dir.Files()
	rep, err := lint.Run(context.Background(), lint.Options{Base: files[:1], Files: files[1:], DevURL: testdb.EmptyURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Failed() || !strings.Contains(rep.Files[0].Error, "line 2") || !strings.Contains(rep.Files[0].Error, "nope") {
		t.Fatalf("want a failed report naming line 2 and the table, got %+v", rep.Files[0])
	}
}

func TestRuleCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range lint.Rules() {
		if seen[r.Code] {
			t.Errorf("code %s twice", r.Code)
		}
		seen[r.Code] = true
		if r.Title == "" || r.Alternative == "" || r.Lock == "" || (r.Severity != lint.SeverityError && r.Severity != lint.SeverityWarning) {
			t.Errorf("rule %s incomplete: %+v", r.Code, r)
		}
	}
}

// TestReadmeRuleTable keeps the README's rule table true: one row per rule, as Rules
// describes it.
func TestReadmeRuleTable(t *testing.T) {
	b, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range lint.Rules() {
		row := "| " + r.Code + " | " + string(r.Severity) + " | " + r.Title + " | " + r.Lock + " | " + r.Alternative + " |"
		if !strings.Contains(string(b), row+"\n") {
			t.Errorf("README.md lacks the row:\n%s", row)
		}
	}
}
