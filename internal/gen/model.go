// Package gen derives a whole module from one table of the desired schema: its
// queries (queries/<name>.sql), the generated Go files of internal/modules/<name>
// (types with validation read from the table's constraints, service, route table,
// handlers, tests) and a hand-written file created once for the module's own rules.
// Regenerating rewrites only the generated files.
package gen

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"

	"github.com/quarrydev/quarry/internal/core/audit"
)

// Policies a module's reads and writes may have.
const (
	Public   = "public"
	SignedIn = "signed-in"
	Owner    = "owner"
	Admin    = "admin"
)

// Options choose what is generated; empty fields take defaults read from the table.
type Options struct {
	// Name is the module's name: its package, URL segment and config section.
	Name string
	// Table is the table's name; default Name.
	Table string
	// Owner is the column holding the owning user (default: author_id, user_id or
	// owner_id referencing users); "-" for none.
	Owner string
	// Read is who may read: public, signed-in, owner or admin (default public).
	Read string
	// Write is who may write: signed-in, owner or admin (default owner when the table
	// has an owner, otherwise admin).
	Write string
	// Sort lists the sort columns, the default first: id and at most one
	// timestamptz column (default created_at when present, then id).
	Sort []string
	// Filter lists the optional list filters (default: foreign keys, booleans and
	// columns limited by an IN check).
	Filter []string
	// Parent is the module whose resource this one is nested under, through the
	// table's foreign key to the parent's table.
	Parent string
	// Ops lists the generic operations generated: get, list, create, update, delete,
	// bulk (default all). The queries of create, delete and bulk exist only with
	// their operation, so a module that writes those its own way keeps its own.
	Ops []string
	// Hide lists the columns clients never see nor write (default: columns whose
	// name says password, secret or token, or ends in _hash; "-" for none). The
	// generated single-row queries still return them, for the module's own code;
	// lists do not read them.
	Hide []string
	// Immutable lists columns clients set on create but an update never changes.
	Immutable []string
}

// Operations the generator can write (Options.Ops).
const (
	OpGet    = "get"
	OpList   = "list"
	OpCreate = "create"
	OpUpdate = "update"
	OpDelete = "delete"
	OpBulk   = "bulk"
)

var allOps = []string{OpGet, OpList, OpCreate, OpUpdate, OpDelete, OpBulk}

// Column is one column of the table as the generated code sees it.
type Column struct {
	Name string
	// Field is the Go field name, as sqlc names it.
	Field string
	// SQLType is the type written in casts; GoType the generated Go type (without
	// the pointer of nullable columns).
	SQLType, GoType string
	Null            bool
	// Identity columns, and columns whose default is not a literal (now(), …), are
	// set by the database: never written by clients.
	Auto bool
	// Default is the Go literal of a literal default; "" when none.
	Default string
	// Rules are validation rules from the constraints: min=…, max=…, oneof=…
	Rules []string
	// Enum holds the values of an IN check.
	Enum []string
	// Min, Max bound a string's length (0: none); MinSet tells a 0 minimum apart.
	Min, Max int
	// Ref is the table a single-column foreign key points to; RefConstraint its name.
	Ref, RefConstraint string
}

// Unique is a unique constraint or index.
type Unique struct {
	Name    string
	Columns []*Column
}

// Model is everything the templates need.
type Model struct {
	Opts Options
	// Command is the command line that regenerates the module.
	Command string
	Table   string
	// Singular, e.g. comment; Type its Go name (Comment), Plural Comments.
	Singular, Type, Plural string
	Columns                []*Column
	ID                     *Column
	OwnerCol               *Column
	ParentCol              *Column
	// ParentSingular, ParentType name the parent's resource (post, Post).
	ParentSingular, ParentType string
	ParentTable                *schema.Table
	ParentInsert               []*Column
	Inserts                    []*Column
	Inputs                     []*Column
	// Updates are the columns an update request may change; Sets those the update
	// query may set (Updates plus hidden and immutable columns, for the module's
	// own code).
	Updates, Sets []*Column
	// Hidden are the columns clients never see nor write; Visible the others, the
	// columns of responses and of the list queries.
	Hidden, Visible []*Column
	// Self reports that the row is the principal (the owner column is users.id):
	// reads and writes of one row are the user's own or an admin's, lists admins'.
	Self bool
	// ops are the operations generated.
	ops         []string
	UpdatedAt   *Column
	Filters     []*Column
	SortCols    []*Column
	TimeSort    *Column
	Uniques     []Unique
	Checks      []Check
	Read, Write string
	// Description documents the module's tag: the table's comment, when it has one.
	Description string
	// indexes are the column lists of the table's indexes (and primary key).
	indexes [][]string
}

