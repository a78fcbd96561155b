package db_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// newTxPool returns a Pool with a table notes(id int primary key, body text).
func newTxPool(t *testing.T) *db.Pool {
	t.Helper()
	p := newTestPool(t, db.PoolConfig{MaxConns: 4})
	mustExec(t, p, `CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)`)
	return p
}

// noteExists reports whether notes holds a row with id.
func noteExists(t *testing.T, q sqlc.DBTX, id int) bool {
	t.Helper()
	var ok bool
	if err := q.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM notes WHERE id = $1)`, id).Scan(&ok); err != nil {
		t.Fatalf("exists: %v", err)
	}
	return ok
}

func TestInTxCommit(t *testing.T) {
	p := newTxPool(t)
	err := p.InTx(context.Background(), pgx.TxOptions{}, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), `INSERT INTO notes VALUES (1, 'a'), (2, 'b')`)
		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if !noteExists(t, p, 1) || !noteExists(t, p, 2) {
		t.Fatal("committed rows are missing")
	}
	if n := p.Stat().AcquiredConns(); n != 0 {
		t.Fatalf("AcquiredConns = %d, want 0", n)
	}
}

func TestInTxRollbackOnError(t *testing.T) {
	p := newTxPool(t)
	errBusiness := errors.New("business rule")
	calls := 0
	err := p.InTx(context.Background(), pgx.TxOptions{}, func(tx pgx.Tx) error {
		calls++
		if _, err := tx.Exec(context.Background(), `INSERT INTO notes VALUES (1, 'a')`); err != nil {
			return err
		}
		return fmt.Errorf("check: %w", errBusiness)
	})
	if !errors.Is(err, errBusiness) {
		t.Fatalf("InTx err = %v, want errBusiness", err)
	}
	if calls != 1 {
		t.Fatalf("fn ran %d times, want 1 (not retryable)", calls)
	}
	if noteExists(t, p, 1) {
		t.Fatal("row of a failed transaction was committed")
	}
	if n := p.Stat().AcquiredConns(); n != 0 {
		t.Fatalf("AcquiredConns = %d, want 0", n)
	}
}

func TestInTxRollbackOnPanic(t *testing.T) {
	p := newTxPool(t)
	recovered := func() (r any) {
		defer func() { r = recover() }()
		_ = p.InTx(context.Background(), pgx.TxOptions{}, func(tx pgx.Tx) error {
			if _, err := tx.Exec(context.Background(), `INSERT INTO notes VALUES (1, 'a')`); err != nil {
				t.Errorf("insert: %v", err)
			}
			panic("boom")
		})
		return nil
	}()
	if recovered != "boom" {
		t.Fatalf("recovered %v, want the original panic value", recovered)
	}
	if noteExists(t, p, 1) {
		t.Fatal("row of a panicking transaction was committed")
	}
	if n := p.Stat().AcquiredConns(); n != 0 {
		t.Fatalf("AcquiredConns = %d, want 0", n)
	}
}

// TestInTxRetriesSerializationFailureAtCommit provokes a real 40001 with two
// concurrent SERIALIZABLE transactions (write skew): the first attempt reads
// what the other transaction writes and writes what it reads, the other one
// commits first, so PostgreSQL rejects our COMMIT. The retry then succeeds.
func TestInTxRetriesSerializationFailureAtCommit(t *testing.T) {
	ctx := context.Background()
	p := newTxPool(t)
	serializable := pgx.TxOptions{IsoLevel: pgx.Serializable}

	calls := 0
	var firstErr error
	err := p.InTx(ctx, serializable, func(tx pgx.Tx) error {
		calls++
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM notes WHERE body = 'a'`).Scan(&n); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO notes VALUES (2, 'b')`); err != nil {
			return err
		}
		if calls > 1 {
			return nil
		}
		// The other transaction, on another connection, commits while this
		// one is still open.
		firstErr = p.InTx(ctx, serializable, func(other pgx.Tx) error {
			if err := other.QueryRow(ctx, `SELECT count(*) FROM notes WHERE body = 'b'`).Scan(&n); err != nil {
				return err
			}
			_, err := other.Exec(ctx, `INSERT INTO notes VALUES (1, 'a')`)
			return err
		})
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if firstErr != nil {
		t.Fatalf("concurrent transaction: %v", firstErr)
	}
	if calls != 2 {
		t.Fatalf("fn ran %d times, want 2 (one serialization failure, one success)", calls)
	}
	if !noteExists(t, p, 1) || !noteExists(t, p, 2) {
		t.Fatal("final state lacks a row")
	}
}

// TestInTxRetriesSerializationFailureInStatement provokes a 40001 raised by
// a statement inside fn: a REPEATABLE READ transaction updating a row that a
// concurrent SERIALIZABLE transaction updated after our snapshot was taken.
func TestInTxRetriesSerializationFailureInStatement(t *testing.T) {
	ctx := context.Background()
	p := newTxPool(t)
	mustExec(t, p, `CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)`)
	mustExec(t, p, `INSERT INTO counters VALUES (1, 0)`)

	calls := 0
	var stepErrs []error
	err := p.InTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		calls++
		var n int
		if err := tx.QueryRow(ctx, `SELECT n FROM counters WHERE id = 1`).Scan(&n); err != nil {
			return err
		}
		if calls == 1 {
			err := p.InTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable}, func(other pgx.Tx) error {
				_, err := other.Exec(ctx, `UPDATE counters SET n = n + 10 WHERE id = 1`)
				return err
			})
			stepErrs = append(stepErrs, err)
		}
		_, err := tx.Exec(ctx, `UPDATE counters SET n = $1 + 1 WHERE id = 1`, n)
		stepErrs = append(stepErrs, err)
		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if calls != 2 {
		t.Fatalf("fn ran %d times, want 2", calls)
	}
	if len(stepErrs) != 3 || stepErrs[0] != nil || stepErrs[2] != nil {
		t.Fatalf("steps: %v", stepErrs)
	}
	var pgErr *pgconn.PgError
	if !errors.As(stepErrs[1], &pgErr) || pgErr.Code != "40001" {
		t.Fatalf("first update: %v, want SQLSTATE 40001", stepErrs[1])
	}
	var n int
	if err := p.QueryRow(ctx, `SELECT n FROM counters WHERE id = 1`).Scan(&n); err != nil || n != 11 {
		t.Fatalf("counter = %d (%v), want 11", n, err)
	}
}

// TestInTxRetriesDeadlock provokes a real deadlock (40P01). The concurrent
// transaction waits with a long deadlock_timeout, so the detector runs in
// our transaction and picks it as the victim.
func TestInTxRetriesDeadlock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p := newTxPool(t)
	mustExec(t, p, `INSERT INTO notes VALUES (1, 'a'), (2, 'b')`)

	calls := 0
	otherDone := make(chan error, 1)
	otherStarted := false
	err := p.InTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		calls++
		if _, err := tx.Exec(ctx, `SET LOCAL deadlock_timeout = '100ms'`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE notes SET body = 'ours' WHERE id = 1`); err != nil {
			return err
		}
		if calls == 1 {
			locked := make(chan struct{})
			otherStarted = true
			go func() {
				otherDone <- p.InTx(ctx, pgx.TxOptions{}, func(other pgx.Tx) error {
					if _, err := other.Exec(ctx, `SET LOCAL deadlock_timeout = '30s'`); err != nil {
						return err
					}
					if _, err := other.Exec(ctx, `UPDATE notes SET body = 'theirs' WHERE id = 2`); err != nil {
						return err
					}
					close(locked)
					// Blocks on our lock on row 1 until we are aborted.
					_, err := other.Exec(ctx, `UPDATE notes SET body = 'theirs' WHERE id = 1`)
					return err
				})
			}()
			<-locked
			// Wait until the other transaction is really waiting for row 1;
			// otherwise there would be no cycle yet.
			for waiting := false; !waiting; {
				err := p.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
					WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting)
				if err != nil {
					return err
				}
			}
		}
		_, err := tx.Exec(ctx, `UPDATE notes SET body = 'ours' WHERE id = 2`)
		return err
	})
	if otherStarted {
		if err := <-otherDone; err != nil {
			t.Errorf("concurrent transaction: %v", err)
		}
	}
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if calls != 2 {
		t.Fatalf("fn ran %d times, want 2", calls)
	}
	rows, _ := p.Query(ctx, `SELECT body FROM notes ORDER BY id`) // a failed Query reports through CollectRows
	bodies, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(bodies) != 2 || bodies[0] != "ours" || bodies[1] != "ours" {
		t.Fatalf("bodies = %v (%v), want our retry to win", bodies, err)
	}
}

