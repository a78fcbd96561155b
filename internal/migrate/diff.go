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
	"github.com/quarrydev/quarry/internal/migrate/catalog"
)

// DiffOptions tune Diff.
type DiffOptions struct {
	// Name is the migration's name, the part after the version in its file name.
	Name string
	// Check reports the planned migration without writing it.
	Check bool
	// AllowDestructive lets Diff write changes that lose data or rewrite a table
	// (DROP TABLE, DROP COLUMN, DROP EXTENSION, type changes that rewrite).
	AllowDestructive bool
	// Renames turn a dropped and an added column (or table) into a rename.
	Renames []Rename
}

// PlannedFile is one migration file of a plan.
type PlannedFile struct {
	// Name is the file name, <version>_<name>.sql.
	Name string
	// TxMode is "file" (one transaction) or "none" (each statement on its own).
	TxMode string
	// Statements of the file, in order.
	Statements []string
	// Content is the file as written.
	Content string
}

// DiffResult is the migration Diff planned.
type DiffResult struct {
	// Files are the planned files in version order (written unless Check); none when
	// the migrations already match the schema.
	Files []PlannedFile
	// File is the name of the first file; "" when nothing changed.
	File string
	// Statements of every file, in order.
	Statements []string
	// Rewrites lists the statements that rewrite an existing table, as measured on the
	// dev database.
	Rewrites []string
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
	return fmt.Sprintf("%s:%d: %s\n  statement: %s", e.File, e.Line, pgMessage(e.Err), e.Statement)
}

func (e *SchemaError) Unwrap() error { return e.Err }

// RefusedError reports changes Diff does not write: Unsafe ones never (each says what
// to do instead), Destructive ones without DiffOptions.AllowDestructive.
type RefusedError struct {
	Unsafe      []string
	Destructive []string
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	b.WriteString("the migration was not written:")
	for _, u := range e.Unsafe {
		b.WriteString("\n  - " + u)
	}
	for _, d := range e.Destructive {
		b.WriteString("\n  - " + d)
	}
	if len(e.Destructive) > 0 {
		b.WriteString("\nIf losing this data or rewriting these tables is intended, run diff again with --allow-destructive.")
	}
	return b.String()
}

// UnplannedError reports differences between schema/ and the state the migrations
// plus the planned statements produce: objects Quarry cannot migrate by itself.
type UnplannedError struct {
	Differences []catalog.Difference
}

func (e *UnplannedError) Error() string {
	var b strings.Builder
	b.WriteString("schema/ cannot be reached from migrations/ by a planned migration; these objects would still differ:")
	for _, d := range e.Differences {
		b.WriteString("\n  - " + d.String())
		if hint := hintFor(d); hint != "" {
			b.WriteString("\n    " + hint)
		}
	}
	return b.String()
}

// hintFor says what a DBA can do about a difference Quarry does not plan.
func hintFor(d catalog.Difference) string {
	switch {
	case d.Kind == catalog.KindEnum && d.Attr == catalog.AttrValues:
		return "PostgreSQL cannot remove or reorder enum values: create a new type, move the columns to it with ALTER COLUMN … TYPE … USING, drop the old type, in a hand-written migration (`api migrate new`)."
	default:
		return "write the change in a hand-written migration (`api migrate new`), then check with `api migrate diff --check`."
	}
}

// PlanError reports a planned statement that failed on the dev database: the plan
// is not written.
type PlanError struct {
	File      string
	Statement string
	Err       error
}

func (e *PlanError) Error() string {
	return fmt.Sprintf("the planned migration does not apply on the database replayed from the migrations (%s): %s\n  statement: %s", e.File, pgMessage(e.Err), e.Statement)
}

func (e *PlanError) Unwrap() error { return e.Err }

// pgMessage formats err with PostgreSQL's DETAIL and HINT when it carries them.
func pgMessage(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err.Error()
	}
	msg := fmt.Sprintf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	if pgErr.Detail != "" {
		msg += "\n  DETAIL: " + pgErr.Detail
	}
	if pgErr.Hint != "" {
		msg += "\n  HINT: " + pgErr.Hint
	}
	return msg
}

