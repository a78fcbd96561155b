package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	sqlmigrate "ariga.io/atlas/sql/migrate"
	"github.com/spf13/cobra"

	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/migrate/drift"
	"github.com/quarrydev/quarry/internal/migrate/lint"
	"github.com/quarrydev/quarry/internal/migrate/review"
)

// ErrLintFailed is returned by `migrate lint` when an error-level finding is not accepted.
var ErrLintFailed = errors.New("migration lint failed: fix the statements, or accept a finding with `-- atlas:nolint CODE reason` above the statement")

// selectionFlags choose the migration files lint and review analyze.
type selectionFlags struct {
	latest int
	base   string
}

func (s *selectionFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&s.latest, "latest", 0, "analyze the newest N files")
	cmd.Flags().StringVar(&s.base, "base", "", "analyze the files not on this git ref (default: the merge base of HEAD and main)")
	cmd.MarkFlagsMutuallyExclusive("latest", "base")
}

// analyze selects the files, replays them on a throwaway database and returns the
// lint report, the selection it used and the migration directory. The report is empty
// when no file is new.
func (s *selectionFlags) analyze(cmd *cobra.Command, flags *migrateFlags) (*lint.Report, *lint.Selected, sqlmigrate.Dir, error) {
	// A throwaway dev database every time (never DEV_DATABASE_URL itself): the replay
	// commits, and CONCURRENTLY statements cannot run in a transaction that rolls back.
	e, err := migrate.New(migrate.Config{MigrationsDir: flags.dir, SchemaDir: flags.schemaDir, Out: cmd.ErrOrStderr()})
	if err != nil {
		return nil, nil, nil, err
	}
	if err := e.Validate(); err != nil {
		return nil, nil, nil, err
	}
	sel, err := lint.Select(cmd.Context(), e.MigrationDir(), flags.dir, lint.Selection{Latest: s.latest, Base: s.base})
	if err != nil {
		return nil, nil, nil, err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Analyzing %s: %d file(s), replayed after %d earlier file(s).\n", sel.From, len(sel.Files), len(sel.Base))
	if len(sel.Files) == 0 {
		return &lint.Report{}, sel, e.MigrationDir(), nil
	}
	server := os.Getenv("DEV_DATABASE_URL")
	if server == "" {
		url, stop, err := diffServer(cmd)
		if err != nil {
			return nil, nil, nil, err
		}
		defer stop()
		server = url
	}
	devURL, drop, err := e.DevDatabase(cmd.Context(), server)
	if err != nil {
		return nil, nil, nil, err
	}
	defer drop()
	rep, err := lint.Run(cmd.Context(), lint.Options{Base: sel.Base, Files: sel.Files, DirPath: flags.dir, DevURL: devURL})
	if err != nil {
		return nil, nil, nil, err
	}
	return rep, sel, e.MigrationDir(), nil
}

func newMigrateLintCmd(flags *migrateFlags) *cobra.Command {
	var sel selectionFlags
	var format string
	cmd := &cobra.Command{
		Use:   "lint",
		Short: "Check new migration files for destructive, data-dependent and locking changes",
		Long: `Check new migration files for destructive, data-dependent and locking changes.

Each file is replayed statement by statement on a throwaway database (on the server of
DEV_DATABASE_URL, or of DATABASE_URL) after the files before it. The Atlas analyzers
(DS1xx destructive, MF1xx data-dependent, CD101 dropped foreign key, BC1xx renames)
run on the schema change of each statement; Quarry's PostgreSQL rules (QP1xx) read the
statement with PostgreSQL's parser and name the lock it takes and the safe alternative.

A finding is accepted by a directive in the comment right above the statement, or at
the top of the file (separated by a blank line) for every statement:

  -- atlas:nolint QP101 posts holds a few hundred rows; the build takes milliseconds

Exit status 1 when an error-level finding is not accepted or a file fails to replay.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !validFormat(format, lint.Formats) {
				return fmt.Errorf("--format %q: use one of %s", format, strings.Join(lint.Formats, ", "))
			}
			rep, _, _, err := sel.analyze(cmd, flags)
			if err != nil {
				return err
			}
			if err := lint.Write(cmd.OutOrStdout(), rep, format); err != nil {
				return err
			}
			if rep.Failed() {
				return ErrLintFailed
			}
			return nil
		},
	}
	sel.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: "+strings.Join(lint.Formats, ", "))
	return cmd
}

func newMigrateReviewCmd(flags *migrateFlags) *cobra.Command {
	var sel selectionFlags
	var format string
	var opts review.Options
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Write a DBA's review of new migration files: per statement what it does, its lock, scans, rewrites and findings",
		Long: `Write a DBA's review of new migration files as Markdown (or JSON).

For each file and statement: what it does in plain words, the lock it takes and what
that lock blocks, whether it scans or rewrites a table (rewrites are measured on the
replay), the lint findings and the file's checksum state. With --target-url (a
read-only connection to production or a replica) it adds each touched table's row
estimate and size there, and flags scans and rewrites of tables over the thresholds.

The review always exits 0 when it could be written; use "migrate lint" to gate.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !validFormat(format, review.Formats) {
				return fmt.Errorf("--format %q: use one of %s", format, strings.Join(review.Formats, ", "))
			}
			rep, selected, dir, err := sel.analyze(cmd, flags)
			if err != nil {
				return err
			}
			opts.From = selected.From
			rv, err := review.Build(cmd.Context(), dir, rep, opts)
			if err != nil {
				return err
			}
			return review.Write(cmd.OutOrStdout(), rv, format)
		},
	}
	sel.register(cmd)
	cmd.Flags().StringVar(&format, "format", "markdown", "output format: "+strings.Join(review.Formats, ", "))
	cmd.Flags().StringVar(&opts.TargetURL, "target-url", "", "read-only URL of a live database to size the touched tables on")
	cmd.Flags().Int64Var(&opts.RowsThreshold, "rows-threshold", 100_000, "flag scans and rewrites of tables with more rows than this on the target")
	cmd.Flags().Int64Var(&opts.BytesThreshold, "bytes-threshold", 1<<30, "flag scans and rewrites of tables larger than this many bytes on the target")
	return cmd
}

