package migrate

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/migrate/catalog"
)

// Rename asks diff to rename a table or a column instead of dropping it and adding a
// new one, keeping its data and constraints.
type Rename struct {
	// Table is the table (its current name), optionally schema-qualified.
	Table string
	// Column is the column to rename; "" renames the table itself.
	Column string
	// To is the new name of the column, or of the table.
	To string
}

// ParseRename parses "table.column=new_column" or "table=new_table".
func ParseRename(s string) (Rename, error) {
	from, to, ok := strings.Cut(s, "=")
	if !ok || from == "" || to == "" || strings.Contains(to, ".") {
		return Rename{}, fmt.Errorf("--rename %q: use table.column=new_column or table=new_table", s)
	}
	if t, c, ok := strings.Cut(from, "."); ok {
		if t == "" || c == "" || strings.Contains(c, ".") {
			return Rename{}, fmt.Errorf("--rename %q: use table.column=new_column or table=new_table", s)
		}
		return Rename{Table: t, Column: c, To: to}, nil
	}
	return Rename{Table: from, To: to}, nil
}

// Statement returns the ALTER TABLE statement performing r.
func (r Rename) Statement() string {
	t := pgx.Identifier{r.Table}.Sanitize()
	if r.Column == "" {
		return fmt.Sprintf("ALTER TABLE %s RENAME TO %s", t, pgx.Identifier{r.To}.Sanitize())
	}
	return fmt.Sprintf("ALTER TABLE %s RENAME COLUMN %s TO %s", t, pgx.Identifier{r.Column}.Sanitize(), pgx.Identifier{r.To}.Sanitize())
}

// A plan is made of up to three consecutive files: enum values (they must be committed
// before any statement uses them), the main transactional changes, and the online
// steps that cannot run in a transaction block or must run in their own transactions.
const (
	partEnum = iota
	partMain
	partOnline
	nParts
)

// stmt is one planned statement with the comment written above it.
type stmt struct {
	comment string
	sql     string
}

// planner turns the differences between the replayed and the desired state into
// statements. The main part is built in sections, concatenated in this order.
type planner struct {
	current, desired       *schema.Realm
	currentCat, desiredCat *catalog.Catalog
	qualifier              *string

	enum     []stmt
	pre      []stmt // extensions, renames, drops of triggers, views, policies, constraints
	funcs    []stmt // functions, before anything that may call them
	atlas    []stmt // tables, columns, enums, primary keys, unique constraints
	post     []stmt // constraints NOT VALID, views, triggers, policies
	last     []stmt // drops of functions and extensions
	onlineDr []stmt // DROP INDEX CONCURRENTLY
	online   []stmt // CREATE INDEX CONCURRENTLY, VALIDATE, SET NOT NULL

	// consent lists changes that lose data or rewrite tables; refused lists changes
	// diff never writes.
	consent, refused []string
	// reshaped holds the tables (catalog names) whose views must be recreated because
	// a column they read changes type or goes away.
	reshaped map[string]bool
}

func (p *planner) add(dst *[]stmt, comment, format string, args ...any) {
	*dst = append(*dst, stmt{comment: comment, sql: fmt.Sprintf(format, args...)})
}

// parts returns the statements of each file.
func (p *planner) parts() [nParts][]stmt {
	var out [nParts][]stmt
	out[partEnum] = p.enum
	out[partMain] = slices.Concat(p.pre, p.funcs, p.atlas, p.post, p.last)
	out[partOnline] = slices.Concat(p.onlineDr, p.online)
	return out
}

// existing reports whether table (catalog name) exists in both states.
func (p *planner) existing(table string) bool {
	_, a := p.currentCat.Find(catalog.KindTable, table)
	_, b := p.desiredCat.Find(catalog.KindTable, table)
	return a && b
}