// Diff computes the migration that takes the database produced by the migration
// directory to the one described by the schema directory, and writes it as one or
// more consecutive files migrations/<version>_<name>[_part].sql with an updated
// atlas.sum.
//
// The work happens on a clean dev database: Config.DevURL (cleaned afterwards), or a
// throwaway database created on the server of serverURL and dropped afterwards. The
// plan is online-safe for tables that already exist (README.md, "What diff writes") and is
// written only after it applied on the replayed migrations and the result matched
// schema/ object by object. It returns a result without files when nothing changed.
//
// Errors: a *SchemaError (joined, one per failing statement) when the schema files do
// not execute; a *RefusedError for unsafe or (without AllowDestructive) destructive
// changes; an *UnplannedError naming the objects that would still differ; a
// *PlanError when a planned statement fails; ErrChecksum when atlas.sum is stale;
// connection errors.
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
	devURL, dropDev, err := e.DevDatabase(ctx, serverURL)
	if err != nil {
		return nil, err
	}
	defer dropDev()
	conn, drv, closeConn, err := openDriver(ctx, devURL)
	if err != nil {
		return nil, err
	}
	defer closeConn()
	if err := drv.(migrate.CleanChecker).CheckClean(ctx, nil); err != nil {
		return nil, fmt.Errorf("dev database %s: %w", db.RedactURL(devURL), err)
	}
	if e.cfg.DevURL != "" {
		defer e.cleanDev(ctx, conn)
	}
	desired, desiredCat, err := desiredState(ctx, conn, stmts)
	if err != nil {
		return nil, err
	}
	if err := e.replay(ctx, conn); err != nil {
		return nil, err
	}
	p := &planner{desired: desired, desiredCat: desiredCat}
	renames, err := p.inspectCurrent(ctx, conn, opts.Renames)
	if err != nil {
		return nil, err
	}
	if onlyPublic(desired) {
		// Unqualified names, as people write them, when everything lives in "public".
		q := ""
		p.qualifier = &q
	}
	if err := p.plan(ctx, drv); err != nil {
		return nil, err
	}
	p.pre = append(renames, p.pre...)
	parts := p.parts()
	res, err := e.files(opts.Name, parts)
	if err != nil {
		return nil, err
	}
	// refusal returns the changes diff will not write, nil when there are none.
	refusal := func() *RefusedError {
		destructive := p.consent
		for _, r := range res.Rewrites {
			destructive = append(destructive, "rewrites the table and its indexes under an ACCESS EXCLUSIVE lock: "+r)
		}
		if opts.AllowDestructive {
			destructive = nil
		}
		if len(p.refused) == 0 && len(destructive) == 0 {
			return nil
		}
		return &RefusedError{Unsafe: p.refused, Destructive: destructive}
	}
	got := p.currentCat
	if res.Changed() {
		if res.Rewrites, err = selfCheck(ctx, conn, res.Files); err != nil {
			// A refused change explains more than the failure it may cause.
			if rerr := refusal(); rerr != nil && !opts.Check {
				return nil, rerr
			}
			return nil, err
		}
		if got, err = catalog.Read(ctx, conn); err != nil {
			return nil, err
		}
	}
	if diffs := catalog.Compare(desiredCat, got); len(diffs) > 0 {
		if rerr := refusal(); rerr != nil && !opts.Check {
			return nil, rerr
		}
		return nil, &UnplannedError{Differences: diffs}
	}
	if opts.Check {
		return res, nil
	}
	if rerr := refusal(); rerr != nil {
		return nil, rerr
	}
	for _, f := range res.Files {
		if err := e.dir.WriteFile(f.Name, []byte(f.Content)); err != nil {
			return nil, fmt.Errorf("write %s: %w", e.path(f.Name), err)
		}
	}
	if err := e.Hash(); err != nil {
		return nil, err
	}
	return res, nil
}

// inspectCurrent reads the replayed state into p, as it is after the renames. The
// renames run in a transaction that is rolled back, so the self-check applies them
// again from the file; it returns them as planned statements.
func (p *planner) inspectCurrent(ctx context.Context, conn *sql.Conn, renames []Rename) ([]stmt, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var out []stmt
	for _, r := range renames {
		s := stmt{comment: "rename, keeping data and constraints", sql: r.Statement()}
		if _, err := tx.ExecContext(ctx, s.sql); err != nil {
			return nil, fmt.Errorf("--rename: %s: %s", s.sql, pgMessage(err))
		}
		out = append(out, s)
	}
	drv, err := postgres.Open(tx)
	if err != nil {
		return nil, fmt.Errorf("open migration driver: %w", err)
	}
	if p.current, err = drv.InspectRealm(ctx, nil); err != nil {
		return nil, fmt.Errorf("inspect migrations state: %w", err)
	}
	if p.currentCat, err = catalog.Read(ctx, tx); err != nil {
		return nil, err
	}
	return out, nil
}

