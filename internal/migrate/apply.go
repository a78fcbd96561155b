package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
)

// lockName is the advisory lock held while applying. It is the lock the Atlas CLI
// takes, so Quarry and the Atlas CLI never apply to one database at the same time.
const lockName = "atlas_migrate_execute"

// Transaction modes a migration file may choose with a `-- atlas:txmode` directive.
const (
	txModeFile = "file" // the default: each file in its own transaction
	txModeNone = "none" // no transaction, e.g. for CREATE INDEX CONCURRENTLY
)

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// DryRun lists what would be applied, executing nothing.
	DryRun bool
	// To stops after the file of this version (inclusive). Empty applies all.
	To string
	// Baseline marks this version, and every file before it, as already applied when
	// the database has no revisions yet but already holds the schema.
	Baseline string
	// Wait bounds the wait for another instance's apply to finish. Default 1 minute.
	Wait time.Duration
	// LockTimeout is PostgreSQL's lock_timeout for every statement: a statement
	// waiting longer for a lock fails instead of queueing every other session behind
	// it. Default 5s (MIGRATE_LOCK_TIMEOUT); negative disables it.
	LockTimeout time.Duration
	// StatementTimeout is PostgreSQL's statement_timeout for every statement. Zero
	// (the default, MIGRATE_STATEMENT_TIMEOUT) sets none.
	StatementTimeout time.Duration
	// LockRetries is how many more times a file (txmode none: a statement) is tried
	// after a lock timeout, with a growing pause. Default 3 (MIGRATE_LOCK_RETRIES);
	// negative means none.
	LockRetries int
}

// Defaults for ApplyOptions.
const (
	DefaultLockTimeout = 5 * time.Second
	DefaultLockRetries = 3
)

// AppliedFile describes one migration file run by Apply.
type AppliedFile struct {
	Name       string
	Version    string
	TxMode     string
	Statements []string
	Duration   time.Duration
	lines      []int // first line of each statement
}

// ApplyResult is what Apply did (or, on a dry run, would do).
type ApplyResult struct {
	Files []AppliedFile
}

// StatementError reports the statement of a migration file that failed. A file in
// a transaction was rolled back and leaves no revision; a txmode none file stopped at
// that statement and its revision records how far it got.
type StatementError struct {
	File string
	// Line is the statement's first line in the file.
	Line      int
	Statement string
	Err       error
	// Attempts is how many times the statement was tried (more than one after lock
	// timeouts).
	Attempts int
	// Blockers describes the sessions that held the lock the statement waited for,
	// when it failed on a lock timeout.
	Blockers []string
}

func (e *StatementError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: %s\n  statement: %s", e.File, e.Line, pgMessage(e.Err), e.Statement)
	if e.Attempts > 1 {
		fmt.Fprintf(&b, "\n  tried %d times", e.Attempts)
	}
	for _, bl := range e.Blockers {
		b.WriteString("\n  blocked by " + bl)
	}
	if len(e.Blockers) > 0 {
		b.WriteString("\n  Let that session finish (or end it with pg_cancel_backend/pg_terminate_backend), then apply again.")
	}
	return b.String()
}

func (e *StatementError) Unwrap() error { return e.Err }

