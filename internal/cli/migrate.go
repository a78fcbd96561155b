package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/pgcluster"
	"github.com/quarrydev/quarry/migrations"
)

// ErrCheckFailed is returned by `migrate diff --check` when a migration would be written.
var ErrCheckFailed = errors.New("schema and migrations are out of sync: run `make generate` (or `api migrate diff NAME`) and commit the migration")

type migrateFlags struct {
	dir       string
	schemaDir string
}

// ExitError carries the exit status of a command that failed or reports a state
// (such as `migrate status` with pending files). An empty message prints nothing more.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode returns the process exit status.
func (e *ExitError) ExitCode() int { return e.Code }

// Exit statuses of `migrate status`.
const (
	StatusUpToDate = 0
	StatusError    = 1
	StatusPending  = 2
	StatusFailed   = 3
)

// applyEngine returns the engine apply, status and set work with: the directory of
// --dir when given (it must exist and hold migrations), else ./migrations when it is
// a migration directory (inside the repository), else the migrations embedded in the
// binary.
func (f *migrateFlags) applyEngine(cmd *cobra.Command) (*migrate.Engine, error) {
	out := cmd.OutOrStdout()
	if cmd.Flags().Changed("dir") {
		if f.dir == "" {
			return nil, errors.New("--dir: empty path")
		}
		if _, err := os.Stat(filepath.Join(f.dir, "atlas.sum")); err != nil {
			return nil, fmt.Errorf("--dir %s: not a migration directory (no atlas.sum): %w", f.dir, err)
		}
		names, _ := filepath.Glob(filepath.Join(f.dir, "*.sql"))
		if len(names) == 0 {
			return nil, fmt.Errorf("--dir %s: no migration files", f.dir)
		}
		return f.engine(out)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "atlas.sum")); err == nil {
		return f.engine(out)
	}
	dir, err := migrate.FSDir(migrations.FS)
	if err != nil {
		return nil, err
	}
	return migrate.New(migrate.Config{Dir: dir, MigrationsDir: "(embedded)", Out: out})
}

func (f *migrateFlags) engine(out io.Writer) (*migrate.Engine, error) {
	return migrate.New(migrate.Config{
		MigrationsDir: f.dir,
		SchemaDir:     f.schemaDir,
		DevURL:        os.Getenv("DEV_DATABASE_URL"),
		Out:           out,
	})
}

// target returns the engine and the DATABASE_URL that apply and status work on.
func (f *migrateFlags) target(cmd *cobra.Command) (*migrate.Engine, string, error) {
	e, err := f.applyEngine(cmd)
	if err != nil {
		return nil, "", err
	}
	url, err := databaseURL(cmd)
	if err != nil {
		return nil, "", err
	}
	return e, url, nil
}

// databaseURL returns DATABASE_URL from the configuration of cmd.
func databaseURL(cmd *cobra.Command) (string, error) {
	l, err := loadConfig(cmd)
	if err != nil {
		return "", err
	}
	return l.cfg.DatabaseURL, nil
}

func newMigrateCmd() *cobra.Command {
	flags := &migrateFlags{}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Plan and apply versioned migrations derived from schema/",
		Long: `Plan and apply versioned migrations derived from schema/.

The target database comes from DATABASE_URL. "diff" works on a clean dev database:
DEV_DATABASE_URL when set, otherwise a throwaway database created on the server of
DATABASE_URL and dropped afterwards.`,
	}
	cmd.PersistentFlags().StringVar(&flags.dir, "dir", "migrations", "migration directory")
	cmd.PersistentFlags().StringVar(&flags.schemaDir, "schema", "schema", "declarative schema directory")
	cmd.AddCommand(
		newMigrateDiffCmd(flags),
		newMigrateNewCmd(flags),
		newMigrateApplyCmd(flags),
		newMigrateStatusCmd(flags),
		newMigrateSetCmd(flags),
		newMigrateValidateCmd(flags),
		newMigrateHashCmd(flags),
		newMigrateLintCmd(flags), newMigrateReviewCmd(flags), newMigrateDriftCmd(flags),
	)
	return cmd
}