// bare returns the object's name without its table or schema prefix.
func bare(o catalog.Object) string {
	if o.Table != "" {
		return strings.TrimPrefix(o.Name, o.Table+".")
	}
	if i := strings.LastIndex(o.Name, "."); i >= 0 && !strings.Contains(o.Name, "(") {
		return o.Name[i+1:]
	}
	return o.Name
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// plan fills p from the Atlas changes and the catalog differences.
func (p *planner) plan(ctx context.Context, drv migrate.Driver) error {
	changes, err := drv.RealmDiff(p.current, p.desired, schema.DiffNormalized())
	if err != nil {
		return fmt.Errorf("compare schemas: %w", err)
	}
	var enumChanges, mainChanges []schema.Change
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.ModifyObject:
			if _, ok := c.To.(*schema.EnumType); ok {
				enumChanges = append(enumChanges, c)
				continue
			}
		case *schema.DropTable:
			msg := fmt.Sprintf("DROP TABLE %s deletes the table and all its rows", c.T.Name)
			if added := renamedTable(c.T, changes); added != "" {
				msg += fmt.Sprintf("; if it was renamed, pass --rename %s=%s to keep its rows", c.T.Name, added)
			}
			p.consent = append(p.consent, msg)
		case *schema.ModifyTable:
			if c = p.onlineTable(c); c == nil {
				continue
			}
		}
		mainChanges = append(mainChanges, c)
	}
	if p.enum, err = p.atlasStmts(ctx, drv, enumChanges); err != nil {
		return err
	}
	if p.atlas, err = p.atlasStmts(ctx, drv, mainChanges); err != nil {
		return err
	}
	p.constraints()
	p.indexes()
	p.extensions()
	p.sequences()
	p.functions()
	p.views()
	p.triggersAndPolicies()
	p.comments()
	return nil
}

func (p *planner) atlasStmts(ctx context.Context, drv migrate.Driver, changes []schema.Change) ([]stmt, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	var opts []migrate.PlanOption
	if p.qualifier != nil {
		opts = append(opts, func(o *migrate.PlanOptions) { o.SchemaQualifier = p.qualifier })
	}
	plan, err := drv.PlanChanges(ctx, "", changes, opts...)
	if err != nil {
		return nil, fmt.Errorf("plan migration: %w", err)
	}
	out := make([]stmt, 0, len(plan.Changes))
	for _, c := range plan.Changes {
		out = append(out, stmt{comment: c.Comment, sql: c.Cmd})
	}
	return out, nil
}

