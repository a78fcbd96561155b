// Package lint analyzes migration files the way a DBA reviews them: what each
// statement does, the lock it takes, whether it scans or rewrites a table, and which
// statements are unsafe on a live database.
//
// Files are replayed statement by statement on a clean dev database, as the Atlas CLI
// does for `migrate lint`: the schema change of each statement is the difference of
// the inspected states around it, and the Atlas analyzers (destructive, data_depend,
// condrop, incompatible) run on those changes. Quarry's own PostgreSQL rules read each
// statement with PostgreSQL's parser (pg_query) and use what the replay measured, such
// as a table rewrite seen as a new relfilenode.
package lint

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"ariga.io/atlas/schemahcl"
	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	_ "ariga.io/atlas/sql/postgres/postgrescheck" // registers the PostgreSQL analyzers
	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlcheck"
	"ariga.io/atlas/sql/sqlclient"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	quarrymigrate "github.com/quarrydev/quarry/internal/migrate"
)

// Options say which files to analyze and where.
type Options struct {
	// Base files are replayed first and not analyzed: the state the new files start from.
	Base []migrate.File
	// Files are analyzed, in order.
	Files []migrate.File
	// DirPath prefixes file names in findings, e.g. "migrations".
	DirPath string
	// DevURL names a clean database the files are replayed on. Lint leaves objects in
	// it; use a throwaway database.
	DevURL string
}