// Check is a check constraint and the column it guards.
type Check struct {
	Name   string
	Column *Column
}

// ErrRefused is the type of the generator's refusals: a table it cannot find or
// serve, named with the reason.
type ErrRefused struct{ Reason string }

func (e *ErrRefused) Error() string { return e.Reason }

func refuse(format string, args ...any) error {
	return &ErrRefused{Reason: fmt.Sprintf(format, args...)}
}

var ident = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// NewModel reads table opts.Table (default opts.Name) of realm and resolves opts'
// defaults. Errors (*ErrRefused): a missing table, no single bigint primary key id,
// a column type it cannot map (naming the column and the type), options naming
// columns the table does not have.
func NewModel(realm *schema.Realm, opts Options) (*Model, error) {
	if !ident.MatchString(opts.Name) || strings.Contains(opts.Name, "_") {
		return nil, refuse("module name %q: use lower-case letters and digits", opts.Name)
	}
	tname := cmpOr(opts.Table, opts.Name)
	t := findTable(realm, tname)
	if t == nil {
		return nil, refuse("table %q is not in schema/*.sql: write it there first (or pass --table)", tname)
	}
	m := &Model{Opts: opts, Table: tname, Singular: singular(tname)}
	m.Type = goName(m.Singular)
	m.Plural = goName(tname)
	m.Description = m.Plural + " (table " + tname + ")."
	for _, a := range t.Attrs {
		if c, ok := a.(*schema.Comment); ok && c.Text != "" {
			m.Description = c.Text
		}
	}
	if t.PrimaryKey == nil {
		return nil, refuse("table %s has no primary key: the generated module addresses rows by a bigint id primary key", tname)
	}
	if len(t.PrimaryKey.Parts) != 1 || t.PrimaryKey.Parts[0].C == nil || t.PrimaryKey.Parts[0].C.Name != "id" {
		return nil, refuse("table %s: the primary key must be the single column id", tname)
	}
	byName := map[string]*Column{}
	for _, c := range t.Columns {
		col, err := newColumn(tname, c)
		if err != nil {
			return nil, err
		}
		m.Columns = append(m.Columns, col)
		byName[c.Name] = col
	}
	m.ID = byName["id"]
	if m.ID.GoType != "int64" {
		return nil, refuse("table %s: the primary key id must be bigint, not %s", tname, m.ID.SQLType)
	}
	for _, fk := range t.ForeignKeys {
		if len(fk.Columns) == 1 && fk.RefTable != nil {
			c := byName[fk.Columns[0].Name]
			c.Ref, c.RefConstraint = fk.RefTable.Name, fk.Symbol
		}
	}
	for _, a := range t.Attrs {
		if ch, ok := a.(*schema.Check); ok {
			m.Checks = append(m.Checks, Check{Name: ch.Name, Column: applyCheck(ch.Expr, byName)})
		}
	}
	for _, c := range t.Columns {
		for _, a := range c.Attrs {
			if ch, ok := a.(*schema.Check); ok && !slices.ContainsFunc(m.Checks, func(x Check) bool { return x.Name == ch.Name }) {
				m.Checks = append(m.Checks, Check{Name: ch.Name, Column: applyCheck(ch.Expr, byName)})
			}
		}
	}
	m.indexes = append(m.indexes, []string{"id"})
	for _, ix := range t.Indexes {
		var cols []string
		for _, p := range ix.Parts {
			if p.C != nil {
				cols = append(cols, p.C.Name)
			}
		}
		m.indexes = append(m.indexes, cols)
		if !ix.Unique {
			continue
		}
		u := Unique{Name: ix.Name}
		for _, p := range ix.Parts {
			if p.C != nil {
				u.Columns = append(u.Columns, byName[p.C.Name])
			}
		}
		if len(u.Columns) == len(ix.Parts) {
			m.Uniques = append(m.Uniques, u)
		}
	}
	col := func(flag, name string) (*Column, error) {
		c := byName[name]
		if c == nil {
			return nil, refuse("--%s %s: table %s has no column %s", flag, name, tname, name)
		}
		return c, nil
	}
	// Parent.
	if opts.Parent != "" {
		ptable := findTable(realm, opts.Parent)
		if ptable == nil {
			return nil, refuse("--parent %s: no table %s in schema/*.sql", opts.Parent, opts.Parent)
		}
		for _, c := range m.Columns {
			if c.Ref == opts.Parent && m.ParentCol == nil {
				m.ParentCol = c
			}
		}
		if m.ParentCol == nil {
			return nil, refuse("--parent %s: table %s has no foreign key to %s", opts.Parent, tname, opts.Parent)
		}
		m.ParentSingular = singular(opts.Parent)
		m.ParentType = goName(m.ParentSingular)
		m.ParentTable = ptable
	}
	// Operations.
	m.ops = allOps
	if len(opts.Ops) > 0 {
		m.ops = nil
		for _, op := range opts.Ops {
			if !slices.Contains(allOps, op) {
				return nil, refuse("--ops %s: use get, list, create, update, delete or bulk", op)
			}
			m.ops = append(m.ops, op)
		}
		if !m.Op(OpGet) {
			return nil, refuse("--ops: get is needed (the other routes of one row load it)")
		}
	}
	// Hidden and immutable columns.
	hidden := map[*Column]bool{}
	if opts.Hide == nil {
		for _, c := range m.Columns {
			if audit.Sensitive(c.Name) { // a secret: what the audit log redacts, clients never see
				hidden[c] = true
			}
		}
	}
	for _, h := range opts.Hide {
		if h == "" || h == "-" {
			continue
		}
		c, err := col("hide", h)
		if err != nil {
			return nil, err
		}
		if c == m.ID {
			return nil, refuse("--hide id: rows are addressed by their id")
		}
		hidden[c] = true
	}
	immutable := map[*Column]bool{}
	for _, name := range opts.Immutable {
		c, err := col("immutable", name)
		if err != nil {
			return nil, err
		}
		immutable[c] = true
	}
	for _, c := range m.Columns {
		if hidden[c] {
			m.Hidden = append(m.Hidden, c)
			if (m.Op(OpCreate) || m.Op(OpBulk)) && !c.Auto && !c.Null && c.Default == "" {
				return nil, refuse("--hide %s: the generic create cannot fill this NOT NULL column without default; leave create and bulk out (--ops) and create rows in the module's own code", c.Name)
			}
			continue
		}
		m.Visible = append(m.Visible, c)
	}
	// Owner.
	switch opts.Owner {
	case "-":
	case "":
		for _, n := range []string{"author_id", "user_id", "owner_id"} {
			if c := byName[n]; c != nil && c.Ref == "users" && c != m.ParentCol {
				m.OwnerCol = c
				break
			}
		}
	default:
		c, err := col("owner", opts.Owner)
		if err != nil {
			return nil, err
		}
		if c.GoType != "int64" || c.Null {
			return nil, refuse("--owner %s: the owner column must be a NOT NULL bigint referencing users", c.Name)
		}
		if c == m.ID && tname != "users" {
			return nil, refuse("--owner id: only the rows of users are their own owner")
		}
		if hidden[c] {
			return nil, refuse("--owner %s: the owner column cannot be hidden", c.Name)
		}
		m.OwnerCol, m.Self = c, c == m.ID
	}
	if !m.Self && !m.Op(OpCreate) {
		return nil, refuse("--ops without create: the generated tests create the rows they read through it (only users, the principals, exist without it)")
	}
	// Policies.
	m.Read, m.Write = cmpOr(opts.Read, Public), opts.Write
	if m.Write == "" {
		m.Write = Admin
		if m.OwnerCol != nil {
			m.Write = Owner
		}
	}
	if !slices.Contains([]string{Public, SignedIn, Owner, Admin}, m.Read) {
		return nil, refuse("--read %s: use public, signed-in, owner or admin", m.Read)
	}
	if !slices.Contains([]string{SignedIn, Owner, Admin}, m.Write) {
		return nil, refuse("--write %s: use signed-in, owner or admin", m.Write)
	}
	if (m.Read == Owner || m.Write == Owner) && m.OwnerCol == nil {
		return nil, refuse("the owner policy needs an owner column: pass --owner COLUMN (a bigint referencing users)")
	}
	// Columns clients write.
	for _, c := range m.Columns {
		if c.Auto {
			if c.Name == "updated_at" && c.GoType == "time.Time" {
				m.UpdatedAt = c
			}
			continue
		}
		m.Inserts = append(m.Inserts, c)
		if c == m.OwnerCol || c == m.ParentCol {
			continue
		}
		if !hidden[c] {
			m.Inputs = append(m.Inputs, c)
		}
		if c.Ref != "users" {
			m.Sets = append(m.Sets, c)
			if !hidden[c] && !immutable[c] {
				m.Updates = append(m.Updates, c)
			}
		}
	}
	if !m.Op(OpUpdate) {
		m.Updates, m.Sets = nil, nil
	}
	// Sorts.
	sorts := opts.Sort
	if len(sorts) == 0 {
		if c := byName["created_at"]; c != nil && c.GoType == "time.Time" && !c.Null {
			sorts = append(sorts, "created_at")
		}
		sorts = append(sorts, "id")
	}
	for _, s := range sorts {
		c, err := col("sort", s)
		if err != nil {
			return nil, err
		}
		switch {
		case c == m.ID:
		case hidden[c]:
			return nil, refuse("--sort %s: a hidden column is not a sort key", s)
		case c.GoType == "time.Time" && !c.Null && m.TimeSort == nil:
			m.TimeSort = c
		default:
			return nil, refuse("--sort %s: lists sort by id and at most one NOT NULL timestamptz column", s)
		}
		m.SortCols = append(m.SortCols, c)
	}
	// Filters.
	if opts.Filter == nil {
		for _, c := range m.Columns {
			if c == m.ParentCol || c.Auto || c.Null || hidden[c] {
				continue
			}
			if c.Ref != "" || c.GoType == "bool" || len(c.Enum) > 0 {
				m.Filters = append(m.Filters, c)
			}
		}
	} else {
		for _, f := range opts.Filter {
			if f == "" || f == "-" {
				continue
			}
			c, err := col("filter", f)
			if err != nil {
				return nil, err
			}
			if c == m.ParentCol || c.GoType == "time.Time" || hidden[c] {
				return nil, refuse("--filter %s: filters are equality tests on a visible column other than the parent's key and timestamps", f)
			}
			m.Filters = append(m.Filters, c)
		}
	}
	if m.Read == Owner && !m.Self && !slices.Contains(m.Filters, m.OwnerCol) {
		m.Filters = append(m.Filters, m.OwnerCol)
	}
	if len(m.Filters) > 4 {
		return nil, refuse("%d list filters: each filter doubles the branches of the plan-safe list queries; choose at most 4 with --filter", len(m.Filters))
	}
	if m.ParentTable != nil {
		for _, c := range m.ParentTable.Columns {
			pc, err := newColumn(m.ParentTable.Name, c)
			if err != nil {
				return nil, err
			}
			if !pc.Auto {
				m.ParentInsert = append(m.ParentInsert, pc)
			}
		}
		for _, fk := range m.ParentTable.ForeignKeys {
			for _, pc := range m.ParentInsert {
				if len(fk.Columns) == 1 && fk.Columns[0].Name == pc.Name && fk.RefTable != nil {
					pc.Ref = fk.RefTable.Name
				}
			}
		}
		for _, ch := range m.ParentTable.Attrs {
			if ck, ok := ch.(*schema.Check); ok {
				byP := map[string]*Column{}
				for _, pc := range m.ParentInsert {
					byP[pc.Name] = pc
				}
				applyCheck(ck.Expr, byP)
			}
		}
	}
	return m, nil
}

