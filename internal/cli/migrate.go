package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/pgcluster"
)

// ErrCheckFailed is returned by `migrate diff --check` when a migration would be written.
var ErrCheckFailed = errors.New("schema and migrations are out of sync: run `make generate` (or `api migrate diff NAME`) and commit the migration")

type migrateFlags struct {
	dir       string
	schemaDir string
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
	e, err := f.engine(cmd.OutOrStdout())
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
		newMigrateValidateCmd(flags),
		newMigrateHashCmd(flags),
		newMigrateLintCmd(flags), newMigrateReviewCmd(flags), newMigrateDriftCmd(flags),
	)
	return cmd
}

func newMigrateDiffCmd(flags *migrateFlags) *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "diff NAME",
		Short: "Write a migration taking the migrations' state to schema/",
		Args:  cobra.ExactArgs(1),
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
			res, err := e.Diff(cmd.Context(), server, migrate.DiffOptions{Name: args[0], Check: check})
			if err != nil {
				return err
			}
			if !res.Changed() {
				fmt.Fprintln(out, "No changes: the migrations already match the schema.")
				return nil
			}
			if check {
				fmt.Fprintf(out, "A migration would be written (%s):\n", res.File)
				for _, s := range res.Statements {
					fmt.Fprintf(out, "  %s;\n", s)
				}
				return ErrCheckFailed
			}
			fmt.Fprintf(out, "Wrote %s/%s (%d statements) and updated atlas.sum. Review it, then run `api migrate apply`.\n",
				flags.dir, res.File, len(res.Statements))
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; exit non-zero when a migration would be written")
	return cmd
}

func newMigrateNewCmd(flags *migrateFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "new NAME",
		Short: "Write an empty, versioned migration for statements diff cannot plan (functions, triggers)",
		Long: `Write an empty, versioned migration file <UTC version>_NAME.sql and rehash atlas.sum.

The planner behind "diff" does not inspect functions and triggers: it never writes
them, and never notices when they change. Put such statements in a migration made with
"new", describe the same objects in schema/ for readers, and run "migrate hash" after
editing the file.`,
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
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			e, url, err := flags.target(cmd)
			if err != nil {
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
	cmd.Flags().DurationVar(&opts.LockTimeout, "lock-timeout", time.Minute, "how long to wait for a concurrent apply to finish")
	return cmd
}

func newMigrateStatusCmd(flags *migrateFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the current version, pending files and the last failure",
		Args:  cobra.NoArgs,
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
			return nil
		},
	}
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
