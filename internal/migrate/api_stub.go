package migrate

import "context"

// ApplyDir applies every pending migration file of migrationsDir to the database at databaseURL.
// Temporary stub: the engine replaces it.
func ApplyDir(ctx context.Context, databaseURL, migrationsDir string) error { return nil }