// onlineTable rewrites the changes of an existing table: indexes and CHECK / foreign
// key constraints are left to the catalog passes (online forms), SET NOT NULL goes
// through a validated CHECK, and unsafe or destructive changes are recorded. It
// returns nil when no change is left for Atlas.
func (p *planner) onlineTable(m *schema.ModifyTable) *schema.ModifyTable {
	tname := qualified(m.T)
	var keep []schema.Change
	var dropped []*schema.Column
	var added []*schema.Column
	for _, c := range m.Changes {
		switch c := c.(type) {
		case *schema.AddIndex:
			if !p.isConstraint(tname, c.I.Name) {
				continue
			}
		case *schema.DropIndex:
			if !p.isConstraint(tname, c.I.Name) {
				continue
			}
		case *schema.ModifyIndex:
			if !p.isConstraint(tname, c.To.Name) {
				continue
			}
		case *schema.RenameIndex:
			if !p.isConstraint(tname, c.From.Name) {
				continue
			}
		case *schema.AddCheck, *schema.DropCheck, *schema.ModifyCheck,
			*schema.AddForeignKey, *schema.DropForeignKey, *schema.ModifyForeignKey:
			continue
		case *schema.AddColumn:
			col := c.C
			if !col.Type.Null && col.Default == nil && !hasAttr[*postgres.Identity](col.Attrs) && !hasAttr[*schema.GeneratedExpr](col.Attrs) {
				p.refused = append(p.refused, fmt.Sprintf(
					"column %s.%s is NOT NULL without a default: adding it fails on any table holding rows. Either give it a DEFAULT in schema/ "+
						"(PostgreSQL adds a column with a constant default without rewriting the table), or add it as NULL, fill it "+
						"(UPDATE in batches, in a hand-written migration made with `api migrate new`) and make it NOT NULL in a later diff",
					m.T.Name, col.Name))
			}
			added = append(added, col)
		case *schema.DropColumn:
			dropped = append(dropped, c.C)
			p.reshape(tname)
		case *schema.ModifyColumn:
			if c.Change.Is(schema.ChangeType) {
				p.reshape(tname)
				if _, ok := c.To.Type.Type.(*schema.EnumType); ok {
					if _, was := c.From.Type.Type.(*schema.EnumType); !was {
						enum, _ := c.To.Type.Type.(*schema.EnumType)
						c.Extra = append(c.Extra, &postgres.ConvertUsing{X: fmt.Sprintf("%s::%s", pgx.Identifier{c.To.Name}.Sanitize(), enumName(enum))})
						if c.From.Default != nil {
							// The old default cannot be cast to the enum: drop it first,
							// Atlas sets the new one after the type change.
							p.add(&p.pre, "the default is set again after the type change", "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", tname, quoteIdent(c.From.Name))
							from := *c.From
							from.Default = nil
							c.From = &from
							c.Change |= schema.ChangeDefault
						}
					}
				}
			}
			if c.Change.Is(schema.ChangeNull) && c.From.Type.Null && !c.To.Type.Null {
				p.setNotNull(tname, c.To.Name)
				to := *c.To
				typ := *to.Type
				typ.Null = true
				to.Type = &typ
				c.To = &to
				if c.Change &^= schema.ChangeNull; c.Change == schema.NoChange {
					continue
				}
			}
		}
		keep = append(keep, c)
	}
	for _, d := range dropped {
		msg := fmt.Sprintf("DROP COLUMN %s.%s deletes its values", m.T.Name, d.Name)
		for _, a := range added {
			if sameType(d, a) {
				msg += fmt.Sprintf("; if it was renamed, pass --rename %s.%s=%s to keep its data and constraints", m.T.Name, d.Name, a.Name)
				break
			}
		}
		p.consent = append(p.consent, msg)
	}
	if len(keep) == 0 {
		return nil
	}
	m.Changes = keep
	return m
}

// renamedTable returns the name of a table added by changes with the same column
// names as dropped, "" when there is none.
func renamedTable(dropped *schema.Table, changes []schema.Change) string {
	names := func(t *schema.Table) string {
		var n []string
		for _, c := range t.Columns {
			n = append(n, c.Name)
		}
		sort.Strings(n)
		return strings.Join(n, ",")
	}
	for _, c := range changes {
		if add, ok := c.(*schema.AddTable); ok && names(add.T) == names(dropped) {
			return add.T.Name
		}
	}
	return ""
}

func hasAttr[T schema.Attr](attrs []schema.Attr) bool {
	for _, a := range attrs {
		if _, ok := a.(T); ok {
			return true
		}
	}
	return false
}

func sameType(a, b *schema.Column) bool {
	fa, err1 := postgres.FormatType(a.Type.Type)
	fb, err2 := postgres.FormatType(b.Type.Type)
	return err1 == nil && err2 == nil && fa == fb
}

func enumName(e *schema.EnumType) string {
	if e.Schema != nil && e.Schema.Name != "" && e.Schema.Name != "public" {
		return pgx.Identifier{e.Schema.Name, e.T}.Sanitize()
	}
	return pgx.Identifier{e.T}.Sanitize()
}

// qualified returns the catalog name of an Atlas table.
func qualified(t *schema.Table) string {
	s := "public"
	if t.Schema != nil && t.Schema.Name != "" {
		s = t.Schema.Name
	}
	return quoteIdent(s) + "." + quoteIdent(t.Name)
}

// quoteIdent quotes an identifier the way quote_ident does: only when needed.
func quoteIdent(s string) string {
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
			return pgx.Identifier{s}.Sanitize()
		}
	}
	return s
}