// Op reports whether operation op is generated.
func (m *Model) Op(op string) bool { return slices.Contains(m.ops, op) }

func findTable(realm *schema.Realm, name string) *schema.Table {
	for _, s := range realm.Schemas {
		for _, t := range s.Tables {
			if t.Name == name {
				return t
			}
		}
	}
	return nil
}

// newColumn maps c to Go as sqlc (configured in sqlc.yaml) does. Errors: a type it
// cannot map, naming the column and the type.
func newColumn(table string, c *schema.Column) (*Column, error) {
	col := &Column{Name: c.Name, Field: goName(c.Name), Null: c.Type.Null}
	switch t := c.Type.Type.(type) {
	case *schema.IntegerType:
		col.SQLType = t.T
		switch t.T {
		case "bigint":
			col.GoType = "int64"
		case "integer":
			col.GoType = "int32"
		case "smallint":
			col.GoType = "int16"
		}
	case *schema.StringType:
		switch t.T {
		case "text":
			col.SQLType, col.GoType = "text", "string"
		case "character varying", "varchar":
			col.SQLType, col.GoType = "text", "string"
			col.Max = t.Size
		}
	case *schema.BoolType:
		col.SQLType, col.GoType = "boolean", "bool"
	case *schema.TimeType:
		if t.T == "timestamp with time zone" || t.T == "timestamptz" {
			col.SQLType, col.GoType = "timestamptz", "time.Time"
		}
	case *schema.FloatType:
		switch t.T {
		case "double precision":
			col.SQLType, col.GoType = "double precision", "float64"
		case "real":
			col.SQLType, col.GoType = "real", "float32"
		}
	case *schema.UUIDType:
		if !c.Type.Null {
			col.SQLType, col.GoType = "uuid", "uuid.UUID"
		}
	}
	if col.GoType == "" {
		return nil, refuse("table %s, column %s: type %s has no mapping in generated modules (supported: bigint, integer, smallint, text, varchar, boolean, timestamptz, double precision, real, uuid NOT NULL)",
			table, c.Name, typeName(c))
	}
	for _, a := range c.Attrs {
		if _, ok := a.(*postgres.Identity); ok {
			col.Auto = true
		}
		if g, ok := a.(*schema.GeneratedExpr); ok && g != nil {
			col.Auto = true
		}
	}
	switch d := c.Default.(type) {
	case *schema.Literal:
		v, ok := goLiteral(d.V, col.GoType)
		if !ok {
			col.Auto = true
		}
		col.Default = v
	case nil:
	default:
		col.Auto = true
	}
	if col.Max > 0 {
		col.Rules = append(col.Rules, "max="+strconv.Itoa(col.Max))
	}
	return col, nil
}

