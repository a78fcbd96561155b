package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"ariga.io/atlas/sql/migrate"
	"github.com/jackc/pgx/v5/pgconn"
)

// runner applies files on one connection, with lock and statement timeouts and
// retries after lock timeouts.
type runner struct {
	e    *Engine
	conn *sql.Conn
	rrw  *revisions
	opts ApplyOptions
	url  string

	pid     int64
	monitor *sql.Conn // a second session, to see who blocks the first
	closeM  func()
}

func (r *runner) close() {
	if r.closeM != nil {
		r.closeM()
	}
}

// setup reads the backend pid and opens the monitoring session, once.
func (r *runner) setup(ctx context.Context) error {
	if r.pid != 0 {
		return nil
	}
	if err := r.conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&r.pid); err != nil {
		return fmt.Errorf("read backend pid: %w", err)
	}
	if m, closeM, err := OpenConn(ctx, r.url); err == nil {
		r.monitor, r.closeM = m, closeM
	} else {
		r.e.printf("warning: no second session to name lock blockers: %v\n", err)
	}
	return nil
}

// timeouts returns the SET statements for the configured timeouts; local makes them
// transaction-scoped.
func (r *runner) timeouts(local bool) []string {
	set := "SET "
	if local {
		set = "SET LOCAL "
	}
	lt := "0"
	if r.opts.LockTimeout > 0 {
		lt = fmt.Sprintf("%dms", r.opts.LockTimeout.Milliseconds())
	}
	st := "0"
	if r.opts.StatementTimeout > 0 {
		st = fmt.Sprintf("%dms", r.opts.StatementTimeout.Milliseconds())
	}
	return []string{set + "lock_timeout = '" + lt + "'", set + "statement_timeout = '" + st + "'"}
}

func (r *runner) retries() int { return max(r.opts.LockRetries, 0) }

// backoff is the pause before retry attempt n (1-based).
func backoff(n int) time.Duration { return time.Duration(n) * 250 * time.Millisecond }

func isLockTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}

// applyFile runs one file and records its revision. A file in a transaction is tried
// again as a whole after a lock timeout; when it fails it is rolled back and leaves no
// revision. A txmode none file runs statement by statement, resumes after the
// statements a previous attempt applied, and on failure records how far it got.
func (r *runner) applyFile(ctx context.Context, f migrate.File, af AppliedFile) error {
	if err := r.setup(ctx); err != nil {
		return err
	}
	if af.TxMode == txModeNone {
		return r.applyNoTx(ctx, f, af)
	}
	start := time.Now()
	for attempt := 1; ; attempt++ {
		idx, blockers, err := r.txAttempt(ctx, f, af, start)
		if err == nil {
			return nil
		}
		var se *stmtError
		if !errors.As(err, &se) {
			return fmt.Errorf("%s: %w", f.Name(), err)
		}
		if isLockTimeout(err) && attempt <= r.retries() {
			r.e.printf("%s:%d: lock timeout%s; rolled back, retrying in %s\n", f.Name(), af.lines[idx], blockedBy(blockers), backoff(attempt))
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
			continue
		}
		return &StatementError{File: f.Name(), Line: af.lines[idx], Statement: se.stmt, Err: se.err, Attempts: attempt, Blockers: blockers}
	}
}

