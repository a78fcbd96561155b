package catalog_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/quarrydev/quarry/internal/migrate/catalog"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// base is written two equivalent ways: the fingerprints must be equal.
const base = `
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE authors (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email citext NOT NULL);
CREATE TABLE posts (
	id bigint GENERATED ALWAYS AS IDENTITY,
	author_id bigint NOT NULL,
	title text NOT NULL DEFAULT '',
	mood mood,
	words int GENERATED ALWAYS AS (length(title)) STORED,
	CONSTRAINT posts_pkey PRIMARY KEY (id),
	CONSTRAINT posts_author_id_fkey FOREIGN KEY (author_id) REFERENCES authors (id),
	CONSTRAINT posts_title_check CHECK (char_length(title) BETWEEN 0 AND 200)
);
CREATE INDEX posts_author_id_idx ON posts (author_id);
CREATE VIEW happy_posts AS SELECT id, title FROM posts WHERE mood = 'happy';
CREATE VIEW happy_titles AS SELECT title FROM happy_posts;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION touch();
CREATE SEQUENCE tickets START 10;
COMMENT ON TABLE posts IS 'blog posts';
ALTER TABLE posts ENABLE ROW LEVEL SECURITY;
CREATE POLICY posts_own ON posts USING (author_id = 1);
`

func build(t *testing.T, ddl string) (*sql.DB, *catalog.Catalog) {
	t.Helper()
	db, err := sql.Open("pgx", testdb.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(ddl); err != nil {
		t.Fatalf("%v\n%s", err, ddl)
	}
	c, err := catalog.Read(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return db, c
}

func TestEquivalentDatabasesCompareEqual(t *testing.T) {
	t.Parallel()
	_, want := build(t, base)
	// The same objects, written differently and in another order.
	alt := strings.NewReplacer(
		"BETWEEN 0 AND 200", ">= 0 AND char_length(title) <= 200",
		"CREATE INDEX posts_author_id_idx ON posts (author_id);", "",
	).Replace(base) + "CREATE INDEX posts_author_id_idx ON public.posts USING btree (author_id);"
	_, got := build(t, alt)
	if d := catalog.Compare(want, got); len(d) != 0 {
		t.Fatalf("equivalent databases differ: %v", d)
	}
	for _, k := range []catalog.Kind{catalog.KindTable, catalog.KindColumn, catalog.KindConstraint, catalog.KindIndex,
		catalog.KindView, catalog.KindFunction, catalog.KindTrigger, catalog.KindEnum, catalog.KindExtension,
		catalog.KindSequence, catalog.KindPolicy} {
		if len(want.Of(k)) == 0 {
			t.Errorf("no %s read", k)
		}
	}
	// Objects of extensions stay out: citext brings functions and types.
	for _, o := range want.Of(catalog.KindFunction) {
		if o.Name != "public.touch()" {
			t.Errorf("unexpected function %s (extension objects must be left out)", o.Name)
		}
	}
	v, ok := want.Find(catalog.KindView, "public.happy_titles")
	if !ok || len(v.Requires) != 1 || v.Requires[0] != "public.happy_posts" {
		t.Fatalf("happy_titles must require happy_posts: %+v", v)
	}
	col, _ := want.Find(catalog.KindColumn, "public.posts.words")
	if col.Attrs[catalog.AttrGenerated] == "" || col.Attrs[catalog.AttrDefault] != "" {
		t.Fatalf("generated column: %+v", col)
	}
}

func TestCompareNamesEachDifference(t *testing.T) {
	t.Parallel()
	_, want := build(t, base)
	db, _ := build(t, base)
	for _, stmt := range []string{
		`ALTER TABLE posts DROP CONSTRAINT posts_title_check, ADD CONSTRAINT posts_title_check CHECK (char_length(title) <= 100) NOT VALID`,
		`CREATE OR REPLACE VIEW happy_posts AS SELECT id, title FROM posts WHERE mood = 'ok'`,
		`DROP TRIGGER posts_touch ON posts`,
		`ALTER TYPE mood ADD VALUE 'ecstatic'`,
		`ALTER TABLE posts ALTER COLUMN title DROP NOT NULL`,
		`CREATE INDEX posts_title_idx ON posts (title)`,
		`COMMENT ON TABLE posts IS NULL`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	got, err := catalog.Read(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range catalog.Compare(want, got) {
		lines = append(lines, d.String())
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{
		`constraint public.posts.posts_title_check: definition is "CHECK ((char_length(title) <= 100)) NOT VALID"`,
		`constraint public.posts.posts_title_check: valid is "no", should be "yes"`,
		`view public.happy_posts: definition is`,
		`trigger public.posts.posts_touch: missing`,
		`enum type public.mood: values is "'sad', 'ok', 'happy', 'ecstatic'", should be "'sad', 'ok', 'happy'"`,
		`column public.posts.title: not null is "no", should be "yes"`,
		`index public.posts_title_idx: exists but should not`,
		`table public.posts: comment is unset, should be "blog posts"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("differences lack %q; got:\n%s", want, text)
		}
	}
	if len(lines) != 8 {
		t.Errorf("want 8 differences, got %d:\n%s", len(lines), text)
	}
}
