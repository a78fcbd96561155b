// Package jobs runs Quarry's background work on River (github.com/riverqueue/river):
// jobs are rows in the application's own PostgreSQL database (schema/river.sql),
// enqueued inside the caller's transaction, worked by `api worker` or by `api serve`
// with WORKERS_ENABLED, and shared out across instances by the database.
//
// New builds the one River client of a process. It can always insert jobs (services
// do it through an Enqueuer, in a db.Store transaction); it works them only when
// Config.Work is set and it was started with Start. The periodic maintenance jobs (see maintenance.go) are enqueued
// by the elected leader among the working clients, so each runs once per interval
// whatever the number of instances.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/quarrydev/quarry/internal/db"
)

// Queue names.
const (
	// QueueDefault takes the jobs services enqueue.
	QueueDefault = river.QueueDefault
	// QueueMaintenance takes the periodic maintenance jobs, so a backlog of service
	// jobs never delays them (and the other way round).
	QueueMaintenance = "maintenance"
)

// Client is the River client over pgx.
type Client = river.Client[pgx.Tx]

// Config configures a River client.
type Config struct {
	// Work makes the client work jobs once started; otherwise it only inserts.
	Work bool
	// Queues maps each worked queue to its concurrency (see ParseQueues).
	Queues map[string]int
	// PollInterval is how often each queue looks for jobs besides being notified of
	// inserts; 0 means River's default (1s).
	PollInterval time.Duration
	// TokenPruneInterval is how often expired refresh tokens are deleted; 0 turns
	// the periodic job off.
	TokenPruneInterval time.Duration
	// TokenPruneGrace keeps refresh tokens for this long after they expired.
	TokenPruneGrace time.Duration
	// KeyPruneInterval is how often expired idempotency keys are deleted; 0 turns
	// the periodic job off.
	KeyPruneInterval time.Duration
	// AuditRetention is how long audit events are kept; 0 keeps them forever (no
	// periodic job). At least a day otherwise.
	AuditRetention time.Duration
	// AuditPruneInterval is how often the audit retention job runs.
	AuditPruneInterval time.Duration
	// RetryPolicy decides when a failed job runs again; nil means River's default
	// (exponential backoff, attempt⁴ seconds with jitter, up to 25 attempts).
	RetryPolicy river.ClientRetryPolicy
	// Register, when set, adds more workers (job kinds) next to Quarry's own.
	Register func(*river.Workers) error
	// Metrics, when set, counts and times every worked job.
	Metrics *Metrics
	Log     *slog.Logger
}

// ParseQueues parses queue=N entries (JOBS_QUEUES) into a queue→concurrency map. It
// fails naming the first malformed entry, a duplicated queue or a concurrency outside
// 1–10000, and when QueueMaintenance or QueueDefault is missing (the periodic jobs and
// the services' jobs need them).
func ParseQueues(entries []string) (map[string]int, error) {
	queues := map[string]int{}
	for _, e := range entries {
		name, n, ok := strings.Cut(strings.TrimSpace(e), "=")
		name = strings.TrimSpace(name)
		c, err := strconv.Atoi(strings.TrimSpace(n))
		if !ok || name == "" || err != nil {
			return nil, fmt.Errorf("%q: want queue=N", e)
		}
		if c < 1 || c > 10000 {
			return nil, fmt.Errorf("%q: concurrency must be between 1 and 10000", e)
		}
		if _, dup := queues[name]; dup {
			return nil, fmt.Errorf("queue %q is listed twice", name)
		}
		queues[name] = c
	}
	for _, need := range []string{QueueDefault, QueueMaintenance} {
		if _, ok := queues[need]; !ok {
			return nil, fmt.Errorf("queue %q is missing", need)
		}
	}
	return queues, nil
}

