package migrate

import (
	"context"
	"database/sql"
	"encoding/json"

	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
)

// The revisions table has the name, location and columns the Atlas CLI uses, so a
// database migrated by Quarry can be handed to `atlas migrate` and back.
const (
	revisionsSchema = "atlas_schema_revisions"
	revisionsTable  = "atlas_schema_revisions"
	revisionsIdent  = `"atlas_schema_revisions"."atlas_schema_revisions"`
)

var createRevisionsDDL = []string{`CREATE SCHEMA IF NOT EXISTS "atlas_schema_revisions"`, `CREATE TABLE IF NOT EXISTS "atlas_schema_revisions"."atlas_schema_revisions" (
	"version" character varying NOT NULL,
	"description" character varying NOT NULL,
	"type" bigint NOT NULL DEFAULT 2,
	"applied" bigint NOT NULL DEFAULT 0,
	"total" bigint NOT NULL DEFAULT 0,
	"executed_at" timestamptz NOT NULL,
	"execution_time" bigint NOT NULL,
	"error" text NULL,
	"error_stmt" text NULL,
	"hash" character varying NOT NULL,
	"partial_hashes" jsonb NULL,
	"operator_version" character varying NOT NULL,
	PRIMARY KEY ("version")
)`}

// revisions reads and writes rows of the revisions table through any connection,
// transaction or pool; it implements migrate.RevisionReadWriter.
type revisions struct {
	conn schema.ExecQuerier
}

var _ migrate.RevisionReadWriter = (*revisions)(nil)

// Ident returns the location of the revisions table.
func (*revisions) Ident() *migrate.TableIdent {
	return &migrate.TableIdent{Schema: revisionsSchema, Name: revisionsTable}
}

// ensureTable creates the revisions table when it does not exist yet.
func (r *revisions) ensureTable(ctx context.Context) error {
	for _, stmt := range createRevisionsDDL {
		if _, err := r.conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create revisions table: %w", err)
		}
	}
	return nil
}

// exists reports whether the revisions table exists.
func (r *revisions) exists(ctx context.Context) (bool, error) {
	rows, err := r.conn.QueryContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, revisionsIdent)
	if err != nil {
		return false, fmt.Errorf("look up revisions table: %w", err)
	}
	defer rows.Close()
	var ok bool
	if rows.Next() {
		if err := rows.Scan(&ok); err != nil {
			return false, fmt.Errorf("look up revisions table: %w", err)
		}
	}
	return ok, rows.Err()
}

const selectRevisions = `SELECT "version", "description", "type", "applied", "total", "executed_at",
	"execution_time", coalesce("error", ''), coalesce("error_stmt", ''), "hash",
	coalesce("partial_hashes", 'null'::jsonb), "operator_version"
FROM "atlas_schema_revisions"."atlas_schema_revisions"
WHERE "version" <> '.atlas_cloud_identifier'`

// ReadRevisions returns all revisions ordered by version; none when the table does not
// exist. The row the Atlas CLI keeps for its cloud identifier is not a revision.
func (r *revisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	ok, err := r.exists(ctx)
	if err != nil || !ok {
		return nil, err
	}
	rows, err := r.conn.QueryContext(ctx, selectRevisions+` ORDER BY "version"`)
	if err != nil {
		return nil, fmt.Errorf("read revisions: %w", err)
	}
	defer rows.Close()
	var revs []*migrate.Revision
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		revs = append(revs, rev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read revisions: %w", err)
	}
	return revs, nil
}

// ReadRevision returns the revision of version, or migrate.ErrRevisionNotExist.
func (r *revisions) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	ok, err := r.exists(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, migrate.ErrRevisionNotExist
	}
	rows, err := r.conn.QueryContext(ctx, selectRevisions+` AND "version" = $1`, version)
	if err != nil {
		return nil, fmt.Errorf("read revision %s: %w", version, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read revision %s: %w", version, err)
		}
		return nil, migrate.ErrRevisionNotExist
	}
	return scanRevision(rows)
}

func scanRevision(rows *sql.Rows) (*migrate.Revision, error) {
	var (
		rev      migrate.Revision
		typ      int64
		execTime int64
		partial  []byte
	)
	if err := rows.Scan(&rev.Version, &rev.Description, &typ, &rev.Applied, &rev.Total, &rev.ExecutedAt,
		&execTime, &rev.Error, &rev.ErrorStmt, &rev.Hash, &partial, &rev.OperatorVersion); err != nil {
		return nil, fmt.Errorf("scan revision: %w", err)
	}
	rev.Type = migrate.RevisionType(typ)
	rev.ExecutionTime = time.Duration(execTime)
	if err := json.Unmarshal(partial, &rev.PartialHashes); err != nil {
		return nil, fmt.Errorf("scan revision %s partial hashes: %w", rev.Version, err)
	}
	return &rev, nil
}

// WriteRevision inserts or replaces the revision of r.Version.
// The table must exist (ensureTable).
func (r *revisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	var partial []byte
	if len(rev.PartialHashes) > 0 {
		b, err := json.Marshal(rev.PartialHashes)
		if err != nil {
			return fmt.Errorf("encode partial hashes: %w", err)
		}
		partial = b
	}
	_, err := r.conn.ExecContext(ctx, `INSERT INTO "atlas_schema_revisions"."atlas_schema_revisions"
	("version", "description", "type", "applied", "total", "executed_at", "execution_time",
	 "error", "error_stmt", "hash", "partial_hashes", "operator_version")
VALUES ($1, $2, $3, $4, $5, $6, $7, nullif($8, ''), nullif($9, ''), $10, $11::jsonb, $12)
ON CONFLICT ("version") DO UPDATE SET
	"description" = excluded."description", "type" = excluded."type", "applied" = excluded."applied",
	"total" = excluded."total", "executed_at" = excluded."executed_at",
	"execution_time" = excluded."execution_time", "error" = excluded."error",
	"error_stmt" = excluded."error_stmt", "hash" = excluded."hash",
	"partial_hashes" = excluded."partial_hashes", "operator_version" = excluded."operator_version"`,
		rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total, rev.ExecutedAt,
		int64(rev.ExecutionTime), rev.Error, rev.ErrorStmt, rev.Hash, nullableBytes(partial), rev.OperatorVersion)
	if err != nil {
		return fmt.Errorf("write revision %s: %w", rev.Version, err)
	}
	return nil
}

// DeleteRevision removes the revision of version.
func (r *revisions) DeleteRevision(ctx context.Context, version string) error {
	if _, err := r.conn.ExecContext(ctx, `DELETE FROM "atlas_schema_revisions"."atlas_schema_revisions" WHERE "version" = $1`, version); err != nil {
		return fmt.Errorf("delete revision %s: %w", version, err)
	}
	return nil
}

func nullableBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}
