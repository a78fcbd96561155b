package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"

	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/pgcluster"
)

// localClusterDir is where `api dev` keeps a project-local PostgreSQL cluster when no
// server answers on the configured local address.
const localClusterDir = ".data/postgres"

func newDevCmd() *cobra.Command {
	var watch, allowDestructive bool
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Prepare the database (start a local cluster if needed, create, migrate) and serve",
		Long: `Prepare everything the API needs on a development machine, then serve.

If nothing answers at DATABASE_URL and it points at this machine, a project-local
PostgreSQL cluster is started from the installed binaries under .data/postgres (and
reused next time). The database is created when missing and every pending migration
is applied. Only for APP_ENV=dev or test.

--watch follows schema/, queries/ and the Go files: on every change it regenerates
(sqlc, generated modules, store wrapper, API document), brings the dev database to
schema/ directly (no migration file; changes that drop tables or columns only with
--allow-destructive), prints the migration "make generate NAME=…" would write,
rebuilds and restarts the server. A failing step prints its error (with file:line
from the compiler, sqlc or the schema) and the last good server keeps running.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if l.cfg.AppEnv == config.EnvProd {
				return errors.New("api dev prepares a development database; in prod run `api migrate apply` and `api serve`")
			}
			out := cmd.OutOrStdout()
			if err := prepareDatabase(cmd.Context(), l.cfg.DatabaseURL, func(format string, args ...any) {
				fmt.Fprintf(out, format+"\n", args...)
			}); err != nil {
				return err
			}
			e, err := migrate.New(migrate.Config{Out: out})
			if err != nil {
				return err
			}
			if _, err := e.Apply(cmd.Context(), l.cfg.DatabaseURL, migrate.ApplyOptions{}); err != nil {
				return err
			}
			if watch {
				return (&watcher{dbURL: l.cfg.DatabaseURL, allowDestructive: allowDestructive, out: out}).run(cmd.Context())
			}
			return serve(cmd.Context(), l)
		},
	}
	cmd.Flags().BoolVar(&watch, "watch", false, "rebuild and restart on every change of schema/, queries/ or Go files")
	cmd.Flags().BoolVar(&allowDestructive, "allow-destructive", false, "with --watch: let the dev database lose dropped tables and columns")
	return cmd
}

// prepareDatabase makes the database of dbURL exist: when its server does not answer
// and the URL points at this machine, it starts (or reuses) the project-local cluster
// on the URL's port; then it creates the database if missing.
func prepareDatabase(ctx context.Context, dbURL string, logf func(string, ...any)) error {
	adminURL, err := db.WithDatabase(dbURL, "postgres")
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	if !pgcluster.Reachable(ctx, adminURL) {
		u, err := url.Parse(dbURL)
		if err != nil {
			return fmt.Errorf("DATABASE_URL: malformed URL")
		}
		host := u.Hostname()
		if host != "127.0.0.1" && host != "localhost" && host != "::1" {
			return fmt.Errorf("no PostgreSQL answers at %s; start it or point DATABASE_URL at a running server", db.RedactURL(dbURL))
		}
		port := 5432
		if p := u.Port(); p != "" {
			if port, err = strconv.Atoi(p); err != nil {
				return fmt.Errorf("DATABASE_URL: bad port %q", p)
			}
		}
		dir, err := filepath.Abs(localClusterDir)
		if err != nil {
			return err
		}
		logf("No PostgreSQL answers at %s:%d; starting the project-local cluster in %s", host, port, localClusterDir)
		if _, err := pgcluster.Ensure(ctx, pgcluster.Options{DataDir: dir, Port: port, Logf: logf}); err != nil {
			return fmt.Errorf("start a local PostgreSQL: %w", err)
		}
	}
	return createDatabase(ctx, adminURL, db.DatabaseName(dbURL), logf)
}

// createdMeanwhile reports whether err, from CREATE DATABASE, says the database
// exists: duplicate_database (42P04), or the unique violation on pg_database's name
// that two concurrent creations can end in.
func createdMeanwhile(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42P04" || db.IsUniqueViolation(err, ""))
}

// createDatabase creates database name on the server of adminURL unless it exists;
// several processes may run it at once for the same name, and all succeed.
func createDatabase(ctx context.Context, adminURL, name string, logf func(string, ...any)) error {
	if name == "" {
		return errors.New("DATABASE_URL names no database")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", db.RedactURL(adminURL), err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		if createdMeanwhile(err) {
			return nil // another `api dev` created it between the look-up and here
		}
		return fmt.Errorf("create database %s: %w", name, err)
	}
	logf("Created database %s", name)
	return nil
}