func blockedBy(blockers []string) string {
	if len(blockers) == 0 {
		return ""
	}
	return " (blocked by " + strings.Join(blockers, "; ") + ")"
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// txAttempt runs the whole file in one transaction with its revision. It returns the
// index of the failing statement and who blocked it.
func (r *runner) txAttempt(ctx context.Context, f migrate.File, af AppliedFile, start time.Time) (int, []string, error) {
	tx, err := r.conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	for _, s := range r.timeouts(true) {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return 0, nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	for i, s := range af.Statements {
		blockers, err := r.watch(ctx, func() error { _, err := tx.ExecContext(ctx, s); return err })
		if err != nil {
			return i, blockers, &stmtError{index: i, stmt: s, err: err}
		}
	}
	rev, err := r.e.revision(f, len(af.Statements), len(af.Statements), time.Since(start))
	if err != nil {
		return 0, nil, err
	}
	if err := (&revisions{conn: tx}).WriteRevision(ctx, rev); err != nil {
		return 0, nil, err
	}
	if err := tx.Commit(); err != nil {
		return 0, nil, fmt.Errorf("commit: %w", err)
	}
	return 0, nil, nil
}

var createIndexConcurrently = regexp.MustCompile(`(?is)^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)(?:\s*\.\s*("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*))?\s+ON\s`)

// applyNoTx runs a txmode none file statement by statement.
func (r *runner) applyNoTx(ctx context.Context, f migrate.File, af AppliedFile) error {
	start := time.Now()
	from := 0
	if rev, err := r.rrw.ReadRevision(ctx, f.Version()); err == nil && rev.Applied < rev.Total {
		from = rev.Applied
		r.e.printf("%s: resuming after the %d statement(s) applied before\n", f.Name(), from)
	} else if err != nil && !errors.Is(err, migrate.ErrRevisionNotExist) {
		return err
	}
	for _, s := range r.timeouts(false) {
		if _, err := r.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	defer func() {
		_, _ = r.conn.ExecContext(context.WithoutCancel(ctx), "RESET lock_timeout; RESET statement_timeout")
	}()
	for i := from; i < len(af.Statements); i++ {
		s := af.Statements[i]
		for attempt := 1; ; attempt++ {
			// Before every attempt: a concurrent build that timed out waiting for a
			// lock leaves its index INVALID, as does one that failed in an earlier run.
			if err := r.dropInvalidIndex(ctx, f, af.lines[i], s); err != nil {
				return err
			}
			blockers, err := r.watch(ctx, func() error { _, err := r.conn.ExecContext(ctx, s); return err })
			if err == nil {
				break
			}
			if isLockTimeout(err) && attempt <= r.retries() {
				r.e.printf("%s:%d: lock timeout%s; retrying in %s\n", f.Name(), af.lines[i], blockedBy(blockers), backoff(attempt))
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return err
				}
				continue
			}
			serr := &StatementError{File: f.Name(), Line: af.lines[i], Statement: s, Err: err, Attempts: attempt, Blockers: blockers}
			rev, rerr := r.e.revision(f, i, len(af.Statements), time.Since(start))
			if rerr == nil {
				rev.Error, rev.ErrorStmt = pgMessage(err), s
				rerr = r.rrw.WriteRevision(context.WithoutCancel(ctx), rev)
			}
			if rerr != nil {
				return errors.Join(serr, rerr)
			}
			return serr
		}
	}
	rev, err := r.e.revision(f, len(af.Statements), len(af.Statements), time.Since(start))
	if err != nil {
		return err
	}
	return r.rrw.WriteRevision(ctx, rev)
}

// dropInvalidIndex drops the INVALID index a failed CREATE INDEX CONCURRENTLY of
// statement s left behind, so that the statement can run again.
func (r *runner) dropInvalidIndex(ctx context.Context, f migrate.File, line int, s string) error {
	m := createIndexConcurrently.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	name := m[1]
	if m[2] != "" {
		name = m[1] + "." + m[2]
	}
	var invalid bool
	err := r.conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass($1) AND NOT indisvalid)`, name).Scan(&invalid)
	if err != nil {
		return fmt.Errorf("look up index %s: %w", name, err)
	}
	if !invalid {
		return nil
	}
	r.e.printf("%s:%d: index %s is INVALID (left by an interrupted concurrent build): dropping it and building it again\n", f.Name(), line, name)
	if _, err := r.conn.ExecContext(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+name); err != nil {
		return fmt.Errorf("drop invalid index %s: %s", name, pgMessage(err))
	}
	return nil
}

// watch runs fn while a second session looks, every 100ms, for the sessions blocking
// this one. It returns fn's error and the last blockers seen.
func (r *runner) watch(ctx context.Context, fn func() error) ([]string, error) {
	if r.monitor == nil {
		return nil, fn()
	}
	var (
		mu       sync.Mutex
		blockers []string
		done     = make(chan struct{})
		wg       sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if b := r.blockers(ctx); len(b) > 0 {
				mu.Lock()
				blockers = b
				mu.Unlock()
			}
		}
	}()
	err := fn()
	close(done)
	wg.Wait()
	return blockers, err
}

// blockers describes the sessions blocking the runner's session.
func (r *runner) blockers(ctx context.Context) []string {
	rows, err := r.monitor.QueryContext(ctx, `SELECT a.pid, coalesce(a.state, ''), coalesce(a.usename, ''),
	coalesce(date_trunc('second', now() - a.xact_start)::text, ''), coalesce(a.query, '')
FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids($1)) ORDER BY a.pid`, r.pid)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var pid int64
		var state, user, age, query string
		if rows.Scan(&pid, &state, &user, &age, &query) != nil {
			return nil
		}
		q := strings.Join(strings.Fields(query), " ")
		if len(q) > 200 {
			q = q[:200] + "…"
		}
		out = append(out, fmt.Sprintf("pid %d (user %s, %s, transaction open for %s): %s", pid, user, state, age, q))
	}
	return out
}

// revision returns the revision of f with applied of total statements done.
func (e *Engine) revision(f migrate.File, applied, total int, took time.Duration) (*migrate.Revision, error) {
	sum, err := e.dir.Checksum()
	if err != nil {
		return nil, fmt.Errorf("hash %s: %w", f.Name(), err)
	}
	hash, err := sum.SumByName(f.Name())
	if err != nil {
		return nil, fmt.Errorf("hash %s: %w", f.Name(), err)
	}
	return &migrate.Revision{
		Version:         f.Version(),
		Description:     f.Desc(),
		Type:            migrate.RevisionTypeExecute,
		Applied:         applied,
		Total:           total,
		ExecutedAt:      time.Now(),
		ExecutionTime:   took,
		Hash:            hash,
		OperatorVersion: operatorVersion,
	}, nil
}