func validFormat(f string, formats []string) bool {
	for _, v := range formats {
		if f == v {
			return true
		}
	}
	return false
}

// ErrDrift is returned by `migrate drift` when the database differs from its migrations.
var ErrDrift = errors.New("the database has drifted from its migrations")

func newMigrateDriftCmd(flags *migrateFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "drift",
		Short: "Compare DATABASE_URL with what its applied migrations produce; exit 1 on any difference",
		Long: `Compare DATABASE_URL with what its applied migrations produce.

The migration files up to the database's current version are replayed on a throwaway
database (on the server of DEV_DATABASE_URL when set, otherwise of DATABASE_URL; point
DEV_DATABASE_URL at a scratch server when DATABASE_URL is production), and the catalog
fingerprints of both are compared: tables, columns, constraints, indexes, views,
functions, triggers, enum values, extensions, sequences, policies and comments. The
live database is only read. Local files not applied there yet are not drift.

Exit status 0 in sync, 1 with each difference listed (or on an error).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !validFormat(format, drift.Formats) {
				return fmt.Errorf("--format %q: use one of %s", format, strings.Join(drift.Formats, ", "))
			}
			live, err := databaseURL(cmd)
			if err != nil {
				return err
			}
			e, err := migrate.New(migrate.Config{MigrationsDir: flags.dir, SchemaDir: flags.schemaDir, Out: io.Discard})
			if err != nil {
				return err
			}
			server := os.Getenv("DEV_DATABASE_URL")
			if server == "" {
				url, stop, err := diffServer(cmd)
				if err != nil {
					return err
				}
				defer stop()
				server = url
			}
			scratch, drop, err := e.DevDatabase(cmd.Context(), server)
			if err != nil {
				return err
			}
			defer drop()
			res, err := drift.Check(cmd.Context(), e, live, scratch)
			if err != nil {
				return err
			}
			if err := drift.Write(cmd.OutOrStdout(), res, format); err != nil {
				return err
			}
			if !res.InSync() {
				return ErrDrift
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: "+strings.Join(drift.Formats, ", "))
	return cmd
}
