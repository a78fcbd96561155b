package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The error vocabulary of the data layer. [Translate] returns errors for which
// errors.Is reports one of these; services compare against them and never
// against driver errors.
var (
	// ErrNotFound means the query matched no row (pgx.ErrNoRows).
	ErrNotFound = errors.New("db: not found")
	// ErrConflict means a unique or exclusion constraint rejected the row
	// (SQLSTATE 23505, 23P01).
	ErrConflict = errors.New("db: conflict")
	// ErrForeignKey means a foreign key constraint rejected the change: the
	// referenced row does not exist, or it is still referenced (SQLSTATE 23503).
	ErrForeignKey = errors.New("db: foreign key violation")
	// ErrCheck means a check constraint rejected the row (SQLSTATE 23514).
	ErrCheck = errors.New("db: check violation")
	// ErrInvalidInput means a value could not be stored as given: malformed
	// text for the column type, too long, out of range, or NULL in a NOT NULL
	// column (SQLSTATE 22P02, 22001, 22003, 22007, 22008, 23502).
	ErrInvalidInput = errors.New("db: invalid input")
	// ErrCanceled means the statement was canceled: the context was canceled
	// or its deadline passed, or the server canceled it (SQLSTATE 57014, e.g.
	// statement_timeout). The context error, if any, stays in the chain, so
	// errors.Is(err, context.DeadlineExceeded) still tells a deadline from a
	// cancellation.
	ErrCanceled = errors.New("db: canceled")
	// ErrPoolExhausted means no pool connection became available within
	// [PoolConfig.AcquireTimeout]. Errors matching it also match
	// context.DeadlineExceeded; [Translate] leaves them unchanged.
	ErrPoolExhausted = errors.New("db: connection pool exhausted")
	// ErrUnavailable means the database could not be reached or dropped the
	// connection: the connection was refused, timed out or broke, or the server
	// is shutting down, starting up, in recovery or out of connections
	// (SQLSTATE class 08, 57P01, 57P02, 57P03, 53300). Retrying later may work.
	ErrUnavailable = errors.New("db: database unavailable")
)

// SQLSTATE codes that Translate and the transaction retry loop recognise.
const (
	codeUniqueViolation         = "23505"
	codeExclusionViolation      = "23P01"
	codeForeignKeyViolation     = "23503"
	codeCheckViolation          = "23514"
	codeNotNullViolation        = "23502"
	codeInvalidTextRepr         = "22P02"
	codeUntranslatableCharacter = "22021" // e.g. a NUL character in text
	codeStringDataRightTrunc    = "22001"
	codeNumericValueOutOfRange  = "22003"
	codeInvalidDatetimeFormat   = "22007"
	codeDatetimeFieldOverflow   = "22008"
	codeQueryCanceled           = "57014"
	codeSerializationFailure    = "40001"
	codeDeadlockDetected        = "40P01"
	codeAdminShutdown           = "57P01"
	codeCrashShutdown           = "57P02"
	codeCannotConnectNow        = "57P03"
	codeTooManyConnections      = "53300"
	classConnectionException    = "08"
)

// Error is a translated database error. Kind is one of the package's sentinel
// errors and is what errors.Is matches; Err is the original error and is what
// Unwrap returns, so errors.As still reaches a *pgconn.PgError or a context
// error.
//
// Constraint, Table and Column name the schema objects involved, when
// PostgreSQL reports them. Detail is PostgreSQL's detail message; it may
// contain row values (for example the duplicate key), so it is never part of
// Error() and should not be shown to clients.
type Error struct {
	Kind       error
	Constraint string
	Table      string
	Column     string
	Detail     string
	Err        error
}

// Error returns the kind followed by the schema objects involved and the
// SQLSTATE, e.g. `db: conflict (constraint "users_email_key", table "users",
// SQLSTATE 23505)`. It contains no SQL text and no values.
func (e *Error) Error() string {
	msg := "db: error"
	if e.Kind != nil {
		msg = e.Kind.Error()
	}
	var parts []string
	if e.Constraint != "" {
		parts = append(parts, fmt.Sprintf("constraint %q", e.Constraint))
	}
	if e.Table != "" {
		parts = append(parts, fmt.Sprintf("table %q", e.Table))
	}
	if e.Column != "" {
		parts = append(parts, fmt.Sprintf("column %q", e.Column))
	}
	var pgErr *pgconn.PgError
	switch {
	case errors.As(e.Err, &pgErr):
		parts = append(parts, "SQLSTATE "+pgErr.Code)
	case errors.Is(e.Err, context.DeadlineExceeded):
		parts = append(parts, "deadline exceeded")
	case errors.Is(e.Err, context.Canceled):
		parts = append(parts, "context canceled")
	}
	if len(parts) == 0 {
		return msg
	}
	return msg + " (" + strings.Join(parts, ", ") + ")"
}

