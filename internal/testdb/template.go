package testdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/migrate"
)

const (
	// templateMarker starts the comment of a template whose migrations all applied.
	templateMarker = "quarry test template complete"
	// lastUsedPrefix precedes the time the template was last used, in its comment.
	lastUsedPrefix = templateMarker + "; last used "
	// templateRecipe is hashed into the template name; change it when the way templates
	// are built changes, so that existing ones are not reused.
	templateRecipe = "quarry testdb template v1"
	// templateLockKey is the advisory lock that serialises template builds across test
	// processes.
	templateLockKey int64 = 0x71756172727974 // "quarryt"
	// staleTemplateAfter is how long a template for other migrations (another branch or
	// checkout) stays unused before Main drops it.
	staleTemplateAfter = time.Hour
	// staleTestDatabaseAfter is the age after which Main drops test databases left behind
	// by killed test processes, if nobody is connected to them.
	staleTestDatabaseAfter = 6 * time.Hour
)

// migrationsDir returns the migrations directory of the module containing the working
// directory (tests run in their package's directory). It returns an error when no go.mod
// is found above the working directory or the directory does not exist.
func migrationsDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			m := filepath.Join(dir, "migrations")
			if st, err := os.Stat(m); err != nil || !st.IsDir() {
				return "", fmt.Errorf("migrations directory %s: not found (%v)", m, err)
			}
			return m, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod in %s or above it, so no migrations directory", wd)
		}
	}
}

// templateName returns the template prefix of n followed by the first 12 hex digits of a SHA-256 over
// the names and contents of dir/*.sql and dir/atlas.sum, so that any change to the
// migrations yields a new template. It returns an error when a file cannot be read.
func templateName(n names, dir string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil {
		return "", fmt.Errorf("list migrations: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "atlas.sum")); err == nil {
		files = append(files, filepath.Join(dir, "atlas.sum"))
	}
	sort.Strings(files)
	h := sha256.New()
	io.WriteString(h, templateRecipe+"\n")
	for _, f := range files {
		content, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("read migration: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(f), len(content))
		h.Write(content)
	}
	return n.template + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// ensureTemplate makes sure the complete template database name exists on the server at
// serverURL, building it from the migrations in dir if needed. An advisory lock makes
// concurrent test processes build it once. It also drops templates and test databases
// of this checkout (n) that have been abandoned. It returns an error when the lock cannot be had or the
// template cannot be built.
func ensureTemplate(ctx context.Context, serverURL string, n names, name, dir string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", db.RedactURL(serverURL), err)
	}
	defer conn.Close(context.Background()) // also releases the advisory lock
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return fmt.Errorf("wait for the template lock: %w", err)
	}
	var now time.Time
	if err := conn.QueryRow(ctx, "SELECT now()").Scan(&now); err != nil {
		return fmt.Errorf("query server time: %w", err)
	}
	exists, complete, err := templateState(ctx, conn, name)
	if err != nil {
		return err
	}
	if !complete {
		if exists {
			if err := dropTemplate(ctx, conn, name, true); err != nil {
				return fmt.Errorf("drop incomplete template: %w", err)
			}
		}
		if err := buildTemplate(ctx, conn, serverURL, name, dir); err != nil {
			return err
		}
	}
	comment := lastUsedPrefix + now.UTC().Format(time.RFC3339)
	if _, err := conn.Exec(ctx, "COMMENT ON DATABASE "+ident(name)+" IS '"+comment+"'"); err != nil {
		return fmt.Errorf("mark template %s: %w", name, err)
	}
	sweep(ctx, conn, n, name, now)
	return nil
}

// templateState reports whether database name exists and whether it is a complete
// template. It returns the query error.
func templateState(ctx context.Context, conn *pgx.Conn, name string) (exists, complete bool, err error) {
	var isTemplate bool
	var comment *string
	err = conn.QueryRow(ctx,
		"SELECT datistemplate, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
		name).Scan(&isTemplate, &comment)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("look up template %s: %w", name, err)
	}
	return true, isTemplate && comment != nil && strings.HasPrefix(*comment, templateMarker), nil
}

