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

// InsertOpts puts the job on the maintenance queue, once per kind while one waits or
// runs.
func (PruneTokensArgs) InsertOpts() river.InsertOpts {
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
	var total int64
	for {
		n, err := store.DeleteExpiredRefreshTokens(ctx, sqlc.DeleteExpiredRefreshTokensParams{Before: before, BatchSize: pruneBatch})
		total += n
		if err != nil {
			return total, fmt.Errorf("delete expired refresh tokens (%d deleted): %w", total, err)
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

// periodicJobs returns the maintenance jobs cfg turns on, each run at start and then
// every interval.
func periodicJobs(cfg Config) []*river.PeriodicJob {
	var out []*river.PeriodicJob
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