func newMigrateDiffCmd(flags *migrateFlags) *cobra.Command {
	var (
		check   bool
		opts    migrate.DiffOptions
		renames []string
	)
	cmd := &cobra.Command{
		Use:   "diff NAME",
		Short: "Write a migration taking the migrations' state to schema/",
		Long: `Write the migration taking the state of migrations/ to schema/.

The plan is online-safe for tables that already exist: indexes are built and dropped
CONCURRENTLY in a separate "-- atlas:txmode none" file, CHECK and foreign key
constraints are added NOT VALID and validated separately, SET NOT NULL goes through a
validated CHECK. It is applied to the replayed migrations on the dev database and
compared object by object with schema/ before anything is written.

Dropping tables, columns or extensions and type changes that rewrite a table need
--allow-destructive; a NOT NULL column without default on an existing table is
refused. --rename table.column=new_name (or table=new_table) renames instead of
dropping and adding.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			e, err := flags.engine(out)
			if err != nil {
				return err
			}
			server, stop, err := diffServer(cmd)
			if err != nil {
				return err
			}
			defer stop()
			opts.Name, opts.Check = args[0], check
			opts.Renames = nil
			for _, r := range renames {
				rn, err := migrate.ParseRename(r)
				if err != nil {
					return err
				}
				opts.Renames = append(opts.Renames, rn)
			}
			res, err := e.Diff(cmd.Context(), server, opts)
			if err != nil {
				return err
			}
			if !res.Changed() {
				fmt.Fprintln(out, "No changes: the migrations already match the schema.")
				return nil
			}
			if check {
				for _, f := range res.Files {
					fmt.Fprintf(out, "A migration would be written (%s):\n", f.Name)
					for _, s := range f.Statements {
						fmt.Fprintf(out, "  %s;\n", s)
					}
				}
				return ErrCheckFailed
			}
			for _, f := range res.Files {
				fmt.Fprintf(out, "Wrote %s/%s (txmode %s, %d statements).\n", flags.dir, f.Name, f.TxMode, len(f.Statements))
			}
			for _, r := range res.Rewrites {
				fmt.Fprintf(out, "Rewrites a table (allowed by --allow-destructive): %s\n", r)
			}
			fmt.Fprintln(out, "Updated atlas.sum. Review the files, then run `api migrate apply`.")
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; exit non-zero when a migration would be written")
	cmd.Flags().BoolVar(&opts.AllowDestructive, "allow-destructive", false, "allow dropping tables, columns, extensions and table rewrites")
	cmd.Flags().StringArrayVar(&renames, "rename", nil, "rename instead of drop and add: table.column=new_column or table=new_table (repeatable)")
	return cmd
}

func newMigrateNewCmd(flags *migrateFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "new NAME",
		Short: "Write an empty, versioned migration for data changes diff cannot plan",
		Long: `Write an empty, versioned migration file <UTC version>_NAME.sql and rehash atlas.sum.

For statements that are not schema: backfills, data fixes, and the steps "diff" names
but does not plan (such as removing an enum value). Run "migrate hash" after editing
the file, and never edit a file that was applied anywhere.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			e, err := flags.engine(out)
			if err != nil {
				return err
			}
			file, err := e.NewFile(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Wrote %s/%s and updated atlas.sum. Add its statements, then run `api migrate hash`.\n", flags.dir, file)
			return nil
		},
	}
}

func newMigrateApplyCmd(flags *migrateFlags) *cobra.Command {
	var opts migrate.ApplyOptions
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Apply pending migrations to DATABASE_URL",
		Long: `Apply pending migrations to DATABASE_URL.

Without --dir, apply uses ./migrations when run in the repository and the migrations
embedded in the binary anywhere else.

Every statement runs with lock_timeout MIGRATE_LOCK_TIMEOUT (default 5s) and
statement_timeout MIGRATE_STATEMENT_TIMEOUT (default none). After a lock timeout the
file (txmode none: the statement) is rolled back and tried again, MIGRATE_LOCK_RETRIES
times (default 3), then apply fails naming the session that holds the lock.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			e, url, err := flags.target(cmd)
			if err != nil {
				return err
			}
			if err := applyEnv(&opts); err != nil {
				return err
			}
			res, err := e.Apply(cmd.Context(), url, opts)
			if err != nil {
				return err
			}
			switch {
			case len(res.Files) == 0:
				fmt.Fprintln(out, "No pending migrations: the database is up to date.")
			case opts.DryRun:
				fmt.Fprintf(out, "Dry run: %d migration(s) would be applied:\n", len(res.Files))
				for _, f := range res.Files {
					fmt.Fprintf(out, "-- %s (txmode %s)\n", f.Name, f.TxMode)
					for _, s := range f.Statements {
						fmt.Fprintf(out, "%s\n", s)
					}
				}
			default:
				fmt.Fprintf(out, "Applied %d migration(s).\n", len(res.Files))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the pending statements without executing them")
	cmd.Flags().StringVar(&opts.To, "to", "", "apply up to and including this version")
	cmd.Flags().StringVar(&opts.Baseline, "baseline", "", "on a database with a schema but no history, mark this version as applied")
	cmd.Flags().DurationVar(&opts.Wait, "wait", time.Minute, "how long to wait for a concurrent apply to finish")
	return cmd
}

// applyEnv reads MIGRATE_LOCK_TIMEOUT, MIGRATE_STATEMENT_TIMEOUT and
// MIGRATE_LOCK_RETRIES into opts; an invalid value is an error naming the variable.
func applyEnv(opts *migrate.ApplyOptions) error {
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"MIGRATE_LOCK_TIMEOUT", &opts.LockTimeout}, {"MIGRATE_STATEMENT_TIMEOUT", &opts.StatementTimeout}} {
		v := os.Getenv(d.name)
		if v == "" {
			continue
		}
		dur, err := time.ParseDuration(v)
		if err != nil || dur < 0 {
			return fmt.Errorf("%s=%q: want a duration such as 5s or 500ms", d.name, v)
		}
		if dur == 0 && d.name == "MIGRATE_LOCK_TIMEOUT" {
			dur = -1 // 0 means "no lock timeout", not "the default"
		}
		*d.dst = dur
	}
	if v := os.Getenv("MIGRATE_LOCK_RETRIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("MIGRATE_LOCK_RETRIES=%q: want a whole number, 0 or more", v)
		}
		opts.LockRetries = n
		if n == 0 {
			opts.LockRetries = -1 // 0 means "no retry", not "the default"
		}
	}
	return nil
}

func newMigrateStatusCmd(flags *migrateFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the current version, pending files and the last failure",
		Long: `Show the current version, pending files and the last failure.

Exit status: 0 up to date, 1 error, 2 pending files (or a schema without history),
3 a failed migration.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			e, url, err := flags.target(cmd)
			if err != nil {
				return err
			}
			st, err := e.Status(cmd.Context(), url)
			if err != nil {
				return err
			}
			printStatus(out, st)
			switch {
			case st.Failed != nil:
				return &ExitError{Code: StatusFailed}
			case !st.UpToDate():
				return &ExitError{Code: StatusPending}
			}
			return nil
		},
	}
}