// Unwrap returns the original error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is e's Kind.
func (e *Error) Is(target error) bool { return e.Kind != nil && e.Kind == target }

// Translate maps err into the package's error vocabulary and returns:
//
//   - nil for nil;
//   - err unchanged if it already is an [*Error] or an [ErrPoolExhausted];
//   - an [*Error] of kind [ErrNotFound] for pgx.ErrNoRows;
//   - an [*Error] of kind [ErrConflict] for unique (23505) and exclusion
//     (23P01) violations, with Constraint set;
//   - [ErrForeignKey] for 23503 and [ErrCheck] for 23514, with Constraint set;
//   - [ErrInvalidInput] for invalid text representation (22P02), string too
//     long (22001), numeric out of range (22003), bad datetime (22007, 22008)
//     and not-null violations (23502, with Column set): all are values the
//     caller supplied that the column cannot hold;
//   - [ErrUnavailable] for a failure to connect (even one that timed out),
//     for connection exceptions (class 08), admin or crash shutdown (57P01,
//     57P02), cannot connect now (57P03) and too many connections (53300);
//   - [ErrCanceled] for query_canceled (57014) and for errors wrapping
//     context.Canceled or context.DeadlineExceeded;
//   - [ErrUnavailable] for a connection that broke: network errors, an
//     unexpected end of the stream, a closed connection;
//   - err unchanged for anything else.
//
// Every [*Error] wraps err, so the original stays reachable with errors.As.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	var dbErr *Error
	if errors.As(err, &dbErr) || errors.Is(err, ErrPoolExhausted) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &Error{Kind: ErrNotFound, Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if kind := kindOf(pgErr.Code); kind != nil {
			return &Error{
				Kind:       kind,
				Constraint: pgErr.ConstraintName,
				Table:      pgErr.TableName,
				Column:     pgErr.ColumnName,
				Detail:     pgErr.Detail,
				Err:        err,
			}
		}
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return &Error{Kind: ErrUnavailable, Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: ErrCanceled, Err: err}
	}
	if connectionBroke(err) {
		return &Error{Kind: ErrUnavailable, Err: err}
	}
	return err
}

// connectionBroke reports whether err says the connection to the server
// failed rather than the statement: a network error, an unexpected end of
// the stream, or a connection pgx already knows to be closed or unusable.
func connectionBroke(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) || pgconn.SafeToRetry(err)
}

// kindOf returns the sentinel for a SQLSTATE code, or nil if the code is not
// part of the vocabulary.
func kindOf(code string) error {
	switch code {
	case codeUniqueViolation, codeExclusionViolation:
		return ErrConflict
	case codeForeignKeyViolation:
		return ErrForeignKey
	case codeCheckViolation:
		return ErrCheck
	case codeInvalidTextRepr, codeUntranslatableCharacter, codeStringDataRightTrunc, codeNumericValueOutOfRange,
		codeInvalidDatetimeFormat, codeDatetimeFieldOverflow, codeNotNullViolation:
		return ErrInvalidInput
	case codeQueryCanceled:
		return ErrCanceled
	case codeAdminShutdown, codeCrashShutdown, codeCannotConnectNow, codeTooManyConnections:
		return ErrUnavailable
	}
	if strings.HasPrefix(code, classConnectionException) {
		return ErrUnavailable
	}
	return nil
}

// IsUniqueViolation reports whether err is, or wraps, a unique violation
// (SQLSTATE 23505). If constraint is not empty, the violated constraint (or
// unique index) must also have that name. It works on raw pgx errors and on
// errors returned by [Translate].
func IsUniqueViolation(err error, constraint Constraint) bool {
	return isViolation(err, codeUniqueViolation, constraint)
}

// IsForeignKeyViolation reports whether err is, or wraps, a foreign key
// violation (SQLSTATE 23503), optionally of the named constraint, like
// [IsUniqueViolation].
func IsForeignKeyViolation(err error, constraint Constraint) bool {
	return isViolation(err, codeForeignKeyViolation, constraint)
}

func isViolation(err error, code string, constraint Constraint) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != code {
		return false
	}
	return constraint == "" || Constraint(pgErr.ConstraintName) == constraint
}

// isRetryable reports whether err is, or wraps, a serialization failure
// (40001) or a deadlock (40P01): errors after which rerunning the whole
// transaction may succeed.
func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == codeSerializationFailure || pgErr.Code == codeDeadlockDetected
}
