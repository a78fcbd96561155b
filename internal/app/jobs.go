package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/core/metrics"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/jobs"
)

// NewJobs builds the River client of cfg on pool: it always inserts, and works the
// JOBS_QUEUES with the maintenance jobs when WORKERS_ENABLED is set (`api serve`) or
// work is forced (`api worker`, which passes a copy with WorkersEnabled true). Job
// metrics go to m when not nil. It fails naming the key of an invalid setting.
func NewJobs(cfg *config.Config, pool *db.Pool, store *db.Store, m *metrics.Metrics, log *slog.Logger, register func(*river.Workers) error) (*jobs.Client, error) {
	queues, err := jobs.ParseQueues(cfg.JobsQueues)
	if err != nil {
		return nil, fmt.Errorf("JOBS_QUEUES: %w", err)
	}
	jc := jobs.Config{
		Work:               cfg.WorkersEnabled,
		Queues:             queues,
		PollInterval:       cfg.JobsPollInterval,
		TokenPruneInterval: cfg.JobsTokenPruneInterval,
		TokenPruneGrace:    cfg.JobsTokenPruneGrace,
		KeyPruneInterval:   cfg.JobsKeyPruneInterval,
		AuditRetention:     cfg.AuditRetention,
		AuditPruneInterval: cfg.JobsAuditPruneInterval,
		Register:           register,
		Log:                log,
	}
	if m != nil {
		if jc.Metrics, err = jobs.NewMetrics(m.Registry(), pool); err != nil {
			return nil, fmt.Errorf("job metrics: %w", err)
		}
	}
	return jobs.New(pool, store, jc)
}

// stopJobs stops the job workers, if they run, within ctx (see jobs.Stop).
func (a *App) stopJobs(ctx context.Context) error {
	if a.jobs == nil || !a.cfg.WorkersEnabled {
		return nil
	}
	return jobs.Stop(ctx, a.jobs)
}

// ModuleWorkers returns the registration of the job kinds of the modules among mods
// that have background jobs (module.Worker), working with deps, and then extra's
// (when not nil). It fails naming the module whose workers River refuses.
func ModuleWorkers(mods []module.Module, deps module.Deps, extra func(*river.Workers) error) func(*river.Workers) error {
	return func(w *river.Workers) error {
		for _, m := range mods {
			if mw, ok := m.(module.Worker); ok {
				if err := mw.RegisterWorkers(w, deps); err != nil {
					return fmt.Errorf("module %s: %w", m.Name(), err)
				}
			}
		}
		if extra != nil {
			return extra(w)
		}
		return nil
	}
}
