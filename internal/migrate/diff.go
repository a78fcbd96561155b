package migrate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quarrydev/quarry/internal/db"
)

// DiffOptions tune Diff.
type DiffOptions struct {
	// Name is the migration's name, the part after the version in its file name.
	Name string
	// Check reports the planned migration without writing it.
	Check bool
}

// DiffResult is the migration Diff planned.
type DiffResult struct {
	// File is the name of the migration file (written unless Check); "" when the
	// migrations already match the schema.
	File string
	// Statements of the planned migration.
	Statements []string
}

// Changed reports whether the schema differs from what the migrations produce.
func (r *DiffResult) Changed() bool { return len(r.Statements) > 0 }

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_]*$`)

// SchemaError reports a statement of the declarative schema that PostgreSQL rejected.
type SchemaError struct {
	File      string
	Line      int
	Statement string
	Err       error
}

func (e *SchemaError) Error() string {
	return fmt.Sprintf("%s:%d: %v\n  statement: %s", e.File, e.Line, e.Err, e.Statement)
}

func (e *SchemaError) Unwrap() error { return e.Err }

// Diff computes the migration that takes the database produced by the migration
// directory to the one described by the schema directory, and writes it as
// migrations/<version>_<name>.sql with an updated atlas.sum.
//
// Both states are computed on a clean dev database: Config.DevURL, or a throwaway
// database created on the server of serverURL and dropped afterwards. It returns a
// result without a file when nothing changed. Errors: a *SchemaError (joined, one per
// failing statement) when the schema files do not execute, ErrChecksum when atlas.sum
// is stale, or connection errors.
func (e *Engine) Diff(ctx context.Context, serverURL string, opts DiffOptions) (*DiffResult, error) {
	if !validName.MatchString(opts.Name) {
		return nil, fmt.Errorf("migration name %q: use lower-case letters, digits and underscores", opts.Name)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	stmts, err := e.schemaStatements()
	if err != nil {
		return nil, err
	}
	devURL, dropDev, err := e.devDatabase(ctx, serverURL)
	if err != nil {
		return nil, err
	}
	defer dropDev()
	conn, closeConn, err := openConn(ctx, devURL)
	if err != nil {
		return nil, err
	}
	defer closeConn()
	drv, err := postgres.Open(conn)
	if err != nil {
		return nil, fmt.Errorf("open migration driver: %w", err)
	}
	if err := drv.(migrate.CleanChecker).CheckClean(ctx, nil); err != nil {
		return nil, fmt.Errorf("dev database %s: %w", db.RedactURL(devURL), err)
	}
	desired, err := desiredState(ctx, conn, stmts)
	if err != nil {
		return nil, err
	}
	// Compare normalized states, as the Atlas CLI does: both sides come from PostgreSQL
	// itself, so CHECK expressions and defaults are compared as PostgreSQL stores them.
	planOpts := []migrate.PlannerOption{migrate.PlanWithDiffOptions(schema.DiffNormalized())}
	if onlyPublic(desired) {
		// Unqualified names, as people write them, when everything lives in "public".
		planOpts = append(planOpts, migrate.PlanWithSchemaQualifier(""))
	}
	pl := migrate.NewPlanner(drv, e.dir, planOpts...)
	plan, err := pl.Plan(ctx, opts.Name, migrate.Realm(desired))
	if errors.Is(err, migrate.ErrNoPlan) {
		return &DiffResult{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plan migration: %w", err)
	}
	if plan.Version, err = e.nextVersion(time.Now()); err != nil {
		return nil, err
	}
	res := &DiffResult{}
	for _, c := range plan.Changes {
		res.Statements = append(res.Statements, c.Cmd)
	}
	files, err := migrate.DefaultFormatter.Format(plan)
	if err != nil {
		return nil, fmt.Errorf("format migration: %w", err)
	}
	res.File = files[0].Name()
	if opts.Check {
		return res, nil
	}
	if err := pl.WritePlan(plan); err != nil {
		return nil, fmt.Errorf("write migration: %w", err)
	}
	return res, nil
}

// versionLayout is the layout of migration versions: UTC time to the second.
const versionLayout = "20060102150405"

// nextVersion returns the version for a new migration written at now: now in UTC, or
// one second after the newest existing version when that is not older, so versions
// stay unique and ordered even for migrations written within the same second.
func (e *Engine) nextVersion(now time.Time) (string, error) {
	files, err := e.dir.Files()
	if err != nil {
		return "", fmt.Errorf("read migrations: %w", err)
	}
	v := now.UTC().Truncate(time.Second)
	if n := len(files); n > 0 {
		last, err := time.Parse(versionLayout, files[n-1].Version())
		if err == nil && !v.After(last) {
			v = last.Add(time.Second)
		}
	}
	return v.Format(versionLayout), nil
}

// schemaStmt is one statement of a schema file.
type schemaStmt struct {
	file string
	line int
	text string
}

// schemaStatements reads the statements of every *.sql file in the schema directory.
func (e *Engine) schemaStatements() ([]schemaStmt, error) {
	paths, err := filepath.Glob(filepath.Join(e.cfg.SchemaDir, "*.sql"))
	if err != nil {
		return nil, fmt.Errorf("list schema files: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no *.sql files in %s", e.cfg.SchemaDir)
	}
	sort.Strings(paths)
	var out []schemaStmt
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read schema: %w", err)
		}
		stmts, err := migrate.Stmts(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: split statements: %w", p, err)
		}
		for _, s := range stmts {
			line := 1 + strings.Count(string(b[:min(s.Pos, len(b))]), "\n")
			out = append(out, schemaStmt{file: p, line: line, text: s.Text})
		}
	}
	return out, nil
}

// desiredState executes the schema statements in a transaction on the dev database,
// inspects the result and rolls back. Statements may come in any order across files:
// a statement that fails is retried after the others (each under a savepoint) until a
// pass makes no progress; then every statement still failing is reported.
func desiredState(ctx context.Context, conn *sql.Conn, stmts []schemaStmt) (*schema.Realm, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	pending := stmts
	for len(pending) > 0 {
		var failed []*SchemaError
		var retry []schemaStmt
		for _, s := range pending {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT quarry_schema"); err != nil {
				return nil, fmt.Errorf("savepoint: %w", err)
			}
			if _, err := tx.ExecContext(ctx, s.text); err != nil {
				if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT quarry_schema"); rerr != nil {
					return nil, fmt.Errorf("rollback to savepoint: %w", rerr)
				}
				failed = append(failed, &SchemaError{File: s.file, Line: s.line, Statement: s.text, Err: err})
				retry = append(retry, s)
				continue
			}
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT quarry_schema"); err != nil {
				return nil, fmt.Errorf("release savepoint: %w", err)
			}
		}
		if len(retry) == len(pending) {
			return nil, joinSchemaErrors(failed)
		}
		pending = retry
	}
	drv, err := postgres.Open(tx)
	if err != nil {
		return nil, fmt.Errorf("open migration driver: %w", err)
	}
	realm, err := drv.InspectRealm(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("inspect schema: %w", err)
	}
	return realm, nil
}

// joinSchemaErrors orders errors so that those not caused by a missing object (likely
// the root cause) come first.
func joinSchemaErrors(errs []*SchemaError) error {
	missing := func(err error) bool {
		var pgErr *pgconn.PgError
		return errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "42704" || pgErr.Code == "3F000")
	}
	sort.SliceStable(errs, func(i, j int) bool { return !missing(errs[i].Err) && missing(errs[j].Err) })
	joined := make([]error, len(errs))
	for i, e := range errs {
		joined[i] = e
	}
	return errors.Join(joined...)
}

func onlyPublic(r *schema.Realm) bool {
	for _, s := range r.Schemas {
		if s.Name != "public" {
			return false
		}
	}
	return true
}

// devDatabase returns the dev database URL and a cleanup function: Config.DevURL as is,
// or a throwaway database created on the server of serverURL.
func (e *Engine) devDatabase(ctx context.Context, serverURL string) (string, func(), error) {
	if e.cfg.DevURL != "" {
		return e.cfg.DevURL, func() {}, nil
	}
	adminURL, err := db.WithDatabase(serverURL, "postgres")
	if err != nil {
		return "", nil, err
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("name dev database: %w", err)
	}
	name := "quarry_dev_" + hex.EncodeToString(b[:])
	admin, closeAdmin, err := openConn(ctx, adminURL)
	if err != nil {
		return "", nil, err
	}
	defer closeAdmin()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		return "", nil, fmt.Errorf("create dev database: %w", err)
	}
	devURL, err := db.WithDatabase(serverURL, name)
	if err != nil {
		return "", nil, err
	}
	drop := func() {
		// A fresh context: the dev database is dropped even when ctx was canceled.
		ctx := context.WithoutCancel(ctx)
		admin, closeAdmin, err := openConn(ctx, adminURL)
		if err != nil {
			e.printf("warning: could not drop dev database %s: %v\n", name, err)
			return
		}
		defer closeAdmin()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			e.printf("warning: could not drop dev database %s: %v\n", name, err)
		}
	}
	return devURL, drop, nil
}

// newFileHeader opens every migration written by NewFile.
const newFileHeader = `-- Hand-written migration: statements the planner cannot derive from schema/, such as
-- functions and triggers. Keep schema/ describing the same objects, then run
-- ` + "`api migrate hash`" + ` after editing this file (never after it was applied anywhere).
`

// NewFile writes an empty migration, migrations/<version>_<name>.sql with the same
// version rule as Diff, for statements the planner does not derive (functions,
// triggers), and rehashes atlas.sum. It returns the file's name. Errors: an invalid
// name; ErrChecksum when atlas.sum is already stale (rehashing would hide the edit);
// the directory's read and write errors.
func (e *Engine) NewFile(name string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("migration name %q: use lower-case letters, digits and underscores", name)
	}
	if err := e.Validate(); err != nil {
		return "", err
	}
	version, err := e.nextVersion(time.Now())
	if err != nil {
		return "", err
	}
	file := version + "_" + name + ".sql"
	if err := e.dir.WriteFile(file, []byte(newFileHeader)); err != nil {
		return "", fmt.Errorf("write %s: %w", e.path(file), err)
	}
	if err := e.Hash(); err != nil {
		return "", err
	}
	return file, nil
}
