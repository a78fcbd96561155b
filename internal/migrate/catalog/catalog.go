// Package catalog takes a fingerprint of the user objects of a PostgreSQL database, read
// from pg_catalog, and compares two fingerprints object by object.
//
// A fingerprint covers schemas, tables, columns (type, default, nullability, identity,
// generated expression, collation), constraints (definition and validity), indexes
// (definition and validity), views and materialized views, functions and procedures,
// triggers, enum types with their value order, extensions, sequences, row-level
// security policies, and the comments on all of them. It leaves out the system schemas,
// the migration revisions schema (atlas_schema_revisions) and every object that belongs
// to an extension.
//
// Definitions come from PostgreSQL's own deparsers (pg_get_constraintdef,
// pg_get_indexdef, pg_get_viewdef, pg_get_functiondef, pg_get_triggerdef), so two
// databases built from different but equivalent SQL compare equal, and the text is what
// a DBA would type to recreate the object.
package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
)

// Kind names a kind of database object.
type Kind string

// The kinds of objects a Catalog holds.
const (
	KindSchema           Kind = "schema"
	KindTable            Kind = "table"
	KindColumn           Kind = "column"
	KindConstraint       Kind = "constraint"
	KindIndex            Kind = "index"
	KindView             Kind = "view"
	KindMaterializedView Kind = "materialized view"
	KindFunction         Kind = "function"
	KindTrigger          Kind = "trigger"
	KindEnum             Kind = "enum type"
	KindExtension        Kind = "extension"
	KindSequence         Kind = "sequence"
	KindPolicy           Kind = "policy"
)

// Attribute names used in Object.Attrs. Which attributes an object has depends on its kind.
const (
	AttrType       = "type"       // column: format_type; sequence: data type
	AttrDefault    = "default"    // column: default expression
	AttrNotNull    = "not null"   // column: "yes" or "no"
	AttrIdentity   = "identity"   // column: "", "always" or "by default"
	AttrGenerated  = "generated"  // column: stored generation expression
	AttrCollation  = "collation"  // column: collation when not the type's default
	AttrDefinition = "definition" // constraint, index, view, materialized view, function, trigger, policy
	AttrValid      = "valid"      // constraint, index: "yes" or "no"
	AttrEnabled    = "enabled"    // trigger: pg_trigger.tgenabled in words
	AttrValues     = "values"     // enum: labels in sort order, comma-separated
	AttrVersion    = "version"    // extension
	AttrSchema     = "schema"     // extension: schema it lives in
	AttrOptions    = "options"    // sequence: start, increment, bounds, cache, cycle; view: reloptions
	AttrOwnedBy    = "owned by"   // sequence: owning column
	AttrRLS        = "row level security"
	AttrComment    = "comment"
)

// Object is one database object of a fingerprint.
type Object struct {
	// Kind of the object.
	Kind Kind
	// Name is schema-qualified; objects that live in a table (columns, constraints,
	// triggers, policies) are named schema.table.name; functions carry their argument
	// types: schema.name(args). Extensions are unqualified.
	Name string
	// Table is the schema-qualified table of a column, constraint, index, trigger or
	// policy; "" for other kinds.
	Table string
	// Attrs maps attribute names (the Attr* constants) to values. Empty values are
	// omitted.
	Attrs map[string]string
	// Requires names the tables, views and materialized views a view or materialized
	// view reads from (so they must exist first); nil for other kinds.
	Requires []string
}

// Definition returns the object's AttrDefinition, "" when it has none.
func (o Object) Definition() string { return o.Attrs[AttrDefinition] }

// Catalog is the fingerprint of one database: its objects ordered by kind and name.
type Catalog struct {
	Objects []Object
}

// Find returns the object of kind named name.
func (c *Catalog) Find(kind Kind, name string) (Object, bool) {
	i := sort.Search(len(c.Objects), func(i int) bool { return !less(c.Objects[i], kind, name) })
	if i < len(c.Objects) && c.Objects[i].Kind == kind && c.Objects[i].Name == name {
		return c.Objects[i], true
	}
	return Object{}, false
}