func typeName(c *schema.Column) string {
	if c.Type.Raw != "" {
		return c.Type.Raw
	}
	switch t := c.Type.Type.(type) {
	case *schema.UUIDType:
		return t.T + " NULL"
	case *schema.UnsupportedType:
		return t.T
	}
	return fmt.Sprintf("%T", c.Type.Type)
}

// goLiteral returns the Go literal of SQL literal v for a column of Go type t.
func goLiteral(v, t string) (string, bool) {
	v, _, _ = strings.Cut(v, "::")
	switch t {
	case "string":
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			return strconv.Quote(strings.ReplaceAll(v[1:len(v)-1], "''", "'")), true
		}
	case "bool":
		if v == "true" || v == "false" {
			return v, true
		}
	case "int64", "int32", "int16", "float64", "float32":
		v = strings.Trim(v, "'")
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return v, true
		}
	}
	return "", false
}

var (
	reLen   = regexp.MustCompile(`^char_length\((\w+)\) (>=|>|<=|<) (\d+)$`)
	reNum   = regexp.MustCompile(`^(\w+) (>=|>|<=|<) '?(-?[\d.]+)'?(?:::[\w ]+)?$`)
	reEnum  = regexp.MustCompile(`^(\w+) = ANY \(ARRAY\[(.*)\]\)$`)
	reValue = regexp.MustCompile(`'((?:[^']|'')*)'(?:::[\w ]+)?`)
)