// New returns the River client of pool for cfg, with Quarry's maintenance jobs
// (working through store) and cfg.Register's registered. It fails when River refuses
// the configuration (e.g. an invalid queue name) or a worker.
func New(pool *db.Pool, store *db.Store, cfg Config) (*Client, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &pruneTokensWorker{store: store}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &pruneAuditWorker{store: store}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &pruneKeysWorker{store: store}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if cfg.Register != nil {
		if err := cfg.Register(workers); err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
	}
	rc := &river.Config{
		Logger:            cfg.Log.With("component", "jobs"),
		Workers:           workers,
		FetchPollInterval: cfg.PollInterval,
		RetryPolicy:       cfg.RetryPolicy,
		ErrorHandler:      &errorLogger{log: cfg.Log},
	}
	if cfg.Metrics != nil {
		rc.Middleware = []rivertype.Middleware{cfg.Metrics.middleware()}
	}
	if cfg.PollInterval > 0 && cfg.PollInterval < time.Second {
		// River's cooldown between fetches defaults to 100ms and must not exceed the
		// poll interval.
		rc.FetchCooldown = min(cfg.PollInterval, 100*time.Millisecond)
	}
	if cfg.Work {
		rc.Queues = make(map[string]river.QueueConfig, len(cfg.Queues))
		for name, n := range cfg.Queues {
			rc.Queues[name] = river.QueueConfig{MaxWorkers: n}
		}
		rc.PeriodicJobs = periodicJobs(cfg)
	}
	client, err := river.NewClient(riverpgxv5.New(pool.Raw()), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return client, nil
}

// Stop stops a started client within ctx: it stops fetching jobs and waits for the
// running ones to finish. When ctx ends first, the running jobs' contexts are
// cancelled; a job that returns then is retried, and one that does not is rescued by
// River and retried later (after RescueStuckJobsAfter, one hour). It returns nil after a
// clean stop, else an error saying that jobs were cut off.
func Stop(ctx context.Context, client *Client) error {
	err := client.Stop(ctx)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if cerr := client.StopAndCancel(cctx); cerr != nil {
		return fmt.Errorf("jobs: running jobs did not stop after cancellation: %w", cerr)
	}
	return errors.New("jobs: running jobs were cancelled at the shutdown timeout; they will be retried")
}

// errorLogger logs the jobs that fail or panic; River retries them by its policy.
type errorLogger struct{ log *slog.Logger }

func (e *errorLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	e.log.WarnContext(ctx, "job failed", "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempt, "max_attempts", job.MaxAttempts, "error", err)
	return nil
}

func (e *errorLogger) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	e.log.ErrorContext(ctx, "job panicked", "job_id", job.ID, "kind", job.Kind, "attempt", job.Attempt, "panic", fmt.Sprint(panicVal), "stack", trace)
	return nil
}

// ErrNotInTx is returned by Enqueuer.Enqueue for queries that do not run in a
// transaction of the store: a job is enqueued together with the writes it follows.
var ErrNotInTx = errors.New("jobs: enqueue needs the queries of a store transaction (db.Store.InTx)")

// Enqueuer enqueues jobs in the caller's transaction: the job exists once the
// transaction commits, and not at all when it rolls back.
type Enqueuer struct{ client *Client }

// NewEnqueuer returns an Enqueuer inserting with client.
func NewEnqueuer(client *Client) *Enqueuer { return &Enqueuer{client: client} }

// Enqueue inserts the job args (with opts, nil for the kind's defaults) in the
// transaction q belongs to and returns its id. It fails with ErrNotInTx when q is not
// a store transaction's, or with River's error (e.g. an unregistered kind).
func (e *Enqueuer) Enqueue(ctx context.Context, q db.Querier, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	tx, ok := db.TxOf(q)
	if !ok {
		return 0, ErrNotInTx
	}
	res, err := e.client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// CompleteInTx marks job completed in the transaction q belongs to, so that what the
// job wrote there and its completion commit together (an outbox: the effect is
// recorded exactly once even when the worker dies between the two). It fails with
// ErrNotInTx when q is not a store transaction's, or with River's error.
func CompleteInTx[T river.JobArgs](ctx context.Context, q db.Querier, job *river.Job[T]) error {
	tx, ok := db.TxOf(q)
	if !ok {
		return ErrNotInTx
	}
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
		return fmt.Errorf("complete job %d: %w", job.ID, err)
	}
	return nil
}
