package cli

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"ariga.io/atlas/sql/schema"
	"github.com/spf13/cobra"

	"github.com/quarrydev/quarry/internal/gen"
)

// ErrGenStale is returned by `gen module --check` when a generated module is stale.
var ErrGenStale = errors.New("generated modules are stale against schema/: run `api gen module NAME` for each and commit the result")

func newGenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Generate code from schema/",
	}
	cmd.AddCommand(newGenModuleCmd())
	return cmd
}

func newGenModuleCmd() *cobra.Command {
	var (
		opts       gen.Options
		check      bool
		noDerive   bool
		schemaDir  string
		projectDir string
	)
	cmd := &cobra.Command{
		Use:   "module NAME",
		Short: "Generate (or regenerate) a module from its table in schema/",
		Long: `Generate a module from its table: queries/NAME.sql (then sqlc), the generated files
internal/modules/NAME/*_gen.go and their tests, NAME.go for the module's own rules
(created once, never overwritten), its registration, and api/openapi.yaml.

The table is read from schema/*.sql executed on a dev database (DEV_DATABASE_URL, or
a throwaway database on the server of DATABASE_URL), as "migrate diff" does.
Options default from the table; those given are recorded in the generated files,
so re-running "api gen module NAME" after a schema change keeps them.

--check regenerates every generated module in memory and fails when a file differs.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if check {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			e, err := (&migrateFlags{dir: filepath.Join(projectDir, "migrations"), schemaDir: filepath.Join(projectDir, schemaDir)}).engine(nil)
			if err != nil {
				return err
			}
			server, stop, err := diffServer(cmd)
			if err != nil {
				return err
			}
			defer stop()
			realm, err := e.DesiredRealm(cmd.Context(), server)
			if err != nil {
				return err
			}
			if check {
				mods, err := gen.Generated(projectDir)
				if err != nil {
					return err
				}
				var stale []string
				for _, name := range slices.Sorted(maps.Keys(mods)) {
					o, err := gen.ParseCommand(mods[name])
					if err != nil {
						return err
					}
					_, files, err := render(realm, o)
					if err != nil {
						return fmt.Errorf("module %s: %w", name, err)
					}
					stale = append(stale, gen.Stale(projectDir, files)...)
				}
				if len(stale) > 0 {
					fmt.Fprintf(out, "Stale: %s\n", strings.Join(stale, ", "))
					return ErrGenStale
				}
				fmt.Fprintf(out, "%d generated modules are current.\n", len(mods))
				return nil
			}
			opts.Name = args[0]
			// Options recorded by an earlier run stay unless given again.
			if prev, err := gen.StoredCommand(filepath.Join(projectDir, "internal", "modules", opts.Name, "module_gen.go")); err == nil {
				stored, err := gen.ParseCommand(prev)
				if err != nil {
					return err
				}
				opts = merge(stored, opts, cmd)
			}
			m, files, err := render(realm, opts)
			if err != nil {
				return err
			}
			if missing := m.MissingIndexes(); len(missing) > 0 {
				fmt.Fprintf(out, "Lists of %s need these indexes to read only the rows they return; add them to schema/:\n", m.Table)
				for _, stmt := range missing {
					fmt.Fprintf(out, "  %s\n", stmt)
				}
			}
			written, err := gen.Write(projectDir, files)
			for _, p := range written {
				fmt.Fprintf(out, "wrote %s\n", p)
			}
			if err != nil {
				return err
			}
			if changed, err := gen.Register(projectDir, opts.Name); err != nil {
				return err
			} else if changed {
				fmt.Fprintf(out, "registered %s in %s\n", opts.Name, gen.RegistryFile)
			}
			added, err := gen.ListSchemaFiles(projectDir, schemaDir)
			if err != nil {
				return err
			}
			for _, f := range added {
				fmt.Fprintf(out, "listed %s in %s\n", f, gen.AtlasFile)
			}
			if noDerive {
				return nil
			}
			return derive(cmd, projectDir)
		},
	}
	gen.Flags(cmd.Flags(), &opts)
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; fail when a generated module is stale against schema/")
	cmd.Flags().BoolVar(&noDerive, "no-derive", false, "write the module only: do not run sqlc, the store generator and the API document")
	cmd.Flags().StringVar(&schemaDir, "schema", "schema", "declarative schema directory")
	cmd.Flags().StringVar(&projectDir, "project", ".", "project root")
	return cmd
}

// render returns the model and files of module o generated from realm's table.
func render(realm *schema.Realm, o gen.Options) (*gen.Model, []gen.File, error) {
	m, err := gen.NewModel(realm, o)
	if err != nil {
		return nil, nil, err
	}
	m.Command = gen.CommandLine(o)
	files, err := gen.Render(m)
	return m, files, err
}

// merge returns stored with the flags given on cmd taken from given.
func merge(stored, given gen.Options, cmd *cobra.Command) gen.Options {
	f := cmd.Flags()
	out := stored
	out.Name = given.Name
	if f.Changed("table") {
		out.Table = given.Table
	}
	if f.Changed("owner") {
		out.Owner = given.Owner
	}
	if f.Changed("read") {
		out.Read = given.Read
	}
	if f.Changed("write") {
		out.Write = given.Write
	}
	if f.Changed("sort") {
		out.Sort = given.Sort
	}
	if f.Changed("filter") {
		out.Filter = given.Filter
	}
	if f.Changed("parent") {
		out.Parent = given.Parent
	}
	if f.Changed("ops") {
		out.Ops = given.Ops
	}
	if f.Changed("hide") {
		out.Hide = given.Hide
	}
	if f.Changed("immutable") {
		out.Immutable = given.Immutable
	}
	return out
}

// derive regenerates what depends on the module: the sqlc code, the store wrapper and
// constraint names, and api/openapi.yaml (with the new module compiled in).
func derive(cmd *cobra.Command, dir string) error {
	goBin := "go"
	if v := os.Getenv("GO"); v != "" {
		goBin = v
	}
	for _, step := range [][]string{
		{goBin, "tool", "-modfile=tools/go.mod", "sqlc", "generate"},
		{goBin, "generate", "./internal/db"},
		{goBin, "run", "./cmd/api", "openapi", "-o", "api/openapi.yaml"},
	} {
		fmt.Fprintf(cmd.OutOrStdout(), "$ %s\n", strings.Join(step, " "))
		c := exec.CommandContext(cmd.Context(), step[0], step[1:]...)
		c.Dir, c.Stdout, c.Stderr = dir, cmd.OutOrStdout(), cmd.ErrOrStderr()
		if err := c.Run(); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(step, " "), err)
		}
	}
	return nil
}