func TestInTxRetriesAreBounded(t *testing.T) {
	p := newTxPool(t)
	for _, code := range []string{"40001", "40P01"} {
		calls := 0
		err := p.InTx(context.Background(), pgx.TxOptions{}, func(tx pgx.Tx) error {
			calls++
			if _, err := tx.Exec(context.Background(), `INSERT INTO notes VALUES ($1, 'x')`, calls); err != nil {
				return err
			}
			return fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: code})
		})
		if calls != db.TxMaxAttempts {
			t.Errorf("%s: fn ran %d times, want %d", code, calls, db.TxMaxAttempts)
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != code {
			t.Errorf("%s: err = %v, want the last PgError in the chain", code, err)
		}
		for id := 1; id <= calls; id++ {
			if noteExists(t, p, id) {
				t.Errorf("%s: row of attempt %d was committed", code, id)
			}
		}
	}
}

func TestInTxStopsRetryingWhenContextEnds(t *testing.T) {
	p := newTxPool(t)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := p.InTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		calls++
		cancel()
		return &pgconn.PgError{Code: "40001"}
	})
	if calls != 1 {
		t.Fatalf("fn ran %d times after the context was canceled, want 1", calls)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled in the chain", err)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Fatalf("err = %v, want the last failure in the chain", err)
	}
	if !errors.Is(db.Translate(err), db.ErrCanceled) {
		t.Fatalf("Translate(%v) is not ErrCanceled", err)
	}
	if n := p.Stat().AcquiredConns(); n != 0 {
		t.Fatalf("AcquiredConns = %d, want 0", n)
	}
}

// TestInTxOnPgxpool runs InTx on the bare pgxpool.Pool, which also
// satisfies Beginner.
func TestInTxOnPgxpool(t *testing.T) {
	p := newTxPool(t)
	err := db.InTx(context.Background(), p.Raw(), pgx.TxOptions{}, func(tx pgx.Tx) error {
		_, err := sqlc.New(tx).GetUser(context.Background(), -1)
		if !errors.Is(db.Translate(err), db.ErrNotFound) {
			return fmt.Errorf("GetUser: %w", err)
		}
		_, err = tx.Exec(context.Background(), `INSERT INTO notes VALUES (7, 'x')`)
		return err
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	if !noteExists(t, p, 7) {
		t.Fatal("row missing")
	}
}
