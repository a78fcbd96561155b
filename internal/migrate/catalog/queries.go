package catalog

import (
	"database/sql"
	"strings"
)

// userNS restricts a query to user schemas (alias n for pg_namespace).
const userNS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'atlas_schema_revisions')
	AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`

// notExt excludes objects of the catalog class cls owned by an extension (alias x for
// the object's oid).
func notExt(cls, oid string) string {
	return `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '` + cls + `'::regclass AND e.objid = ` + oid + ` AND e.deptype = 'e')`
}

// reader reads the objects of one kind.
type reader struct {
	kind  Kind
	query string
	scan  func(*sql.Rows) (Object, error)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// scanAttrs scans a row of name, table and then one column per attribute of names.
func scanAttrs(names ...string) func(*sql.Rows) (Object, error) {
	return func(rows *sql.Rows) (Object, error) {
		var o Object
		vals := make([]string, len(names))
		dest := []any{&o.Name, &o.Table}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return o, err
		}
		o.Attrs = make(map[string]string, len(names))
		for i, n := range names {
			o.Attrs[n] = vals[i]
		}
		return o, nil
	}
}

var readers = []reader{
	{
		kind: KindSchema,
		query: `SELECT quote_ident(n.nspname), '', coalesce(obj_description(n.oid, 'pg_namespace'), '')
FROM pg_namespace n WHERE ` + userNS + ` AND ` + notExt("pg_namespace", "n.oid"),
		scan: scanAttrs(AttrComment),
	},
	{
		kind: KindTable,
		query: `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), '',
	CASE WHEN c.relforcerowsecurity THEN 'forced' WHEN c.relrowsecurity THEN 'enabled' ELSE '' END,
	coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND ` + userNS + ` AND ` + notExt("pg_class", "c.oid"),
		scan: scanAttrs(AttrRLS, AttrComment),
	},
	{
		kind: KindColumn,
		query: `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname),
	quote_ident(n.nspname) || '.' || quote_ident(c.relname),
	format_type(a.atttypid, a.atttypmod),
	CASE WHEN a.attgenerated = '' THEN coalesce(pg_get_expr(d.adbin, d.adrelid), '') ELSE '' END,
	CASE WHEN a.attnotnull THEN 'yes' ELSE 'no' END,
	CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' ELSE '' END,
	CASE WHEN a.attgenerated <> '' THEN coalesce(pg_get_expr(d.adbin, d.adrelid), '') ELSE '' END,
	CASE WHEN a.attcollation <> t.typcollation THEN coalesce(co.collname, '') ELSE '' END,
	coalesce(col_description(c.oid, a.attnum), '')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
	AND ` + userNS + ` AND ` + notExt("pg_class", "c.oid"),
		scan: scanAttrs(AttrType, AttrDefault, AttrNotNull, AttrIdentity, AttrGenerated, AttrCollation, AttrComment),
	},
	{
		kind: KindConstraint,
		query: `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(k.conname),
	quote_ident(n.nspname) || '.' || quote_ident(c.relname),
	pg_get_constraintdef(k.oid),
	CASE WHEN k.convalidated THEN 'yes' ELSE 'no' END,
	coalesce(obj_description(k.oid, 'pg_constraint'), '')
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE k.contype IN ('c', 'f', 'p', 'u', 'x') AND ` + userNS + ` AND ` + notExt("pg_class", "c.oid"),
		scan: scanAttrs(AttrDefinition, AttrValid, AttrComment),
	},
	{
		kind: KindIndex,
		query: `SELECT quote_ident(n.nspname) || '.' || quote_ident(i.relname),
	quote_ident(n.nspname) || '.' || quote_ident(c.relname),
	pg_get_indexdef(i.oid),
	CASE WHEN x.indisvalid THEN 'yes' ELSE 'no' END,
	coalesce(obj_description(i.oid, 'pg_class'), '')
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = i.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND ` + userNS + ` AND ` + notExt("pg_class", "c.oid"),
		scan: scanAttrs(AttrDefinition, AttrValid, AttrComment),
	},
	{
		kind:  KindView,
		query: viewQuery("v"),
		scan:  scanView,
	},
	{
		kind:  KindMaterializedView,
		query: viewQuery("m"),
		scan:  scanView,
	},
	{
		kind: KindFunction,
		query: `SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
	'', pg_get_functiondef(p.oid), coalesce(obj_description(p.oid, 'pg_proc'), '')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p') AND ` + userNS + ` AND ` + notExt("pg_proc", "p.oid"),
		scan: scanAttrs(AttrDefinition, AttrComment),
	},
	{
		kind: KindTrigger,
		query: `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(t.tgname),
	quote_ident(n.nspname) || '.' || quote_ident(c.relname),
	pg_get_triggerdef(t.oid),
	CASE t.tgenabled WHEN 'O' THEN 'yes' WHEN 'D' THEN 'no' WHEN 'R' THEN 'replica only' WHEN 'A' THEN 'always' END,
	coalesce(obj_description(t.oid, 'pg_trigger'), '')
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND ` + userNS + ` AND ` + notExt("pg_class", "c.oid"),
		scan: scanAttrs(AttrDefinition, AttrEnabled, AttrComment),
	},
	{
		kind: KindEnum,
		query: `SELECT quote_ident(n.nspname) || '.' || quote_ident(t.typname), '',
	(SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
	coalesce(obj_description(t.oid, 'pg_type'), '')
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e' AND ` + userNS + ` AND ` + notExt("pg_type", "t.oid"),
		scan: scanAttrs(AttrValues, AttrComment),
	},
	{
		kind: KindExtension,
		query: `SELECT quote_ident(x.extname), '', x.extversion, quote_ident(n.nspname),
	coalesce(obj_description(x.oid, 'pg_extension'), '')
FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace`,
		scan: scanAttrs(AttrVersion, AttrSchema, AttrComment),
	},
	{
		kind: KindSequence,
		query: `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), '',
	format_type(s.seqtypid, NULL),
	format('start %s, increment %s, min %s, max %s, cache %s%s', s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
		CASE WHEN s.seqcycle THEN ', cycle' ELSE '' END),
	coalesce((SELECT quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) || '.' || quote_ident(ta.attname)
		FROM pg_depend d
		JOIN pg_class tc ON tc.oid = d.refobjid
		JOIN pg_namespace tn ON tn.oid = tc.relnamespace
		JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
		WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a'), ''),
	coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_sequence s ON s.seqrelid = c.oid
WHERE c.relkind = 'S' AND ` + userNS + ` AND ` + notExt("pg_class", "c.oid") + `
	AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')`,
		scan: scanAttrs(AttrType, AttrOptions, AttrOwnedBy, AttrComment),
	},
	{
		kind: KindPolicy,
		query: `SELECT quote_ident(p.schemaname) || '.' || quote_ident(p.tablename) || '.' || quote_ident(p.policyname),
	quote_ident(p.schemaname) || '.' || quote_ident(p.tablename),
	format('AS %s FOR %s TO %s', p.permissive, p.cmd, array_to_string(p.roles, ', '))
		|| coalesce(' USING (' || p.qual || ')', '') || coalesce(' WITH CHECK (' || p.with_check || ')', ''),
	''
FROM pg_policies p JOIN pg_namespace n ON n.nspname = p.schemaname
WHERE ` + userNS,
		scan: scanAttrs(AttrDefinition, AttrComment),
	},
}