// Of returns the objects of kind, ordered by name.
func (c *Catalog) Of(kind Kind) []Object {
	var out []Object
	for _, o := range c.Objects {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

func less(o Object, kind Kind, name string) bool {
	if o.Kind != kind {
		return o.Kind < kind
	}
	return o.Name < name
}

// Querier runs read queries: a *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Read returns the fingerprint of the database q is connected to, as seen by q (inside
// a transaction, uncommitted changes included). It fails only when a catalog query
// fails.
func Read(ctx context.Context, q Querier) (*Catalog, error) {
	c := &Catalog{}
	for _, r := range readers {
		rows, err := q.QueryContext(ctx, r.query)
		if err != nil {
			return nil, fmt.Errorf("read %s catalog: %w", r.kind, err)
		}
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				o, err := r.scan(rows)
				if err != nil {
					return err
				}
				o.Kind = r.kind
				for k, v := range o.Attrs {
					if v == "" {
						delete(o.Attrs, k)
					}
				}
				c.Objects = append(c.Objects, o)
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("read %s catalog: %w", r.kind, err)
		}
	}
	sort.Slice(c.Objects, func(i, j int) bool { return less(c.Objects[i], c.Objects[j].Kind, c.Objects[j].Name) })
	return c, nil
}

// Change says how an object differs.
type Change string

// The ways an object can differ.
const (
	Missing    Change = "missing"    // in want, not in got
	Unexpected Change = "unexpected" // in got, not in want
	Differs    Change = "differs"    // in both, an attribute differs
)

// Difference is one way in which got differs from want.
type Difference struct {
	Kind   Kind
	Name   string
	Change Change
	// Attr is the attribute that differs (Differs only).
	Attr string
	// Want and Got are the attribute values (Differs), or the object's definition
	// when it has one (Missing: Want, Unexpected: Got).
	Want, Got string
}

// String describes the difference in one line, e.g.
// `constraint public.posts.posts_title_check: definition is "CHECK (…)", should be "CHECK (…)"`.
func (d Difference) String() string {
	switch d.Change {
	case Missing:
		return fmt.Sprintf("%s %s: missing", d.Kind, d.Name)
	case Unexpected:
		return fmt.Sprintf("%s %s: exists but should not", d.Kind, d.Name)
	default:
		return fmt.Sprintf("%s %s: %s is %s, should be %s", d.Kind, d.Name, d.Attr, show(d.Got), show(d.Want))
	}
}

func show(v string) string {
	if v == "" {
		return "unset"
	}
	v = strings.Join(strings.Fields(v), " ")
	if len(v) > 300 {
		v = v[:300] + "…"
	}
	return fmt.Sprintf("%q", v)
}

// Compare returns how got differs from want, ordered by kind and name: objects
// missing from got, objects got has but want has not, and attributes that differ. It
// returns nil when both fingerprints are equal.
func Compare(want, got *Catalog) []Difference {
	var out []Difference
	i, j := 0, 0
	for i < len(want.Objects) || j < len(got.Objects) {
		switch {
		case j == len(got.Objects) || (i < len(want.Objects) && less(want.Objects[i], got.Objects[j].Kind, got.Objects[j].Name)):
			w := want.Objects[i]
			out = append(out, Difference{Kind: w.Kind, Name: w.Name, Change: Missing, Want: w.Definition()})
			i++
		case i == len(want.Objects) || less(got.Objects[j], want.Objects[i].Kind, want.Objects[i].Name):
			g := got.Objects[j]
			out = append(out, Difference{Kind: g.Kind, Name: g.Name, Change: Unexpected, Got: g.Definition()})
			j++
		default:
			w, g := want.Objects[i], got.Objects[j]
			keys := make([]string, 0, len(w.Attrs)+len(g.Attrs))
			for k := range w.Attrs {
				keys = append(keys, k)
			}
			for k := range g.Attrs {
				if _, ok := w.Attrs[k]; !ok {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				if w.Attrs[k] != g.Attrs[k] {
					out = append(out, Difference{Kind: w.Kind, Name: w.Name, Change: Differs, Attr: k, Want: w.Attrs[k], Got: g.Attrs[k]})
				}
			}
			i++
			j++
		}
	}
	return out
}
