package gen_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"ariga.io/atlas/sql/schema"

	"github.com/quarrydev/quarry/internal/core/audit"
	"github.com/quarrydev/quarry/internal/gen"
	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// commentsSQL is a table nested under posts, owned by its author.
const commentsSQL = `CREATE TABLE comments (
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    post_id    bigint      NOT NULL,
    author_id  bigint      NOT NULL,
    body       text        NOT NULL,
    score      integer     NOT NULL DEFAULT 0,
    lang       varchar(8),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT comments_pkey PRIMARY KEY (id),
    CONSTRAINT comments_post_id_fkey FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE,
    CONSTRAINT comments_author_id_fkey FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT comments_body_check CHECK (char_length(body) BETWEEN 1 AND 10000),
    CONSTRAINT comments_score_check CHECK (score >= -5 AND score < 100)
);`

// realm returns the desired state of the repository's schema plus extra files.
func realm(t *testing.T, extra map[string]string) *schema.Realm {
	t.Helper()
	dir := t.TempDir()
	sch := filepath.Join(dir, "schema")
	if err := os.MkdirAll(sch, 0o755); err != nil {
		t.Fatal(err)
	}
	repo, _ := filepath.Glob("../../schema/*.sql")
	for _, p := range repo {
		if _, ok := extra[filepath.Base(p)]; ok {
			continue // the test's own version of the file
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		extra[filepath.Base(p)] = string(b)
	}
	for name, body := range extra {
		if err := os.WriteFile(filepath.Join(sch, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e, err := migrate.New(migrate.Config{MigrationsDir: filepath.Join(dir, "migrations"), SchemaDir: sch, DevURL: testdb.EmptyURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.DesiredRealm(context.Background(), testdb.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRefusalsNameTheProblem(t *testing.T) {
	t.Parallel()
	r := realm(t, map[string]string{"zz.sql": `
CREATE TABLE nopk (a bigint);
CREATE TABLE docs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, data jsonb NOT NULL);
CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL);
CREATE TABLE keys (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, api_token text NOT NULL);`})
	for _, tc := range []struct {
		opts gen.Options
		want []string
	}{
		{gen.Options{Name: "missing"}, []string{`table "missing"`, "schema/"}},
		{gen.Options{Name: "nopk"}, []string{"nopk", "no primary key"}},
		{gen.Options{Name: "docs"}, []string{"column data", "jsonb"}},
		{gen.Options{Name: "notes", Write: "owner"}, []string{"--owner"}},
		{gen.Options{Name: "notes", Sort: []string{"body"}}, []string{"--sort body"}},
		{gen.Options{Name: "notes", Read: "everyone"}, []string{"--read everyone"}},
		{gen.Options{Name: "notes", Parent: "posts"}, []string{"no foreign key to posts"}},
		{gen.Options{Name: "notes", Ops: []string{"get", "list", "update"}}, []string{"--ops without create"}},
		{gen.Options{Name: "notes", Ops: []string{"list"}}, []string{"get is needed"}},
		{gen.Options{Name: "notes", Ops: []string{"get", "purge"}}, []string{"--ops purge"}},
		{gen.Options{Name: "notes", Owner: "id"}, []string{"--owner id"}},
		{gen.Options{Name: "notes", Hide: []string{"id"}}, []string{"--hide id"}},
		{gen.Options{Name: "notes", Immutable: []string{"title"}}, []string{"--immutable title"}},
		// api_token is hidden by its name; the generic create could not fill it.
		{gen.Options{Name: "keys"}, []string{"--hide api_token", "--ops"}},
	} {
		_, err := gen.NewModel(r, tc.opts)
		var refused *gen.ErrRefused
		if !errors.As(err, &refused) {
			t.Errorf("%+v: err = %v, want a refusal", tc.opts, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %q does not say %q", tc.opts, err, w)
			}
		}
	}
}

func TestModelDefaultsAndValidationFromTheTable(t *testing.T) {
	t.Parallel()
	r := realm(t, map[string]string{"comments.sql": commentsSQL})
	m, err := gen.NewModel(r, gen.Options{Name: "comments", Parent: "posts"})
	if err != nil {
		t.Fatal(err)
	}
	if m.OwnerCol == nil || m.OwnerCol.Name != "author_id" || m.Read != gen.Public || m.Write != gen.Owner {
		t.Fatalf("owner and policies: %+v %s %s", m.OwnerCol, m.Read, m.Write)
	}
	if m.ParentCol == nil || m.ParentCol.Name != "post_id" {
		t.Fatalf("parent: %+v", m.ParentCol)
	}
	if got := m.SortKeys(); !reflect.DeepEqual(got, []string{"-created_at", "created_at", "-id", "id"}) {
		t.Fatalf("sort keys: %v", got)
	}
	bindings := map[string]string{}
	for _, c := range m.Inputs {
		bindings[c.Name] = c.Binding(false)
	}
	want := map[string]string{"body": "required,min=1,max=10000", "score": "omitnil,min=-5,lt=100", "lang": "omitnil,max=8"}
	if !reflect.DeepEqual(bindings, want) {
		t.Fatalf("create bindings: %v, want %v", bindings, want)
	}
	if missing := m.MissingIndexes(); !contains(missing, "CREATE INDEX comments_post_id_author_id_created_at_id_idx ON comments (post_id, author_id, created_at, id);") || len(missing) != 4 {
		t.Fatalf("missing indexes of comments: %v", missing)
	}
	p, err := gen.NewModel(r, gen.Options{Name: "posts"})
	if err != nil {
		t.Fatal(err)
	}
	if missing := p.MissingIndexes(); len(missing) != 0 {
		t.Fatalf("posts has an index for every list, yet: %v", missing)
	}
	var filters []string
	for _, c := range p.Filters {
		filters = append(filters, c.Name)
	}
	if !reflect.DeepEqual(filters, []string{"author_id", "status"}) {
		t.Fatalf("posts filters: %v", filters)
	}
	for _, c := range p.Inputs {
		if c.Name == "status" && c.Binding(true) != "omitnil,oneof=draft published" {
			t.Fatalf("status binding: %s", c.Binding(true))
		}
	}
}

// TestUpdateIsAMergePatch: the update request of comments is a JSON merge patch. The
// nullable lang is a Nullable member set through its set_lang switch (so that null
// clears it); the NOT NULL columns are Optional members (null refused) kept by
// COALESCE; the generated tests clear lang and send null for the others.
func TestUpdateIsAMergePatch(t *testing.T) {
	t.Parallel()
	m, err := gen.NewModel(realm(t, map[string]string{"comments.sql": commentsSQL}), gen.Options{Name: "comments", Parent: "posts"})
	if err != nil {
		t.Fatal(err)
	}
	m.Command = "api gen module comments --parent posts"
	files, err := gen.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"queries/comments.sql": {
			"SET body = COALESCE(sqlc.narg('body')::text, body),\n    score = COALESCE(sqlc.narg('score')::integer, score),\n" +
				"    lang = CASE WHEN sqlc.arg('set_lang')::boolean THEN sqlc.narg('lang')::text ELSE lang END,\n    updated_at = now()\n",
		},
		"internal/modules/comments/types_gen.go": {
			"Body  httpx.Optional[string] `json:\"body\" binding:\"omitnil,min=1,max=10000\"`",
			"Score httpx.Optional[int32]  `json:\"score\" binding:\"omitnil,min=-5,lt=100\"`",
			"Lang  httpx.Nullable[string] `json:\"lang\" binding:\"omitnil,max=8\"`",
		},
		"internal/modules/comments/service_gen.go": {
			"Body: in.Body.Ptr(), Score: in.Score.Ptr(), Lang: in.Lang.Ptr(), SetLang: in.Lang.Set}",
		},
		"internal/modules/comments/module_gen_test.go": {
			"func TestGeneratedCommentClearsToNull(", `[]string{"body", "score"}`,
		},
	}
	for _, f := range files {
		for _, w := range want[f.Path] {
			if !strings.Contains(string(f.Data), w) {
				t.Errorf("%s lacks %q:\n%s", f.Path, w, f.Data)
			}
		}
		delete(want, f.Path)
	}
	if len(want) != 0 {
		t.Errorf("not rendered: %v", want)
	}
}

// TestUsersModel: users is generated with its rows as their own owners, without a
// generic create, and with its password hash hidden by default.
func TestUsersModel(t *testing.T) {
	t.Parallel()
	r := realm(t, map[string]string{})
	m, err := gen.NewModel(r, gen.Options{Name: "users", Owner: "id", Read: "owner", Write: "owner",
		Ops: []string{"get", "list", "update"}, Immutable: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	names := func(cs []*gen.Column) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	for _, tc := range []struct {
		what      string
		got, want []string
	}{
		{"hidden", names(m.Hidden), []string{"password_hash"}},
		{"visible", names(m.Visible), []string{"id", "email", "display_name", "role", "is_active", "created_at", "updated_at"}},
		{"inputs", names(m.Inputs), []string{"email", "display_name", "role", "is_active"}},
		{"updates", names(m.Updates), []string{"display_name", "role", "is_active"}},
		{"sets", names(m.Sets), []string{"email", "display_name", "password_hash", "role", "is_active"}},
		{"filters", names(m.Filters), []string{"role", "is_active"}},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.what, tc.got, tc.want)
		}
	}
	if !m.Self || m.Op(gen.OpCreate) || m.Op(gen.OpDelete) || m.Op(gen.OpBulk) || !m.Op(gen.OpUpdate) {
		t.Fatalf("self %v, ops create %v delete %v bulk %v update %v", m.Self, m.Op(gen.OpCreate), m.Op(gen.OpDelete), m.Op(gen.OpBulk), m.Op(gen.OpUpdate))
	}
	m.Command = "api gen module users"
	files, err := gen.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		src := string(f.Data)
		switch f.Path {
		case "queries/users.sql":
			// Lists do not read the hash; no generic create, delete or COPY.
			for _, q := range strings.Split(src, "-- name: ")[1:] {
				if strings.HasPrefix(q, "ListUsers") && strings.Contains(q, "password_hash") {
					t.Errorf("a list reads the hash:\n%s", q)
				}
				for _, absent := range []string{"CreateUser ", "CreateUsers ", "DeleteUser "} {
					if strings.HasPrefix(q, absent) {
						t.Errorf("query %s is generated", absent)
					}
				}
			}
		case "internal/modules/users/types_gen.go":
			if strings.Contains(src, "PasswordHash string") || strings.Contains(src, `json:"password_hash"`) {
				t.Errorf("a client type carries the hash:\n%s", src)
			}
		case "internal/modules/users/module_gen.go":
			for _, op := range []string{`"createUser"`, `"deleteUser"`, `"bulkCreateUsers"`} {
				if strings.Contains(src, op) {
					t.Errorf("route %s is generated", op)
				}
			}
		}
	}
}

func TestRegenerationKeepsHandWrittenFiles(t *testing.T) {
	t.Parallel()
	r := realm(t, map[string]string{"comments.sql": commentsSQL})
	render := func(r *schema.Realm) []gen.File {
		t.Helper()
		o := gen.Options{Name: "comments", Parent: "posts"}
		m, err := gen.NewModel(r, o)
		if err != nil {
			t.Fatal(err)
		}
		m.Command = gen.CommandLine(o)
		files, err := gen.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	root := t.TempDir()
	files := render(r)
	if _, err := gen.Write(root, files); err != nil {
		t.Fatal(err)
	}
	if stale := gen.Stale(root, files); len(stale) != 0 {
		t.Fatalf("stale right after writing: %v", stale)
	}
	hand := filepath.Join(root, "internal/modules/comments/comments.go")
	custom := []byte("package comments\n\nfunc (m *Module) customize() { /* mine */ }\n")
	if err := os.WriteFile(hand, custom, 0o644); err != nil {
		t.Fatal(err)
	}
	// A new column: the generated files change, the hand-written one stays.
	r2 := realm(t, map[string]string{"comments.sql": strings.Replace(commentsSQL, "body       text        NOT NULL,",
		"body       text        NOT NULL,\n    edited     boolean     NOT NULL DEFAULT false,", 1)})
	files2 := render(r2)
	stale := gen.Stale(root, files2)
	if !contains(stale, "internal/modules/comments/types_gen.go") || !contains(stale, "queries/comments.sql") || contains(stale, "internal/modules/comments/comments.go") {
		t.Fatalf("stale after a new column: %v", stale)
	}
	written, err := gen.Write(root, files2)
	if err != nil {
		t.Fatal(err)
	}
	if contains(written, "internal/modules/comments/comments.go") {
		t.Fatalf("the hand-written file was rewritten: %v", written)
	}
	if b, _ := os.ReadFile(hand); string(b) != string(custom) {
		t.Fatalf("hand-written file changed: %s", b)
	}
	types, _ := os.ReadFile(filepath.Join(root, "internal/modules/comments/types_gen.go"))
	if !strings.Contains(string(types), `json:"edited"`) {
		t.Fatalf("edited is not exposed:\n%s", types)
	}
	cmd, err := gen.StoredCommand(filepath.Join(root, "internal/modules/comments/module_gen.go"))
	if err != nil || cmd != "api gen module comments --parent posts" {
		t.Fatalf("stored command %q, %v", cmd, err)
	}
}

func TestCommandLineRoundTrip(t *testing.T) {
	t.Parallel()
	for _, o := range []gen.Options{
		{Name: "comments", Parent: "posts"},
		{Name: "notes", Table: "my_notes", Owner: "user_id", Read: "owner", Write: "admin", Sort: []string{"id"}, Filter: []string{}},
		{Name: "tags", Filter: []string{"kind", "active"}},
		{Name: "users", Owner: "id", Ops: []string{"get", "list", "update"}, Hide: []string{"password_hash"}, Immutable: []string{"email"}},
		{Name: "keys", Hide: []string{}},
	} {
		got, err := gen.ParseCommand(gen.CommandLine(o))
		if err != nil {
			t.Fatal(err)
		}
		if o.Filter != nil && len(o.Filter) == 0 {
			o.Filter = []string{"-"}
		}
		if o.Hide != nil && len(o.Hide) == 0 {
			o.Hide = []string{"-"}
		}
		if !reflect.DeepEqual(got, o) {
			t.Errorf("%q parses to %+v, want %+v", gen.CommandLine(o), got, o)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestListSchemaFilesAddsNewFilesLast(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	hcl := "locals {\n  schema = [\n    \"file://schema/users.sql\",\n  ]\n}\n"
	if err := os.MkdirAll(filepath.Join(root, "schema"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"atlas.hcl", "schema/users.sql", "schema/comments.sql"} {
		body := ""
		if f == "atlas.hcl" {
			body = hcl
		}
		if err := os.WriteFile(filepath.Join(root, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	added, err := gen.ListSchemaFiles(root, "schema")
	if err != nil || !reflect.DeepEqual(added, []string{"schema/comments.sql"}) {
		t.Fatalf("added %v, %v", added, err)
	}
	b, _ := os.ReadFile(filepath.Join(root, "atlas.hcl"))
	if want := "    \"file://schema/users.sql\",\n    \"file://schema/comments.sql\",\n  ]"; !strings.Contains(string(b), want) {
		t.Fatalf("atlas.hcl:\n%s", b)
	}
	if added, err := gen.ListSchemaFiles(root, "schema"); err != nil || len(added) != 0 {
		t.Fatalf("second run added %v, %v", added, err)
	}
}

// The audit image built in SQL is the one audit.Record encodes: every column by name,
// sensitive ones redacted, timestamps as Go writes them in UTC, NULL as null; a row
// wider than one jsonb_build_object call allows is built in parts.
func TestAuditAfterMatchesRecord(t *testing.T) {
	t.Parallel()
	var cols, sets []string
	for i := range 60 {
		cols = append(cols, fmt.Sprintf("    c%02d integer NOT NULL DEFAULT %d,", i, i))
	}
	wide := "CREATE TABLE wides (\n    id bigint GENERATED ALWAYS AS IDENTITY,\n" + strings.Join(cols, "\n") + `
    api_token  text        NOT NULL DEFAULT '',
    ratio      double precision NOT NULL,
    done       boolean     NOT NULL,
    due_at     timestamptz,
    created_at timestamptz NOT NULL,
    CONSTRAINT wides_pkey PRIMARY KEY (id)
);`
	m, err := gen.NewModel(realm(t, map[string]string{"wides.sql": wide}), gen.Options{Name: "wides"})
	if err != nil {
		t.Fatal(err)
	}
	pool := testdb.New(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, wide); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, 100000000, time.UTC)
	for i := range 60 {
		sets = append(sets, fmt.Sprintf(`"c%02d": %d`, i, i))
	}
	want := fmt.Sprintf(`{"id": 1, %s, "api_token": %q, "ratio": 0.25, "done": true, "due_at": null, "created_at": %q}`,
		strings.Join(sets, ", "), audit.Redacted, created.Format(time.RFC3339Nano))
	var got []byte
	err = pool.QueryRow(ctx, `WITH created AS (
    INSERT INTO wides (api_token, ratio, done, created_at) VALUES ('s3cret', 0.25, true, $1) RETURNING *
) SELECT `+m.AuditAfter()+` FROM created`, created).Scan(&got)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("audit image:\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(m.AuditAfter(), "|| jsonb_build_object(") {
		t.Fatal("a row of more than 50 columns must be built in parts")
	}
}