// files lays the parts of a plan out as consecutive migration files.
func (e *Engine) files(name string, parts [nParts][]stmt) (*DiffResult, error) {
	res := &DiffResult{}
	version, err := e.nextVersion(time.Now())
	if err != nil {
		return nil, err
	}
	v, err := time.Parse(versionLayout, version)
	if err != nil {
		return nil, fmt.Errorf("version %s: %w", version, err)
	}
	for i, part := range parts {
		if len(part) == 0 {
			continue
		}
		f := PlannedFile{Name: v.Format(versionLayout) + "_" + name, TxMode: txModeFile}
		var b strings.Builder
		switch i {
		case partEnum:
			f.Name += "_enum_values"
			b.WriteString("-- New enum values, committed before any statement may use them.\n")
		case partOnline:
			f.TxMode = txModeNone
			f.Name += "_concurrent"
			b.WriteString("-- atlas:txmode none\n\n")
			b.WriteString("-- Online steps: each statement runs on its own, outside a transaction block.\n")
		}
		f.Name += ".sql"
		for _, s := range part {
			if s.comment != "" {
				fmt.Fprintf(&b, "-- %s\n", strings.ReplaceAll(s.comment, "\n", " "))
			}
			fmt.Fprintf(&b, "%s;\n", s.sql)
			f.Statements = append(f.Statements, s.sql)
		}
		f.Content = b.String()
		res.Files = append(res.Files, f)
		res.Statements = append(res.Statements, f.Statements...)
		v = v.Add(time.Second)
	}
	if len(res.Files) > 0 {
		res.File = res.Files[0].Name
	}
	return res, nil
}

// replay runs every migration file on the dev database, as apply would.
func (e *Engine) replay(ctx context.Context, conn *sql.Conn) error {
	files, err := e.dir.Files()
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	for _, f := range files {
		af, err := describe(f)
		if err != nil {
			return err
		}
		if _, err := runFile(ctx, conn, af.TxMode, af.Statements, nil); err != nil {
			var se *stmtError
			if errors.As(err, &se) {
				return fmt.Errorf("replay %s on the dev database: %s\n  statement: %s", f.Name(), pgMessage(se.err), se.stmt)
			}
			return fmt.Errorf("replay %s on the dev database: %w", f.Name(), err)
		}
	}
	return nil
}

// stmtError is a statement of a file that failed.
type stmtError struct {
	index int
	stmt  string
	err   error
}

func (e *stmtError) Error() string { return e.err.Error() }
func (e *stmtError) Unwrap() error { return e.err }

// runFile executes statements on conn: in one transaction (txmode file) or each on
// its own (none). hook, when set, runs around each statement inside the transaction
// (before it returns the function run after it). It returns how many statements ran;
// a failing statement is reported as a *stmtError, and a transaction is rolled back.
func runFile(ctx context.Context, conn *sql.Conn, txMode string, stmts []string, hook func(q querier, s string) (func() error, error)) (int, error) {
	var q querier = conn
	var tx *sql.Tx
	if txMode != txModeNone {
		var err error
		if tx, err = conn.BeginTx(ctx, nil); err != nil {
			return 0, fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback()
		q = tx
	}
	for i, s := range stmts {
		var after func() error
		if hook != nil {
			var err error
			if after, err = hook(q, s); err != nil {
				return i, err
			}
		}
		if _, err := q.ExecContext(ctx, s); err != nil {
			return i, &stmtError{index: i, stmt: s, err: err}
		}
		if after != nil {
			if err := after(); err != nil {
				return i, err
			}
		}
	}
	if tx != nil {
		if err := tx.Commit(); err != nil {
			return 0, fmt.Errorf("commit: %w", err)
		}
	}
	return len(stmts), nil
}

// querier is a connection or a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// selfCheck applies the planned files to the replayed dev database and returns the
// statements that rewrote an existing table (its relfilenode changed).
func selfCheck(ctx context.Context, conn *sql.Conn, files []PlannedFile) ([]string, error) {
	var rewrites []string
	hook := func(q querier, s string) (func() error, error) {
		if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(s)), "ALTER TABLE") {
			return nil, nil
		}
		before, err := fileNodes(ctx, q)
		if err != nil {
			return nil, err
		}
		return func() error {
			after, err := fileNodes(ctx, q)
			if err != nil {
				return err
			}
			for oid, node := range before {
				if a, ok := after[oid]; ok && a.node != node.node {
					rewrites = append(rewrites, fmt.Sprintf("%s (table %s)", s, a.name))
				}
			}
			return nil
		}, nil
	}
	for _, f := range files {
		if _, err := runFile(ctx, conn, f.TxMode, f.Statements, hook); err != nil {
			var se *stmtError
			if errors.As(err, &se) {
				return nil, &PlanError{File: f.Name, Statement: se.stmt, Err: se.err}
			}
			return nil, err
		}
	}
	return rewrites, nil
}

