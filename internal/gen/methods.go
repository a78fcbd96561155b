package gen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/quarrydev/quarry/internal/core/audit"
)

// OwnerWord names the owner in messages: the owner column without _id (author).
func (m *Model) OwnerWord() string { return strings.TrimSuffix(m.OwnerCol.Name, "_id") }

// OwnerName is OwnerWord as a Go name (Author).
func (m *Model) OwnerName() string { return goName(m.OwnerWord()) }

// OwnerArg is the Go parameter holding the owner (author).
func (m *Model) OwnerArg() string {
	w := goName(m.OwnerWord())
	return strings.ToLower(w[:1]) + w[1:]
}

// RefCols are the single-column foreign keys other than the parent's.
func (m *Model) RefCols() []*Column {
	var out []*Column
	for _, c := range m.Columns {
		if c.Ref != "" && c != m.ParentCol {
			out = append(out, c)
		}
	}
	return out
}

// ReadDeps are the dependencies of the read routes (list: of the collection, which
// only admins read when the row is the principal).
func (m *Model) ReadDeps(list bool) string {
	switch {
	case list && m.Self && m.Read == Owner:
		return "deps.Guard.RequireAuth(), authn.RequireRole(authn.RoleAdmin)"
	}
	switch m.Read {
	case Public:
		return "deps.Guard.OptionalAuth()"
	case Admin:
		return "deps.Guard.RequireAuth(), authn.RequireRole(authn.RoleAdmin)"
	}
	return "deps.Guard.RequireAuth()"
}

// WriteDeps are the dependencies of the write routes.
func (m *Model) WriteDeps() string {
	if m.Write == Admin {
		return "deps.Guard.RequireAuth(), authn.RequireRole(authn.RoleAdmin)"
	}
	return "deps.Guard.RequireAuth()"
}

// ReadErrors lists the error statuses of a read route (list: the collection).
func (m *Model) ReadErrors(list bool) string {
	var s []string
	if list {
		s = append(s, "http.StatusBadRequest")
	}
	if !list || m.ParentCol != nil {
		s = append(s, "http.StatusNotFound")
	}
	s = append(s, "http.StatusUnauthorized")
	if m.Read == Admin || m.Self && m.Read == Owner {
		s = append(s, "http.StatusForbidden")
	}
	return strings.Join(s, ", ")
}

// WriteErrors lists the error statuses of a write route (one: on one row).
func (m *Model) WriteErrors(one bool) string {
	var s []string
	if one || m.ParentCol != nil {
		s = append(s, "http.StatusNotFound")
	}
	s = append(s, "http.StatusUnauthorized")
	if m.Write == Admin || (one && m.Write == Owner) {
		s = append(s, "http.StatusForbidden")
	}
	if len(m.Uniques) > 0 {
		s = append(s, "http.StatusConflict")
	}
	return strings.Join(s, ", ")
}

// CollectionPath is the route table's Path (and Nested) of the collection.
func (m *Model) CollectionPath() string {
	if m.ParentCol != nil {
		return fmt.Sprintf("Nested: %q, Path: %q, ", m.Opts.Parent+"/:id", "/"+m.Opts.Name)
	}
	return ""
}

// BulkPath is the route table's Path (and Nested) of the bulk create.
func (m *Model) BulkPath() string {
	if m.ParentCol != nil {
		return fmt.Sprintf("Nested: %q, Path: %q, ", m.Opts.Parent+"/:id", "/"+m.Opts.Name+"/bulk")
	}
	return `Path: "/bulk", `
}

// CreateDescription documents the create route.
func (m *Model) CreateDescription() string {
	var s []string
	if m.OwnerCol != nil {
		s = append(s, "The caller becomes the "+m.OwnerWord()+"; "+m.OwnerCol.Name+" in the body is ignored.")
	}
	if m.ParentCol != nil {
		s = append(s, "The "+m.ParentSingular+" is the one of the path.")
	}
	if len(s) == 0 {
		return "Inserts a " + m.Singular + "."
	}
	return strings.Join(s, " ")
}

