package lint

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// parseStmt parses one SQL statement with PostgreSQL's own parser and returns its
// tree. It fails when the text is not valid PostgreSQL or holds no statement.
func parseStmt(text string) (*pg_query.Node, error) {
	res, err := pg_query.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if len(res.Stmts) == 0 || res.Stmts[0].Stmt == nil {
		return nil, fmt.Errorf("parse: no statement in %q", text)
	}
	return res.Stmts[0].Stmt, nil
}

// tableRef names a table; Schema is "" when the statement left it unqualified.
type tableRef struct {
	Schema, Name string
}

func refOf(rv *pg_query.RangeVar) tableRef {
	if rv == nil {
		return tableRef{}
	}
	return tableRef{Schema: rv.Schemaname, Name: rv.Relname}
}

func (t tableRef) String() string {
	if t.Schema == "" || t.Schema == "public" {
		return t.Name
	}
	return t.Schema + "." + t.Name
}

// schemaOr returns the table's schema, or def when the name is unqualified.
func (t tableRef) schemaOr(def string) string {
	if t.Schema == "" {
		return def
	}
	return t.Schema
}

// nameList joins a list of String nodes (a qualified name) with dots.
func nameList(nodes []*pg_query.Node) string {
	parts := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if s := n.GetString_(); s != nil {
			parts = append(parts, s.Sval)
		}
	}
	return strings.Join(parts, ".")
}

// refOfList turns a qualified name list (schema.name or name) into a tableRef.
func refOfList(nodes []*pg_query.Node) tableRef {
	var parts []string
	for _, n := range nodes {
		if s := n.GetString_(); s != nil {
			parts = append(parts, s.Sval)
		}
	}
	switch len(parts) {
	case 0:
		return tableRef{}
	case 1:
		return tableRef{Name: parts[0]}
	default:
		return tableRef{Schema: parts[len(parts)-2], Name: parts[len(parts)-1]}
	}
}

// defElemSet reports whether a list of DefElem options (VACUUM, REINDEX, CLUSTER
// parameters) holds name, e.g. "full" or "concurrently", not switched off.
func defElemSet(opts []*pg_query.Node, name string) bool {
	for _, o := range opts {
		d := o.GetDefElem()
		if d == nil || !strings.EqualFold(d.Defname, name) {
			continue
		}
		if d.Arg == nil {
			return true
		}
		if b := d.Arg.GetBoolean(); b != nil {
			return b.Boolval
		}
		if s := d.Arg.GetString_(); s != nil {
			return !strings.EqualFold(s.Sval, "false") && !strings.EqualFold(s.Sval, "off")
		}
		return true
	}
	return false
}

// walk calls fn for every message in the tree of m, depth first, parents first.
func walk(m proto.Message, fn func(protoreflect.Message)) {
	var visit func(protoreflect.Message)
	visit = func(msg protoreflect.Message) {
		fn(msg)
		msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Kind() != protoreflect.MessageKind:
			case fd.IsList():
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					visit(l.Get(i).Message())
				}
			case fd.IsMap():
			default:
				visit(v.Message())
			}
			return true
		})
	}
	visit(m.ProtoReflect())
}

// stringConsts returns every string literal in the tree of n.
func stringConsts(n *pg_query.Node) []string {
	var out []string
	walk(n, func(m protoreflect.Message) {
		if c, ok := m.Interface().(*pg_query.A_Const); ok {
			if s := c.GetSval(); s != nil {
				out = append(out, s.Sval)
			}
		}
	})
	return out
}

// notNullTestOn reports whether the boolean expression n proves column is not null:
// `column IS NOT NULL`, alone or as one term of an AND.
func notNullTestOn(n *pg_query.Node, column string) bool {
	if n == nil {
		return false
	}
	if b := n.GetBoolExpr(); b != nil {
		if b.Boolop != pg_query.BoolExprType_AND_EXPR {
			return false
		}
		for _, a := range b.Args {
			if notNullTestOn(a, column) {
				return true
			}
		}
		return false
	}
	t := n.GetNullTest()
	if t == nil || t.Nulltesttype != pg_query.NullTestType_IS_NOT_NULL {
		return false
	}
	ref := t.Arg.GetColumnRef()
	if ref == nil || len(ref.Fields) == 0 {
		return false
	}
	last := ref.Fields[len(ref.Fields)-1].GetString_()
	return last != nil && last.Sval == column
}

// checkExprNotNull parses a CHECK expression (as pg_get_constraintdef or Atlas
// print it, with or without the CHECK keyword and NOT VALID) and reports whether it
// proves column is not null.
func checkExprNotNull(expr, column string) (bool, error) {
	expr = strings.TrimSpace(expr)
	if len(expr) > 5 && strings.EqualFold(expr[:5], "CHECK") {
		expr = strings.TrimSpace(expr[5:])
	}
	expr = strings.TrimSuffix(expr, " NOT VALID")
	n, err := parseStmt("SELECT 1 WHERE " + expr)
	if err != nil {
		return false, err
	}
	sel := n.GetSelectStmt()
	if sel == nil {
		return false, nil
	}
	return notNullTestOn(sel.WhereClause, column), nil
}
