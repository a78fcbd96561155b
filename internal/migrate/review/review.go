// Package review turns a lint analysis into the report a DBA reads in a pull request:
// per file and statement, what it does in plain words, the lock it takes and what
// that lock blocks, whether it scans or rewrites a table, the findings, the checksum
// state and, given a read-only connection to a live database, how big each touched
// table is there.
package review

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"ariga.io/atlas/sql/migrate"

	"github.com/quarrydev/quarry/internal/db"
	quarrymigrate "github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/migrate/lint"
)

// Options tune Build.
type Options struct {
	// From says how the files were chosen (lint.Selected.From).
	From string
	// TargetURL, when set, names a live database (production or a replica) read for
	// the size of each touched table. Only catalog reads run, in a READ ONLY transaction.
	TargetURL string
	// RowsThreshold and BytesThreshold flag a scan or rewrite of a table above either.
	// Defaults: 100 000 rows, 1 GiB.
	RowsThreshold, BytesThreshold int64
}

// Review is the report of a set of migration files.
type Review struct {
	From string `json:"from"`
	// Target is the redacted URL of the live database sizes come from ("" without one).
	Target string                `json:"target,omitempty"`
	Files  []*FileReview         `json:"files"`
	Tables map[string]*TableSize `json:"tables,omitempty"`
	// Blocking counts error-level findings nobody accepted; lint fails when > 0.
	Blocking int  `json:"blocking"`
	Failed   bool `json:"failed"`
}

// FileReview is one file of the report.
type FileReview struct {
	*lint.FileReport
	// Checksum is the file's state against atlas.sum: "ok", "edited" or "missing".
	Checksum string `json:"checksum"`
	// Flags name scans and rewrites of tables above the thresholds on the target.
	Flags []Flag `json:"flags,omitempty"`
}

// Flag warns of a statement that scans or rewrites a large table on the target.
type Flag struct {
	Line    int    `json:"line"`
	Table   string `json:"table"`
	Message string `json:"message"`
}

// TableSize is what the target database says about a table.
type TableSize struct {
	// Rows is the planner's estimate (pg_class.reltuples); -1 when never analyzed.
	Rows int64 `json:"rows_estimate"`
	// Bytes is the table's size with indexes and TOAST (pg_total_relation_size).
	Bytes int64 `json:"bytes"`
	// Missing is set when the table does not exist on the target yet.
	Missing bool `json:"missing,omitempty"`
}

// Checksum states of a file against atlas.sum.
const (
	ChecksumOK      = "ok"
	ChecksumEdited  = "edited"
	ChecksumMissing = "missing"
)

// Build assembles the review of rep for the files of dir. It fails when atlas.sum
// cannot be read or the target database cannot be queried.
func Build(ctx context.Context, dir migrate.Dir, rep *lint.Report, opts Options) (*Review, error) {
	if opts.RowsThreshold <= 0 {
		opts.RowsThreshold = 100_000
	}
	if opts.BytesThreshold <= 0 {
		opts.BytesThreshold = 1 << 30
	}
	rv := &Review{From: opts.From, Failed: rep.Failed()}
	_, rv.Blocking, _ = rep.Counts()
	stored, current, err := sums(dir)
	if err != nil {
		return nil, err
	}
	for _, f := range rep.Files {
		fr := &FileReview{FileReport: f, Checksum: ChecksumOK}
		want, err := stored.SumByName(f.Name)
		got, _ := current.SumByName(f.Name)
		switch {
		case err != nil:
			fr.Checksum = ChecksumMissing
		case want != got:
			fr.Checksum = ChecksumEdited
		}
		rv.Files = append(rv.Files, fr)
	}
	if opts.TargetURL == "" {
		return rv, nil
	}
	rv.Target = db.RedactURL(opts.TargetURL)
	if rv.Tables, err = tableSizes(ctx, opts.TargetURL, touched(rep)); err != nil {
		return nil, err
	}
	for _, fr := range rv.Files {
		for _, st := range fr.Statements {
			if !st.Effect.Scans && !st.Effect.Rewrites {
				continue
			}
			for _, t := range st.Effect.Tables {
				size := rv.Tables[t]
				if size == nil || size.Missing || (size.Rows < opts.RowsThreshold && size.Bytes < opts.BytesThreshold) {
					continue
				}
				what := "scans"
				if st.Effect.Rewrites {
					what = "rewrites"
				}
				fr.Flags = append(fr.Flags, Flag{Line: st.Line, Table: t, Message: fmt.Sprintf(
					"%s %s (≈%s rows, %s on the target) under %s", what, t, count(size.Rows), bytes(size.Bytes), st.Effect.Lock)})
			}
		}
	}
	return rv, nil
}

// sums returns atlas.sum as stored and as the files hash now.
func sums(dir migrate.Dir) (stored, current migrate.HashFile, err error) {
	b, err := fs.ReadFile(dir, migrate.HashFileName)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("read %s: %w", migrate.HashFileName, err)
	}
	if err == nil {
		if err := stored.UnmarshalText(b); err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", migrate.HashFileName, err)
		}
	}
	if current, err = dir.Checksum(); err != nil {
		return nil, nil, fmt.Errorf("hash migrations: %w", err)
	}
	return stored, current, nil
}

// touched returns the existing tables the statements of rep lock, in order of
// first appearance.
func touched(rep *lint.Report) []string {
	var out []string
	for _, f := range rep.Files {
		for _, st := range f.Statements {
			for _, t := range st.Effect.Tables {
				if !slices.Contains(out, t) {
					out = append(out, t)
				}
			}
		}
	}
	return out
}

// tableSizes reads the row estimate and size of tables on the database at url,
// inside a READ ONLY transaction.
func tableSizes(ctx context.Context, url string, tables []string) (map[string]*TableSize, error) {
	out := map[string]*TableSize{}
	err := quarrymigrate.ReadOnly(ctx, url, func(tx *sql.Tx) error {
		for _, t := range tables {
			size := &TableSize{}
			var rows sql.NullFloat64
			var bytes sql.NullInt64
			err := tx.QueryRowContext(ctx, `
SELECT c.reltuples::float8, pg_total_relation_size(c.oid)
FROM pg_class c WHERE c.oid = to_regclass($1)`, t).Scan(&rows, &bytes)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				size.Missing = true
			case err != nil:
				return fmt.Errorf("size of %s: %w", t, err)
			default:
				size.Rows, size.Bytes = int64(rows.Float64), bytes.Int64
			}
			out[t] = size
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", db.RedactURL(url), err)
	}
	return out, nil
}