// buildTemplate creates database name, applies the migrations of dir to it and turns it
// into a template nobody may connect to. On failure it drops the database again and
// returns the failing step's error.
func buildTemplate(ctx context.Context, conn *pgx.Conn, serverURL, name, dir string) (err error) {
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		return fmt.Errorf("create template %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			_ = dropTemplate(context.Background(), conn, name, true)
		}
	}()
	tplURL, err := db.WithDatabase(serverURL, name)
	if err != nil {
		return err
	}
	if err := migrate.ApplyDir(ctx, tplURL, dir); err != nil {
		return fmt.Errorf("apply %s to template %s: %w", dir, name, err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(name)+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("mark %s as template: %w", name, err)
	}
	// Connections still open (a migration engine that did not close its own) would make
	// every clone fail; none can be opened any more.
	if _, err := conn.Exec(ctx,
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
		name); err != nil {
		return fmt.Errorf("disconnect sessions from template %s: %w", name, err)
	}
	return nil
}

// dropTemplate turns database name back into an ordinary database and drops it, with
// force when set (disconnecting its sessions). It returns the first failing statement's
// error.
func dropTemplate(ctx context.Context, conn *pgx.Conn, name string, force bool) error {
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(name)+" WITH IS_TEMPLATE false"); err != nil {
		return fmt.Errorf("unmark template %s: %w", name, err)
	}
	stmt := "DROP DATABASE " + ident(name)
	if force {
		stmt += " WITH (FORCE)"
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("drop %s: %w", name, err)
	}
	return nil
}

// sweep drops, best effort, templates of this checkout (n) other than keep that are
// incomplete or have not been used for staleTemplateAfter, and its test databases older
// than staleTestDatabaseAfter that nobody is connected to. Databases of other prefixes
// or checkouts are never touched. It waits for no lock held by a running test.
func sweep(ctx context.Context, conn *pgx.Conn, n names, keep string, now time.Time) {
	if _, err := conn.Exec(ctx, "SET lock_timeout = '1s'"); err != nil {
		return
	}
	defer func() { _, _ = conn.Exec(ctx, "RESET lock_timeout") }()
	rows, err := conn.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '')
		FROM pg_database WHERE starts_with(datname, $1) OR starts_with(datname, $2)`, n.template, n.test)
	if err != nil {
		return
	}
	type database struct{ name, comment string }
	dbs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (database, error) {
		var d database
		err := r.Scan(&d.name, &d.comment)
		return d, err
	})
	if err != nil {
		return
	}
	for _, d := range dbs {
		switch {
		case d.name == keep:
		case strings.HasPrefix(d.name, n.template):
			if lastUsed, ok := templateLastUsed(d.comment); !ok || now.Sub(lastUsed) > staleTemplateAfter {
				_ = dropTemplate(ctx, conn, d.name, false)
			}
		default:
			if created, ok := n.testDatabaseCreated(d.name); ok && time.Since(created) > staleTestDatabaseAfter {
				_, _ = conn.Exec(ctx, "DROP DATABASE "+ident(d.name))
			}
		}
	}
}

// templateLastUsed returns the time recorded in a template's comment, and false when the
// comment records none (the template is incomplete).
func templateLastUsed(comment string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(comment, lastUsedPrefix)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, rest)
	return t, err == nil
}

// testDatabaseCreated returns the creation time encoded in a name made by
// newDatabaseName, and false for any other name.
func (n names) testDatabaseCreated(name string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(name, n.test)
	if !ok {
		return time.Time{}, false
	}
	secs, _, ok := strings.Cut(rest, "_")
	if !ok {
		return time.Time{}, false
	}
	unix, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(unix, 0), true
}
