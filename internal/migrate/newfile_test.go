package migrate_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestNewFile(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	// The first file of an empty directory.
	first, err := p.engine.NewFile("first")
	if err != nil {
		t.Fatal(err)
	}
	// Written in the same second: the version still moves forward.
	second, err := p.engine.NewFile("add_trigger")
	if err != nil {
		t.Fatal(err)
	}
	files := p.migrationFiles()
	if len(files) != 2 || files[0] != first || files[1] != second || first >= second ||
		!regexp.MustCompile(`^[0-9]{14}_add_trigger\.sql$`).MatchString(second) {
		t.Fatalf("files %v (returned %q, %q)", files, first, second)
	}
	if err := p.engine.Validate(); err != nil {
		t.Fatalf("atlas.sum after new: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(p.root, "migrations", second))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if !strings.HasPrefix(line, "--") {
			t.Fatalf("a new migration holds comments only:\n%s", b)
		}
	}

	if _, err := p.engine.NewFile("Bad Name"); err == nil {
		t.Error("want an error for a name with spaces")
	}
	// An edited file is not silently rehashed.
	p.write(filepath.Join("migrations", second), string(b)+"SELECT 1;\n")
	if _, err := p.engine.NewFile("third"); !errors.Is(err, migrate.ErrChecksum) {
		t.Errorf("NewFile with a stale atlas.sum: got %v, want ErrChecksum", err)
	}
	if n := len(p.migrationFiles()); n != 2 {
		t.Errorf("a refused NewFile wrote a file: %v", p.migrationFiles())
	}
}

// Functions and triggers described in schema/ are planned like tables: written by
// diff, in dependency order, and noticed when they change.
func TestPlannerWritesFunctionsAndTriggers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := newProject(t)
	const table = `CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY, CONSTRAINT events_pkey PRIMARY KEY (id));`
	const function = `CREATE FUNCTION events_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are frozen; no %', TG_OP;
END;
$$;`
	const trigger = `CREATE TRIGGER events_frozen BEFORE UPDATE OR DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_frozen();`
	p.write("schema/events.sql", trigger+"\n\n"+table+"\n\n"+function+"\n")

	res, err := p.engine.Diff(ctx, testdb.ServerURL(), migrate.DiffOptions{Name: "init"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Statements) != 3 || !strings.Contains(res.Statements[0], "FUNCTION public.events_frozen()") ||
		!strings.Contains(res.Statements[1], `CREATE TABLE "events"`) || !strings.Contains(res.Statements[2], "CREATE TRIGGER events_frozen") {
		t.Fatalf("diff must plan function, table, trigger in that order, got %q", res.Statements)
	}
	if res, err := p.engine.Diff(ctx, testdb.ServerURL(), migrate.DiffOptions{Name: "check", Check: true}); err != nil || res.Changed() {
		t.Fatalf("check after diff: %v %v", res, err)
	}
	// A change to the function body is a change.
	p.write("schema/events.sql", table+"\n\n"+strings.Replace(function, "frozen; no", "frozen! no", 1)+"\n\n"+trigger+"\n")
	res, err = p.engine.Diff(ctx, testdb.ServerURL(), migrate.DiffOptions{Name: "frozen_message"})
	if err != nil || len(res.Statements) != 1 || !strings.Contains(res.Statements[0], "frozen! no") {
		t.Fatalf("changed function: %v %v", res, err)
	}

	url := testdb.EmptyURL(t)
	if _, err := p.engine.Apply(ctx, url, migrate.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := query[int64](t, url, `SELECT count(*) FROM pg_trigger WHERE tgname = 'events_frozen'`); n != 1 {
		t.Fatalf("the migration must create the trigger; found %d", n)
	}
}
