package migrate

import (
	"context"
	"database/sql"
	"fmt"

	"ariga.io/atlas/sql/migrate"

	"github.com/quarrydev/quarry/internal/db"
)

// MigrationDir returns the migration directory the engine reads.
func (e *Engine) MigrationDir() migrate.Dir { return e.dir }

// DevDatabase returns the URL of a clean database for replaying migrations and a
// function that drops it: Config.DevURL as is when set (then the function does
// nothing), otherwise a throwaway database created on the server of serverURL.
// Errors: the server cannot be reached or refuses CREATE DATABASE.
func (e *Engine) DevDatabase(ctx context.Context, serverURL string) (string, func(), error) {
	return e.devDatabase(ctx, serverURL)
}

// OpenConn returns one dedicated connection to the database at url and a function
// closing it. Errors: a malformed URL, or the database cannot be reached.
func OpenConn(ctx context.Context, url string) (*sql.Conn, func(), error) {
	return openConn(ctx, url)
}

// ReadOnly runs fn in a READ ONLY transaction on the database at url and rolls it
// back, so fn can only read. It returns fn's error, or the connection's.
func ReadOnly(ctx context.Context, url string, fn func(*sql.Tx) error) error {
	conn, closeConn, err := openConn(ctx, url)
	if err != nil {
		return err
	}
	defer closeConn()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read-only transaction on %s: %w", db.RedactURL(url), err)
	}
	defer tx.Rollback()
	return fn(tx)
}
