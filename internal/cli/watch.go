package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"

	"github.com/quarrydev/quarry/internal/gen"
	"github.com/quarrydev/quarry/internal/migrate"
)

// devBinary is where `api dev --watch` builds the server it runs.
const devBinary = ".data/api-dev"

// watcher is the loop of `api dev --watch`: on every change of schema/, queries/ or a
// Go file it regenerates, brings the dev database to schema/, rebuilds and restarts
// the server, keeping the last good one running when a step fails.
type watcher struct {
	dbURL            string
	allowDestructive bool
	out              io.Writer
	server           *exec.Cmd
}

// run serves until ctx ends, rebuilding after every change.
func (w *watcher) run(ctx context.Context) error {
	defer w.stop()
	last := snapshot()
	w.cycle(ctx)
	last = snapshot()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		cur := snapshot()
		if cur == last {
			continue
		}
		// Let a burst of saves settle.
		time.Sleep(300 * time.Millisecond)
		fmt.Fprintln(w.out, "change detected: rebuilding")
		w.cycle(ctx)
		last = snapshot()
	}
}

// cycle runs every step once; a failing step is printed and ends the cycle, leaving
// the running server as it is.
func (w *watcher) cycle(ctx context.Context) {
	if err := w.steps(ctx); err != nil {
		fmt.Fprintf(w.out, "error: %v\n(the last good server keeps running)\n", err)
	}
}

func (w *watcher) steps(ctx context.Context) error {
	e, err := migrate.New(migrate.Config{DevURL: os.Getenv("DEV_DATABASE_URL")})
	if err != nil {
		return err
	}
	desired, err := e.DesiredRealm(ctx, w.dbURL)
	if err != nil {
		return err
	}
	if err := regenerateModules(desired, w.out); err != nil {
		return err
	}
	if err := w.exec(ctx, "go", "tool", "-modfile=tools/go.mod", "sqlc", "generate"); err != nil {
		return err
	}
	if err := w.exec(ctx, "go", "generate", "./internal/db"); err != nil {
		return err
	}
	if err := w.syncDatabase(ctx, desired); err != nil {
		return err
	}
	if res, err := e.Diff(ctx, w.dbURL, migrate.DiffOptions{Name: "watch", Check: true, AllowDestructive: true}); err != nil {
		fmt.Fprintf(w.out, "migrate diff: %v\n", err)
	} else if res.Changed() {
		fmt.Fprintln(w.out, "`make generate NAME=…` will write this migration:")
		for _, s := range res.Statements {
			fmt.Fprintf(w.out, "  %s;\n", s)
		}
	}
	if err := w.exec(ctx, "go", "build", "-o", devBinary, "./cmd/api"); err != nil {
		return err
	}
	if err := w.exec(ctx, devBinary, "openapi", "-o", "api/openapi.yaml"); err != nil {
		return err
	}
	w.stop()
	w.server = exec.Command(devBinary, "serve")
	w.server.Stdout, w.server.Stderr = w.out, w.out
	if err := w.server.Start(); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	fmt.Fprintf(w.out, "server restarted (pid %d)\n", w.server.Process.Pid)
	return nil
}

// regenerateModules rewrites every generated module from desired.
func regenerateModules(desired *schema.Realm, out io.Writer) error {
	mods, err := gen.Generated(".")
	if err != nil {
		return err
	}
	for name, line := range mods {
		o, err := gen.ParseCommand(line)
		if err != nil {
			return err
		}
		_, files, err := render(desired, o)
		if err != nil {
			return fmt.Errorf("module %s: %w", name, err)
		}
		if stale := gen.Stale(".", files); len(stale) > 0 {
			if _, err := gen.Write(".", files); err != nil {
				return err
			}
			fmt.Fprintf(out, "regenerated %s\n", strings.Join(stale, ", "))
		}
	}
	return nil
}

// syncDatabase applies the difference between the dev database's public schema and
// desired directly, without a migration file. Changes that lose data (dropped
// tables or columns) are refused unless allowed.
func (w *watcher) syncDatabase(ctx context.Context, desired *schema.Realm) error {
	conn, closeConn, err := migrate.OpenConn(ctx, w.dbURL)
	if err != nil {
		return err
	}
	defer closeConn()
	drv, err := postgres.Open(conn)
	if err != nil {
		return fmt.Errorf("open migration driver: %w", err)
	}
	current, err := drv.InspectSchema(ctx, "public", nil)
	if err != nil {
		return fmt.Errorf("inspect the dev database: %w", err)
	}
	want, ok := desired.Schema("public")
	if !ok {
		return errors.New("schema/ describes no public schema")
	}
	changes, err := drv.SchemaDiff(current, want)
	if err != nil {
		return fmt.Errorf("diff the dev database: %w", err)
	}
	if len(changes) == 0 {
		return nil
	}
	if lossy := destructive(changes); len(lossy) > 0 && !w.allowDestructive {
		return fmt.Errorf("the dev database would lose data (%s): rerun with --allow-destructive to apply", strings.Join(lossy, ", "))
	}
	if err := drv.ApplyChanges(ctx, changes); err != nil {
		return fmt.Errorf("apply schema/ to the dev database: %w", err)
	}
	fmt.Fprintf(w.out, "dev database brought to schema/ (%d changes)\n", len(changes))
	return nil
}

// destructive names the changes that drop a table or a column.
func destructive(changes []schema.Change) []string {
	var out []string
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.DropTable:
			out = append(out, "drop table "+c.T.Name)
		case *schema.ModifyTable:
			for _, tc := range c.Changes {
				if d, ok := tc.(*schema.DropColumn); ok {
					out = append(out, "drop column "+c.T.Name+"."+d.C.Name)
				}
			}
		}
	}
	return out
}

// exec runs a step, printing its output (compiler and sqlc errors carry file:line).
func (w *watcher) exec(ctx context.Context, name string, args ...string) error {
	var buf bytes.Buffer
	c := exec.CommandContext(ctx, name, args...)
	c.Stdout, c.Stderr = &buf, &buf
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s %s:\n%s", name, strings.Join(args, " "), strings.TrimSpace(buf.String()))
	}
	return nil
}

// stop ends the server this watcher started, if any, and waits for it.
func (w *watcher) stop() {
	if w.server == nil || w.server.Process == nil {
		return
	}
	_ = w.server.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = w.server.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = w.server.Process.Kill()
		<-done
	}
	w.server = nil
}

// snapshot fingerprints the watched files: schema/, queries/ and every Go file
// outside generated output (their paths, sizes and modification times).
func snapshot() string {
	var b strings.Builder
	for _, root := range []string{"schema", "queries", "cmd", "internal"} {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if root == "cmd" || root == "internal" {
				if !strings.HasSuffix(p, ".go") || strings.HasPrefix(p, filepath.Join("internal", "db", "sqlc")) {
					return nil
				}
			}
			if info, err := d.Info(); err == nil {
				fmt.Fprintf(&b, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
			}
			return nil
		})
	}
	return b.String()
}