type fileNode struct {
	name string
	node int64
}

// fileNodes returns the storage file of every user table by oid.
func fileNodes(ctx context.Context, q querier) (map[int64]fileNode, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.oid::bigint, c.relfilenode::bigint, quote_ident(n.nspname) || '.' || quote_ident(c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'`)
	if err != nil {
		return nil, fmt.Errorf("read table files: %w", err)
	}
	defer rows.Close()
	out := map[int64]fileNode{}
	for rows.Next() {
		var oid int64
		var fn fileNode
		if err := rows.Scan(&oid, &fn.node, &fn.name); err != nil {
			return nil, fmt.Errorf("read table files: %w", err)
		}
		out[oid] = fn
	}
	return out, rows.Err()
}

// cleanDev empties the dev database given in Config.DevURL after use: every user
// schema is dropped, public is recreated empty, extensions are dropped.
func (e *Engine) cleanDev(ctx context.Context, conn *sql.Conn) {
	ctx = context.WithoutCancel(ctx)
	stmts := []string{`DO $$
DECLARE r record;
BEGIN
	FOR r IN SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' LOOP
		EXECUTE format('DROP EXTENSION IF EXISTS %I CASCADE', r.extname);
	END LOOP;
	FOR r IN SELECT nspname FROM pg_namespace
		WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_' LOOP
		EXECUTE format('DROP SCHEMA %I CASCADE', r.nspname);
	END LOOP;
	CREATE SCHEMA public;
END $$`}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			e.printf("warning: could not clean the dev database: %v\n", err)
		}
	}
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
// inspects the result (as Atlas sees it and as a catalog fingerprint) and rolls back. Statements may come in any order across files:
// a statement that fails is retried after the others (each under a savepoint) until a
// pass makes no progress; then every statement still failing is reported.
func desiredState(ctx context.Context, conn *sql.Conn, stmts []schemaStmt) (*schema.Realm, *catalog.Catalog, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	pending := stmts
	for len(pending) > 0 {
		var failed []*SchemaError
		var retry []schemaStmt
		for _, s := range pending {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT quarry_schema"); err != nil {
				return nil, nil, fmt.Errorf("savepoint: %w", err)
			}
			if _, err := tx.ExecContext(ctx, withoutConcurrently(s.text)); err != nil {
				if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT quarry_schema"); rerr != nil {
					return nil, nil, fmt.Errorf("rollback to savepoint: %w", rerr)
				}
				failed = append(failed, &SchemaError{File: s.file, Line: s.line, Statement: s.text, Err: err})
				retry = append(retry, s)
				continue
			}
			if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT quarry_schema"); err != nil {
				return nil, nil, fmt.Errorf("release savepoint: %w", err)
			}
		}
		if len(retry) == len(pending) {
			return nil, nil, joinSchemaErrors(failed)
		}
		pending = retry
	}
	drv, err := postgres.Open(tx)
	if err != nil {
		return nil, nil, fmt.Errorf("open migration driver: %w", err)
	}
	realm, err := drv.InspectRealm(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("inspect schema: %w", err)
	}
	cat, err := catalog.Read(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	return realm, cat, nil
}

var concurrentIndex = regexp.MustCompile(`(?is)^(\s*(?:--[^\n]*\n\s*)*CREATE\s+(?:UNIQUE\s+)?INDEX\s+)CONCURRENTLY\s+`)

// withoutConcurrently drops CONCURRENTLY from a CREATE INDEX of the schema: schema/
// says which indexes exist, and the planner decides how they are built (it cannot run
// in the transaction the desired state is built in).
func withoutConcurrently(stmt string) string {
	return concurrentIndex.ReplaceAllString(stmt, "$1")
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

// DevDatabase returns the URL of a clean database for replaying migrations and a
// function that drops it: Config.DevURL as is when set (then the function does
// nothing), otherwise a throwaway database created on the server of serverURL.
// Errors: the server cannot be reached or refuses CREATE DATABASE.
func (e *Engine) DevDatabase(ctx context.Context, serverURL string) (string, func(), error) {
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
	admin, closeAdmin, err := OpenConn(ctx, adminURL)
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
		admin, closeAdmin, err := OpenConn(ctx, adminURL)
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
const newFileHeader = `-- Hand-written migration: data changes and steps the planner names but does not
-- derive from schema/ (backfills, removing enum values). Run ` + "`api migrate hash`" + `
-- after editing this file (never after it was applied anywhere).
`

// NewFile writes an empty migration, migrations/<version>_<name>.sql with the same
// version rule as Diff, for statements the planner does not derive (data changes),
// and rehashes atlas.sum. It returns the file's name. Errors: an invalid
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
