package migrate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/testdb"
)

// baseSchema is the committed state of every case of TestDiffBattery.
const baseSchema = `CREATE TABLE users (
	id bigint GENERATED ALWAYS AS IDENTITY,
	email text NOT NULL,
	CONSTRAINT users_pkey PRIMARY KEY (id)
);
CREATE TABLE posts (
	id bigint GENERATED ALWAYS AS IDENTITY,
	author_id bigint NOT NULL,
	title text NOT NULL,
	body text,
	status text NOT NULL DEFAULT 'draft',
	CONSTRAINT posts_pkey PRIMARY KEY (id),
	CONSTRAINT posts_author_id_fkey FOREIGN KEY (author_id) REFERENCES users (id),
	CONSTRAINT posts_title_check CHECK (char_length(title) BETWEEN 1 AND 200)
);
`

const seedRows = `INSERT INTO users (email) VALUES ('a@example.com');
INSERT INTO posts (author_id, title, body) SELECT 1, 'post ' || i, 'body ' || i FROM generate_series(1, 5) i;`

type battery struct {
	*project
	target string
}

// initMigrations plans the migration of each committed schema once; the cases copy it.
type initMigrations struct {
	mu    sync.Mutex
	files map[string]map[string][]byte // schema → migration file name → content
}

func (im *initMigrations) get(t *testing.T, base string) map[string][]byte {
	t.Helper()
	im.mu.Lock()
	defer im.mu.Unlock()
	if f, ok := im.files[base]; ok {
		return f
	}
	p := newProject(t)
	p.write("schema/app.sql", base)
	if _, err := p.engine.Diff(context.Background(), testdb.ServerURL(), migrate.DiffOptions{Name: "init"}); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	names, err := filepath.Glob(filepath.Join(p.root, "migrations", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(n)] = b
	}
	if im.files == nil {
		im.files = map[string]map[string][]byte{}
	}
	im.files[base] = files
	return files
}

