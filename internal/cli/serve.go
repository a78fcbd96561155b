package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/core/logging"
	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/migrations"
)

func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the API (the database must exist and be migrated)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), l)
		},
	}
}

// serve builds the app from l and serves until ctx ends.
func serve(ctx context.Context, l *loaded) error {
	// Logs are written in batches (at least every 100ms), not one system call per line.
	out := logging.NewBuffered(os.Stdout, 64<<10, 100*time.Millisecond)
	defer out.Close()
	log, err := logging.New(out, l.cfg.LogFormat, l.cfg.LogLevel)
	if err != nil {
		return err
	}
	embedded, err := migrate.FSDir(migrations.FS)
	if err != nil {
		return err
	}
	schema, err := migrate.New(migrate.Config{Dir: embedded})
	if err != nil {
		return err
	}
	opts := app.Options{Modules: l.modules, Migrations: schema, Log: log}
	if l.cfg.LogFormat == "json" {
		opts.AccessLog = logging.NewAccessLog(out)
	}
	a, err := app.New(ctx, l.cfg, opts)
	if err != nil {
		return err
	}
	reserveProcsForHashing(a.LowPriorityHashingThreads(), log)
	ln, err := net.Listen("tcp", l.cfg.HTTPAddr)
	if err != nil {
		a.Close()
		return fmt.Errorf("HTTP_ADDR %s: %w", l.cfg.HTTPAddr, err)
	}
	return a.Serve(ctx, ln)
}

// reserveProcsForHashing adds n to GOMAXPROCS unless GOMAXPROCS is set in the
// environment; serve, its one caller, runs once per process. A goroutine hashing a
// password holds one of the Go scheduler's GOMAXPROCS slots while it runs, also while
// the kernel keeps its low-priority thread waiting for CPU; a slot more per hashing
// thread leaves request serving as many as it had (in the login flood of
// bench/targets.sh, GET p99 during the flood was about a quarter lower with it). It
// ends the runtime's own updates of GOMAXPROCS when the container's CPU limit changes.
func reserveProcsForHashing(n int, log *slog.Logger) {
	if n <= 0 || os.Getenv("GOMAXPROCS") != "" {
		return
	}
	procs := runtime.GOMAXPROCS(0) + n
	runtime.GOMAXPROCS(procs)
	log.Debug("GOMAXPROCS raised for the low-priority password hashing threads", "gomaxprocs", procs, "hashing_threads", n)
}

func newConfigCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration (secrets masked)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return l.cfg.Print(cmd.OutOrStdout())
		},
	}
}

func newRoutesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "routes",
		Short: "List the routes the enabled modules mount",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			routes, err := app.RouteTable(l.cfg, l.modules, slog.New(slog.DiscardHandler))
			if err != nil {
				return err
			}
			sort.SliceStable(routes, func(i, j int) bool { return routes[i].FullPath < routes[j].FullPath })
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "METHOD\tPATH\tMODULE\tOPERATION\tSTATUSES\tSUMMARY")
			for _, r := range routes {
				statuses := make([]string, 0)
				for _, s := range r.Statuses() {
					statuses = append(statuses, fmt.Sprint(s))
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Method, r.FullPath, r.Module, r.OperationID, strings.Join(statuses, ","), r.Summary)
			}
			return w.Flush()
		},
	}
}
