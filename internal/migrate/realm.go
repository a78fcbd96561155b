package migrate

import (
	"context"

	"ariga.io/atlas/sql/schema"
)

// DesiredRealm executes schema/*.sql on a clean dev database (Config.DevURL, or a
// throwaway database on the server of serverURL, dropped afterwards), as Diff does,
// and returns what Atlas inspects of the result (the schema statements run in a
// transaction rolled back afterwards, so a DEV_DATABASE_URL stays clean). Errors: a *SchemaError (joined, one
// per failing statement) when the schema files do not execute, or connection errors.
func (e *Engine) DesiredRealm(ctx context.Context, serverURL string) (*schema.Realm, error) {
	stmts, err := e.schemaStatements()
	if err != nil {
		return nil, err
	}
	devURL, dropDev, err := e.DevDatabase(ctx, serverURL)
	if err != nil {
		return nil, err
	}
	defer dropDev()
	conn, closeConn, err := OpenConn(ctx, devURL)
	if err != nil {
		return nil, err
	}
	defer closeConn()
	realm, _, err := desiredState(ctx, conn, stmts)
	return realm, err
}