// Apply applies the pending migration files to the database at url, in version order.
//
// It refuses to start when atlas.sum does not match the files (ErrChecksum, naming the
// file). It holds an advisory lock for its whole run, so concurrent applies run each
// file exactly once. Each file runs in its own transaction unless it declares
// `-- atlas:txmode none`. On a failing statement it returns a *StatementError: the
// failing file is rolled back and its revision records the error; earlier files stay
// applied. With nothing pending it returns an empty result and no error.
func (e *Engine) Apply(ctx context.Context, url string, opts ApplyOptions) (*ApplyResult, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	if opts.Wait == 0 {
		opts.Wait = time.Minute
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.LockRetries == 0 {
		opts.LockRetries = DefaultLockRetries
	}
	conn, drv, closeConn, err := openDriver(ctx, url)
	if err != nil {
		return nil, err
	}
	defer closeConn()
	unlock, err := drv.(schema.Locker).Lock(ctx, lockName, opts.Wait)
	if err != nil {
		if errors.Is(err, schema.ErrLocked) {
			return nil, fmt.Errorf("another migration is running on this database (waited %s)", opts.Wait)
		}
		return nil, fmt.Errorf("acquire migration lock: %w", err)
	}
	defer unlock()

	rrw := &revisions{conn: conn}
	pending, err := e.pending(ctx, conn, drv, rrw, opts)
	if err != nil || len(pending) == 0 {
		return &ApplyResult{}, err
	}
	res := &ApplyResult{}
	r := &runner{e: e, conn: conn, rrw: rrw, opts: opts, url: url}
	defer r.close()
	for _, f := range pending {
		af, err := describe(f)
		if err != nil {
			return res, err
		}
		if opts.DryRun {
			res.Files = append(res.Files, af)
			continue
		}
		start := time.Now()
		if err := r.applyFile(ctx, f, af); err != nil {
			return res, err
		}
		af.Duration = time.Since(start)
		res.Files = append(res.Files, af)
		e.printf("applied %s (%d statements, %s)\n", f.Name(), len(af.Statements), af.Duration.Round(time.Millisecond))
	}
	return res, nil
}

// pending returns the files to apply, honouring opts.To and opts.Baseline. On a dry
// run nothing is written: the revisions table and a baseline revision are created in
// a transaction that is rolled back.
func (e *Engine) pending(ctx context.Context, conn *sql.Conn, drv migrate.Driver, rrw *revisions, opts ApplyOptions) ([]migrate.File, error) {
	q := schema.ExecQuerier(conn)
	if opts.DryRun {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback()
		q = tx
		if drv, err = postgres.Open(tx); err != nil {
			return nil, fmt.Errorf("open migration driver: %w", err)
		}
	}
	rrw = &revisions{conn: q}
	if err := rrw.ensureTable(ctx); err != nil {
		return nil, err
	}
	exOpts := []migrate.ExecutorOption{migrate.WithOperatorVersion(operatorVersion)}
	if opts.Baseline != "" {
		exOpts = append(exOpts, migrate.WithBaselineVersion(opts.Baseline))
	}
	ex, err := migrate.NewExecutor(drv, e.dir, rrw, exOpts...)
	if err != nil {
		return nil, fmt.Errorf("migration executor: %w", err)
	}
	pending, err := ex.Pending(ctx)
	var notClean *migrate.NotCleanError
	switch {
	case errors.Is(err, migrate.ErrNoPendingFiles):
		return nil, nil
	case errors.As(err, &notClean):
		return nil, fmt.Errorf("the database already holds a schema but has no migration history (%s); pass --baseline VERSION naming the migration it corresponds to", notClean.Reason)
	case errors.As(err, new(*migrate.MissingMigrationError)):
		return nil, fmt.Errorf("%w; after repairing the database by hand, record where it stands with `api migrate set VERSION`", err)
	case err != nil:
		return nil, fmt.Errorf("compute pending migrations: %w", err)
	}
	if opts.To != "" {
		i := slices.IndexFunc(pending, func(f migrate.File) bool { return f.Version() == opts.To })
		if i < 0 {
			return nil, fmt.Errorf("--to %s: no pending migration has that version", opts.To)
		}
		pending = pending[:i+1]
	}
	return pending, nil
}

// describe returns the statements and transaction mode of f.
func describe(f migrate.File) (AppliedFile, error) {
	af := AppliedFile{Name: f.Name(), Version: f.Version(), TxMode: txModeFile}
	text := string(f.Bytes())
	lf, ok := f.(*migrate.LocalFile)
	if ok {
		switch modes := lf.Directive("txmode"); {
		case len(modes) > 1:
			return af, fmt.Errorf("%s: more than one atlas:txmode directive", f.Name())
		case len(modes) == 1:
			switch m := strings.TrimSpace(modes[0]); m {
			case txModeFile, txModeNone:
				af.TxMode = m
			default:
				return af, fmt.Errorf("%s: unsupported atlas:txmode %q (use file or none)", f.Name(), m)
			}
		}
	}
	stmts, err := f.StmtDecls()
	if err != nil {
		return af, fmt.Errorf("parse %s: %w", f.Name(), err)
	}
	for _, s := range stmts {
		af.Statements = append(af.Statements, s.Text)
		af.lines = append(af.lines, 1+strings.Count(text[:min(s.Pos, len(text))], "\n"))
	}
	return af, nil
}