// newBattery commits base (baseSchema when empty) as a migration, applies it to a
// target database and fills it with rows.
func newBattery(t *testing.T, im *initMigrations, base string) *battery {
	t.Helper()
	if base == "" {
		base = baseSchema
	}
	p := newProject(t)
	p.write("schema/app.sql", base)
	for name, content := range im.get(t, base) {
		p.write(filepath.Join("migrations", name), string(content))
	}
	ctx := context.Background()
	b := &battery{project: p, target: testdb.EmptyURL(t)}
	if _, err := p.engine.Apply(ctx, b.target, migrate.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	exec(t, b.target, seedRows)
	return b
}

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

// content returns the migration file named file.
func (p *project) content(file string) string {
	p.t.Helper()
	data, err := os.ReadFile(filepath.Join(p.root, "migrations", file))
	if err != nil {
		p.t.Fatal(err)
	}
	return string(data)
}

// TestDiffBattery takes the committed schema to an edited one and checks the emitted
// SQL, its application on a database holding rows, and that diff --check is clean
// afterwards.
func TestDiffBattery(t *testing.T) {
	t.Parallel()
	type want struct {
		files    []string // file name suffixes, in order
		contains []string // fragments of the written files, in order
		absent   []string // fragments no file may contain
		refused  []string // fragments of a *RefusedError
		unplan   []string // fragments of an *UnplannedError
		after    string   // a query returning true on the target after apply
		table    string   // the table holding the seeded posts after apply, posts when empty
	}
	im := &initMigrations{}
	renamed := strings.NewReplacer("title text", "headline text", "char_length(title)", "char_length(headline)").Replace(baseSchema)
	enumBase := "CREATE TYPE post_kind AS ENUM ('note', 'article');\n" +
		strings.Replace(baseSchema, "body text,", "body text,\n\tkind post_kind NOT NULL DEFAULT 'note',", 1)
	cases := []struct {
		name   string
		base   string // committed schema, baseSchema when empty
		schema string // edited schema
		opts   migrate.DiffOptions
		want   want
	}{
		{
			name:   "rename column keeps rows and check",
			schema: renamed,
			opts:   migrate.DiffOptions{Renames: []migrate.Rename{{Table: "posts", Column: "title", To: "headline"}}},
			want: want{
				files:    []string{"_change.sql"},
				contains: []string{`ALTER TABLE "posts" RENAME COLUMN "title" TO "headline"`},
				absent:   []string{"DROP COLUMN", "ADD COLUMN", "CONSTRAINT"},
				after:    `SELECT count(*) = 5 AND bool_and(headline LIKE 'post %') FROM posts`,
			},
		},
		{
			name:   "rename without consent is refused with a suggestion",
			schema: renamed,
			want:   want{refused: []string{"DROP COLUMN posts.title deletes its values", "--rename posts.title=headline"}},
		},
		{
			name:   "rename table keeps rows",
			schema: strings.Replace(baseSchema, "CREATE TABLE posts", "CREATE TABLE articles", 1),
			opts:   migrate.DiffOptions{Renames: []migrate.Rename{{Table: "posts", To: "articles"}}},
			want: want{
				files:    []string{"_change.sql"},
				contains: []string{`ALTER TABLE "posts" RENAME TO "articles"`},
				absent:   []string{"DROP", "CREATE"},
				table:    "articles",
			},
		},
		{
			name:   "table rename without consent is refused with a suggestion",
			schema: strings.Replace(baseSchema, "CREATE TABLE posts", "CREATE TABLE articles", 1),
			want:   want{refused: []string{"DROP TABLE posts deletes", "--rename posts=articles"}},
		},
		{
			name:   "changed check expression",
			schema: strings.Replace(baseSchema, "BETWEEN 1 AND 200", "BETWEEN 1 AND 150", 1),
			want: want{
				files: []string{"_change.sql", "_change_concurrent.sql"},
				contains: []string{
					"DROP CONSTRAINT IF EXISTS posts_title_check",
					"ADD CONSTRAINT posts_title_check CHECK (((char_length(title) >= 1) AND (char_length(title) <= 150))) NOT VALID",
					"-- atlas:txmode none", "VALIDATE CONSTRAINT posts_title_check",
				},
				after: `SELECT convalidated FROM pg_constraint WHERE conname = 'posts_title_check'`,
			},
		},
		{
			name:   "new index is built concurrently",
			schema: baseSchema + "CREATE INDEX posts_status_idx ON posts (status);\n",
			want: want{
				files:    []string{"_change_concurrent.sql"},
				contains: []string{"-- atlas:txmode none", "CREATE INDEX CONCURRENTLY posts_status_idx ON public.posts USING btree (status)"},
				after:    `SELECT indisvalid FROM pg_index WHERE indexrelid = 'posts_status_idx'::regclass`,
			},
		},
		{
			name:   "CONCURRENTLY written in schema/",
			schema: baseSchema + "CREATE INDEX CONCURRENTLY posts_status_idx ON posts (status);\n",
			want: want{
				files:    []string{"_change_concurrent.sql"},
				contains: []string{"CREATE INDEX CONCURRENTLY posts_status_idx ON public.posts USING btree (status)"},
			},
		},
		{
			name: "index on a new table stays in the transaction",
			schema: baseSchema + `CREATE TABLE tags (id bigint PRIMARY KEY, name text NOT NULL);
CREATE INDEX tags_name_idx ON tags (name);`,
			want: want{
				files:    []string{"_change.sql"},
				contains: []string{`CREATE TABLE "tags"`, `CREATE INDEX "tags_name_idx"`},
				absent:   []string{"CONCURRENTLY"},
			},
		},
		{
			name: "foreign key and check on an existing table",
			schema: strings.Replace(baseSchema, "status text NOT NULL DEFAULT 'draft',",
				"status text NOT NULL DEFAULT 'draft',\n\teditor_id bigint,\n\tCONSTRAINT posts_editor_id_fkey FOREIGN KEY (editor_id) REFERENCES users (id),", 1) +
				"ALTER TABLE posts ADD CONSTRAINT posts_status_check CHECK (status <> '') NOT VALID;\n",
			want: want{
				files: []string{"_change.sql", "_change_concurrent.sql"},
				contains: []string{
					`ADD COLUMN "editor_id" bigint`,
					"ADD CONSTRAINT posts_editor_id_fkey FOREIGN KEY (editor_id) REFERENCES users(id) NOT VALID",
					"ADD CONSTRAINT posts_status_check CHECK ((status <> ''::text)) NOT VALID",
					"VALIDATE CONSTRAINT posts_editor_id_fkey",
				},
				absent: []string{"VALIDATE CONSTRAINT posts_status_check"},
				after:  `SELECT NOT convalidated FROM pg_constraint WHERE conname = 'posts_status_check'`,
			},
		},
		{
			name:   "NOT NULL column without default is refused",
			schema: strings.Replace(baseSchema, "body text,", "body text,\n\tslug text NOT NULL,", 1),
			opts:   migrate.DiffOptions{AllowDestructive: true},
			want:   want{refused: []string{"posts.slug is NOT NULL without a default", "DEFAULT"}},
		},
		{
			name:   "NOT NULL column with a default",
			schema: strings.Replace(baseSchema, "body text,", "body text,\n\tslug text NOT NULL DEFAULT '',", 1),
			want:   want{files: []string{"_change.sql"}, contains: []string{`ADD COLUMN "slug" text NOT NULL DEFAULT ''`}},
		},
		{
			name:   "SET NOT NULL through a validated check",
			schema: strings.Replace(baseSchema, "body text,", "body text NOT NULL,", 1),
			want: want{
				files: []string{"_change.sql", "_change_concurrent.sql"},
				contains: []string{
					`ADD CONSTRAINT posts_body_not_null CHECK (body IS NOT NULL) NOT VALID`,
					"VALIDATE CONSTRAINT posts_body_not_null", `ALTER COLUMN body SET NOT NULL`, "DROP CONSTRAINT posts_body_not_null",
				},
				after: `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'posts'::regclass AND attname = 'body'`,
			},
		},
		{
			name:   "rewriting type change needs consent",
			schema: strings.Replace(baseSchema, "title text NOT NULL", "title varchar(200) NOT NULL", 1),
			want:   want{refused: []string{"rewrites the table", "posts"}},
		},
		{
			name:   "rewriting type change with consent",
			schema: strings.Replace(baseSchema, "title text NOT NULL", "title varchar(200) NOT NULL", 1),
			opts:   migrate.DiffOptions{AllowDestructive: true},
			want: want{
				files:    []string{"_change.sql", "_change_concurrent.sql"},
				contains: []string{`ALTER COLUMN "title" TYPE character varying(200)`},
				after:    `SELECT format_type(atttypid, atttypmod) = 'character varying(200)' FROM pg_attribute WHERE attrelid = 'posts'::regclass AND attname = 'title'`,
			},
		},
		{
			name:   "widening without rewrite passes quietly",
			schema: strings.Replace(baseSchema, "body text,", "body varchar,", 1),
			want:   want{files: []string{"_change.sql"}, contains: []string{`TYPE character varying`}},
		},
		{
			name:   "view",
			schema: baseSchema + "CREATE VIEW published_posts AS SELECT id, title FROM posts WHERE status = 'published';\n",
			want: want{
				files:    []string{"_change.sql"},
				contains: []string{"CREATE VIEW public.published_posts AS"},
				after:    `SELECT count(*) = 0 FROM published_posts`,
			},
		},
		{
			name:   "extension and a column of its type",
			schema: "CREATE EXTENSION citext;\n" + strings.Replace(baseSchema, "body text,", "body text,\n\tslug citext,", 1),
			want: want{
				files:    []string{"_change.sql"},
				contains: []string{"CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public", `ADD COLUMN "slug" public.citext`},
			},
		},
		{
			name:   "sequence used by a default",
			schema: "CREATE SEQUENCE ticket_numbers START 100;\n" + strings.Replace(baseSchema, "body text,", "body text,\n\tticket bigint NOT NULL DEFAULT nextval('ticket_numbers'),", 1),
			opts:   migrate.DiffOptions{AllowDestructive: true}, // a volatile default fills every row: a rewrite
			want: want{
				files:    []string{"_change.sql"},
				contains: []string{"CREATE SEQUENCE IF NOT EXISTS public.ticket_numbers AS bigint START WITH 100", `ADD COLUMN "ticket" bigint NOT NULL DEFAULT nextval`},
				after:    `SELECT min(ticket) = 100 FROM posts`,
			},
		},
		{
			name:   "policy and row level security",
			schema: baseSchema + "ALTER TABLE posts ENABLE ROW LEVEL SECURITY;\nCREATE POLICY posts_author ON posts USING (author_id = 1);\n",
			want: want{
				files: []string{"_change.sql"},
				contains: []string{
					"ALTER TABLE public.posts ENABLE ROW LEVEL SECURITY",
					"CREATE POLICY posts_author ON public.posts AS PERMISSIVE FOR ALL TO public USING ((author_id = 1))",
				},
				after: `SELECT relrowsecurity FROM pg_class WHERE oid = 'posts'::regclass`,
			},
		},
		{
			name:   "view reading a column whose type changes is recreated",
			base:   baseSchema + "CREATE VIEW post_bodies AS SELECT id, body FROM posts;\n",
			schema: strings.Replace(baseSchema, "body text,", "body varchar,", 1) + "CREATE VIEW post_bodies AS SELECT id, body FROM posts;\n",
			want: want{
				files:    []string{"_change.sql"},
				contains: []string{"DROP VIEW IF EXISTS public.post_bodies", `ALTER COLUMN "body" TYPE character varying`, "CREATE VIEW public.post_bodies AS"},
				after:    `SELECT count(*) = 5 FROM post_bodies`,
			},
		},
		{
			name:   "drop column needs consent",
			schema: strings.Replace(baseSchema, "body text,", "", 1),
			want:   want{refused: []string{"DROP COLUMN posts.body deletes its values", "--allow-destructive"}},
		},
		{
			name:   "drop column with consent",
			schema: strings.Replace(baseSchema, "body text,", "", 1),
			opts:   migrate.DiffOptions{AllowDestructive: true},
			want:   want{files: []string{"_change.sql"}, contains: []string{`DROP COLUMN "body"`}},
		},
	}
	cases = append(cases, []struct {
		name   string
		base   string
		schema string
		opts   migrate.DiffOptions
		want   want
	}{
		{
			name:   "enum value added and used as default",
			base:   enumBase,
			schema: strings.NewReplacer("('note', 'article')", "('note', 'article', 'link')", "DEFAULT 'note'", "DEFAULT 'link'").Replace(enumBase),
			want: want{
				files:    []string{"_change_enum_values.sql", "_change.sql"},
				contains: []string{`ALTER TYPE "post_kind" ADD VALUE 'link'`, `SET DEFAULT 'link'`},
				after:    `SELECT column_default LIKE '%link%' FROM information_schema.columns WHERE table_name = 'posts' AND column_name = 'kind'`,
			},
		},
		{
			name:   "enum value removed is named, not planned",
			base:   enumBase,
			schema: strings.Replace(enumBase, "('note', 'article')", "('note')", 1),
			want:   want{unplan: []string{"enum type public.post_kind: values is \"'note', 'article'\", should be \"'note'\"", "cannot remove or reorder enum values"}},
		},
		{
			name: "text to enum converts with USING",
			schema: "CREATE TYPE post_status AS ENUM ('draft', 'published');\n" +
				strings.Replace(baseSchema, "status text NOT NULL DEFAULT 'draft'", "status post_status NOT NULL DEFAULT 'draft'", 1),
			opts: migrate.DiffOptions{AllowDestructive: true},
			want: want{
				files:    []string{"_change.sql"},
				contains: []string{`CREATE TYPE "post_status"`, `USING "status"::"post_status"`},
				after:    `SELECT count(*) = 5 FROM posts WHERE status = 'draft'::post_status`,
			},
		},
	}...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := newBattery(t, im, tc.base)
			before := b.migrationFiles()
			b.write("schema/app.sql", tc.schema)
			opts := tc.opts
			opts.Name = "change"
			res, err := b.engine.Diff(ctx, testdb.ServerURL(), opts)
			var refused *migrate.RefusedError
			var unplanned *migrate.UnplannedError
			switch {
			case len(tc.want.refused) > 0:
				if !errors.As(err, &refused) {
					t.Fatalf("want a refusal, got %v (%v)", err, res)
				}
				for _, f := range tc.want.refused {
					if !strings.Contains(err.Error(), f) {
						t.Errorf("refusal lacks %q:\n%v", f, err)
					}
				}
				if got := b.migrationFiles(); len(got) != len(before) {
					t.Fatalf("a refused diff wrote files: %v", got)
				}
				return
			case len(tc.want.unplan) > 0:
				if !errors.As(err, &unplanned) {
					t.Fatalf("want unplanned differences, got %v %+v", err, res)
				}
				for _, f := range tc.want.unplan {
					if !strings.Contains(err.Error(), f) {
						t.Errorf("error lacks %q:\n%v", f, err)
					}
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if len(res.Files) != len(tc.want.files) {
				t.Fatalf("want files %v, got %v", tc.want.files, res.Files)
			}
			var all strings.Builder
			for i, f := range res.Files {
				if !strings.HasSuffix(f.Name, tc.want.files[i]) {
					t.Errorf("file %d: want …%s, got %s", i, tc.want.files[i], f.Name)
				}
				all.WriteString(b.content(f.Name))
			}
			text, pos := all.String(), 0
			for _, f := range tc.want.contains {
				i := strings.Index(text[pos:], f)
				if i < 0 {
					t.Fatalf("migration lacks %q (in this order):\n%s", f, text)
				}
				pos += i + len(f)
			}
			for _, f := range tc.want.absent {
				if strings.Contains(text, f) {
					t.Errorf("migration must not contain %q:\n%s", f, text)
				}
			}
			if _, err := b.engine.Apply(ctx, b.target, migrate.ApplyOptions{}); err != nil {
				t.Fatalf("apply on a database with rows: %v", err)
			}
			table := "posts"
			if tc.want.table != "" {
				table = tc.want.table
			}
			if n := query[int64](t, b.target, `SELECT count(*) FROM `+table); n != 5 {
				t.Fatalf("%s lost rows: %d left", table, n)
			}
			if tc.want.after != "" && !query[bool](t, b.target, tc.want.after) {
				t.Errorf("after apply, %s is false", tc.want.after)
			}
			res, err = b.engine.Diff(ctx, testdb.ServerURL(), migrate.DiffOptions{Name: "check", Check: true})
			if err != nil || res.Changed() {
				t.Fatalf("diff --check after apply: %v %q", err, res.Statements)
			}
		})
	}
}

// diff --check notices when schema/ and migrations/ disagree about a view, a trigger
// or a CHECK expression, objects the Atlas planner alone does not compare.
func TestDiffCheckCatchesDrift(t *testing.T) {
	t.Parallel()
	const committed = `CREATE TABLE notes (
	id bigint PRIMARY KEY,
	body text NOT NULL,
	CONSTRAINT notes_body_check CHECK (char_length(body) <= 100)
);
CREATE VIEW short_notes AS SELECT id, body FROM notes WHERE char_length(body) < 10;
CREATE FUNCTION notes_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'frozen'; END $$;
CREATE TRIGGER notes_frozen BEFORE DELETE ON notes FOR EACH ROW EXECUTE FUNCTION notes_frozen();
`
	cases := []struct {
		name, from, to, want string
	}{
		{"view", "< 10", "< 20", "CREATE VIEW public.short_notes"},
		{"trigger", "BEFORE DELETE", "BEFORE DELETE OR UPDATE", "CREATE TRIGGER notes_frozen BEFORE DELETE OR UPDATE"},
		{"check", "<= 100", "<= 50", "ADD CONSTRAINT notes_body_check CHECK ((char_length(body) <= 50)) NOT VALID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			p := newProject(t)
			p.write("schema/notes.sql", committed)
			if _, err := p.engine.Diff(ctx, testdb.ServerURL(), migrate.DiffOptions{Name: "init"}); err != nil {
				t.Fatal(err)
			}
			p.write("schema/notes.sql", strings.Replace(committed, tc.from, tc.to, 1))
			res, err := p.engine.Diff(ctx, testdb.ServerURL(), migrate.DiffOptions{Name: "check", Check: true})
			if err != nil || !res.Changed() {
				t.Fatalf("diff --check must report the drift: %v %v", res, err)
			}
			if all := strings.Join(res.Statements, "\n"); !strings.Contains(all, tc.want) {
				t.Fatalf("want %q among:\n%s", tc.want, all)
			}
			if n := len(p.migrationFiles()); n != 1 {
				t.Fatalf("--check must write nothing, have %d files", n)
			}
		})
	}
}
