package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/spf13/cobra"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/core/logging"
	"github.com/quarrydev/quarry/internal/core/metrics"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/jobs"
)

func newWorkerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Work background jobs (no HTTP API); stops gracefully on SIGTERM",
		Long: `Work the background jobs of JOBS_QUEUES, and enqueue the periodic maintenance jobs
when elected leader among the running workers, until SIGINT or SIGTERM. Then stop
fetching, let running jobs finish within SHUTDOWN_TIMEOUT, and cancel the rest: a
cancelled job is retried. Prometheus metrics are served at /metrics on METRICS_ADDR
when it is set.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return work(cmd.Context(), l)
		},
	}
}

// work runs the job workers of l until ctx ends, then stops them gracefully.
func work(ctx context.Context, l *loaded) error {
	out := logging.NewBuffered(os.Stdout, 64<<10, 100*time.Millisecond)
	defer out.Close()
	log, err := logging.New(out, l.cfg.LogFormat, l.cfg.LogLevel)
	if err != nil {
		return err
	}
	cfg := *l.cfg
	cfg.WorkersEnabled = true
	pool, err := db.NewPool(ctx, db.PoolConfig{
		URL: cfg.DatabaseURL, MaxConns: cfg.DBMaxConns, MinConns: cfg.DBMinConns,
		ConnectTimeout: cfg.DBConnectTimeout, AcquireTimeout: cfg.DBAcquireTimeout,
		HealthCheckPeriod: cfg.DBHealthCheckPeriod,
	})
	if err != nil {
		return err
	}
	defer pool.Close()
	var m *metrics.Metrics
	if cfg.MetricsEnabled {
		m = metrics.New(pool.Raw())
	}
	mods, err := module.Select(l.modules, cfg.EnabledModules)
	if err != nil {
		return err
	}
	store := db.NewStore(pool)
	client, err := app.NewJobs(&cfg, pool, store, m, log, app.ModuleWorkers(mods, module.Deps{Store: store, Log: log}, nil))
	if err != nil {
		return err
	}
	if m != nil && cfg.MetricsAddr != "" {
		stop, err := serveMetrics(cfg.MetricsAddr, m)
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start job workers: %w", err)
	}
	log.Info("working jobs", "queues", cfg.JobsQueues)
	<-ctx.Done()
	log.Info("stopping job workers", "timeout", cfg.ShutdownTimeout.String())
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = jobs.Stop(stopCtx, client)
	log.Info("stopped")
	return err
}

// serveMetrics serves m at GET /metrics on addr and returns a function that stops it.
func serveMetrics(addr string, m *metrics.Metrics) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

func newJobsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "jobs", Short: "Inspect and act on background jobs"}
	var states, kinds, queues []string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first (default: those not completed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withJobs(cmd, func(ctx context.Context, c *jobs.Client) error {
				p := river.NewJobListParams().First(limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
				if len(states) == 0 {
					states = []string{"available", "scheduled", "pending", "running", "retryable", "discarded", "cancelled"}
				}
				st := make([]rivertype.JobState, 0, len(states))
				for _, s := range states {
					js := rivertype.JobState(strings.TrimSpace(s))
					if !validState(js) {
						return fmt.Errorf("--state %q: want one of %s", s, stateNames())
					}
					st = append(st, js)
				}
				p = p.States(st...)
				if len(kinds) > 0 {
					p = p.Kinds(kinds...)
				}
				if len(queues) > 0 {
					p = p.Queues(queues...)
				}
				res, err := c.JobList(ctx, p)
				if err != nil {
					return fmt.Errorf("list jobs: %w", err)
				}
				return printJobs(cmd, res.Jobs)
			})
		},
	}
	list.Flags().StringSliceVar(&states, "state", nil, "states to list (comma-separated): "+stateNames())
	list.Flags().StringSliceVar(&kinds, "kind", nil, "job kinds to list")
	list.Flags().StringSliceVar(&queues, "queue", nil, "queues to list")
	list.Flags().IntVar(&limit, "limit", 50, "at most this many jobs")

	act := func(use, short string, do func(ctx context.Context, c *jobs.Client, id int64) (*rivertype.JobRow, error)) *cobra.Command {
		return &cobra.Command{
			Use: use + " ID...", Short: short, Args: cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				ids := make([]int64, len(args))
				for i, a := range args {
					id, err := strconv.ParseInt(a, 10, 64)
					if err != nil || id <= 0 {
						return fmt.Errorf("job id %q: want a positive integer", a)
					}
					ids[i] = id
				}
				return withJobs(cmd, func(ctx context.Context, c *jobs.Client) error {
					var rows []*rivertype.JobRow
					for _, id := range ids {
						row, err := do(ctx, c, id)
						if errors.Is(err, rivertype.ErrNotFound) {
							return fmt.Errorf("job %d: not found", id)
						}
						if err != nil {
							return fmt.Errorf("job %d: %w", id, err)
						}
						rows = append(rows, row)
					}
					return printJobs(cmd, rows)
				})
			},
		}
	}
	cmd.AddCommand(list,
		act("retry", "Make jobs available to run again now (failed, discarded, cancelled or scheduled ones)",
			func(ctx context.Context, c *jobs.Client, id int64) (*rivertype.JobRow, error) {
				return c.JobRetry(ctx, id)
			}),
		act("cancel", "Cancel jobs: waiting ones at once, running ones when their worker sees the cancellation",
			func(ctx context.Context, c *jobs.Client, id int64) (*rivertype.JobRow, error) {
				return c.JobCancel(ctx, id)
			}),
	)
	return cmd
}

// withJobs connects to DATABASE_URL and runs fn with an insert-only River client.
func withJobs(cmd *cobra.Command, fn func(ctx context.Context, c *jobs.Client) error) error {
	l, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	pool, err := db.NewPool(ctx, db.PoolConfig{
		URL: l.cfg.DatabaseURL, MaxConns: 2, ConnectTimeout: l.cfg.DBConnectTimeout, AcquireTimeout: l.cfg.DBAcquireTimeout,
	})
	if err != nil {
		return err
	}
	defer pool.Close()
	c, err := jobs.New(pool, db.NewStore(pool), jobs.Config{})
	if err != nil {
		return err
	}
	return fn(ctx, c)
}

var jobStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
	rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

func validState(s rivertype.JobState) bool {
	for _, v := range jobStates {
		if v == s {
			return true
		}
	}
	return false
}

func stateNames() string {
	names := make([]string, len(jobStates))
	for i, s := range jobStates {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// printJobs writes one line per job: id, kind, queue, state, attempt, when it is
// scheduled and its last error.
func printJobs(cmd *cobra.Command, rows []*rivertype.JobRow) error {
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tKIND\tQUEUE\tSTATE\tATTEMPT\tSCHEDULED\tLAST ERROR")
	for _, j := range rows {
		last := ""
		if n := len(j.Errors); n > 0 {
			last = strings.ReplaceAll(j.Errors[n-1].Error, "\n", " ")
			if len(last) > 80 {
				last = last[:77] + "..."
			}
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Kind, j.Queue, j.State, j.Attempt, j.MaxAttempts,
			j.ScheduledAt.UTC().Format(time.RFC3339), last)
	}
	return w.Flush()
}