// TypeImports are the imports types_gen.go needs.
func (m *Model) TypeImports() []string {
	var out []string
	for _, c := range m.Columns {
		if c.GoType == "time.Time" && !contains(out, "time") {
			out = append(out, "time")
		}
	}
	for _, c := range m.Columns {
		if c.GoType == "uuid.UUID" && !contains(out, "github.com/google/uuid") {
			out = append(out, "github.com/google/uuid")
		}
	}
	return out
}

// ItemType is the element type of a bulk create.
func (m *Model) ItemType() string {
	if m.ParentCol != nil {
		return m.Type + "Item"
	}
	return "Create" + m.Type + "Request"
}

// CreateParams returns the fields of the insert's parameters, read from src (a
// create request, or a bulk item when bulk is "bulk").
func (m *Model) CreateParams(src, kind string) string {
	var s []string
	for _, c := range m.Inserts {
		var v string
		switch {
		case c == m.OwnerCol:
			v = m.OwnerArg()
		case c == m.ParentCol && kind == "bulk":
			v = "in." + c.Field
		case c == m.ParentCol:
			v = src + "." + c.Field
		case c.Value(), c.Null:
			v = src + "." + c.Field
		case c.Default != "":
			v = "valueOr(" + src + "." + c.Field + ", " + c.Default + ")"
		default:
			v = "*" + src + "." + c.Field
		}
		s = append(s, c.Field+": "+v)
	}
	return strings.Join(s, ", ")
}

// NullSets reports whether the update query sets a nullable column (through its
// set_<column> switch, so that it can set NULL).
func (m *Model) NullSets() bool {
	return slices.ContainsFunc(m.Sets, func(c *Column) bool { return c.Null })
}

// HasDefaults reports whether a create fills a literal default.
func (m *Model) HasDefaults() bool {
	if !m.Op(OpCreate) && !m.Op(OpBulk) {
		return false
	}
	for _, c := range m.Inputs {
		if c.Default != "" && !c.Null && !c.Value() {
			return true
		}
	}
	return false
}

// FirstList is the name of the default list query, whose parameters the others share.
func (m *Model) FirstList() string { return m.ListQueries()[0].Name }

// ListParams are the fields of the list queries' parameters, from Filter f.
func (m *Model) ListParams() string {
	s := m.filterParams()
	if m.TimeSort != nil {
		s = append(s, "After"+m.TimeSort.Field+": a.At")
	}
	return strings.Join(append(s, "AfterID: a.ID", "PageLimit: n"), ", ")
}

// CountParams are the fields of the count query's parameters.
func (m *Model) CountParams() string {
	return strings.Join(append(m.filterParams(), "MaxCount: max"), ", ")
}

// CountArgs is the count query's argument: its parameters struct, or the bare limit
// when the table has no filters (sqlc then takes the one parameter as it is).
func (m *Model) CountArgs() string {
	if len(m.filterParams()) == 0 {
		return "max"
	}
	return "sqlc.Count" + m.Plural + "Params{" + m.CountParams() + "}"
}

func (m *Model) filterParams() []string {
	var s []string
	if m.ParentCol != nil {
		s = append(s, m.ParentCol.Field+": f."+m.ParentCol.Field)
	}
	for _, c := range m.Filters {
		s = append(s, c.Field+": f."+c.Field)
	}
	return s
}

// ParentNeedsRow reports whether tests insert a parent row (not when the parent is
// users: the signed-in writer is one).
func (m *Model) ParentNeedsRow() bool { return m.ParentCol != nil && m.Opts.Parent != "users" }

// ParentSample is the insert of a parent row in the tests: every NOT NULL column
// the parent's create takes, references to users as the writer.
func (m *Model) ParentSample() string {
	var s []string
	for _, c := range m.ParentInsert {
		if c.Null {
			continue
		}
		v := sample(c, "1")
		if c.Ref == "users" {
			v = "w.ID"
		}
		s = append(s, c.Field+": "+v)
	}
	return strings.Join(s, ", ")
}

