package gen

import (
	"slices"
	"strings"
)

// Shape is one filter shape of the list queries: which optional filters are set.
// Each is a branch of its own so that, under the generic plans of prepared
// statements, each is served by its own index.
type Shape struct {
	// Where switches the branch on (its filters set, the others NULL) and tests them.
	Where string
	// Key are the equality columns the keyset comparison starts with, Params their values.
	Key, Params []string
}

// Shapes returns every filter shape, no filter first.
func (m *Model) Shapes() []Shape {
	var out []Shape
	for mask := 0; mask < 1<<len(m.Filters); mask++ {
		var s Shape
		var conds []string
		if m.ParentCol != nil {
			p := "sqlc.arg('" + m.ParentCol.Name + "')::" + m.ParentCol.SQLType
			conds = append(conds, m.ParentCol.Name+" = "+p)
			s.Key, s.Params = append(s.Key, m.ParentCol.Name), append(s.Params, p)
		}
		var eqs []string
		for i, f := range m.Filters {
			p := "sqlc.narg('" + f.Name + "')::" + f.SQLType
			if mask&(1<<i) == 0 {
				conds = append(conds, p+" IS NULL")
				continue
			}
			conds = append(conds, p+" IS NOT NULL")
			eqs = append(eqs, f.Name+" = "+p)
			s.Key, s.Params = append(s.Key, f.Name), append(s.Params, p)
		}
		s.Where = strings.Join(append(conds, eqs...), " AND ")
		if s.Where == "" {
			// A table without filters or parent has one shape, which tests nothing.
			s.Where = "true"
		}
		out = append(out, s)
	}
	return out
}

// CountKeyset is the count branch's index condition: its filters and id > 0.
func (s Shape) CountKeyset() string {
	return tuple(append(append([]string{}, s.Key...), "id")) + " > " + tuple(append(append([]string{}, s.Params...), "0"))
}

// ListQuery is one keyset list query: a sort column and direction.
type ListQuery struct {
	Name string
	Col  *Column
	Desc bool
	// time is the resource's time sort column (nil without one).
	time *Column
}

// ListQueries returns the list queries, one per sort column and direction, the
// default (the first sort column, descending) first.
func (m *Model) ListQueries() []ListQuery {
	var out []ListQuery
	for _, c := range m.SortCols {
		for _, desc := range []bool{true, false} {
			q := ListQuery{Col: c, Desc: desc, time: m.TimeSort}
			q.Name = "List" + m.Plural + "By" + c.Field + q.dir()
			out = append(out, q)
		}
	}
	return out
}

// SortKeys returns the API's sort keys in the order of ListQueries.
func (m *Model) SortKeys() []string {
	var out []string
	for _, q := range m.ListQueries() {
		out = append(out, q.Key())
	}
	return out
}

// Key is the sort key clients pass: the column, with "-" first when descending.
func (q ListQuery) Key() string {
	if q.Desc {
		return "-" + q.Col.Name
	}
	return q.Col.Name
}

func (q ListQuery) dir() string {
	if q.Desc {
		return "Desc"
	}
	return "Asc"
}

// Order describes the order in words.
func (q ListQuery) Order() string {
	d := "ascending"
	if q.Desc {
		d = "descending"
	}
	if q.Col.Name == "id" {
		return "id " + d
	}
	return "(" + q.Col.Name + ", id) " + d
}

// OrderBy is the ORDER BY list.
func (q ListQuery) OrderBy() string {
	d := " ASC"
	if q.Desc {
		d = " DESC"
	}
	if q.Col.Name == "id" {
		return "id" + d
	}
	return q.Col.Name + d + ", id" + d
}

// Keyset is the branch's keyset comparison for shape s: its filter columns, then
// the sort key, against the cursor (or the lowest/highest key on the first page).
func (q ListQuery) Keyset(s Shape) string {
	op, inf, maxID := ">", "'-infinity'", "0"
	if q.Desc {
		op, inf, maxID = "<", "'infinity'", "9223372036854775807"
	}
	key, vals := append([]string{}, s.Key...), append([]string{}, s.Params...)
	if q.Col.Name != "id" {
		key = append(key, q.Col.Name)
		vals = append(vals, "COALESCE(sqlc.narg('after_"+q.Col.Name+"')::timestamptz, "+inf+")")
	}
	key = append(key, "id")
	vals = append(vals, "COALESCE(sqlc.narg('after_id')::bigint, "+maxID+")")
	return tuple(key) + " " + op + " " + tuple(vals)
}

func tuple(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// MissingIndexes returns a CREATE INDEX statement for each list order (filter shape
// and sort key) that no index of the table serves: without it, such a page reads
// and discards rows, or sorts.
func (m *Model) MissingIndexes() []string {
	var out []string
	for _, s := range m.Shapes() {
		for _, c := range m.SortCols {
			want := append(append([]string{}, s.Key...), c.Name)
			if c.Name != "id" {
				want = append(want, "id")
			}
			if slices.ContainsFunc(m.indexes, func(ix []string) bool {
				return len(ix) >= len(want) && slices.Equal(ix[:len(want)], want)
			}) {
				continue
			}
			stmt := "CREATE INDEX " + m.Table + "_" + strings.Join(want, "_") + "_idx ON " + m.Table + " (" + strings.Join(want, ", ") + ");"
			if !slices.Contains(out, stmt) {
				out = append(out, stmt)
			}
		}
	}
	return out
}
