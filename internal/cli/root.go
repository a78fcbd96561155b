// Package cli holds the commands of the `api` binary.
package cli

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/modules"
)

// NewRoot returns the `api` command with every subcommand attached.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "api",
		Short:         "Quarry: a SQL-first Go backend — the API server and its tooling",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	f := root.PersistentFlags()
	f.StringArray("set", nil, "set any configuration key, e.g. --set POSTS_MAX_PAGE_SIZE=50 (repeatable)")
	f.String("app-env", "", "APP_ENV: dev, test or prod")
	f.String("http-addr", "", "HTTP_ADDR: address to listen on")
	f.String("database-url", "", "DATABASE_URL")
	f.String("log-level", "", "LOG_LEVEL: debug, info, warn or error")
	f.String("log-format", "", "LOG_FORMAT: text or json")
	f.String("enabled-modules", "", "ENABLED_MODULES: comma-separated module names (default all)")
	root.AddCommand(
		newServeCmd(),
		newDevCmd(),
		newConfigCmd(),
		newRoutesCmd(),
		newMigrateCmd(),
		newOpenAPICmd(),
		newUserCmd(),
		newTokensCmd(),
		newGenCmd(),
	)
	return root
}

// loaded is the configuration together with the module registry it was loaded for.
type loaded struct {
	cfg     *config.Config
	modules []module.Module
}

// loadConfig reads the configuration for cmd: defaults, .env files in the working
// directory, the environment and cmd's flags, with every module's section.
func loadConfig(cmd *cobra.Command) (*loaded, error) {
	mods := modules.All()
	sections := make([]config.Section, 0, len(mods))
	for _, m := range mods {
		if c := m.Config(); c != nil {
			sections = append(sections, config.Section{Name: m.Name(), Target: c})
		}
	}
	cfg, err := config.Load(config.Options{
		Environ:  os.Environ(),
		Flags:    cmd.Flags(),
		Sections: sections,
	})
	if err != nil {
		return nil, err
	}
	return &loaded{cfg: cfg, modules: mods}, nil
}
