package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"
	"github.com/spf13/cobra"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/core/openapi"
	"github.com/quarrydev/quarry/internal/modules"
)

// DefaultOpenAPIFile is where `api openapi` writes the committed API document.
const DefaultOpenAPIFile = "api/openapi.yaml"

func newOpenAPICmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "openapi",
		Short: "Write the OpenAPI 3.1 document generated from the route table (api/openapi.yaml)",
		Long: `Write the OpenAPI 3.1 document of the API, generated from the route table.

The document depends on the code only: configuration comes from the defaults and
this command's flags, never from .env files or the environment, so every machine
writes the same bytes. All modules are documented unless --enabled-modules names
some. Use -o - to write to standard output.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, _ := cmd.Flags().GetString("output")
			doc, err := generatedYAML(cmd)
			if err != nil {
				return err
			}
			if out == "-" {
				_, err := cmd.OutOrStdout().Write(doc)
				return err
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			if err := os.WriteFile(out, doc, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringP("output", "o", DefaultOpenAPIFile, "file to write, - for standard output")
	cmd.AddCommand(newOpenAPIDiffCmd())
	return cmd
}

func newOpenAPIDiffCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff --base FILE [--current FILE]",
		Short: "Report breaking changes between a base API document and the current one",
		Long: `Compare a base OpenAPI document (e.g. main's api/openapi.yaml) with the current one —
the document this code generates, or --current FILE — and list the changes that can
break clients (oasdiff's checks). Exits non-zero when there is a breaking change
(an error-level change; with --fail-on-warn, a warning too).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			basePath, _ := cmd.Flags().GetString("base")
			currentPath, _ := cmd.Flags().GetString("current")
			failOnWarn, _ := cmd.Flags().GetBool("fail-on-warn")
			base, err := os.ReadFile(basePath)
			if err != nil {
				return fmt.Errorf("base document: %w", err)
			}
			var current []byte
			currentName := "generated"
			if currentPath != "" {
				if current, err = os.ReadFile(currentPath); err != nil {
					return fmt.Errorf("current document: %w", err)
				}
				currentName = currentPath
			} else if current, err = generatedYAML(cmd); err != nil {
				return err
			}
			errs, warns, err := breakingChanges(cmd.OutOrStdout(), base, basePath, current, currentName)
			if err != nil {
				return err
			}
			if errs > 0 || failOnWarn && warns > 0 {
				return fmt.Errorf("%d breaking changes and %d warnings", errs, warns)
			}
			return nil
		},
	}
	cmd.Flags().String("base", "", "the base document, e.g. main's api/openapi.yaml (required)")
	cmd.Flags().String("current", "", "the current document (default: generated from this code)")
	cmd.Flags().Bool("fail-on-warn", false, "exit non-zero on warnings (changes that may break clients) too")
	_ = cmd.MarkFlagRequired("base")
	return cmd
}

// generatedYAML returns the API document of the code as YAML, for the modules named
// by --enabled-modules (all by default), with every other setting at its default.
func generatedYAML(cmd *cobra.Command) ([]byte, error) {
	cfg, mods, err := codeOnlyConfig(cmd)
	if err != nil {
		return nil, err
	}
	routes, err := app.RouteTable(cfg, mods, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	enabled, err := module.Select(mods, cfg.EnabledModules)
	if err != nil {
		return nil, err
	}
	doc, err := openapi.New(routes, enabled)
	if err != nil {
		return nil, err
	}
	return openapi.YAML(doc)
}

// codeOnlyConfig loads the configuration from the defaults and cmd's flags only: no
// .env file (it reads from an empty directory) and no environment variable.
func codeOnlyConfig(cmd *cobra.Command) (*config.Config, []module.Module, error) {
	dir, err := os.MkdirTemp("", "quarry-openapi-")
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	defer os.RemoveAll(dir)
	mods := modules.All()
	sections := make([]config.Section, 0, len(mods))
	for _, m := range mods {
		if c := m.Config(); c != nil {
			sections = append(sections, config.Section{Name: m.Name(), Target: c})
		}
	}
	cfg, err := config.Load(config.Options{Dir: dir, Flags: cmd.Flags(), Sections: sections})
	if err != nil {
		return nil, nil, err
	}
	return cfg, mods, nil
}

// breakingChanges prints the changes from base to current that may break clients
// (oasdiff's levels ERR and WARN) and returns how many are errors (breaking) and
// warnings (possibly breaking). It fails
// when a document cannot be loaded or compared.
func breakingChanges(w io.Writer, base []byte, baseName string, current []byte, currentName string) (errs, warns int, err error) {
	// A loader per document: its cache is keyed by location.
	baseSpec, err := load.NewSpecInfoFromData(openapi3.NewLoader(), base, baseName)
	if err != nil {
		return 0, 0, fmt.Errorf("load %s: %w", baseName, err)
	}
	currentSpec, err := load.NewSpecInfoFromData(openapi3.NewLoader(), current, currentName)
	if err != nil {
		return 0, 0, fmt.Errorf("load %s: %w", currentName, err)
	}
	d, sources, err := diff.GetPathsDiff(diff.NewConfig(), []*load.SpecInfo{baseSpec}, []*load.SpecInfo{currentSpec})
	if err != nil {
		return 0, 0, fmt.Errorf("compare documents: %w", err)
	}
	changes := checker.CheckBackwardCompatibility(checker.NewConfig(checker.GetAllChecks()), d, sources)
	if len(changes) == 0 {
		_, err := fmt.Fprintln(w, "no breaking changes")
		return 0, 0, err
	}
	localize := checker.NewDefaultLocalizer()
	for _, c := range changes {
		switch c.GetLevel() {
		case checker.ERR:
			errs++
		case checker.WARN:
			warns++
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(c.SingleLineError(localize, checker.ColorNever), " ")); err != nil {
			return 0, 0, err
		}
	}
	return errs, warns, nil
}
