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

// ReadOnly runs fn in a READ ONLY transaction on the database at url and rolls it
// back, so fn can only read. It returns fn's error, or the connection's.
func ReadOnly(ctx context.Context, url string, fn func(*sql.Tx) error) error {
	conn, closeConn, err := OpenConn(ctx, url)
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
