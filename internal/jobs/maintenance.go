package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// PruneTokensArgs is the periodic job that deletes refresh tokens that expired more
// than GraceSeconds ago. Every refresh stores a new token and keeps the used one until it
// expires, so without it the table only grows; expired tokens are refused anyway, so
// deleting them changes no session.
type PruneTokensArgs struct {
	GraceSeconds int64 `json:"grace_seconds"`
}

// Kind is the job kind, as stored in river_job.kind.
func (PruneTokensArgs) Kind() string { return "prune_refresh_tokens" }

// InsertOpts implements river.JobArgsWithInsertOpts: see maintenanceOpts.
func (PruneTokensArgs) InsertOpts() river.InsertOpts { return maintenanceOpts() }

// maintenanceOpts puts a maintenance job on its queue, once per kind while one waits
// or runs, with 5 attempts.
func maintenanceOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMaintenance, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByState: pendingStates}}
}

// PruneResult is the recorded output of a prune job (shown in the jobs console).
type PruneResult struct {
	Deleted int64     `json:"deleted"`
	Before  time.Time `json:"before"`
}

// pendingStates are the states in which a maintenance job makes another of its kind
// redundant.
var pendingStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

type pruneTokensWorker struct {
	river.WorkerDefaults[PruneTokensArgs]
	store *db.Store
}

// Work deletes the tokens that expired before now − grace and records how many.
func (w *pruneTokensWorker) Work(ctx context.Context, job *river.Job[PruneTokensArgs]) error {
	before := time.Now().Add(-time.Duration(job.Args.GraceSeconds) * time.Second)
	n, err := PruneTokens(ctx, w.store, before)
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, PruneResult{Deleted: n, Before: before.UTC()})
}

// pruneBatch is how many tokens one statement of PruneTokens deletes at most.
const pruneBatch = 1000

// PruneTokens deletes the refresh tokens that expired before before, in batches of
// pruneBatch so that no statement holds many row locks, and returns how many it
// deleted. It fails with the delete's error, saying how many were deleted by then.
func PruneTokens(ctx context.Context, store *db.Store, before time.Time) (int64, error) {
	return inBatches("delete expired refresh tokens", func(batch int32) (int64, error) {
		return store.DeleteExpiredRefreshTokens(ctx, sqlc.DeleteExpiredRefreshTokensParams{Before: before, BatchSize: batch})
	})
}

// inBatches calls del with pruneBatch until it deletes fewer, and returns how many it
// deleted in all; an error of del is returned as what failed, with the count so far.
func inBatches(what string, del func(batch int32) (int64, error)) (int64, error) {
	var total int64
	for {
		n, err := del(pruneBatch)
		total += n
		if err != nil {
			return total, fmt.Errorf("%s (%d deleted): %w", what, total, err)
		}
		if n < pruneBatch {
			return total, nil
		}
	}
}

// Timeout bounds one run; the delete is a single statement on an indexed column.
func (w *pruneTokensWorker) Timeout(*river.Job[PruneTokensArgs]) time.Duration {
	return 5 * time.Minute
}

// PruneAuditArgs is the periodic job of audit retention: it deletes the audit events
// older than KeepSeconds, through audit_events_prune (schema/audit.sql), the one way
// rows leave the append-only audit log.
type PruneAuditArgs struct {
	KeepSeconds int64 `json:"keep_seconds"`
}

// Kind is the job kind, as stored in river_job.kind.
func (PruneAuditArgs) Kind() string { return "prune_audit_events" }

// InsertOpts implements river.JobArgsWithInsertOpts: see maintenanceOpts.
func (PruneAuditArgs) InsertOpts() river.InsertOpts { return maintenanceOpts() }

type pruneAuditWorker struct {
	river.WorkerDefaults[PruneAuditArgs]
	store *db.Store
}

// Work deletes the audit events older than the retention, in batches, and records
// how many.
func (w *pruneAuditWorker) Work(ctx context.Context, job *river.Job[PruneAuditArgs]) error {
	total, err := inBatches("delete old audit events", func(batch int32) (n int64, err error) {
		// The query is a SELECT of a function that deletes: in a transaction, so the
		// store runs it on the primary, never on a read replica.
		err = w.store.InTx(ctx, func(q db.Querier) error {
			n, err = q.PruneAuditEvents(ctx, sqlc.PruneAuditEventsParams{KeepSeconds: job.Args.KeepSeconds, BatchSize: batch})
			return err
		})
		return n, err
	})
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, PruneResult{Deleted: total, Before: time.Now().Add(-time.Duration(job.Args.KeepSeconds) * time.Second).UTC()})
}

// Timeout bounds one run.
func (w *pruneAuditWorker) Timeout(*river.Job[PruneAuditArgs]) time.Duration {
	return 30 * time.Minute
}

// PruneIdempotencyKeysArgs is the periodic job that deletes the orders' idempotency
// keys that expired (an expired key is reclaimed by the next request that uses it
// anyway; deleting them only saves space).
type PruneIdempotencyKeysArgs struct{}

// Kind is the job kind, as stored in river_job.kind.
func (PruneIdempotencyKeysArgs) Kind() string { return "prune_idempotency_keys" }

// InsertOpts implements river.JobArgsWithInsertOpts: see maintenanceOpts.
func (PruneIdempotencyKeysArgs) InsertOpts() river.InsertOpts { return maintenanceOpts() }

type pruneKeysWorker struct {
	river.WorkerDefaults[PruneIdempotencyKeysArgs]
	store *db.Store
}

// Work deletes the expired keys in batches and records how many.
func (w *pruneKeysWorker) Work(ctx context.Context, _ *river.Job[PruneIdempotencyKeysArgs]) error {
	now := time.Now()
	n, err := inBatches("delete expired idempotency keys", func(batch int32) (int64, error) {
		return w.store.DeleteExpiredOrderIdempotencyKeys(ctx, sqlc.DeleteExpiredOrderIdempotencyKeysParams{Now: now, MaxRows: batch})
	})
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, PruneResult{Deleted: n, Before: now.UTC()})
}

// periodicJobs returns the maintenance jobs cfg turns on, each run at start and then
// every interval.
func periodicJobs(cfg Config) []*river.PeriodicJob {
	var out []*river.PeriodicJob
	if cfg.KeyPruneInterval > 0 {
		out = append(out, river.NewPeriodicJob(
			river.PeriodicInterval(cfg.KeyPruneInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PruneIdempotencyKeysArgs{}, nil },
			&river.PeriodicJobOpts{ID: PruneIdempotencyKeysArgs{}.Kind(), RunOnStart: true},
		))
	}
	if cfg.AuditRetention > 0 && cfg.AuditPruneInterval > 0 {
		keep := int64(cfg.AuditRetention / time.Second)
		out = append(out, river.NewPeriodicJob(
			river.PeriodicInterval(cfg.AuditPruneInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PruneAuditArgs{KeepSeconds: keep}, nil },
			&river.PeriodicJobOpts{ID: PruneAuditArgs{}.Kind(), RunOnStart: true},
		))
	}
	if cfg.TokenPruneInterval > 0 {
		grace := int64(cfg.TokenPruneGrace / time.Second)
		out = append(out, river.NewPeriodicJob(
			river.PeriodicInterval(cfg.TokenPruneInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PruneTokensArgs{GraceSeconds: grace}, nil },
			&river.PeriodicJobOpts{ID: PruneTokensArgs{}.Kind(), RunOnStart: true},
		))
	}
	return out
}