// isConstraint reports whether the index of table is the index of a constraint
// (primary key, unique, exclusion) in either state; such indexes are left to Atlas.
func (p *planner) isConstraint(table, index string) bool {
	name := table + "." + quoteIdent(index)
	_, a := p.currentCat.Find(catalog.KindConstraint, name)
	_, b := p.desiredCat.Find(catalog.KindConstraint, name)
	return a || b
}

func (p *planner) reshape(table string) {
	if p.reshaped == nil {
		p.reshaped = map[string]bool{}
	}
	p.reshaped[table] = true
}

// setNotNull makes a column NOT NULL without holding an ACCESS EXCLUSIVE lock during
// the scan: a CHECK added NOT VALID, validated in its own transaction, lets SET NOT
// NULL skip the scan.
func (p *planner) setNotNull(table, column string) {
	name := column
	if i := strings.LastIndex(table, "."); i >= 0 {
		name = table[i+1:] + "_" + column
	}
	name = strings.Trim(name, `"`)
	if len(name) > 63-len("_not_null") {
		name = name[:63-len("_not_null")]
	}
	c := quoteIdent(name + "_not_null")
	col := quoteIdent(column)
	p.add(&p.post, fmt.Sprintf("SET NOT NULL on %s.%s, step 1: a CHECK that is not validated yet (no scan)", table, column),
		"ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID", table, c, col)
	p.add(&p.online, "step 2: validate it, scanning without blocking writes", "ALTER TABLE %s VALIDATE CONSTRAINT %s", table, c)
	p.add(&p.online, "step 3: SET NOT NULL uses the validated CHECK instead of a scan", "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL", table, col)
	p.add(&p.online, "step 4: the CHECK is no longer needed", "ALTER TABLE %s DROP CONSTRAINT %s", table, c)
}

// isCheckOrFK reports whether a constraint definition is a CHECK or FOREIGN KEY.
func isCheckOrFK(def string) bool {
	return strings.HasPrefix(def, "CHECK ") || strings.HasPrefix(def, "FOREIGN KEY ")
}

// changed returns, once per object of kind, the objects that differ in anything but
// their comment: the desired and current versions and whether each exists.
func (p *planner) changed(kind catalog.Kind) []objectPair {
	var out []objectPair
	seen := map[string]bool{}
	for _, d := range catalog.Compare(p.desiredCat, p.currentCat) {
		if d.Kind != kind || d.Attr == catalog.AttrComment || seen[d.Name] {
			continue
		}
		seen[d.Name] = true
		var op objectPair
		op.want, op.inWant = p.desiredCat.Find(kind, d.Name)
		op.got, op.inGot = p.currentCat.Find(kind, d.Name)
		op.obj = op.want
		if !op.inWant {
			op.obj = op.got
		}
		out = append(out, op)
	}
	return out
}

type objectPair struct {
	want, got     catalog.Object
	inWant, inGot bool
	obj           catalog.Object // want when it exists, else got
}

// constraints plans CHECK and foreign key constraints of existing tables: added NOT
// VALID, then validated in a separate transaction.
func (p *planner) constraints() {
	for _, c := range p.changed(catalog.KindConstraint) {
		o := c.obj
		if !p.existing(o.Table) || (c.inWant && !isCheckOrFK(c.want.Definition())) || (c.inGot && !isCheckOrFK(c.got.Definition())) {
			continue
		}
		name := bare(o)
		wantDef := strings.TrimSuffix(c.want.Definition(), " NOT VALID")
		gotDef := strings.TrimSuffix(c.got.Definition(), " NOT VALID")
		wantValid := c.want.Attrs[catalog.AttrValid] == "yes"
		gotValid := c.got.Attrs[catalog.AttrValid] == "yes"
		if c.inWant && c.inGot && wantDef == gotDef && wantValid == gotValid {
			continue
		}
		if c.inWant && c.inGot && wantDef == gotDef && wantValid {
			p.add(&p.online, "validate "+name+" (scans without blocking writes)", "ALTER TABLE %s VALIDATE CONSTRAINT %s", o.Table, name)
			continue
		}
		if c.inGot {
			p.add(&p.pre, "drop constraint "+name, "ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s", o.Table, name)
		}
		if !c.inWant {
			continue
		}
		p.add(&p.post, "add constraint "+name+" without scanning the table (NOT VALID)", "ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID", o.Table, name, wantDef)
		if wantValid {
			p.add(&p.online, "validate "+name+" (scans without blocking writes)", "ALTER TABLE %s VALIDATE CONSTRAINT %s", o.Table, name)
		}
	}
}