// TestImports are the extra imports of the tests.
func (m *Model) TestImports() []string {
	for _, c := range m.Inputs {
		if c.GoType == "uuid.UUID" {
			return []string{"github.com/google/uuid"}
		}
	}
	return nil
}

// TestNeedsStrings reports whether the tests build over-long strings.
func (m *Model) TestNeedsStrings() bool {
	for _, c := range m.Inputs {
		if c.GoType == "string" && c.Max > 0 && len(c.Enum) == 0 {
			return true
		}
	}
	return false
}

// FirstUpdate is the first column an update may change that is not a foreign key.
func (m *Model) FirstUpdate() *Column {
	for _, c := range m.Updates {
		if c.Ref == "" && (len(c.Enum) == 0 || len(c.Enum) > 1) {
			return c
		}
	}
	return nil
}

// NullUpdate returns the first nullable column an update request may change (and
// clear), or nil.
func (m *Model) NullUpdate() *Column {
	for _, c := range m.Updates {
		if c.Null {
			return c
		}
	}
	return nil
}

// KeepUpdate returns a NOT NULL column other than c that an update request may set
// to a sample value, or nil.
func (m *Model) KeepUpdate(c *Column) *Column {
	for _, u := range m.Updates {
		if u != c && !u.Null && u.Ref == "" && (len(u.Enum) == 0 || len(u.Enum) > 1) {
			return u
		}
	}
	return nil
}

// NotNullUpdates are the columns an update request may change but not clear: null
// for them is refused.
func (m *Model) NotNullUpdates() []*Column {
	var out []*Column
	for _, c := range m.Updates {
		if !c.Null {
			out = append(out, c)
		}
	}
	return out
}

// Required are the create fields a request must give.
func (m *Model) Required() []*Column {
	var out []*Column
	for _, c := range m.Inputs {
		if !c.Null && c.Default == "" {
			out = append(out, c)
		}
	}
	return out
}

// Invalid is a value a create must refuse for a field.
type Invalid struct{ Name, Value string }

// Invalid returns, per constrained create field, a value its rules refuse.
func (m *Model) Invalid() []Invalid { return invalid(m.Inputs) }

// InvalidUpdates returns, per constrained update field, a value its rules refuse.
func (m *Model) InvalidUpdates() []Invalid { return invalid(m.Updates) }

// invalid returns, per constrained column of cols, a value its rules refuse.
func invalid(cols []*Column) []Invalid {
	var out []Invalid
	for _, c := range cols {
		switch {
		case len(c.Enum) > 0:
			out = append(out, Invalid{c.Name, `"not-one-of-them"`})
		case c.GoType == "string" && c.Max > 0:
			out = append(out, Invalid{c.Name, fmt.Sprintf("strings.Repeat(%q, %d)", "x", c.Max+1)})
		case c.Ref != "":
			out = append(out, Invalid{c.Name, "-1"})
		}
	}
	return out
}

// TestUniques are the unique constraints the tests can violate through the API
// (every column given by the client, the owner or the parent).
func (m *Model) TestUniques() []Unique {
	var out []Unique
	for _, u := range m.Uniques {
		ok := true
		for _, c := range u.Columns {
			if c.Auto {
				ok = false
			}
		}
		if ok {
			out = append(out, u)
		}
	}
	return out
}

// sample returns a Go expression of a valid value of c, varying with the int
// expression n.
func sample(c *Column, n string) string {
	switch {
	case len(c.Enum) > 0:
		return strconv.Quote(c.Enum[0])
	case c.Ref == "users":
		return "uid"
	}
	switch c.GoType {
	case "string":
		return fmt.Sprintf("genText(%q, %s, %d, %d)", c.Name, n, c.Min, c.Max)
	case "bool":
		return n + "%2 == 0"
	case "time.Time":
		return `"2026-01-02T03:04:05Z"`
	case "uuid.UUID":
		return "uuid.NewString()"
	case "float64", "float32":
		lo := bound(c, "min", "gt")
		return fmt.Sprintf("(%s) + float64(%s)/8", lo, n)
	}
	lo := bound(c, "min", "gt")
	if hi := bound(c, "max", "lt"); hi != "" {
		return fmt.Sprintf("(%s) + %s%%((%s)-(%s))", lo, n, hi, lo)
	}
	return "(" + lo + ") + " + n
}

