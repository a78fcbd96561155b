// Package drift tells whether a live database still is what its applied migrations
// produce: it replays the migration files up to the live version on a scratch
// database and compares the catalog fingerprints of both (package catalog), so an
// index, column, constraint, trigger, function, view, extension or enum value changed
// by hand shows up by name.
package drift

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/migrate/catalog"
)

// Result is the outcome of Check.
type Result struct {
	// Target is the redacted URL of the live database.
	Target string `json:"target"`
	// Version is the live database's current migration version ("" for none): files up
	// to it were replayed; later, unapplied files are not drift.
	Version string `json:"version"`
	// Pending lists the local files the live database has not applied (informational).
	Pending []string `json:"pending,omitempty"`
	// Differences lists how the live database differs from the replay.
	Differences []Difference `json:"differences"`
}

// InSync reports whether the live database matches its applied migrations.
func (r *Result) InSync() bool { return len(r.Differences) == 0 }

// Difference is one object of the live database that is not as the migrations left it.
type Difference struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Change string `json:"change"`
	Attr   string `json:"attribute,omitempty"`
	Want   string `json:"expected,omitempty"`
	Got    string `json:"actual,omitempty"`
	// Text says it in one line; Action says what a DBA can do about it.
	Text   string `json:"text"`
	Action string `json:"action"`
}

// Check compares the live database at liveURL with what the engine's migration files
// produce up to the live version, replayed on the clean database at scratchURL (which
// it fills). The live database is only read, in a READ ONLY transaction. It fails when
// atlas.sum does not match the files, the live database has no migration history or a
// version the files do not have, or a database cannot be read.
func Check(ctx context.Context, e *migrate.Engine, liveURL, scratchURL string) (*Result, error) {
	st, err := e.Status(ctx, liveURL)
	if err != nil {
		return nil, err
	}
	if st.NotClean != "" {
		return nil, fmt.Errorf("%s has no migration history (%s): adopt it with `api migrate apply --baseline VERSION` first", db.RedactURL(liveURL), st.NotClean)
	}
	res := &Result{Target: db.RedactURL(liveURL), Version: st.Current, Pending: st.Pending}
	if st.Current != "" {
		if _, err := e.Apply(ctx, scratchURL, migrate.ApplyOptions{To: st.Current}); err != nil {
			return nil, fmt.Errorf("replay migrations up to %s: %w", st.Current, err)
		}
	}
	want, err := readCatalog(ctx, scratchURL)
	if err != nil {
		return nil, err
	}
	got, err := readCatalog(ctx, liveURL)
	if err != nil {
		return nil, err
	}
	for _, d := range catalog.Compare(want, got) {
		res.Differences = append(res.Differences, Difference{
			Kind: string(d.Kind), Name: d.Name, Change: string(d.Change), Attr: d.Attr, Want: d.Want, Got: d.Got,
			Text: d.String(), Action: action(d),
		})
	}
	return res, nil
}

// readCatalog reads the fingerprint of the database at url in a READ ONLY transaction.
func readCatalog(ctx context.Context, url string) (*catalog.Catalog, error) {
	var c *catalog.Catalog
	err := migrate.ReadOnly(ctx, url, func(tx *sql.Tx) (err error) {
		c, err = catalog.Read(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the catalog of %s: %w", db.RedactURL(url), err)
	}
	return c, nil
}

// action says what a DBA can do about d.
func action(d catalog.Difference) string {
	switch d.Change {
	case catalog.Missing:
		if d.Kind == catalog.KindIndex {
			// On a live table the index is rebuilt without blocking writes.
			def := strings.Replace(d.Want, " INDEX ", " INDEX CONCURRENTLY ", 1)
			return fmt.Sprintf("it was dropped outside migrations: recreate it (%s), or write a migration that drops it for good", oneLine(def))
		}
		if d.Want != "" {
			return fmt.Sprintf("it was dropped outside migrations: recreate it (%s), or write a migration that drops it for good", oneLine(d.Want))
		}
		return "it was dropped outside migrations: recreate it as the migrations define it, or write a migration that drops it for good"
	case catalog.Unexpected:
		return "it was created outside migrations: drop it, or describe it in schema/ and commit the migration `api migrate diff` writes"
	default:
		return fmt.Sprintf("its %s was changed outside migrations: set it back to %s, or make the change in schema/ and commit a migration", d.Attr, quoteOrUnset(d.Want))
	}
}

func oneLine(s string) string {
	const limit = 200
	out := []rune{}
	space := false
	for _, r := range s {
		if r == '\n' || r == '\t' || r == ' ' {
			space = true
			continue
		}
		if space && len(out) > 0 {
			out = append(out, ' ')
		}
		space = false
		out = append(out, r)
	}
	if len(out) > limit {
		return string(out[:limit]) + "…"
	}
	return string(out)
}

func quoteOrUnset(s string) string {
	if s == "" {
		return "unset"
	}
	return fmt.Sprintf("%q", oneLine(s))
}

// Formats Write accepts.
var Formats = []string{"text", "json"}

// Write renders res in format ("text" or "json") to w.
func Write(w io.Writer, res *Result, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "text", "":
	default:
		return fmt.Errorf("--format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
	var b strings.Builder
	version := res.Version
	if version == "" {
		version = "none"
	}
	if res.InSync() {
		fmt.Fprintf(&b, "No drift: %s matches its applied migrations (version %s).\n", res.Target, version)
	} else {
		fmt.Fprintf(&b, "Drift: %s differs from what its applied migrations (up to version %s) produce, in %d way(s):\n", res.Target, version, len(res.Differences))
		for _, d := range res.Differences {
			fmt.Fprintf(&b, "  - %s\n    %s\n", d.Text, d.Action)
		}
	}
	if len(res.Pending) > 0 {
		fmt.Fprintf(&b, "(%d local migration file(s) not applied there yet; that is not drift.)\n", len(res.Pending))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
