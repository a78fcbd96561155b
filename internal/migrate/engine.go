// Package migrate derives versioned migrations from the declarative schema and applies
// them, on top of the Atlas Go library (ariga.io/atlas).
//
// Files keep Atlas's own format (YYYYMMDDHHMMSS_name.sql plus atlas.sum) and applied
// versions are recorded in the table the Atlas CLI uses, so a project can move to the
// Atlas CLI at any time.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/quarrydev/quarry/internal/db"
)

// operatorVersion is recorded with every revision written by this engine.
const operatorVersion = "quarry"

// Config locates a project's schema and migrations.
type Config struct {
	// MigrationsDir holds the versioned migration files and atlas.sum. Default "migrations".
	MigrationsDir string
	// Dir, when set, is used instead of MigrationsDir, e.g. the migrations embedded in
	// the binary (see FSDir).
	Dir migrate.Dir
	// SchemaDir holds the declarative schema files (*.sql). Default "schema".
	SchemaDir string
	// DevURL, when set, names a clean database that Diff may use for its work instead of
	// creating a throwaway one on the target server.
	DevURL string
	// Out receives progress lines; nil discards them.
	Out io.Writer
}

// Engine plans and applies the migrations of one project.
type Engine struct {
	cfg Config
	dir migrate.Dir
}

// New returns an Engine for cfg. It fails when the migrations directory cannot be
// opened (it is created when missing).
func New(cfg Config) (*Engine, error) {
	if cfg.MigrationsDir == "" {
		cfg.MigrationsDir = "migrations"
	}
	if cfg.SchemaDir == "" {
		cfg.SchemaDir = "schema"
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Dir != nil {
		return &Engine{cfg: cfg, dir: cfg.Dir}, nil
	}
	if err := os.MkdirAll(cfg.MigrationsDir, 0o755); err != nil {
		return nil, fmt.Errorf("migrations directory: %w", err)
	}
	dir, err := migrate.NewLocalDir(cfg.MigrationsDir)
	if err != nil {
		return nil, fmt.Errorf("migrations directory %s: %w", cfg.MigrationsDir, err)
	}
	return &Engine{cfg: cfg, dir: dir}, nil
}

// ApplyDir applies every pending migration file of migrationsDir to the database at
// databaseURL. It is the short form of New + Apply used by tooling and tests.
func ApplyDir(ctx context.Context, databaseURL, migrationsDir string) error {
	e, err := New(Config{MigrationsDir: migrationsDir})
	if err != nil {
		return err
	}
	_, err = e.Apply(ctx, databaseURL, ApplyOptions{})
	return err
}

// FSDir returns the migration files (*.sql and atlas.sum) at the root of fsys as a
// directory the Engine can read, e.g. the files embedded in the binary.
func FSDir(fsys fs.FS) (migrate.Dir, error) {
	names, err := fs.Glob(fsys, "*")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	dir := &migrate.MemDir{}
	for _, name := range names {
		if !strings.HasSuffix(name, ".sql") && name != migrate.HashFileName {
			continue
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		if err := dir.WriteFile(name, b); err != nil {
			return nil, fmt.Errorf("load migration %s: %w", name, err)
		}
	}
	return dir, nil
}

func (e *Engine) printf(format string, args ...any) {
	fmt.Fprintf(e.cfg.Out, format, args...)
}

// ErrChecksum reports that the migration directory does not match atlas.sum.
var ErrChecksum = errors.New("migration directory does not match atlas.sum")

// Validate checks that atlas.sum matches the migration files. The error names the
// first file that was edited, added or removed without rehashing, and wraps ErrChecksum.
func (e *Engine) Validate() error {
	err := migrate.Validate(e.dir)
	var cerr *migrate.ChecksumError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &cerr):
		return fmt.Errorf("%w: %s was %s (atlas.sum line %d); if the change is deliberate and the file was never applied anywhere, run `api migrate hash`",
			ErrChecksum, e.path(cerr.File), cerr.Reason, cerr.Line)
	case errors.Is(err, migrate.ErrChecksumNotFound):
		return fmt.Errorf("%w: %s is missing; run `api migrate hash`", ErrChecksum, e.path(migrate.HashFileName))
	default:
		return fmt.Errorf("validate %s: %w", e.cfg.MigrationsDir, err)
	}
}

// Hash rewrites atlas.sum from the current migration files.
func (e *Engine) Hash() error {
	sum, err := e.dir.Checksum()
	if err != nil {
		return fmt.Errorf("hash %s: %w", e.cfg.MigrationsDir, err)
	}
	if err := migrate.WriteSumFile(e.dir, sum); err != nil {
		return fmt.Errorf("write %s: %w", e.path(migrate.HashFileName), err)
	}
	return nil
}

func (e *Engine) path(name string) string {
	return e.cfg.MigrationsDir + string(os.PathSeparator) + name
}

// OpenConn returns one dedicated connection to url (session state such as advisory
// locks lives on it) and a function closing it. Errors: a malformed URL, or the
// database cannot be reached.
func OpenConn(ctx context.Context, url string) (*sql.Conn, func(), error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, nil, errors.New("parse database URL: malformed URL")
	}
	sqlDB := stdlib.OpenDB(*cfg)
	conn, err := sqlDB.Conn(ctx)
	if err == nil {
		err = conn.PingContext(ctx)
	}
	if err != nil {
		sqlDB.Close()
		return nil, nil, fmt.Errorf("connect to %s: %w", db.RedactURL(url), err)
	}
	return conn, func() { conn.Close(); sqlDB.Close() }, nil
}

// openDriver returns a dedicated connection to url, Atlas's PostgreSQL driver on it and
// a function closing the connection. Errors: those of OpenConn, or the driver's.
func openDriver(ctx context.Context, url string) (*sql.Conn, migrate.Driver, func(), error) {
	conn, closeConn, err := OpenConn(ctx, url)
	if err != nil {
		return nil, nil, nil, err
	}
	drv, err := postgres.Open(conn)
	if err != nil {
		closeConn()
		return nil, nil, nil, fmt.Errorf("open migration driver: %w", err)
	}
	return conn, drv, closeConn, nil
}