// concurrently inserts CONCURRENTLY into a pg_get_indexdef definition.
func concurrently(def string) string {
	for _, p := range []string{"CREATE UNIQUE INDEX ", "CREATE INDEX "} {
		if strings.HasPrefix(def, p) {
			return p + "CONCURRENTLY " + def[len(p):]
		}
	}
	return def
}

// indexes plans the indexes of existing tables that do not back a constraint:
// CREATE / DROP INDEX CONCURRENTLY, outside a transaction.
func (p *planner) indexes() {
	for _, c := range p.changed(catalog.KindIndex) {
		o := c.obj
		if !p.existing(o.Table) || p.isConstraintName(o) {
			continue
		}
		if c.inGot {
			p.add(&p.onlineDr, "drop index "+o.Name+" without blocking reads and writes", "DROP INDEX CONCURRENTLY IF EXISTS %s", o.Name)
		}
		if c.inWant {
			p.add(&p.online, "build index "+o.Name+" without blocking writes", "%s", concurrently(c.want.Definition()))
		}
	}
}

func (p *planner) isConstraintName(idx catalog.Object) bool {
	name := idx.Table + "." + bare(idx)
	_, a := p.currentCat.Find(catalog.KindConstraint, name)
	_, b := p.desiredCat.Find(catalog.KindConstraint, name)
	return a || b
}

func (p *planner) extensions() {
	for _, d := range catalog.Compare(p.desiredCat, p.currentCat) {
		if d.Kind != catalog.KindExtension {
			continue
		}
		w, _ := p.desiredCat.Find(d.Kind, d.Name)
		switch {
		case d.Change == catalog.Missing:
			p.add(&p.pre, "extension "+d.Name, "CREATE EXTENSION IF NOT EXISTS %s WITH SCHEMA %s", d.Name, w.Attrs[catalog.AttrSchema])
		case d.Change == catalog.Unexpected:
			p.consent = append(p.consent, "DROP EXTENSION "+d.Name+" drops the extension's types and functions")
			p.add(&p.last, "extension "+d.Name, "DROP EXTENSION IF EXISTS %s", d.Name)
		case d.Attr == catalog.AttrVersion:
			p.add(&p.pre, "extension "+d.Name, "ALTER EXTENSION %s UPDATE TO %s", d.Name, literal(d.Want))
		}
	}
}

// sequences plans standalone sequences; those owned by a column (serial) are left
// to Atlas with their column.
func (p *planner) sequences() {
	for _, d := range catalog.Compare(p.desiredCat, p.currentCat) {
		if d.Kind != catalog.KindSequence || d.Attr == catalog.AttrComment {
			continue
		}
		w, inWant := p.desiredCat.Find(d.Kind, d.Name)
		g, inGot := p.currentCat.Find(d.Kind, d.Name)
		if (inWant && w.Attrs[catalog.AttrOwnedBy] != "") || (inGot && g.Attrs[catalog.AttrOwnedBy] != "") {
			continue
		}
		switch d.Change {
		case catalog.Missing:
			p.add(&p.funcs, "sequence "+d.Name, "CREATE SEQUENCE IF NOT EXISTS %s AS %s %s", d.Name, w.Attrs[catalog.AttrType], seqOptions(w.Attrs[catalog.AttrOptions]))
		case catalog.Unexpected:
			p.consent = append(p.consent, "DROP SEQUENCE "+d.Name+" loses its current value")
			p.add(&p.last, "sequence "+d.Name, "DROP SEQUENCE IF EXISTS %s", d.Name)
		default:
			p.add(&p.funcs, "sequence "+d.Name, "ALTER SEQUENCE %s AS %s %s", d.Name, w.Attrs[catalog.AttrType], seqOptions(w.Attrs[catalog.AttrOptions]))
		}
	}
}

