package db_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/testdb"
)

// translateSchema creates the tables whose constraints TestTranslate
// violates.
const translateSchema = `
CREATE TABLE accounts (
	id    int PRIMARY KEY,
	email text NOT NULL CONSTRAINT accounts_email_key UNIQUE,
	code  varchar(4),
	score int CONSTRAINT accounts_score_check CHECK (score >= 0)
);
CREATE TABLE orders (
	id         int PRIMARY KEY,
	account_id int NOT NULL CONSTRAINT orders_account_id_fkey REFERENCES accounts (id)
);
INSERT INTO accounts (id, email) VALUES (1, 'taken-secret@example.com');
`

func newTranslatePool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	p := testdb.New(t)
	mustExec(t, p, translateSchema)
	return p
}

func TestTranslate(t *testing.T) {
	p := newTranslatePool(t)
	ctx := context.Background()

	// secret is a value that must never appear in a translated message.
	const secret = "taken-secret@example.com"

	tests := []struct {
		name       string
		run        func() error
		kind       error
		code       string
		constraint string
		table      string
		column     string
	}{
		{
			name: "no rows",
			run: func() error {
				var id int
				return p.QueryRow(ctx, `SELECT id FROM accounts WHERE id = $1`, 404).Scan(&id)
			},
			kind: db.ErrNotFound,
		},
		{
			name: "unique violation",
			run: func() error {
				_, err := p.Exec(ctx, `INSERT INTO accounts (id, email) VALUES (2, $1)`, secret)
				return err
			},
			kind: db.ErrConflict, code: "23505", constraint: "accounts_email_key", table: "accounts",
		},
		{
			name: "foreign key violation",
			run: func() error {
				_, err := p.Exec(ctx, `INSERT INTO orders VALUES (1, $1)`, 999)
				return err
			},
			kind: db.ErrForeignKey, code: "23503", constraint: "orders_account_id_fkey", table: "orders",
		},
		{
			name: "foreign key still referenced",
			run: func() error {
				if _, err := p.Exec(ctx, `INSERT INTO orders VALUES (2, 1)`); err != nil {
					return fmt.Errorf("setup: %w", err)
				}
				_, err := p.Exec(ctx, `DELETE FROM accounts WHERE id = 1`)
				return err
			},
			kind: db.ErrForeignKey, code: "23503", constraint: "orders_account_id_fkey", table: "orders",
		},
		{
			name: "check violation",
			run: func() error {
				_, err := p.Exec(ctx, `UPDATE accounts SET score = $1 WHERE id = 1`, -1)
				return err
			},
			kind: db.ErrCheck, code: "23514", constraint: "accounts_score_check", table: "accounts",
		},
		{
			name: "invalid text representation",
			run: func() error {
				var n int
				return p.QueryRow(ctx, `SELECT $1::text::int`, secret).Scan(&n)
			},
			kind: db.ErrInvalidInput, code: "22P02",
		},
		{
			name: "invalid text representation, literal",
			run: func() error {
				var n int
				return p.QueryRow(ctx, `SELECT 'x'::int`).Scan(&n)
			},
			kind: db.ErrInvalidInput, code: "22P02",
		},
		{
			name: "string too long",
			run: func() error {
				_, err := p.Exec(ctx, `UPDATE accounts SET code = $1 WHERE id = 1`, "TOO-LONG-"+secret)
				return err
			},
			kind: db.ErrInvalidInput, code: "22001",
		},
		{
			name: "not null violation",
			run: func() error {
				_, err := p.Exec(ctx, `INSERT INTO accounts (id, email) VALUES (3, NULL)`)
				return err
			},
			kind: db.ErrInvalidInput, code: "23502", table: "accounts", column: "email",
		},
		{
			name: "statement_timeout",
			run: func() error {
				tx, err := p.Begin(ctx)
				if err != nil {
					return fmt.Errorf("setup: %w", err)
				}
				defer tx.Rollback(ctx)
				if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = '50ms'`); err != nil {
					return fmt.Errorf("setup: %w", err)
				}
				_, err = tx.Exec(ctx, `SELECT pg_sleep(5)`)
				return err
			},
			kind: db.ErrCanceled, code: "57014",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.run()
			if raw == nil {
				t.Fatal("statement succeeded, want an error")
			}
			if tt.code != "" {
				var pgErr *pgconn.PgError
				if !errors.As(raw, &pgErr) || pgErr.Code != tt.code {
					t.Fatalf("raw error %v, want SQLSTATE %s", raw, tt.code)
				}
			}

			err := db.Translate(raw)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("Translate(%v) = %v, want kind %v", raw, err, tt.kind)
			}
			var dbErr *db.Error
			if !errors.As(err, &dbErr) {
				t.Fatalf("Translate(%v) = %T, want *db.Error", raw, err)
			}
			if dbErr.Constraint != tt.constraint || dbErr.Table != tt.table || dbErr.Column != tt.column {
				t.Errorf("constraint/table/column = %q/%q/%q, want %q/%q/%q",
					dbErr.Constraint, dbErr.Table, dbErr.Column, tt.constraint, tt.table, tt.column)
			}
			if !errors.Is(err, raw) {
				t.Errorf("translated error does not wrap the original")
			}
			msg := err.Error()
			if strings.Contains(msg, secret) || strings.Contains(msg, "SELECT") ||
				strings.Contains(msg, "INSERT") || strings.Contains(msg, "UPDATE") {
				t.Errorf("message leaks SQL or values: %q", msg)
			}
			if tt.code != "" && !strings.Contains(msg, tt.code) {
				t.Errorf("message %q lacks SQLSTATE %s", msg, tt.code)
			}
			if tt.constraint != "" && !strings.Contains(msg, tt.constraint) {
				t.Errorf("message %q lacks constraint %s", msg, tt.constraint)
			}
			if again := db.Translate(err); again != err {
				t.Errorf("Translate is not idempotent: %v", again)
			}
		})
	}
}

func TestTranslateContextErrors(t *testing.T) {
	p := testdb.New(t)

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, raw := p.Exec(ctx, `SELECT pg_sleep(5)`)
		err := db.Translate(raw)
		if !errors.Is(err, db.ErrCanceled) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Translate(%v) = %v, want ErrCanceled wrapping DeadlineExceeded", raw, err)
		}
		if errors.Is(err, context.Canceled) {
			t.Fatalf("deadline reads as cancellation: %v", err)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, raw := p.Exec(ctx, `SELECT pg_sleep(5)`)
		err := db.Translate(raw)
		if !errors.Is(err, db.ErrCanceled) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Translate(%v) = %v, want ErrCanceled wrapping context.Canceled", raw, err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("cancellation reads as deadline: %v", err)
		}
	})

	t.Run("already done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var n int
		raw := p.QueryRow(ctx, `SELECT 1`).Scan(&n)
		if err := db.Translate(raw); !errors.Is(err, db.ErrCanceled) {
			t.Fatalf("Translate(%v) = %v, want ErrCanceled", raw, err)
		}
	})
}

func TestTranslatePassesThrough(t *testing.T) {
	p := testdb.New(t)
	_, raw := p.Exec(context.Background(), `SELEKT 1`) // syntax error, 42601
	if got := db.Translate(raw); got != raw {
		t.Fatalf("Translate(syntax error) = %v, want it unchanged", got)
	}

	if db.Translate(nil) != nil {
		t.Fatal("Translate(nil) != nil")
	}
	plain := errors.New("something else")
	if db.Translate(plain) != plain {
		t.Fatal("Translate changed an unrelated error")
	}
	exhausted := fmt.Errorf("%w: %w", db.ErrPoolExhausted, context.DeadlineExceeded)
	if db.Translate(exhausted) != exhausted {
		t.Fatal("Translate changed ErrPoolExhausted")
	}
	retry := fmt.Errorf("x: %w", &pgconn.PgError{Code: "40001"})
	if db.Translate(retry) != retry {
		t.Fatal("Translate changed a serialization failure")
	}
}

func TestErrorIsUniqueViolation(t *testing.T) {
	p := newTranslatePool(t)
	_, raw := p.Exec(context.Background(), `INSERT INTO accounts (id, email) VALUES (2, 'taken-secret@example.com')`)
	translated := db.Translate(raw)
	for _, err := range []error{raw, translated, fmt.Errorf("create account: %w", translated)} {
		if !db.IsUniqueViolation(err, "") || !db.IsUniqueViolation(err, "accounts_email_key") {
			t.Errorf("IsUniqueViolation(%v) = false", err)
		}
		if db.IsUniqueViolation(err, "accounts_pkey") {
			t.Errorf("IsUniqueViolation(%v, accounts_pkey) = true", err)
		}
		if db.IsForeignKeyViolation(err, "") {
			t.Errorf("IsForeignKeyViolation(%v) = true", err)
		}
		var dbErr *db.Error
		if !errors.As(db.Translate(err), &dbErr) || dbErr.Constraint != "accounts_email_key" {
			t.Errorf("errors.As(%v) constraint = %+v", err, dbErr)
		}
	}
	_, raw = p.Exec(context.Background(), `INSERT INTO accounts (id, email) VALUES (1, 'other@example.com')`)
	if !db.IsUniqueViolation(raw, "accounts_pkey") {
		t.Errorf("IsUniqueViolation(%v, accounts_pkey) = false", raw)
	}
	_, raw = p.Exec(context.Background(), `INSERT INTO orders VALUES (1, 5)`)
	if !db.IsForeignKeyViolation(raw, "orders_account_id_fkey") || db.IsUniqueViolation(raw, "") {
		t.Errorf("%v: want a foreign key violation only", raw)
	}
	if db.IsUniqueViolation(nil, "") || db.IsUniqueViolation(pgx.ErrNoRows, "") {
		t.Error("IsUniqueViolation true for a non-violation")
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		err  *db.Error
		want string
	}{
		{&db.Error{Kind: db.ErrNotFound, Err: pgx.ErrNoRows}, "db: not found"},
		{
			&db.Error{Kind: db.ErrConflict, Constraint: "users_email_key", Table: "users",
				Detail: "Key (lower(email))=(a@b.c) already exists.",
				Err:    &pgconn.PgError{Code: "23505", Detail: "Key (lower(email))=(a@b.c) already exists."}},
			`db: conflict (constraint "users_email_key", table "users", SQLSTATE 23505)`,
		},
		{&db.Error{Kind: db.ErrCanceled, Err: context.DeadlineExceeded}, "db: canceled (deadline exceeded)"},
		{&db.Error{Kind: db.ErrCanceled, Err: context.Canceled}, "db: canceled (context canceled)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestTranslateUnavailable checks that failures to reach the server, and a
// server that ends the session, read as ErrUnavailable rather than as
// unknown errors.
func TestTranslateUnavailable(t *testing.T) {
	ctx := context.Background()

	t.Run("refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		_, raw := pgx.Connect(ctx, "postgres://postgres@"+addr+"/x?sslmode=disable&connect_timeout=2")
		if err := db.Translate(raw); !errors.Is(err, db.ErrUnavailable) {
			t.Fatalf("Translate(%v) = %v, want ErrUnavailable", raw, err)
		}
	})

	t.Run("terminated", func(t *testing.T) {
		p := testdb.New(t)
		victim, err := p.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer victim.Release()
		pid := victim.Conn().PgConn().PID()
		mustExec(t, p, `SELECT pg_terminate_backend($1)`, int(pid))
		_, raw := victim.Exec(ctx, `SELECT 1`)
		if raw == nil {
			t.Fatal("query on a terminated connection succeeded")
		}
		if err := db.Translate(raw); !errors.Is(err, db.ErrUnavailable) {
			t.Fatalf("Translate(%v) = %v, want ErrUnavailable", raw, err)
		}
	})

	for _, code := range []string{"57P01", "57P02", "57P03", "53300", "08006", "08001"} {
		raw := fmt.Errorf("x: %w", &pgconn.PgError{Code: code})
		if err := db.Translate(raw); !errors.Is(err, db.ErrUnavailable) {
			t.Errorf("Translate(SQLSTATE %s) = %v, want ErrUnavailable", code, err)
		}
	}
}
