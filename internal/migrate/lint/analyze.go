package lint

import (
	"fmt"
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Table lock modes, weakest first, as PostgreSQL names them.
const (
	lockNone                 = ""
	lockAccessShare          = "ACCESS SHARE"
	lockRowExclusive         = "ROW EXCLUSIVE"
	lockShareUpdateExclusive = "SHARE UPDATE EXCLUSIVE"
	lockShare                = "SHARE"
	lockShareRowExclusive    = "SHARE ROW EXCLUSIVE"
	lockAccessExclusive      = "ACCESS EXCLUSIVE"
)

var lockOrder = []string{lockNone, lockAccessShare, lockRowExclusive, lockShareUpdateExclusive, lockShare, lockShareRowExclusive, lockAccessExclusive}

// lockBlocks says, for each lock mode, what other sessions cannot do while it is held.
var lockBlocks = map[string]string{
	lockNone:                 "nothing on existing tables",
	lockAccessShare:          "only ACCESS EXCLUSIVE (DROP, most ALTER TABLE)",
	lockRowExclusive:         "schema changes and SHARE locks (CREATE INDEX); writers of the same rows wait for their row locks",
	lockShareUpdateExclusive: "schema changes, VACUUM and other concurrent builds; reads and writes go on",
	lockShare:                "INSERT, UPDATE, DELETE; reads go on",
	lockShareRowExclusive:    "INSERT, UPDATE, DELETE and schema changes; reads go on",
	lockAccessExclusive:      "all reads and writes; waits behind running queries, and everything queues behind it",
}

// LockBlocks returns what other sessions cannot do while lock (a PostgreSQL table
// lock mode such as "ACCESS EXCLUSIVE") is held; "" for an unknown mode.
func LockBlocks(lock string) string { return lockBlocks[lock] }

func stronger(a, b string) string {
	if slices.Index(lockOrder, b) > slices.Index(lockOrder, a) {
		return b
	}
	return a
}

// Effect is what one statement does to the database, in a DBA's words.
type Effect struct {
	// Action says what the statement does, e.g. "adds column posts.slug (text)".
	Action string `json:"action"`
	// Tables lists the existing tables it locks.
	Tables []string `json:"tables,omitempty"`
	// Lock is the strongest table lock taken on an existing table ("" for none).
	Lock string `json:"lock"`
	// Blocks says what that lock keeps other sessions from doing.
	Blocks string `json:"blocks"`
	// Scans is set when the statement reads every row of an existing table.
	Scans bool `json:"scans"`
	// Rewrites is set when the table's storage was replaced (measured on the dev database).
	Rewrites bool `json:"rewrites"`
}

// fileState is what the rules know about the file being replayed.
type fileState struct {
	name       string
	txNone     bool            // the file declares -- atlas:txmode none
	defSchema  string          // schema of unqualified names
	existing   map[string]bool // "schema.table" of tables that existed before the file
	indexTable map[string]string
	enumAdded  map[string]int // enum values added in this file → statement position
}

func (f *fileState) key(t tableRef) string { return t.schemaOr(f.defSchema) + "." + t.Name }

func (f *fileState) exists(t tableRef) bool { return t.Name != "" && f.existing[f.key(t)] }

// stmtFacts are measured on the dev database around one statement.
type stmtFacts struct {
	rewritten     map[string]bool // "schema.table" whose relfilenode changed
	notNullProven map[string]bool // "schema.table.column" with a validated CHECK (col IS NOT NULL) before the statement
}

// analysis accumulates the effect and findings of one statement.
type analysis struct {
	f        *fileState
	facts    stmtFacts
	pos      int
	effect   Effect
	findings []Finding
}

func (a *analysis) lock(t tableRef, mode string) {
	if !a.f.exists(t) {
		return
	}
	if name := t.String(); !slices.Contains(a.effect.Tables, name) {
		a.effect.Tables = append(a.effect.Tables, name)
	}
	a.effect.Lock = stronger(a.effect.Lock, mode)
}

func (a *analysis) scan(t tableRef) {
	if a.f.exists(t) {
		a.effect.Scans = true
	}
}

func (a *analysis) report(code, format string, args ...any) {
	r, _ := RuleFor(code)
	a.findings = append(a.findings, Finding{
		Code:        code,
		Severity:    r.Severity,
		Pos:         a.pos,
		Message:     fmt.Sprintf(format, args...),
		Lock:        r.Lock,
		Alternative: r.Alternative,
	})
}

func (a *analysis) actions(parts ...string) {
	for _, p := range parts {
		if p == "" {
			continue
		}
		if a.effect.Action != "" {
			a.effect.Action += "; "
		}
		a.effect.Action += p
	}
}

// analyzeStmt describes what node does and applies Quarry's rules to it.
func analyzeStmt(node *pg_query.Node, pos int, f *fileState, facts stmtFacts) (Effect, []Finding) {
	a := &analysis{f: f, facts: facts, pos: pos}
	switch {
	case node.GetCreateStmt() != nil:
		a.createTable(node.GetCreateStmt())
	case node.GetIndexStmt() != nil:
		a.createIndex(node.GetIndexStmt())
	case node.GetDropStmt() != nil:
		a.drop(node.GetDropStmt())
	case node.GetAlterTableStmt() != nil:
		a.alterTable(node.GetAlterTableStmt())
	case node.GetRenameStmt() != nil:
		a.rename(node.GetRenameStmt())
	case node.GetCreateTrigStmt() != nil:
		s := node.GetCreateTrigStmt()
		t := refOf(s.Relation)
		a.actions(fmt.Sprintf("creates trigger %s on %s", s.Trigname, t))
		a.lock(t, lockShareRowExclusive)
	case node.GetCreateFunctionStmt() != nil:
		a.actions("creates function " + nameList(node.GetCreateFunctionStmt().Funcname))
	case node.GetViewStmt() != nil:
		a.actions("creates view " + refOf(node.GetViewStmt().View).String())
	case node.GetCreateTableAsStmt() != nil:
		a.actions("creates " + strings.ToLower(strings.TrimPrefix(node.GetCreateTableAsStmt().Objtype.String(), "OBJECT_")) + " " + refOf(node.GetCreateTableAsStmt().Into.GetRel()).String())
	case node.GetCreateEnumStmt() != nil:
		a.actions("creates enum type " + nameList(node.GetCreateEnumStmt().TypeName))
	case node.GetAlterEnumStmt() != nil:
		a.alterEnum(node.GetAlterEnumStmt())
	case node.GetCreateExtensionStmt() != nil:
		a.actions("creates extension " + node.GetCreateExtensionStmt().Extname)
	case node.GetCreateSchemaStmt() != nil:
		a.actions("creates schema " + node.GetCreateSchemaStmt().Schemaname)
	case node.GetCreateSeqStmt() != nil:
		a.actions("creates sequence " + refOf(node.GetCreateSeqStmt().Sequence).String())
	case node.GetCommentStmt() != nil:
		a.actions("sets a comment")
	case node.GetInsertStmt() != nil:
		t := refOf(node.GetInsertStmt().Relation)
		a.actions("inserts rows into " + t.String())
		a.lock(t, lockRowExclusive)
	case node.GetUpdateStmt() != nil:
		s := node.GetUpdateStmt()
		a.write("updates", refOf(s.Relation), s.WhereClause != nil)
	case node.GetDeleteStmt() != nil:
		s := node.GetDeleteStmt()
		a.write("deletes", refOf(s.Relation), s.WhereClause != nil)
	case node.GetTruncateStmt() != nil:
		for _, r := range node.GetTruncateStmt().Relations {
			t := refOf(r.GetRangeVar())
			a.actions("empties " + t.String())
			a.lock(t, lockAccessExclusive)
		}
	case node.GetVacuumStmt() != nil:
		a.vacuum(node.GetVacuumStmt())
	case node.GetClusterStmt() != nil:
		s := node.GetClusterStmt()
		t := refOf(s.Relation)
		a.actions("rewrites " + t.String() + " in index order (CLUSTER)")
		a.lock(t, lockAccessExclusive)
		a.scan(t)
		a.effect.Rewrites = a.effect.Rewrites || a.f.exists(t)
		if a.f.exists(t) || s.Relation == nil {
			a.report(CodeCluster, "CLUSTER %s rewrites the table under ACCESS EXCLUSIVE", t)
		}
	case node.GetReindexStmt() != nil:
		a.reindex(node.GetReindexStmt())
	case node.GetGrantStmt() != nil:
		a.actions("grants or revokes privileges")
	default:
		a.actions("runs " + strings.TrimSuffix(strings.ToLower(nodeKind(node)), "stmt"))
	}
	for t := range facts.rewritten {
		if f.existing[t] {
			a.effect.Rewrites = true
		}
	}
	if a.effect.Rewrites {
		a.effect.Scans = true
	}
	a.effect.Blocks = lockBlocks[a.effect.Lock]
	return a.effect, a.findings
}

func nodeKind(n *pg_query.Node) string {
	s := fmt.Sprintf("%T", n.GetNode())
	s = strings.TrimPrefix(s, "*pg_query.Node_")
	return s
}

func (a *analysis) createTable(s *pg_query.CreateStmt) {
	t := refOf(s.Relation)
	a.actions("creates table " + t.String())
	// Foreign keys lock the tables they reference.
	visitFK := func(c *pg_query.Constraint) {
		if c != nil && c.Contype == pg_query.ConstrType_CONSTR_FOREIGN {
			a.lock(refOf(c.Pktable), lockShareRowExclusive)
		}
	}
	for _, e := range s.TableElts {
		visitFK(e.GetConstraint())
		if cd := e.GetColumnDef(); cd != nil {
			for _, c := range cd.Constraints {
				visitFK(c.GetConstraint())
			}
		}
	}
}

func (a *analysis) createIndex(s *pg_query.IndexStmt) {
	t := refOf(s.Relation)
	kind := "index"
	if s.Unique {
		kind = "unique index"
	}
	how := ""
	if s.Concurrent {
		how = " concurrently"
	}
	a.actions(fmt.Sprintf("builds %s %s on %s%s", kind, s.Idxname, t, how))
	a.scan(t)
	switch {
	case s.Concurrent:
		a.lock(t, lockShareUpdateExclusive)
		if !a.f.txNone {
			a.report(CodeConcurrentInTx, "CREATE INDEX CONCURRENTLY cannot run inside the transaction of file %s", a.f.name)
		}
	default:
		a.lock(t, lockShare)
		if a.f.exists(t) {
			a.report(CodeIndexNotConcurrent, "CREATE INDEX %s on existing table %s without CONCURRENTLY blocks writes while it builds", s.Idxname, t)
		}
	}
}

func (a *analysis) drop(s *pg_query.DropStmt) {
	kind := strings.ToLower(strings.TrimPrefix(s.RemoveType.String(), "OBJECT_"))
	for _, o := range s.Objects {
		var ref tableRef
		if l := o.GetList(); l != nil {
			ref = refOfList(l.Items)
		} else if tn := o.GetTypeName(); tn != nil {
			ref = refOfList(tn.Names)
		} else if ow := o.GetObjectWithArgs(); ow != nil {
			ref = refOfList(ow.Objname)
		} else if str := o.GetString_(); str != nil {
			ref = tableRef{Name: str.Sval}
		}
		switch s.RemoveType {
		case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_MATVIEW, pg_query.ObjectType_OBJECT_SEQUENCE:
			a.actions(fmt.Sprintf("drops %s %s", kind, ref))
			a.lock(ref, lockAccessExclusive)
		case pg_query.ObjectType_OBJECT_INDEX:
			table := tableRef{}
			if tn, ok := a.f.indexTable[a.f.key(ref)]; ok {
				table = tableRef{Schema: ref.schemaOr(a.f.defSchema), Name: tn}
			}
			how := ""
			if s.Concurrent {
				how = " concurrently"
			}
			a.actions(fmt.Sprintf("drops index %s%s", ref, how))
			switch {
			case s.Concurrent:
				a.lock(table, lockShareUpdateExclusive)
				if !a.f.txNone {
					a.report(CodeConcurrentInTx, "DROP INDEX CONCURRENTLY cannot run inside the transaction of file %s", a.f.name)
				}
			default:
				a.lock(table, lockAccessExclusive)
				if a.f.exists(table) {
					a.report(CodeDropIndexNotConcurrent, "DROP INDEX %s without CONCURRENTLY takes ACCESS EXCLUSIVE on %s", ref, table)
				}
			}
		case pg_query.ObjectType_OBJECT_TRIGGER:
			// The object is table.trigger.
			if l := o.GetList(); l != nil && len(l.Items) >= 2 {
				trig := l.Items[len(l.Items)-1].GetString_().GetSval()
				table := refOfList(l.Items[:len(l.Items)-1])
				a.actions(fmt.Sprintf("drops trigger %s on %s", trig, table))
				a.lock(table, lockAccessExclusive)
			}
		default:
			a.actions(fmt.Sprintf("drops %s %s", kind, ref))
		}
	}
}

func (a *analysis) alterTable(s *pg_query.AlterTableStmt) {
	t := refOf(s.Relation)
	if s.Objtype == pg_query.ObjectType_OBJECT_INDEX {
		a.actions("alters index " + t.String())
		return
	}
	for _, n := range s.Cmds {
		c := n.GetAlterTableCmd()
		if c == nil {
			continue
		}
		col := t.String() + "." + c.Name
		switch c.Subtype {
		case pg_query.AlterTableType_AT_AddColumn:
			cd := c.Def.GetColumnDef()
			a.actions(fmt.Sprintf("adds column %s.%s (%s)", t, cd.GetColname(), typeName(cd.GetTypeName())))
			a.lock(t, lockAccessExclusive)
			if a.f.exists(t) && a.facts.rewritten[a.f.key(t)] {
				a.report(CodeVolatileDefault, "ADD COLUMN %s with a volatile default rewrites %s", cd.GetColname(), t)
			}
			a.inlineConstraints(t, cd)
		case pg_query.AlterTableType_AT_DropColumn:
			a.actions("drops column " + col)
			a.lock(t, lockAccessExclusive)
		case pg_query.AlterTableType_AT_AlterColumnType:
			cd := c.Def.GetColumnDef()
			a.actions(fmt.Sprintf("changes the type of %s to %s", col, typeName(cd.GetTypeName())))
			a.lock(t, lockAccessExclusive)
			if a.f.exists(t) && a.facts.rewritten[a.f.key(t)] {
				a.report(CodeTypeRewrite, "changing %s to %s rewrites %s and its indexes", col, typeName(cd.GetTypeName()), t)
			}
		case pg_query.AlterTableType_AT_SetNotNull:
			a.actions("sets NOT NULL on " + col)
			a.lock(t, lockAccessExclusive)
			if a.f.exists(t) && !a.facts.notNullProven[a.f.key(t)+"."+c.Name] {
				a.scan(t)
				a.report(CodeSetNotNull, "SET NOT NULL on %s scans the whole table under ACCESS EXCLUSIVE: no validated CHECK (%s IS NOT NULL) exists", col, c.Name)
			}
		case pg_query.AlterTableType_AT_DropNotNull:
			a.actions("drops NOT NULL on " + col)
			a.lock(t, lockAccessExclusive)
		case pg_query.AlterTableType_AT_ColumnDefault:
			if c.Def == nil {
				a.actions("drops the default of " + col)
			} else {
				a.actions("sets the default of " + col)
			}
			a.lock(t, lockAccessExclusive)
		case pg_query.AlterTableType_AT_AddConstraint:
			a.addConstraint(t, c.Def.GetConstraint())
		case pg_query.AlterTableType_AT_ValidateConstraint:
			a.actions(fmt.Sprintf("validates constraint %s on %s", c.Name, t))
			a.lock(t, lockShareUpdateExclusive)
			a.scan(t)
		case pg_query.AlterTableType_AT_DropConstraint:
			a.actions(fmt.Sprintf("drops constraint %s on %s", c.Name, t))
			a.lock(t, lockAccessExclusive)
		default:
			a.actions(fmt.Sprintf("alters table %s (%s)", t, strings.ToLower(strings.TrimPrefix(c.Subtype.String(), "AT_"))))
			a.lock(t, lockAccessExclusive)
		}
	}
}

func (a *analysis) addConstraint(t tableRef, c *pg_query.Constraint) {
	if c == nil {
		return
	}
	notValid := ""
	if c.SkipValidation {
		notValid = " NOT VALID"
	}
	name := c.Conname
	if name == "" {
		name = "(unnamed)"
	}
	switch c.Contype {
	case pg_query.ConstrType_CONSTR_FOREIGN:
		a.actions(fmt.Sprintf("adds foreign key %s on %s referencing %s%s", name, t, refOf(c.Pktable), notValid))
		a.lock(t, lockShareRowExclusive)
		a.lock(refOf(c.Pktable), lockShareRowExclusive)
		if !c.SkipValidation {
			a.scan(t)
			if a.f.exists(t) {
				a.report(CodeForeignKeyValidated, "foreign key %s on existing table %s is checked against every row while writes are blocked", name, t)
			}
		}
	case pg_query.ConstrType_CONSTR_CHECK:
		a.actions(fmt.Sprintf("adds check %s on %s%s", name, t, notValid))
		a.lock(t, lockAccessExclusive)
		if !c.SkipValidation {
			a.scan(t)
			if a.f.exists(t) {
				a.report(CodeCheckValidated, "check %s on existing table %s is checked against every row under ACCESS EXCLUSIVE", name, t)
			}
		}
	case pg_query.ConstrType_CONSTR_UNIQUE, pg_query.ConstrType_CONSTR_PRIMARY:
		kind := "unique constraint"
		if c.Contype == pg_query.ConstrType_CONSTR_PRIMARY {
			kind = "primary key"
		}
		if c.Indexname != "" {
			a.actions(fmt.Sprintf("adds %s %s on %s using index %s", kind, name, t, c.Indexname))
			a.lock(t, lockAccessExclusive)
			return
		}
		a.actions(fmt.Sprintf("adds %s %s on %s (builds its index)", kind, name, t))
		a.lock(t, lockAccessExclusive)
		a.scan(t)
		if a.f.exists(t) {
			a.report(CodeUniqueWithoutIndex, "%s %s on existing table %s builds its index under ACCESS EXCLUSIVE", kind, name, t)
		}
	default:
		a.actions(fmt.Sprintf("adds constraint %s on %s", name, t))
		a.lock(t, lockAccessExclusive)
	}
}

// inlineConstraints checks the constraints written on a column added to table t: they
// are validated (or their index built) while ADD COLUMN holds ACCESS EXCLUSIVE.
func (a *analysis) inlineConstraints(t tableRef, cd *pg_query.ColumnDef) {
	if !a.f.exists(t) || cd == nil {
		return
	}
	for _, n := range cd.Constraints {
		c := n.GetConstraint()
		if c == nil {
			continue
		}
		switch c.Contype {
		case pg_query.ConstrType_CONSTR_FOREIGN:
			a.lock(refOf(c.Pktable), lockShareRowExclusive)
			a.scan(t)
			a.report(CodeForeignKeyValidated, "the REFERENCES of new column %s.%s is checked against every row while ADD COLUMN holds ACCESS EXCLUSIVE", t, cd.Colname)
		case pg_query.ConstrType_CONSTR_CHECK:
			a.scan(t)
			a.report(CodeCheckValidated, "the CHECK of new column %s.%s is checked against every row under ACCESS EXCLUSIVE", t, cd.Colname)
		case pg_query.ConstrType_CONSTR_UNIQUE, pg_query.ConstrType_CONSTR_PRIMARY:
			a.scan(t)
			a.report(CodeUniqueWithoutIndex, "the UNIQUE or PRIMARY KEY of new column %s.%s builds its index under ACCESS EXCLUSIVE", t, cd.Colname)
		}
	}
}

func (a *analysis) rename(s *pg_query.RenameStmt) {
	t := refOf(s.Relation)
	switch s.RenameType {
	case pg_query.ObjectType_OBJECT_COLUMN:
		a.actions(fmt.Sprintf("renames column %s.%s to %s", t, s.Subname, s.Newname))
		a.lock(t, lockAccessExclusive)
		if a.f.exists(t) {
			a.report(CodeRename, "renaming column %s.%s to %s breaks the version of the application that is running", t, s.Subname, s.Newname)
		}
	case pg_query.ObjectType_OBJECT_TABLE:
		a.actions(fmt.Sprintf("renames table %s to %s", t, s.Newname))
		a.lock(t, lockAccessExclusive)
		if a.f.exists(t) {
			a.report(CodeRename, "renaming table %s to %s breaks the version of the application that is running", t, s.Newname)
		}
	case pg_query.ObjectType_OBJECT_INDEX:
		a.actions(fmt.Sprintf("renames index %s to %s", t, s.Newname))
		if tn, ok := a.f.indexTable[a.f.key(t)]; ok {
			a.lock(tableRef{Schema: t.schemaOr(a.f.defSchema), Name: tn}, lockShareUpdateExclusive)
		}
	case pg_query.ObjectType_OBJECT_TABCONSTRAINT:
		a.actions(fmt.Sprintf("renames constraint %s on %s to %s", s.Subname, t, s.Newname))
		a.lock(t, lockAccessExclusive)
	default:
		a.actions(fmt.Sprintf("renames %s to %s", strings.ToLower(strings.TrimPrefix(s.RenameType.String(), "OBJECT_")), s.Newname))
	}
}

func (a *analysis) alterEnum(s *pg_query.AlterEnumStmt) {
	typ := nameList(s.TypeName)
	if s.OldVal != "" {
		a.actions(fmt.Sprintf("renames value %q of enum %s to %q", s.OldVal, typ, s.NewVal))
		return
	}
	a.actions(fmt.Sprintf("adds value %q to enum %s", s.NewVal, typ))
	if !a.f.txNone {
		a.f.enumAdded[s.NewVal] = a.pos
	}
}

func (a *analysis) write(verb string, t tableRef, where bool) {
	scope := "matching rows"
	if !where {
		scope = "every row"
	}
	a.actions(fmt.Sprintf("%s %s of %s", verb, scope, t))
	a.lock(t, lockRowExclusive)
	a.scan(t)
	if !where && a.f.exists(t) {
		a.report(CodeUnboundedWrite, "%s without WHERE locks every row of %s until the migration commits", strings.ToUpper(strings.TrimSuffix(verb, "s")), t)
	}
}

func (a *analysis) vacuum(s *pg_query.VacuumStmt) {
	if !s.IsVacuumcmd {
		a.actions("analyzes tables")
		return
	}
	full := defElemSet(s.Options, "full")
	if !a.f.txNone {
		a.report(CodeConcurrentInTx, "VACUUM cannot run inside the transaction of file %s", a.f.name)
	}
	var tables []tableRef
	for _, r := range s.Rels {
		if vr := r.GetVacuumRelation(); vr != nil {
			tables = append(tables, refOf(vr.Relation))
		}
	}
	for _, t := range tables {
		if full {
			a.actions("rewrites " + t.String() + " (VACUUM FULL)")
			a.lock(t, lockAccessExclusive)
			a.effect.Rewrites = a.effect.Rewrites || a.f.exists(t)
		} else {
			a.actions("vacuums " + t.String())
			a.lock(t, lockShareUpdateExclusive)
		}
		a.scan(t)
	}
	if len(tables) == 0 {
		a.actions("vacuums every table")
	}
	if full {
		a.report(CodeVacuumFull, "VACUUM FULL rewrites under ACCESS EXCLUSIVE")
	}
}

func (a *analysis) reindex(s *pg_query.ReindexStmt) {
	concurrent := defElemSet(s.Params, "concurrently")
	target := s.Name
	var table tableRef
	switch s.Kind {
	case pg_query.ReindexObjectType_REINDEX_OBJECT_TABLE:
		table = refOf(s.Relation)
		target = "the indexes of " + table.String()
	case pg_query.ReindexObjectType_REINDEX_OBJECT_INDEX:
		idx := refOf(s.Relation)
		target = "index " + idx.String()
		if tn, ok := a.f.indexTable[a.f.key(idx)]; ok {
			table = tableRef{Schema: idx.schemaOr(a.f.defSchema), Name: tn}
		}
	default:
		target = "every index of " + strings.ToLower(strings.TrimPrefix(s.Kind.String(), "REINDEX_OBJECT_")) + " " + s.Name
	}
	if concurrent {
		a.actions("rebuilds " + target + " concurrently")
		a.lock(table, lockShareUpdateExclusive)
		if !a.f.txNone {
			a.report(CodeConcurrentInTx, "REINDEX CONCURRENTLY cannot run inside the transaction of file %s", a.f.name)
		}
		return
	}
	a.actions("rebuilds " + target)
	a.lock(table, lockShare)
	a.scan(table)
	a.report(CodeReindex, "REINDEX of %s without CONCURRENTLY blocks writes (and reads using the index)", target)
}

// typeName renders a parsed type the way a person writes it, e.g. varchar(200).
func typeName(t *pg_query.TypeName) string {
	if t == nil {
		return "?"
	}
	var names []string
	for _, n := range t.Names {
		if s := n.GetString_().GetSval(); s != "" && s != "pg_catalog" {
			names = append(names, s)
		}
	}
	out := strings.Join(names, ".")
	switch out {
	case "int4":
		out = "integer"
	case "int8":
		out = "bigint"
	case "int2":
		out = "smallint"
	case "bool":
		out = "boolean"
	case "float8":
		out = "double precision"
	case "timestamptz":
		out = "timestamptz"
	}
	if len(t.Typmods) > 0 {
		var mods []string
		for _, m := range t.Typmods {
			if c := m.GetAConst(); c != nil {
				if iv := c.GetIval(); iv != nil {
					mods = append(mods, fmt.Sprint(iv.Ival))
				}
			}
		}
		out += "(" + strings.Join(mods, ",") + ")"
	}
	if len(t.ArrayBounds) > 0 {
		out += "[]"
	}
	return out
}

// enumUses reports the enum values added earlier in the same transactional file that
// node uses as a literal.
func enumUses(node *pg_query.Node, f *fileState, pos int) []string {
	if len(f.enumAdded) == 0 {
		return nil
	}
	var used []string
	for _, s := range stringConsts(node) {
		if at, ok := f.enumAdded[s]; ok && at < pos && !slices.Contains(used, s) {
			used = append(used, s)
		}
	}
	return used
}