// seqOptions turns the catalog's "start 1, increment 1, min 1, max 9, cache 1[, cycle]"
// into sequence options.
func seqOptions(opts string) string {
	words := map[string]string{"start": "START WITH", "increment": "INCREMENT BY", "min": "MINVALUE", "max": "MAXVALUE", "cache": "CACHE", "cycle": "CYCLE"}
	var out []string
	cycle := "NO CYCLE"
	for _, part := range strings.Split(opts, ", ") {
		key, val, _ := strings.Cut(part, " ")
		if key == "cycle" {
			cycle = "CYCLE"
			continue
		}
		if w, ok := words[key]; ok {
			out = append(out, w+" "+val)
		}
	}
	return strings.Join(append(out, cycle), " ")
}

func (p *planner) functions() {
	for _, d := range catalog.Compare(p.desiredCat, p.currentCat) {
		if d.Kind != catalog.KindFunction || (d.Change == catalog.Differs && d.Attr != catalog.AttrDefinition) {
			continue
		}
		if d.Change == catalog.Unexpected {
			p.add(&p.last, "function "+d.Name, "DROP FUNCTION IF EXISTS %s", d.Name)
			continue
		}
		w, _ := p.desiredCat.Find(d.Kind, d.Name)
		p.add(&p.funcs, "function "+d.Name, "%s", strings.TrimSpace(w.Definition()))
	}
}

// views drops the views that changed, went away or read a table whose columns change
// (with every view reading them), then creates the views of schema/ that are missing,
// in dependency order.
func (p *planner) views() {
	kinds := []catalog.Kind{catalog.KindView, catalog.KindMaterializedView}
	drop := map[string]bool{}
	for _, d := range catalog.Compare(p.desiredCat, p.currentCat) {
		if slices.Contains(kinds, d.Kind) && d.Change != catalog.Missing && d.Attr != catalog.AttrComment {
			drop[d.Name] = true
		}
	}
	var cur []catalog.Object
	for _, k := range kinds {
		cur = append(cur, p.currentCat.Of(k)...)
	}
	for changed := true; changed; {
		changed = false
		for _, v := range cur {
			if drop[v.Name] {
				continue
			}
			for _, r := range v.Requires {
				if drop[r] || p.reshaped[r] {
					drop[v.Name], changed = true, true
					break
				}
			}
		}
	}
	// Drop dependents first: reverse dependency order of the current state.
	order := topo(cur)
	for i := len(order) - 1; i >= 0; i-- {
		if v := order[i]; drop[v.Name] {
			p.add(&p.pre, string(v.Kind)+" "+v.Name, "DROP %s IF EXISTS %s", strings.ToUpper(string(v.Kind)), v.Name)
		}
	}
	var want []catalog.Object
	for _, k := range kinds {
		want = append(want, p.desiredCat.Of(k)...)
	}
	for _, v := range topo(want) {
		if _, exists := p.currentCat.Find(v.Kind, v.Name); exists && !drop[v.Name] {
			continue
		}
		with := ""
		if o := v.Attrs[catalog.AttrOptions]; o != "" {
			with = " WITH (" + o + ")"
		}
		def := strings.TrimSuffix(strings.TrimSpace(v.Definition()), ";")
		p.add(&p.post, string(v.Kind)+" "+v.Name, "CREATE %s %s%s AS\n%s", strings.ToUpper(string(v.Kind)), v.Name, with, def)
	}
}

// topo orders views so that each comes after the views it reads.
func topo(views []catalog.Object) []catalog.Object {
	byName := map[string]catalog.Object{}
	for _, v := range views {
		byName[v.Name] = v
	}
	seen := map[string]bool{}
	var out []catalog.Object
	var visit func(v catalog.Object)
	visit = func(v catalog.Object) {
		if seen[v.Name] {
			return
		}
		seen[v.Name] = true
		for _, r := range v.Requires {
			if dep, ok := byName[r]; ok {
				visit(dep)
			}
		}
		out = append(out, v)
	}
	sort.Slice(views, func(i, j int) bool { return views[i].Name < views[j].Name })
	for _, v := range views {
		visit(v)
	}
	return out
}

