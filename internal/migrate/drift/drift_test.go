package drift_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/migrate/drift"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const first = `CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL DEFAULT '', price numeric CHECK (price >= 0), m mood);
CREATE INDEX items_name_idx ON items (name);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch();
CREATE VIEW cheap_items AS SELECT id, name FROM items WHERE price < 10;
`

const second = `CREATE TABLE later (id int PRIMARY KEY);
`

// setup writes the migrations to a directory and applies the first one (or all) to
// a fresh database. It returns the engine and the live database's URL.
func setup(t *testing.T, applyAll bool) (*migrate.Engine, string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"20260101000000_first.sql": first, "20260102000000_second.sql": second} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e, err := migrate.New(migrate.Config{MigrationsDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Hash(); err != nil {
		t.Fatal(err)
	}
	live := testdb.EmptyURL(t)
	opts := migrate.ApplyOptions{}
	if !applyAll {
		opts.To = "20260101000000"
	}
	if _, err := e.Apply(context.Background(), live, opts); err != nil {
		t.Fatal(err)
	}
	return e, live
}

func exec(t *testing.T, url string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestCleanDatabaseIsInSync(t *testing.T) {
	t.Parallel()
	e, live := setup(t, true)
	res, err := drift.Check(context.Background(), e, live, testdb.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	if !res.InSync() || res.Version != "20260102000000" {
		t.Fatalf("want in sync at 20260102000000, got %+v", res)
	}
}

func TestUnappliedFilesAreNotDrift(t *testing.T) {
	t.Parallel()
	e, live := setup(t, false)
	res, err := drift.Check(context.Background(), e, live, testdb.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	if !res.InSync() || res.Version != "20260101000000" || len(res.Pending) != 1 {
		t.Fatalf("want in sync at the first version with one pending file, got %+v", res)
	}
}

// TestOutOfBandChanges makes every kind of change by hand on a migrated database and
// checks each is reported by kind, name and how it changed.
func TestOutOfBandChanges(t *testing.T) {
	t.Parallel()
	e, live := setup(t, true)
	exec(t, live,
		`DROP INDEX items_name_idx`,
		`CREATE INDEX items_m_idx ON items (m)`,
		`ALTER TABLE items ADD COLUMN extra int`,
		`ALTER TABLE items ALTER COLUMN name DROP DEFAULT`,
		`ALTER TABLE items DROP CONSTRAINT items_price_check`,
		`DROP TRIGGER items_touch ON items`,
		`CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.name := upper(NEW.name); RETURN NEW; END $$`,
		`CREATE OR REPLACE VIEW cheap_items AS SELECT id, name FROM items WHERE price < 20`,
		`ALTER TYPE mood ADD VALUE 'meh'`,
		`CREATE EXTENSION citext`,
	)
	res, err := drift.Check(context.Background(), e, live, testdb.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ kind, name, change, attr string }{
		{"index", "public.items_name_idx", "missing", ""},
		{"index", "public.items_m_idx", "unexpected", ""},
		{"column", "public.items.extra", "unexpected", ""},
		{"column", "public.items.name", "differs", "default"},
		{"constraint", "public.items.items_price_check", "missing", ""},
		{"trigger", "public.items.items_touch", "missing", ""},
		{"function", "public.touch()", "differs", "definition"},
		{"view", "public.cheap_items", "differs", "definition"},
		{"enum type", "public.mood", "differs", "values"},
		{"extension", "citext", "unexpected", ""},
	}
	var all []string
	for _, d := range res.Differences {
		all = append(all, d.Text)
	}
	for _, w := range want {
		found := false
		for _, d := range res.Differences {
			if d.Kind == w.kind && d.Name == w.name && d.Change == w.change && (w.attr == "" || d.Attr == w.attr) {
				found = true
				if d.Text == "" || d.Action == "" {
					t.Errorf("%s %s: no words for the DBA: %+v", w.kind, w.name, d)
				}
			}
		}
		if !found {
			t.Errorf("%s %s (%s %s) not reported; got:\n%s", w.kind, w.name, w.change, w.attr, strings.Join(all, "\n"))
		}
	}
	var out bytes.Buffer
	if err := drift.Write(&out, res, "text"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "CREATE INDEX CONCURRENTLY items_name_idx") {
		t.Errorf("the text report should say how to recreate the index without blocking writes:\n%s", out.String())
	}
}

// TestProjectIndexAndAuditTrigger drops an index and the audit trigger from a database
// migrated with the project's own migrations.
func TestProjectIndexAndAuditTrigger(t *testing.T) {
	t.Parallel()
	e, err := migrate.New(migrate.Config{MigrationsDir: filepath.Join("..", "..", "..", "migrations")})
	if err != nil {
		t.Fatal(err)
	}
	live := testdb.EmptyURL(t)
	if _, err := e.Apply(context.Background(), live, migrate.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	exec(t, live, `DROP INDEX posts_author_id_created_at_id_idx`, `DROP TRIGGER audit_events_append_only ON audit_events`)
	res, err := drift.Check(context.Background(), e, live, testdb.EmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := drift.Write(&out, res, "json"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"posts_author_id_created_at_id_idx", "audit_events_append_only"} {
		if !strings.Contains(out.String(), `"name": "public.`) || !strings.Contains(out.String(), name) {
			t.Errorf("%s not named in:\n%s", name, out.String())
		}
	}
	if len(res.Differences) != 2 {
		t.Errorf("want exactly 2 differences, got %d:\n%s", len(res.Differences), out.String())
	}
}
