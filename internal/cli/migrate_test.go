package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/testdb"
)

// Outside the repository apply and status use the migrations embedded in the binary;
// status reports pending work through its exit status; a missing or empty --dir is an
// error rather than "nothing pending".
func TestMigrateOutsideTheRepository(t *testing.T) {
	dbURL := testdb.EmptyURL(t)
	work := t.TempDir()
	t.Chdir(work)

	out, _, err := runAPI(t, "migrate", "status", "--database-url", dbURL)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != StatusPending || !strings.Contains(out, "PENDING") {
		t.Fatalf("status before apply: want exit %d and PENDING, got %v\n%s", StatusPending, err, out)
	}
	for _, dir := range []string{filepath.Join(work, "missing"), t.TempDir()} {
		if _, _, err := runAPI(t, "migrate", "apply", "--dir", dir, "--database-url", dbURL); err == nil ||
			!strings.Contains(err.Error(), "--dir") {
			t.Fatalf("apply --dir %s: want an error naming --dir, got %v", dir, err)
		}
	}
	out, _, err = runAPI(t, "migrate", "apply", "--database-url", dbURL)
	if err != nil || !strings.Contains(out, "_init.sql") {
		t.Fatalf("apply with the embedded migrations: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(work, "migrations")); !os.IsNotExist(err) {
		t.Fatalf("apply must not create ./migrations: %v", err)
	}
	out, _, err = runAPI(t, "migrate", "status", "--database-url", dbURL)
	if err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("status after apply: %v\n%s", err, out)
	}
}

func TestApplyEnv(t *testing.T) {
	t.Setenv("MIGRATE_LOCK_TIMEOUT", "750ms")
	t.Setenv("MIGRATE_STATEMENT_TIMEOUT", "1m")
	t.Setenv("MIGRATE_LOCK_RETRIES", "0")
	var opts migrate.ApplyOptions
	if err := applyEnv(&opts); err != nil {
		t.Fatal(err)
	}
	if opts.LockTimeout != 750*time.Millisecond || opts.StatementTimeout != time.Minute || opts.LockRetries >= 0 {
		t.Fatalf("options from the environment: %+v (0 retries must mean none, not the default)", opts)
	}
	for name, bad := range map[string]string{"MIGRATE_LOCK_TIMEOUT": "5", "MIGRATE_STATEMENT_TIMEOUT": "-1s", "MIGRATE_LOCK_RETRIES": "many"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, bad)
			if err := applyEnv(&migrate.ApplyOptions{}); err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("%s=%s: want an error naming the variable, got %v", name, bad, err)
			}
		})
	}
}
