package lint

import (
	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// pgParser gives the Atlas analyzers what they ask of a statement parser
// (sqlcheck.File.Parser), answered from pg_query parse trees.
type pgParser struct{}

// ColumnFilledBefore reports whether a statement before pos fills column c of table
// t: an UPDATE setting c on every row, or on the rows where c IS NULL. The
// data_depend analyzer then does not warn about making c NOT NULL.
func (pgParser) ColumnFilledBefore(stmts []*migrate.Stmt, t *schema.Table, c *schema.Column, pos int) (bool, error) {
	for _, s := range stmts {
		if s.Pos >= pos {
			break
		}
		node, err := parseStmt(s.Text)
		if err != nil {
			continue
		}
		u := node.GetUpdateStmt()
		if u == nil || u.Relation.GetRelname() != t.Name {
			continue
		}
		sets := false
		for _, tl := range u.TargetList {
			if rt := tl.GetResTarget(); rt != nil && rt.Name == c.Name {
				sets = true
			}
		}
		if !sets {
			continue
		}
		if u.WhereClause == nil {
			return true, nil
		}
		if nt := u.WhereClause.GetNullTest(); nt != nil && nt.Nulltesttype == pg_query.NullTestType_IS_NULL {
			if ref := nt.Arg.GetColumnRef(); ref != nil && len(ref.Fields) > 0 && ref.Fields[len(ref.Fields)-1].GetString_().GetSval() == c.Name {
				return true, nil
			}
		}
	}
	return false, nil
}

// CheckNotNullFor reports whether check proves that column is not null.
func (pgParser) CheckNotNullFor(check *schema.Check, column string) (bool, error) {
	return checkExprNotNull(check.Expr, column)
}

// fixRenames turns the drop-and-add that inspection shows for a hand-written RENAME
// into the rename it is, so a renamed column is not reported as a dropped one.
func fixRenames(node *pg_query.Node, changes schema.Changes) schema.Changes {
	s := node.GetRenameStmt()
	if s == nil {
		return changes
	}
	switch s.RenameType {
	case pg_query.ObjectType_OBJECT_TABLE:
		drop, add := -1, -1
		for i, c := range changes {
			switch c := c.(type) {
			case *schema.DropTable:
				if c.T.Name == s.Relation.GetRelname() {
					drop = i
				}
			case *schema.AddTable:
				if c.T.Name == s.Newname {
					add = i
				}
			}
		}
		if drop < 0 || add < 0 {
			return changes
		}
		rt := &schema.RenameTable{From: changes[drop].(*schema.DropTable).T, To: changes[add].(*schema.AddTable).T}
		return replacePair(changes, drop, add, rt)
	case pg_query.ObjectType_OBJECT_COLUMN, pg_query.ObjectType_OBJECT_INDEX:
		for _, c := range changes {
			m, ok := c.(*schema.ModifyTable)
			if !ok {
				continue
			}
			drop, add := -1, -1
			var renamed schema.Change
			for i, mc := range m.Changes {
				switch mc := mc.(type) {
				case *schema.DropColumn:
					if s.RenameType == pg_query.ObjectType_OBJECT_COLUMN && mc.C.Name == s.Subname {
						drop = i
					}
				case *schema.AddColumn:
					if s.RenameType == pg_query.ObjectType_OBJECT_COLUMN && mc.C.Name == s.Newname {
						add = i
					}
				case *schema.DropIndex:
					if s.RenameType == pg_query.ObjectType_OBJECT_INDEX && mc.I.Name == s.Relation.GetRelname() {
						drop = i
					}
				case *schema.AddIndex:
					if s.RenameType == pg_query.ObjectType_OBJECT_INDEX && mc.I.Name == s.Newname {
						add = i
					}
				}
			}
			if drop < 0 || add < 0 {
				continue
			}
			if s.RenameType == pg_query.ObjectType_OBJECT_COLUMN {
				renamed = &schema.RenameColumn{From: m.Changes[drop].(*schema.DropColumn).C, To: m.Changes[add].(*schema.AddColumn).C}
			} else {
				renamed = &schema.RenameIndex{From: m.Changes[drop].(*schema.DropIndex).I, To: m.Changes[add].(*schema.AddIndex).I}
			}
			m.Changes = replacePair(m.Changes, drop, add, renamed)
		}
	}
	return changes
}

// replacePair returns changes with the entries at i and j replaced by one c.
func replacePair(changes schema.Changes, i, j int, c schema.Change) schema.Changes {
	out := make(schema.Changes, 0, len(changes)-1)
	for k, ch := range changes {
		switch k {
		case min(i, j):
			out = append(out, c)
		case max(i, j):
		default:
			out = append(out, ch)
		}
	}
	return out
}
