// Package cli holds the commands of the `api` binary.
package cli

import (
	"github.com/spf13/cobra"
)

// NewRoot returns the `api` command with every subcommand attached.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "api",
		Short:         "Quarry: a SQL-first Go backend — the API server and its tooling",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newMigrateCmd())
	return root
}
