// Package cli holds the commands of the `api` binary.
package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"

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
		newWorkerCmd(),
		newJobsCmd(),
	)
	rejectUnknownSubcommands(root)
	return root
}

// rejectUnknownSubcommands makes cmd and every command under it that has subcommands
// fail on an argument naming none of them, with an error that names the closest
// subcommands (or lists them all), instead of printing the help and succeeding; a
// typo in a deploy script must not pass silently. Such a command run without
// arguments still prints its help, unless it does something of its own.
func rejectUnknownSubcommands(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		rejectUnknownSubcommands(sub)
	}
	if !cmd.HasSubCommands() {
		return
	}
	own := cmd.Args
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			if err := unknownSubcommand(c, args[0]); err != nil {
				return err
			}
		}
		if own != nil {
			return own(c, args)
		}
		return nil
	}
	if cmd.Run == nil && cmd.RunE == nil {
		cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	}
}

// unknownSubcommand returns the error for arg given to cmd, which has subcommands
// and none named arg.
func unknownSubcommand(cmd *cobra.Command, arg string) error {
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if close := cmd.SuggestionsFor(arg); len(close) > 0 {
		return fmt.Errorf("unknown command %q for %q; did you mean %s?", arg, cmd.CommandPath(), quoteAll(close, " or "))
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return fmt.Errorf("unknown command %q for %q (commands: %s)", arg, cmd.CommandPath(), strings.Join(names, ", "))
}

// quoteAll returns names quoted and joined with sep.
func quoteAll(names []string, sep string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, sep)
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
