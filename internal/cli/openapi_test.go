package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runAPI runs the `api` command with args and returns its standard output and error
// output.
func runAPI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := NewRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// committedDocument is the API document in the repository.
const committedDocument = "../../" + DefaultOpenAPIFile

// TestCommittedOpenAPIIsCurrent fails when api/openapi.yaml is not what `api openapi`
// writes for the code: regenerate it with `make generate` and commit it. The
// environment must not change the document, so a developer's settings are set here
// on purpose.
func TestCommittedOpenAPIIsCurrent(t *testing.T) {
	t.Setenv("ENABLED_MODULES", "users")
	t.Setenv("DOCS_ENABLED", "false")
	t.Setenv("POSTS_MAX_BULK", "7")
	generated, _, err := runAPI(t, "openapi", "-o", "-")
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(committedDocument)
	if err != nil {
		t.Fatal(err)
	}
	if generated != string(committed) {
		t.Fatalf("%s is stale: run `make generate` (or `go run ./cmd/api openapi`) and commit it", DefaultOpenAPIFile)
	}

	// -o writes the same bytes to a file, creating its directory.
	out := filepath.Join(t.TempDir(), "api", "openapi.yaml")
	if _, _, err := runAPI(t, "openapi", "-o", out); err != nil {
		t.Fatal(err)
	}
	if written, err := os.ReadFile(out); err != nil || string(written) != generated {
		t.Fatalf("-o %s: %v", out, err)
	}

	// A flag does select modules.
	users, _, err := runAPI(t, "openapi", "-o", "-", "--enabled-modules", "users")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(users, "/api/v1/posts") || !strings.Contains(users, "/api/v1/users") {
		t.Error("--enabled-modules users must document users only")
	}
}

func TestOpenAPIDiff(t *testing.T) {
	dir := t.TempDir()
	committed, err := os.ReadFile(committedDocument)
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "base.yaml")
	if err := os.WriteFile(base, committed, 0o644); err != nil {
		t.Fatal(err)
	}

	// The code against its own committed document: nothing breaks.
	out, _, err := runAPI(t, "openapi", "diff", "--base", base)
	if err != nil || !strings.Contains(out, "no breaking changes") {
		t.Fatalf("diff against itself: %v\n%s", err, out)
	}

	// Removing an operation and narrowing a field break clients.
	changed := strings.Replace(string(committed), "  /api/v1/posts/bulk:\n", "  /api/v1/posts/bulk-renamed:\n", 1)
	changed = strings.Replace(changed, "maxLength: 200\n", "maxLength: 100\n", 1)
	if changed == string(committed) {
		t.Fatal("the test's edits did not apply")
	}
	current := filepath.Join(dir, "current.yaml")
	if err := os.WriteFile(current, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = runAPI(t, "openapi", "diff", "--base", base, "--current", current)
	if err == nil || !strings.Contains(err.Error(), "breaking changes") {
		t.Fatalf("a removed operation must fail the diff: %v\n%s", err, out)
	}
	for _, want := range []string{"POST /api/v1/posts/bulk", "api-path-removed", "max-length"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not mention %q:\n%s", want, out)
		}
	}

	// Identical documents.
	out, _, err = runAPI(t, "openapi", "diff", "--base", current, "--current", current)
	if err != nil || !strings.Contains(out, "no breaking changes") {
		t.Fatalf("identical documents: %v\n%s", err, out)
	}

	if _, _, err := runAPI(t, "openapi", "diff"); err == nil {
		t.Error("--base is required")
	}
}