// applyCheck reads a CHECK expression as PostgreSQL prints it and adds the
// validation rules it implies to its column: char_length bounds, numeric bounds, IN
// lists. It returns the column the check guards (nil when it names none).
func applyCheck(expr string, cols map[string]*Column) *Column {
	var guarded *Column
	for _, atom := range splitAnd(unparen(expr)) {
		atom = unparen(atom)
		if m := reLen.FindStringSubmatch(atom); m != nil {
			c := cols[m[1]]
			if c == nil {
				continue
			}
			guarded = c
			n, _ := strconv.Atoi(m[3])
			switch m[2] {
			case ">=":
				c.Min = max(c.Min, n)
			case ">":
				c.Min = max(c.Min, n+1)
			case "<=":
				c.Max = minPos(c.Max, n)
			case "<":
				c.Max = minPos(c.Max, n-1)
			}
			continue
		}
		if m := reEnum.FindStringSubmatch(atom); m != nil {
			c := cols[m[1]]
			if c == nil {
				continue
			}
			guarded = c
			c.Enum = nil
			for _, v := range reValue.FindAllStringSubmatch(m[2], -1) {
				c.Enum = append(c.Enum, strings.ReplaceAll(v[1], "''", "'"))
			}
			continue
		}
		if m := reNum.FindStringSubmatch(atom); m != nil {
			c := cols[m[1]]
			if c == nil || c.GoType == "string" || c.GoType == "bool" || c.GoType == "time.Time" {
				continue
			}
			guarded = c
			rule := map[string]string{">=": "min", ">": "gt", "<=": "max", "<": "lt"}[m[2]]
			c.Rules = append(c.Rules, rule+"="+m[3])
			continue
		}
		for name, c := range cols {
			if regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`).MatchString(atom) {
				guarded = c
			}
		}
	}
	return guarded
}

func minPos(a, b int) int {
	if a == 0 || b < a {
		return b
	}
	return a
}

// unparen strips parentheses enclosing all of s.
func unparen(s string) string {
	s = strings.TrimSpace(s)
	for len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' && closes(s) == len(s)-1 {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// closes returns the index of the parenthesis closing s[0].
func closes(s string) int {
	depth := 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// splitAnd splits s at its top-level ANDs.
func splitAnd(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case ' ':
			if depth == 0 && strings.HasPrefix(s[i:], " AND ") {
				out = append(out, s[start:i])
				start = i + 5
			}
		}
	}
	return append(out, s[start:])
}

// Binding returns c's validation rules for a create request (required when the
// column is NOT NULL without default) or, when update, for a partial update.
func (c *Column) Binding(update bool) string {
	var rules []string
	switch {
	case update || c.Null || c.Default != "":
		rules = append(rules, "omitnil")
	default:
		rules = append(rules, "required")
	}
	if c.GoType == "string" {
		if c.Min > 0 {
			rules = append(rules, "min="+strconv.Itoa(c.Min))
		}
		if c.Max > 0 {
			rules = append(rules, "max="+strconv.Itoa(c.Max))
		}
	} else {
		rules = append(rules, c.Rules...)
	}
	if len(c.Enum) > 0 {
		rules = append(rules, "oneof="+strings.Join(c.Enum, " "))
	}
	if c.Ref != "" {
		rules = append(rules, "gt=0")
	}
	return strings.Join(rules, ",")
}

// Value reports whether c is a plain value in a create request (a NOT NULL string
// without default); other fields are pointers.
func (c *Column) Value() bool { return c.GoType == "string" && !c.Null && c.Default == "" }

// singular returns the singular of a plural table name.
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return strings.TrimSuffix(s, "ies") + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "xes"), strings.HasSuffix(s, "ches"), strings.HasSuffix(s, "shes"):
		return strings.TrimSuffix(s, "es")
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss"):
		return strings.TrimSuffix(s, "s")
	}
	return s
}

// goName returns the Go name sqlc gives snake_case identifier s: each part
// capitalised, "id" as ID.
func goName(s string) string {
	var b strings.Builder
	for p := range strings.SplitSeq(s, "_") {
		if p == "id" {
			b.WriteString("ID")
			continue
		}
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
