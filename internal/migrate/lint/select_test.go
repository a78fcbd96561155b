package lint_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"ariga.io/atlas/sql/migrate"

	"github.com/quarrydev/quarry/internal/migrate/lint"
)

func names(files []migrate.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name())
	}
	return out
}

func run(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestSelect(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	migs := filepath.Join(root, "migrations")
	if err := os.MkdirAll(migs, 0o755); err != nil {
		t.Fatal(err)
	}
	add := func(name string) {
		if err := os.WriteFile(filepath.Join(migs, name), []byte("SELECT 1;\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	add("20260101000000_a.sql")
	add("20260102000000_b.sql")
	dir, err := migrate.NewLocalDir(migs)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, sel lint.Selection, wantBase, wantNew int) {
		t.Helper()
		got, err := lint.Select(ctx, dir, migs, sel)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got.Base) != wantBase || len(got.Files) != wantNew {
			t.Errorf("%s: base %v new %v (%s); want %d base, %d new", name, names(got.Base), names(got.Files), got.From, wantBase, wantNew)
		}
	}
	check("no git history: every file", lint.Selection{}, 0, 2)
	check("latest", lint.Selection{Latest: 1}, 1, 1)

	run(t, root, "init", "-q", "-b", "main")
	run(t, root, "add", ".")
	run(t, root, "commit", "-qm", "base")
	check("on main: nothing new", lint.Selection{}, 2, 0)

	run(t, root, "checkout", "-qb", "feature")
	add("20260103000000_c.sql")
	check("untracked file on a branch", lint.Selection{}, 2, 1)
	run(t, root, "add", ".")
	run(t, root, "commit", "-qm", "c")
	check("committed on the branch", lint.Selection{}, 2, 1)
	check("explicit base", lint.Selection{Base: "main"}, 2, 1)
	check("explicit base HEAD", lint.Selection{Base: "HEAD"}, 3, 0)
	if _, err := lint.Select(ctx, dir, migs, lint.Selection{Base: "no-such-ref"}); err == nil {
		t.Error("an unknown --base ref must fail")
	}
}
