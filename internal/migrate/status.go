package migrate

import (
	"context"
	"errors"
	"fmt"

	"ariga.io/atlas/sql/migrate"
)

// Status describes how a database stands against the migration directory.
type Status struct {
	// Current is the version of the newest fully applied revision; "" when none.
	Current string
	// Applied counts revisions fully applied (a baseline counts as one).
	Applied int
	// Pending lists the files still to apply, in order.
	Pending []string
	// Failed is set when the last attempt to apply a file failed.
	Failed *FailedRevision
	// NotClean is set when the database holds tables but no migration history, which
	// `apply --baseline VERSION` resolves.
	NotClean string
}

// FailedRevision is a revision whose last attempt failed.
type FailedRevision struct {
	Version   string
	File      string
	Error     string
	Statement string
}

// UpToDate reports whether nothing is pending and nothing failed.
func (s *Status) UpToDate() bool {
	return len(s.Pending) == 0 && s.Failed == nil && s.NotClean == ""
}

// Status reads the revisions of the database at url and compares them with the
// migration directory. It changes nothing in the database. It fails when atlas.sum does
// not match the files (ErrChecksum) or the database cannot be read.
func (e *Engine) Status(ctx context.Context, url string) (*Status, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	conn, drv, closeConn, err := openDriver(ctx, url)
	if err != nil {
		return nil, err
	}
	defer closeConn()
	rrw := &revisions{conn: conn}
	revs, err := rrw.ReadRevisions(ctx)
	if err != nil {
		return nil, err
	}
	st := &Status{}
	for _, r := range revs {
		if r.Applied == r.Total || r.Type.Has(migrate.RevisionTypeBaseline) {
			st.Current = r.Version
			st.Applied++
		}
	}
	if n := len(revs); n > 0 && revs[n-1].Error != "" {
		last := revs[n-1]
		st.Failed = &FailedRevision{Version: last.Version, Error: last.Error, Statement: last.ErrorStmt}
		if files, err := e.dir.Files(); err == nil {
			for _, f := range files {
				if f.Version() == last.Version {
					st.Failed.File = f.Name()
				}
			}
		}
	}
	ex, err := migrate.NewExecutor(drv, e.dir, rrw)
	if err != nil {
		return nil, fmt.Errorf("migration executor: %w", err)
	}
	pending, err := ex.Pending(ctx)
	var notClean *migrate.NotCleanError
	switch {
	case errors.Is(err, migrate.ErrNoPendingFiles):
	case errors.As(err, &notClean):
		st.NotClean = notClean.Reason
	case errors.As(err, new(*migrate.MissingMigrationError)) && st.Failed != nil:
		// The failed file was discarded: the failure stays visible, `migrate set` clears it.
		st.Failed.File = "(no longer in the migration directory)"
	case err != nil:
		return nil, fmt.Errorf("compute pending migrations: %w", err)
	}
	for _, f := range pending {
		st.Pending = append(st.Pending, f.Name())
	}
	return st, nil
}