// Finding is one problem found in a statement.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Analyzer is the Atlas analyzer that reported it, or "quarry".
	Analyzer string `json:"analyzer"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Pos      int    `json:"-"`
	Message  string `json:"message"`
	// Lock is the lock the statement takes, in the rule's words.
	Lock        string `json:"lock,omitempty"`
	Alternative string `json:"alternative,omitempty"`
	// Accepted is set when an `-- atlas:nolint` directive covers the finding.
	Accepted bool   `json:"accepted"`
	Reason   string `json:"reason,omitempty"`
}

// Blocking reports whether the finding fails lint: an error nobody accepted.
func (f Finding) Blocking() bool { return f.Severity == SeverityError && !f.Accepted }

// Statement is one analyzed statement of a file.
type Statement struct {
	Line     int       `json:"line"`
	Pos      int       `json:"-"`
	Text     string    `json:"text"`
	Effect   Effect    `json:"effect"`
	Findings []Finding `json:"findings,omitempty"`
}

// FileReport is the analysis of one migration file.
type FileReport struct {
	Name string `json:"name"`
	// Path is the file as the reader finds it, e.g. migrations/20261201120000_x.sql.
	Path       string       `json:"path"`
	TxMode     string       `json:"txmode"`
	Statements []*Statement `json:"statements"`
	// Error is set when the file could not be replayed; its analysis stops there.
	Error string `json:"error,omitempty"`
}

// Findings returns the findings of every statement of the file, in order.
func (f *FileReport) Findings() []Finding {
	var out []Finding
	for _, s := range f.Statements {
		out = append(out, s.Findings...)
	}
	return out
}

// Report is the analysis of a set of migration files.
type Report struct {
	Files []*FileReport `json:"files"`
}

// Failed reports whether any file failed to replay or holds a blocking finding.
func (r *Report) Failed() bool {
	for _, f := range r.Files {
		if f.Error != "" {
			return true
		}
		for _, fd := range f.Findings() {
			if fd.Blocking() {
				return true
			}
		}
	}
	return false
}

// Run replays opts.Base and then opts.Files on the dev database and analyzes every
// statement of opts.Files. A file that fails to replay ends the run with its
// FileReport.Error set (the report says so; Run itself returns no error then). Run
// returns an error when the dev database cannot be used or a base file fails.
func Run(ctx context.Context, opts Options) (*Report, error) {
	conn, closeConn, err := quarrymigrate.OpenConn(ctx, opts.DevURL)
	if err != nil {
		return nil, fmt.Errorf("dev database: %w", err)
	}
	defer closeConn()
	drv, err := postgres.Open(conn)
	if err != nil {
		return nil, fmt.Errorf("open migration driver: %w", err)
	}
	if err := drv.(migrate.CleanChecker).CheckClean(ctx, nil); err != nil {
		return nil, fmt.Errorf("dev database: %w", err)
	}
	azs, err := sqlcheck.AnalyzerFor(postgres.DriverName, &schemahcl.Resource{})
	if err != nil {
		return nil, fmt.Errorf("atlas analyzers: %w", err)
	}
	r := &replayer{conn: conn, drv: drv, dev: &sqlclient.Client{Name: postgres.DriverName, Driver: drv}, analyzers: azs, dirPath: opts.DirPath}
	if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&r.defSchema); err != nil {
		return nil, fmt.Errorf("dev database: %w", err)
	}
	for _, f := range opts.Base {
		stmts, err := migrate.FileStmtDecls(drv, f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		for _, s := range stmts {
			if _, err := conn.ExecContext(ctx, s.Text); err != nil {
				return nil, fmt.Errorf("replay %s (line %d): %w", f.Name(), lineOf(f.Bytes(), s.Pos), err)
			}
		}
	}
	current, err := r.inspect(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	for _, f := range opts.Files {
		fr, next, err := r.file(ctx, f, current)
		if err != nil {
			return nil, err
		}
		rep.Files = append(rep.Files, fr)
		if fr.Error != "" {
			break
		}
		current = next
	}
	return rep, nil
}

type replayer struct {
	conn      *sql.Conn
	drv       migrate.Driver
	dev       *sqlclient.Client
	analyzers []sqlcheck.Analyzer
	dirPath   string
	defSchema string
}

func (r *replayer) inspect(ctx context.Context) (*schema.Realm, error) {
	realm, err := r.drv.InspectRealm(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("inspect the dev database: %w", err)
	}
	return realm, nil
}

// file replays and analyzes one file starting from the state start.
func (r *replayer) file(ctx context.Context, f migrate.File, start *schema.Realm) (*FileReport, *schema.Realm, error) {
	path := f.Name()
	if r.dirPath != "" {
		path = strings.TrimSuffix(r.dirPath, "/") + "/" + f.Name()
	}
	fr := &FileReport{Name: f.Name(), Path: path, TxMode: "file"}
	fs := &fileState{name: f.Name(), defSchema: r.defSchema, existing: map[string]bool{}, indexTable: map[string]string{}, enumAdded: map[string]int{}}
	if lf, ok := f.(*migrate.LocalFile); ok {
		for _, m := range lf.Directive("txmode") {
			if strings.TrimSpace(m) == "none" {
				fr.TxMode, fs.txNone = "none", true
			}
		}
	}
	for _, s := range start.Schemas {
		for _, t := range s.Tables {
			fs.existing[s.Name+"."+t.Name] = true
			for _, i := range t.Indexes {
				fs.indexTable[s.Name+"."+i.Name] = t.Name
			}
		}
	}
	stmts, err := migrate.FileStmtDecls(r.drv, f)
	if err != nil {
		fr.Error = fmt.Sprintf("split statements: %v", err)
		return fr, nil, nil
	}
	cf := &sqlcheck.File{File: f, Parser: pgParser{}, From: start}
	current := start
	for _, s := range stmts {
		st := &Statement{Pos: s.Pos, Line: lineOf(f.Bytes(), s.Pos), Text: s.Text}
		fr.Statements = append(fr.Statements, st)
		node, err := parseStmt(s.Text)
		if err != nil {
			fr.Error = fmt.Sprintf("line %d: %v", st.Line, err)
			return fr, nil, nil
		}
		before, err := r.relfilenodes(ctx)
		if err != nil {
			return nil, nil, err
		}
		facts := stmtFacts{rewritten: map[string]bool{}}
		if facts.notNullProven, err = r.notNullProven(ctx, node, fs); err != nil {
			return nil, nil, err
		}
		if _, err := r.conn.ExecContext(ctx, s.Text); err != nil {
			fr.Error = fmt.Sprintf("line %d: the statement fails on a database migrated up to here: %v", st.Line, err)
			return fr, nil, nil
		}
		after, err := r.relfilenodes(ctx)
		if err != nil {
			return nil, nil, err
		}
		for t, node := range before {
			if n, ok := after[t]; ok && n != node {
				facts.rewritten[t] = true
			}
		}
		var changes schema.Changes
		if changesSchema(node) {
			next, err := r.inspect(ctx)
			if err != nil {
				return nil, nil, err
			}
			if changes, err = r.drv.RealmDiff(current, next); err != nil {
				return nil, nil, fmt.Errorf("diff %s line %d: %w", f.Name(), st.Line, err)
			}
			current = next
		}
		cf.Changes = append(cf.Changes, &sqlcheck.Change{Stmt: s, Changes: fixRenames(node, changes)})
		effect, findings := analyzeStmt(node, s.Pos, fs, facts)
		for _, v := range enumUses(node, fs, s.Pos) {
			a := &analysis{f: fs, pos: s.Pos}
			a.report(CodeEnumValueUsed, "enum value %q is used in the transaction that added it (line %d)", v, lineOf(f.Bytes(), fs.enumAdded[v]))
			findings = append(findings, a.findings...)
		}
		st.Effect = effect
		for i := range findings {
			findings[i].Analyzer = "quarry"
		}
		st.Findings = findings
	}
	cf.To = current
	if cf.Sum, err = r.drv.RealmDiff(start, current); err != nil {
		return nil, nil, fmt.Errorf("diff %s: %w", f.Name(), err)
	}
	if err := r.atlas(ctx, cf, fr); err != nil {
		return nil, nil, err
	}
	applyNolint(f, stmts, fr)
	for _, st := range fr.Statements {
		sort.SliceStable(st.Findings, func(i, j int) bool { return st.Findings[i].Code < st.Findings[j].Code })
		for i := range st.Findings {
			st.Findings[i].File, st.Findings[i].Line = fr.Path, st.Line
		}
	}
	return fr, current, nil
}

// atlas runs the Atlas analyzers on the file's changes and attaches their
// diagnostics to the statements they point at.
func (r *replayer) atlas(ctx context.Context, cf *sqlcheck.File, fr *FileReport) error {
	for _, az := range r.analyzers {
		name := "atlas"
		if n, ok := az.(sqlcheck.NamedAnalyzer); ok {
			name = n.Name()
		}
		rw := sqlcheck.ReportWriterFunc(func(rep sqlcheck.Report) {
			for _, d := range rep.Diagnostics {
				rule, _ := RuleFor(d.Code)
				sev := rule.Severity
				if sev == "" {
					sev = SeverityWarning
				}
				fd := Finding{Code: d.Code, Severity: sev, Analyzer: name, Pos: d.Pos, Message: d.Text, Lock: rule.Lock, Alternative: rule.Alternative}
				for _, fix := range d.SuggestedFixes {
					if fix.Message != "" {
						fd.Alternative = fix.Message
					}
				}
				i := slices.IndexFunc(fr.Statements, func(s *Statement) bool { return s.Pos == d.Pos })
				if i < 0 {
					i = 0
				}
				if len(fr.Statements) > 0 {
					fr.Statements[i].Findings = append(fr.Statements[i].Findings, fd)
				}
			}
		})
		// Analyzers configured to fail return an error after reporting; the findings'
		// severities carry that decision here.
		_ = az.Analyze(ctx, &sqlcheck.Pass{File: cf, Dev: r.dev, Reporter: rw})
	}
	return nil
}

// changesSchema reports whether node may change the schema; data statements and
// maintenance commands do not, and the replay skips inspecting after them.
func changesSchema(node *pg_query.Node) bool {
	switch node.GetNode().(type) {
	case *pg_query.Node_InsertStmt, *pg_query.Node_UpdateStmt, *pg_query.Node_DeleteStmt, *pg_query.Node_SelectStmt,
		*pg_query.Node_VacuumStmt, *pg_query.Node_ClusterStmt, *pg_query.Node_ReindexStmt, *pg_query.Node_TruncateStmt:
		return false
	}
	return true
}

// relfilenodes returns the storage file number of every user table, keyed by
// "schema.table". A statement that changes it rewrote the table.
func (r *replayer) relfilenodes(ctx context.Context) (map[string]uint32, error) {
	rows, err := r.conn.QueryContext(ctx, `