// bound returns the bound of c's rules named inclusive or exclusive (exclusive moved
// one inward); "0" (or "" for upper bounds) when none.
func bound(c *Column, inclusive, exclusive string) string {
	for _, r := range c.Rules {
		if v, ok := strings.CutPrefix(r, inclusive+"="); ok {
			return v
		}
		if v, ok := strings.CutPrefix(r, exclusive+"="); ok {
			if exclusive == "gt" {
				return "(" + v + "+1)"
			}
			return v
		}
	}
	if inclusive == "min" {
		return "1"
	}
	return ""
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// WhoWrites tells, after a sentence, who may change a row.
func (m *Model) WhoWrites() string {
	switch {
	case m.Write == Owner && m.Self:
		return " Only the " + m.Singular + " themselves or an admin may."
	case m.Write == Owner:
		return " Only the " + m.OwnerWord() + " or an admin may."
	case m.Write == Admin:
		return " Only admins may."
	}
	return ""
}

// auditPairsPerCall is how many key/value pairs one jsonb_build_object call takes
// (PostgreSQL allows a function 100 arguments).
const auditPairsPerCall = 50

// AuditAfter returns the SQL expression, over the columns of a row just written, of
// its audit image as audit.Record stores it: a JSON object keyed by column name (the
// JSON tags of the sqlc row), timestamps as encoding/json writes them in UTC
// (RFC 3339 with "Z" and without trailing zeros in the fraction), and the value of
// every column audit.Sensitive names replaced by audit.Redacted. A row of more than
// auditPairsPerCall columns is built in parts joined with ||.
func (m *Model) AuditAfter() string {
	var calls []string
	for start := 0; start < len(m.Columns); start += auditPairsPerCall {
		var pairs []string
		for _, c := range m.Columns[start:min(start+auditPairsPerCall, len(m.Columns))] {
			v := c.Name
			switch {
			case audit.Sensitive(c.Name):
				v = "'" + audit.Redacted + "'::text"
			case c.GoType == "time.Time":
				// A timestamp without time zone is written without an offset and
				// with the fraction's trailing zeros cut, as Go writes it.
				v = "(to_jsonb(" + c.Name + " AT TIME ZONE 'UTC') #>> '{}') || 'Z'"
			}
			pairs = append(pairs, "'"+c.Name+"', "+v)
		}
		calls = append(calls, "jsonb_build_object(\n               "+strings.Join(pairs, ",\n               ")+")")
	}
	return strings.Join(calls, "\n           || ")
}

// ListType is the element type of the list queries' pages: the table's row, or,
// when columns are hidden (lists do not read them), the response type.
func (m *Model) ListType() string {
	if len(m.Hidden) > 0 {
		return m.Type
	}
	return "sqlc." + m.Type
}

// Public returns the Go expression of row expression r as clients see it.
func (m *Model) Public(r string) string {
	if len(m.Hidden) > 0 {
		return "public" + m.Type + "(" + r + ")"
	}
	return m.Type + "(" + r + ")"
}

// RowDeps returns the dependencies of a route on one row: base, then, when the row
// is the principal, the self-or-admin check, then the row's loading and checks.
func (m *Model) RowDeps(base string, checks ...string) string {
	deps := []string{base + "[:len(" + base + "):len(" + base + ")]"}
	if m.Self && (base == "read" && m.Read == Owner || base == "write" && m.Write == Owner) {
		deps = append(deps, "requireSelfOrAdmin")
	}
	for _, c := range checks {
		deps = append(deps, c)
		if c == "load" && m.ParentCol != nil {
			deps = append(deps, "inParent")
		}
	}
	return "append(" + strings.Join(deps, ", ") + ")"
}

// Writes reports whether the module has a generated write route.
func (m *Model) Writes() bool {
	return len(m.Updates) > 0 || m.Op(OpCreate) || m.Op(OpDelete) || m.Op(OpBulk)
}