func newMigrateSetCmd(flags *migrateFlags) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "set VERSION",
		Short: "Mark the migrations up to VERSION as applied, after a manual repair",
		Long: `Mark the revisions table of DATABASE_URL as if the migrations were applied up to and
including VERSION: failed or partial revisions up to VERSION become applied, missing
ones are added, revisions after VERSION are removed. No migration statement runs; use
it after repairing the database by hand. Prints every revision it changed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			e, url, err := flags.target(cmd)
			if err != nil {
				return err
			}
			changed, err := e.Set(cmd.Context(), url, args[0], wait)
			if err != nil {
				return err
			}
			if len(changed) == 0 {
				fmt.Fprintf(out, "Nothing to change: the revisions already stop at %s.\n", args[0])
			}
			for _, c := range changed {
				fmt.Fprintln(out, c)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", time.Minute, "how long to wait for a concurrent apply to finish")
	return cmd
}

func printStatus(out io.Writer, st *migrate.Status) {
	state := "OK (up to date)"
	switch {
	case st.Failed != nil:
		state = "FAILED"
	case st.NotClean != "":
		state = "NOT MANAGED (schema without migration history; use apply --baseline VERSION)"
	case len(st.Pending) > 0:
		state = "PENDING"
	}
	current := st.Current
	if current == "" {
		current = "none"
	}
	fmt.Fprintf(out, "Migration status: %s\n", state)
	fmt.Fprintf(out, "  current version: %s\n", current)
	fmt.Fprintf(out, "  applied: %d, pending: %d\n", st.Applied, len(st.Pending))
	for _, p := range st.Pending {
		fmt.Fprintf(out, "  pending: %s\n", p)
	}
	if f := st.Failed; f != nil {
		fmt.Fprintf(out, "  failed: %s\n    error: %s\n    statement: %s\n", f.File, f.Error, f.Statement)
		fmt.Fprintln(out, "  Fix the cause and run apply again (it resumes after the statements that ran), or repair by hand and run `api migrate set VERSION`.")
	}
}

func newMigrateValidateCmd(flags *migrateFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check that atlas.sum matches the migration files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := flags.engine(cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if err := e.Validate(); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Migration directory is valid.")
			return nil
		},
	}
}

func newMigrateHashCmd(flags *migrateFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "hash",
		Short: "Rewrite atlas.sum after a deliberate edit of a migration file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := flags.engine(cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if err := e.Hash(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Rewrote %s/atlas.sum.\n", flags.dir)
			return nil
		},
	}
}

// diffServer returns the server diff plans on: the one of DATABASE_URL, or — when it
// does not answer and no DEV_DATABASE_URL is set — a throwaway cluster started from the
// installed PostgreSQL binaries, which stop shuts down.
func diffServer(cmd *cobra.Command) (string, func(), error) {
	url, err := databaseURL(cmd)
	if err != nil {
		return "", nil, err
	}
	admin, err := db.WithDatabase(url, "postgres")
	if err != nil {
		return "", nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if os.Getenv("DEV_DATABASE_URL") != "" || pgcluster.Reachable(cmd.Context(), admin) {
		return url, func() {}, nil
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "No PostgreSQL answers at %s; planning on a throwaway cluster.\n", db.RedactURL(url))
	c, err := pgcluster.Ensure(cmd.Context(), pgcluster.Options{})
	if err != nil {
		return "", nil, fmt.Errorf("start a throwaway PostgreSQL for planning: %w", err)
	}
	return c.URL("postgres"), func() { _ = c.Stop(context.WithoutCancel(cmd.Context())) }, nil
}
