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
	// LockTimeout bounds the wait for another instance's apply to finish. Default 1 minute.
	LockTimeout time.Duration
}

// AppliedFile describes one migration file run by Apply.
type AppliedFile struct {
	Name       string
	Version    string
	TxMode     string
	Statements []string
	Duration   time.Duration
}

// ApplyResult is what Apply did (or, on a dry run, would do).
type ApplyResult struct {
	Files []AppliedFile
}

// StatementError reports the statement of a migration file that failed; the file was
// rolled back (or, in txmode none, stopped at that statement) and its revision records
// the error.
type StatementError struct {
	File      string
	Statement string
	Err       error
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("%s: %v\n  statement: %s", e.File, e.Err, e.Statement)
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
	if opts.LockTimeout == 0 {
		opts.LockTimeout = time.Minute
	}
	conn, closeConn, err := openConn(ctx, url)
	if err != nil {
		return nil, err
	}
	defer closeConn()
	drv, err := postgres.Open(conn)
	if err != nil {
		return nil, fmt.Errorf("open migration driver: %w", err)
	}
	unlock, err := drv.(schema.Locker).Lock(ctx, lockName, opts.LockTimeout)
	if err != nil {
		if errors.Is(err, schema.ErrLocked) {
			return nil, fmt.Errorf("another migration is running on this database (waited %s)", opts.LockTimeout)
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
		if err := e.applyFile(ctx, conn, drv, rrw, f, af.TxMode); err != nil {
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

// applyFile runs one file in its transaction mode and records its revision.
func (e *Engine) applyFile(ctx context.Context, conn *sql.Conn, drv migrate.Driver, rrw *revisions, f migrate.File, txMode string) error {
	if txMode == txModeNone {
		ex, err := migrate.NewExecutor(drv, e.dir, rrw, migrate.WithOperatorVersion(operatorVersion))
		if err != nil {
			return fmt.Errorf("migration executor: %w", err)
		}
		return fileError(f, ex.Execute(ctx, f))
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin %s: %w", f.Name(), err)
	}
	txDrv, err := postgres.Open(tx)
	if err != nil {
		tx.Rollback()
		return fmt.Errorf("open migration driver: %w", err)
	}
	ex, err := migrate.NewExecutor(txDrv, e.dir, &revisions{conn: tx}, migrate.WithOperatorVersion(operatorVersion))
	if err != nil {
		tx.Rollback()
		return fmt.Errorf("migration executor: %w", err)
	}
	start := time.Now()
	execErr := ex.Execute(ctx, f)
	if execErr == nil {
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit %s: %w", f.Name(), err)
		}
		return nil
	}
	// The file is rolled back as a whole; its revision then records the failure
	// outside the transaction so `status` can show it.
	if err := tx.Rollback(); err != nil {
		return errors.Join(fileError(f, execErr), fmt.Errorf("rollback %s: %w", f.Name(), err))
	}
	if err := e.recordFailure(ctx, rrw, f, execErr, time.Since(start)); err != nil {
		return errors.Join(fileError(f, execErr), err)
	}
	return fileError(f, execErr)
}

// recordFailure writes the revision of a rolled-back file: nothing applied, the error
// and the failing statement kept.
func (e *Engine) recordFailure(ctx context.Context, rrw *revisions, f migrate.File, execErr error, took time.Duration) error {
	sum, err := e.dir.Checksum()
	if err != nil {
		return fmt.Errorf("hash %s: %w", f.Name(), err)
	}
	hash, err := sum.SumByName(f.Name())
	if err != nil {
		return fmt.Errorf("hash %s: %w", f.Name(), err)
	}
	stmts, err := f.StmtDecls()
	if err != nil {
		return fmt.Errorf("parse %s: %w", f.Name(), err)
	}
	rev := &migrate.Revision{
		Version:         f.Version(),
		Description:     f.Desc(),
		Type:            migrate.RevisionTypeExecute,
		Total:           len(stmts),
		ExecutedAt:      time.Now(),
		ExecutionTime:   took,
		Hash:            hash,
		OperatorVersion: operatorVersion,
	}
	var serr *migrate.StmtExecError
	if errors.As(execErr, &serr) {
		rev.Error, rev.ErrorStmt = serr.Err.Error(), serr.Stmt.Text
	} else {
		rev.Error = execErr.Error()
	}
	return rrw.WriteRevision(ctx, rev)
}

// fileError turns an executor error into a *StatementError naming the file when a
// statement failed.
func fileError(f migrate.File, err error) error {
	if err == nil {
		return nil
	}
	var serr *migrate.StmtExecError
	if errors.As(err, &serr) {
		return &StatementError{File: f.Name(), Statement: serr.Stmt.Text, Err: serr.Err}
	}
	return fmt.Errorf("%s: %w", f.Name(), err)
}

// describe returns the statements and transaction mode of f.
func describe(f migrate.File) (AppliedFile, error) {
	af := AppliedFile{Name: f.Name(), Version: f.Version(), TxMode: txModeFile}
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
	}
	return af, nil
}