// viewQuery selects the views (relkind v) or materialized views (m) with the views
// they read from.
func viewQuery(relkind string) string {
	return `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), '',
	pg_get_viewdef(c.oid),
	coalesce(array_to_string(c.reloptions, ', '), ''),
	coalesce(obj_description(c.oid, 'pg_class'), ''),
	coalesce((SELECT string_agg(DISTINCT quote_ident(rn.nspname) || '.' || quote_ident(rc.relname), E'\n')
		FROM pg_rewrite r
		JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
		JOIN pg_class rc ON rc.oid = d.refobjid AND rc.oid <> c.oid AND rc.relkind IN ('r', 'p', 'v', 'm')
		JOIN pg_namespace rn ON rn.oid = rc.relnamespace
		WHERE r.ev_class = c.oid), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = '` + relkind + `' AND ` + userNS + ` AND ` + notExt("pg_class", "c.oid")
}

func scanView(rows *sql.Rows) (Object, error) {
	var o Object
	var def, opts, comment, requires string
	if err := rows.Scan(&o.Name, &o.Table, &def, &opts, &comment, &requires); err != nil {
		return o, err
	}
	o.Attrs = map[string]string{AttrDefinition: def, AttrOptions: opts, AttrComment: comment}
	if requires != "" {
		o.Requires = strings.Split(requires, "\n")
	}
	return o, nil
}
