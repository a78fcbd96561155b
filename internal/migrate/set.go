package migrate

import (
	"context"
	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
)

// Set marks the revisions table of the database at url as if the migrations were
// applied up to and including version, after a manual repair: every file up to version
// is recorded as applied (failed or partial revisions become complete, missing ones are
// added as resolved), and every revision after version is removed. It executes no
// migration statement and returns one line per revision it changed.
//
// Errors: ErrChecksum when atlas.sum is stale; an unknown version; connection and
// revisions table errors.
func (e *Engine) Set(ctx context.Context, url, version string, wait time.Duration) ([]string, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	files, err := e.dir.Files()
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	known := false
	for _, f := range files {
		known = known || f.Version() == version
	}
	if !known {
		return nil, fmt.Errorf("version %s: no migration file has it", version)
	}
	conn, drv, closeConn, err := openDriver(ctx, url)
	if err != nil {
		return nil, err
	}
	defer closeConn()
	if wait == 0 {
		wait = time.Minute
	}
	unlock, err := drv.(schema.Locker).Lock(ctx, lockName, wait)
	if err != nil {
		return nil, fmt.Errorf("acquire migration lock: %w", err)
	}
	defer unlock()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	rrw := &revisions{conn: tx}
	if err := rrw.ensureTable(ctx); err != nil {
		return nil, err
	}
	revs, err := rrw.ReadRevisions(ctx)
	if err != nil {
		return nil, err
	}
	byVersion := map[string]*migrate.Revision{}
	for _, r := range revs {
		byVersion[r.Version] = r
	}
	var changed []string
	for _, f := range files {
		if f.Version() > version {
			continue
		}
		stmts, err := f.StmtDecls()
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f.Name(), err)
		}
		rev, ok := byVersion[f.Version()]
		switch {
		case ok && rev.Applied == rev.Total && rev.Error == "":
			continue
		case ok:
			changed = append(changed, fmt.Sprintf("%s: was failed or partial (%d of %d statements), now marked applied", f.Name(), rev.Applied, rev.Total))
		default:
			changed = append(changed, fmt.Sprintf("%s: had no revision, now marked applied", f.Name()))
		}
		fresh, err := e.revision(f, len(stmts), len(stmts), 0)
		if err != nil {
			return nil, err
		}
		fresh.Type = migrate.RevisionTypeResolved
		if err := rrw.WriteRevision(ctx, fresh); err != nil {
			return nil, err
		}
	}
	for _, r := range revs {
		if r.Version > version {
			if err := rrw.DeleteRevision(ctx, r.Version); err != nil {
				return nil, err
			}
			changed = append(changed, fmt.Sprintf("revision %s (%s): removed", r.Version, r.Description))
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return changed, nil
}
