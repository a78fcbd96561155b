package migrate

import (
	"context"

	"ariga.io/atlas/sql/migrate"
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