SELECT n.nspname || '.' || c.relname, c.relfilenode
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`)
	if err != nil {
		return nil, fmt.Errorf("read relfilenodes: %w", err)
	}
	defer rows.Close()
	out := map[string]uint32{}
	for rows.Next() {
		var name string
		var node uint32
		if err := rows.Scan(&name, &node); err != nil {
			return nil, fmt.Errorf("read relfilenodes: %w", err)
		}
		out[name] = node
	}
	return out, rows.Err()
}

// notNullProven returns, for each SET NOT NULL in node, whether the table already has
// a validated CHECK constraint proving the column is not null (then PostgreSQL skips
// the scan).
func (r *replayer) notNullProven(ctx context.Context, node *pg_query.Node, fs *fileState) (map[string]bool, error) {
	s := node.GetAlterTableStmt()
	if s == nil {
		return nil, nil
	}
	t := refOf(s.Relation)
	out := map[string]bool{}
	for _, n := range s.Cmds {
		c := n.GetAlterTableCmd()
		if c == nil || c.Subtype != pg_query.AlterTableType_AT_SetNotNull || !fs.exists(t) {
			continue
		}
		rows, err := r.conn.QueryContext(ctx, `
SELECT pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = to_regclass($1) AND contype = 'c' AND convalidated`, quoteIdent(t.schemaOr(fs.defSchema))+"."+quoteIdent(t.Name))
		if err != nil {
			return nil, fmt.Errorf("read check constraints of %s: %w", t, err)
		}
		for rows.Next() {
			var def string
			if err := rows.Scan(&def); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read check constraints of %s: %w", t, err)
			}
			if ok, _ := checkExprNotNull(def, c.Name); ok {
				out[fs.key(t)+"."+c.Name] = true
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read check constraints of %s: %w", t, err)
		}
	}
	return out, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// lineOf returns the 1-based line of byte offset pos in b.
func lineOf(b []byte, pos int) int {
	return 1 + strings.Count(string(b[:min(max(pos, 0), len(b))]), "\n")
}

var codePattern = regexp.MustCompile(`^[A-Z]{2}[0-9]{3}$`)

// analyzerNames are the classes a nolint directive may name instead of codes.
var analyzerNames = []string{"destructive", "data_depend", "condrop", "incompatible", "quarry"}

// nolint is one `-- atlas:nolint [CODE|ANALYZER …] [reason]` directive.
type nolint struct {
	all    bool
	codes  []string
	reason string
}

func parseNolint(d string) nolint {
	fields := strings.Fields(d)
	n := nolint{}
	i := 0
	for ; i < len(fields); i++ {
		if !codePattern.MatchString(fields[i]) && !slices.Contains(analyzerNames, fields[i]) {
			break
		}
		n.codes = append(n.codes, fields[i])
	}
	n.all = len(n.codes) == 0
	n.reason = strings.Join(fields[i:], " ")
	return n
}

func (n nolint) covers(f Finding) bool {
	return n.all || slices.Contains(n.codes, f.Code) || slices.Contains(n.codes, f.Analyzer)
}

// applyNolint marks the findings accepted by the file's and the statements'
// `atlas:nolint` directives, keeping the reason given.
func applyNolint(f migrate.File, stmts []*migrate.Stmt, fr *FileReport) {
	var fileLevel []nolint
	if lf, ok := f.(*migrate.LocalFile); ok {
		for _, d := range lf.Directive("nolint") {
			fileLevel = append(fileLevel, parseNolint(d))
		}
	}
	for i, st := range fr.Statements {
		ds := fileLevel
		if i < len(stmts) {
			for _, d := range stmts[i].Directive("nolint") {
				ds = append(ds, parseNolint(d))
			}
		}
		for j := range st.Findings {
			for _, d := range ds {
				if d.covers(st.Findings[j]) {
					st.Findings[j].Accepted, st.Findings[j].Reason = true, d.reason
					break
				}
			}
		}
	}
}
