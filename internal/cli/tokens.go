package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/jobs"
)

func newTokensCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tokens", Short: "Maintain stored refresh tokens"}
	var grace time.Duration
	prune := &cobra.Command{
		Use:   "prune",
		Short: "Delete refresh tokens that expired, now (the job workers do it on schedule)",
		Long: `Delete refresh tokens that expired more than --grace ago. Every refresh stores a new
token and keeps the used one until it expires, so without pruning the table only grows.
Expired tokens are refused anyway; deleting them changes no session. The job workers
(api worker, or api serve with WORKERS_ENABLED) run the same deletion every
JOBS_TOKEN_PRUNE_INTERVAL; this command is for a one-off cleanup.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			n, err := pruneTokens(cmd.Context(), l.cfg, time.Now().Add(-grace))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %d expired refresh token(s).\n", n)
			return nil
		},
	}
	prune.Flags().DurationVar(&grace, "grace", 24*time.Hour, "keep tokens for this long after they expired")
	cmd.AddCommand(prune)
	return cmd
}

// pruneTokens deletes the refresh tokens that expired before before and returns how
// many. Errors: connecting to DATABASE_URL, or the delete.
func pruneTokens(ctx context.Context, cfg *config.Config, before time.Time) (int64, error) {
	pool, err := db.NewPool(ctx, db.PoolConfig{
		URL: cfg.DatabaseURL, MaxConns: 1, ConnectTimeout: cfg.DBConnectTimeout, AcquireTimeout: cfg.DBAcquireTimeout,
	})
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	return jobs.PruneTokens(ctx, db.NewStore(pool), before)
}
