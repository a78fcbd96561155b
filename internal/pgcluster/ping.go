package pgcluster

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PingTimeout bounds a single Ping.
const PingTimeout = 2 * time.Second

// Ping opens one connection to databaseURL and closes it again, waiting at most
// PingTimeout (or less if ctx ends sooner). It returns nil when the server accepted the
// connection, and otherwise the connection error, wrapped; a *pgconn.PgError inside it
// means that a server answered but refused (bad password, unknown database, starting up).
func Ping(ctx context.Context, databaseURL string) error {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if err := conn.Close(ctx); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

// Reachable reports whether a PostgreSQL server accepts a connection to databaseURL
// within PingTimeout.
func Reachable(ctx context.Context, databaseURL string) bool {
	return Ping(ctx, databaseURL) == nil
}