// triggerStates maps pg_trigger.tgenabled in words to the ALTER TABLE clause.
var triggerStates = map[string]string{"yes": "ENABLE", "no": "DISABLE", "replica only": "ENABLE REPLICA", "always": "ENABLE ALWAYS"}

func (p *planner) triggersAndPolicies() {
	for _, d := range catalog.Compare(p.desiredCat, p.currentCat) {
		if d.Kind != catalog.KindTable || d.Attr != catalog.AttrRLS {
			continue
		}
		w, _ := p.desiredCat.Find(d.Kind, d.Name)
		switch w.Attrs[catalog.AttrRLS] {
		case "forced":
			p.add(&p.post, "row level security", "ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY", d.Name)
		case "enabled":
			p.add(&p.post, "row level security", "ALTER TABLE %s ENABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY", d.Name)
		default:
			p.add(&p.post, "row level security", "ALTER TABLE %s DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY", d.Name)
		}
	}
	for _, kind := range []catalog.Kind{catalog.KindTrigger, catalog.KindPolicy} {
		for _, c := range p.changed(kind) {
			o := c.obj
			recreate := !c.inGot || !c.inWant || c.want.Definition() != c.got.Definition()
			if c.inGot && recreate {
				p.add(&p.pre, string(kind)+" "+o.Name, "DROP %s IF EXISTS %s ON %s", strings.ToUpper(string(kind)), bare(o), o.Table)
			}
			if !c.inWant {
				continue
			}
			switch {
			case recreate && kind == catalog.KindPolicy:
				p.add(&p.post, "policy "+o.Name, "CREATE POLICY %s ON %s %s", bare(o), o.Table, c.want.Definition())
			case recreate:
				p.add(&p.post, "trigger "+o.Name, "%s", c.want.Definition())
			}
			state := c.want.Attrs[catalog.AttrEnabled]
			if kind == catalog.KindTrigger && ((recreate && state != "yes") || (!recreate && state != c.got.Attrs[catalog.AttrEnabled])) {
				p.add(&p.post, "trigger "+o.Name, "ALTER TABLE %s %s TRIGGER %s", o.Table, triggerStates[state], bare(o))
			}
		}
	}
}

// comments sets the comments of the objects Atlas does not manage.
func (p *planner) comments() {
	for _, o := range p.desiredCat.Objects {
		var target string
		switch o.Kind {
		case catalog.KindView, catalog.KindMaterializedView, catalog.KindFunction, catalog.KindIndex, catalog.KindSequence:
			target = strings.ToUpper(string(o.Kind)) + " " + o.Name
		case catalog.KindEnum:
			target = "TYPE " + o.Name
		case catalog.KindTrigger, catalog.KindPolicy:
			target = strings.ToUpper(string(o.Kind)) + " " + bare(o) + " ON " + o.Table
		default:
			continue
		}
		want := o.Attrs[catalog.AttrComment]
		g, ok := p.currentCat.Find(o.Kind, o.Name)
		recreated := o.Kind == catalog.KindView || o.Kind == catalog.KindMaterializedView || o.Kind == catalog.KindTrigger ||
			o.Kind == catalog.KindIndex || o.Kind == catalog.KindPolicy
		got := ""
		if ok && !(recreated && g.Definition() != o.Definition()) {
			got = g.Attrs[catalog.AttrComment] // a recreated object starts without one
		}
		if got == want {
			continue
		}
		if want == "" {
			p.add(&p.last, "comment", "COMMENT ON %s IS NULL", target)
			continue
		}
		dst := &p.last
		if o.Kind == catalog.KindIndex && (!ok || g.Definition() != o.Definition()) && p.existing(o.Table) {
			dst = &p.online
		}
		p.add(dst, "comment", "COMMENT ON %s IS %s", target, literal(want))
	}
}
