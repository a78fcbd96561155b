package db

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// TxMaxAttempts is how many times [InTx] runs a transaction that keeps
	// failing with a serialization failure or a deadlock.
	TxMaxAttempts = 3
	// txBaseBackoff is the mean pause before the second attempt; it doubles
	// before each further attempt and is jittered by ±50%.
	txBaseBackoff = 10 * time.Millisecond
	// txRollbackTimeout bounds a rollback, which runs even after the
	// caller's context has ended so the connection goes back clean.
	txRollbackTimeout = 5 * time.Second
)

// Beginner starts transactions. [*Pool], *pgxpool.Pool and *pgx.Conn
// implement it.
type Beginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// InTx runs fn in a transaction on p; see [InTx].
func (p *Pool) InTx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	return InTx(ctx, p, opts, fn)
}

// InTx begins a transaction with opts on b, runs fn with it and commits.
//
// If fn returns an error, the transaction is rolled back and that error is
// returned as is. If fn panics (or calls runtime.Goexit), the transaction is
// rolled back and the panic continues. If fn fails, or the commit fails,
// with a serialization failure (SQLSTATE 40001) or a deadlock (40P01),
// directly or wrapped, the whole transaction is run again after a short
// jittered pause, up to [TxMaxAttempts] attempts in all.
//
// fn may therefore run more than once: apart from its effects through tx,
// which are rolled back, it must be idempotent (no sending mail, no
// appending to slices owned by the caller without resetting them). fn must
// use tx for all its statements, not the pool it came from.
//
// InTx returns nil after a successful commit; fn's error; a begin or commit
// error wrapped with its step; the last retryable error, wrapped, once the
// attempts are used up; or, if ctx ends while waiting to retry, an error
// wrapping both ctx's error and the last failure.
func InTx(ctx context.Context, b Beginner, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := runTx(ctx, b, opts, fn)
		if err == nil || !isRetryable(err) {
			return err
		}
		if attempt == TxMaxAttempts {
			return fmt.Errorf("db: transaction failed after %d attempts: %w", attempt, err)
		}
		if werr := sleep(ctx, txBackoff(attempt)); werr != nil {
			return fmt.Errorf("db: transaction abandoned after attempt %d: %w (last error: %w)", attempt, werr, err)
		}
	}
}

// runTx makes one attempt of InTx.
func runTx(ctx context.Context, b Beginner, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("db: begin transaction: %w", err)
	}
	done := false
	defer func() {
		if !done { // fn panicked or called runtime.Goexit
			_ = rollback(ctx, tx)
		}
	}()

	if err := fn(tx); err != nil {
		done = true
		if rbErr := rollback(ctx, tx); rbErr != nil {
			return fmt.Errorf("%w (rollback also failed: %w)", err, rbErr)
		}
		return err
	}
	done = true
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("db: commit transaction: %w", err)
	}
	return nil
}

// rollback rolls tx back even if ctx has ended, and returns the rollback
// error, ignoring pgx.ErrTxClosed (fn already ended the transaction).
func rollback(ctx context.Context, tx pgx.Tx) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), txRollbackTimeout)
	defer cancel()
	if err := tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return nil
}

// txBackoff returns the pause after the given failed attempt (1-based):
// txBaseBackoff doubled per previous attempt, jittered uniformly by ±50%.
func txBackoff(attempt int) time.Duration {
	d := txBaseBackoff << (attempt - 1)
	return d/2 + rand.N(d)
}

// sleep waits for d and returns nil, or returns ctx's error if ctx ends
// first.
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
