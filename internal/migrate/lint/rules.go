package lint

// Severity says whether a finding fails lint (SeverityError) or only informs.
type Severity string

// Severities, from the strongest.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Rule describes one check: its stable code, how bad a finding is, what it detects,
// the lock the offending statement takes and the safe way to get the same result.
type Rule struct {
	Code        string   `json:"code"`
	Severity    Severity `json:"severity"`
	Title       string   `json:"title"`
	Lock        string   `json:"lock,omitempty"`
	Alternative string   `json:"alternative"`
	// Analyzer is the Atlas analyzer that reports the code; "" for Quarry's own rules.
	Analyzer string `json:"analyzer,omitempty"`
}

// Codes of Quarry's PostgreSQL rules. They never change meaning once released.
const (
	CodeIndexNotConcurrent     = "QP101"
	CodeDropIndexNotConcurrent = "QP102"
	CodeConcurrentInTx         = "QP103"
	CodeForeignKeyValidated    = "QP104"
	CodeCheckValidated         = "QP105"
	CodeSetNotNull             = "QP106"
	CodeTypeRewrite            = "QP107"
	CodeVolatileDefault        = "QP108"
	CodeRename                 = "QP109"
	CodeUniqueWithoutIndex     = "QP110"
	CodeEnumValueUsed          = "QP111"
	CodeUnboundedWrite         = "QP112"
	CodeVacuumFull             = "QP113"
	CodeCluster                = "QP114"
	CodeReindex                = "QP115"
)

// noRewriteCasts lists the column type changes PostgreSQL makes without rewriting
// the table (it still takes an ACCESS EXCLUSIVE lock, but only for a moment).
const noRewriteCasts = "varchar(n) → varchar(m ≥ n), varchar(n) → varchar or text, text → varchar, " +
	"numeric(p,s) → numeric(q ≥ p,s) or numeric, varbit(n) → varbit(m ≥ n) or varbit, cidr → inet, " +
	"timestamp → timestamptz when the session TimeZone is UTC"

var quarryRules = []Rule{
	{CodeIndexNotConcurrent, SeverityError, "index created without CONCURRENTLY on an existing table",
		"SHARE on the table: blocks INSERT, UPDATE and DELETE for the whole build",
		"CREATE INDEX CONCURRENTLY, alone in a file with `-- atlas:txmode none`", ""},
	{CodeDropIndexNotConcurrent, SeverityError, "index dropped without CONCURRENTLY on an existing table",
		"ACCESS EXCLUSIVE on the table: blocks reads and writes, and queues behind every running query",
		"DROP INDEX CONCURRENTLY, alone in a file with `-- atlas:txmode none`", ""},
	{CodeConcurrentInTx, SeverityError, "CONCURRENTLY (or VACUUM) inside a transactional file",
		"none: PostgreSQL refuses it (\"cannot run inside a transaction block\") and the file fails",
		"put the statement alone in its own file that starts with `-- atlas:txmode none`", ""},
	{CodeForeignKeyValidated, SeverityError, "foreign key added without NOT VALID on an existing table",
		"SHARE ROW EXCLUSIVE on both tables while every row is checked: blocks writes",
		"ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT in a later file (SHARE UPDATE EXCLUSIVE: reads and writes go on)", ""},
	{CodeCheckValidated, SeverityError, "CHECK added without NOT VALID on an existing table",
		"ACCESS EXCLUSIVE on the table while every row is checked: blocks reads and writes",
		"ADD CONSTRAINT … CHECK (…) NOT VALID, then VALIDATE CONSTRAINT in a later file", ""},
	{CodeSetNotNull, SeverityError, "SET NOT NULL without a validated CHECK (col IS NOT NULL)",
		"ACCESS EXCLUSIVE on the table while every row is checked: blocks reads and writes",
		"ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c (later file); then SET NOT NULL (no scan) and DROP CONSTRAINT c", ""},
	{CodeTypeRewrite, SeverityError, "ALTER COLUMN TYPE that rewrites the table and its indexes",
		"ACCESS EXCLUSIVE on the table for the whole rewrite: blocks reads and writes",
		"add a new column, backfill it in batches, switch readers, drop the old one (expand/contract); casts that do not rewrite: " + noRewriteCasts, ""},
	{CodeVolatileDefault, SeverityError, "ADD COLUMN with a volatile default rewrites the table",
		"ACCESS EXCLUSIVE on the table for the whole rewrite: blocks reads and writes",
		"add the column without a default (or with a constant one), set the default for new rows, backfill old rows in batches", ""},
	{CodeRename, SeverityError, "RENAME of a column or table breaks the running version",
		"ACCESS EXCLUSIVE on the table (short); the running application still uses the old name",
		"expand/contract: add the new column (or a view under the new name), write both, backfill, move readers, drop the old one in a later release", ""},
	{CodeUniqueWithoutIndex, SeverityError, "UNIQUE or PRIMARY KEY added without USING INDEX on an existing table",
		"ACCESS EXCLUSIVE on the table while the index is built: blocks reads and writes",
		"CREATE UNIQUE INDEX CONCURRENTLY (txmode none file), then ADD CONSTRAINT … UNIQUE USING INDEX (or PRIMARY KEY USING INDEX)", ""},
	{CodeEnumValueUsed, SeverityError, "enum value added and used in the same transaction",
		"none: PostgreSQL refuses the use (55P04 unsafe use of new value) and the file fails",
		"add the value in one file and use it in a later one", ""},
	{CodeUnboundedWrite, SeverityError, "UPDATE or DELETE without WHERE on an existing table",
		"ROW EXCLUSIVE plus a row lock on every row until commit: concurrent writers of any row wait",
		"backfill in batches outside the migration (or with a WHERE that bounds each batch)", ""},
	{CodeVacuumFull, SeverityError, "VACUUM FULL rewrites the table",
		"ACCESS EXCLUSIVE for the whole rewrite: blocks reads and writes",
		"plain VACUUM, or pg_repack / pg_squeeze run by a DBA outside migrations", ""},
	{CodeCluster, SeverityError, "CLUSTER rewrites the table",
		"ACCESS EXCLUSIVE for the whole rewrite: blocks reads and writes",
		"pg_repack --order-by run by a DBA outside migrations", ""},
	{CodeReindex, SeverityError, "REINDEX without CONCURRENTLY",
		"SHARE on the table (blocks writes) and ACCESS EXCLUSIVE on each index (blocks reads that use it)",
		"REINDEX … CONCURRENTLY, alone in a file with `-- atlas:txmode none`", ""},
}

// atlasRules are the codes reported by the Atlas analyzers that lint runs. Destructive
// changes are errors, as in the Atlas CLI; the others are warnings.
var atlasRules = []Rule{
	{"DS101", SeverityError, "schema dropped", "ACCESS EXCLUSIVE on every table in it", "make sure nothing uses it; accept with `-- atlas:nolint DS101 <reason>`", "destructive"},
	{"DS102", SeverityError, "table dropped", "ACCESS EXCLUSIVE on the table", "stop using the table first; check it is empty; accept with `-- atlas:nolint DS102 <reason>`", "destructive"},
	{"DS103", SeverityError, "non-virtual column dropped", "ACCESS EXCLUSIVE on the table (short, no rewrite)", "stop reading and writing the column in a release before; accept with `-- atlas:nolint DS103 <reason>`", "destructive"},
	{"MF101", SeverityWarning, "unique index added on existing columns: fails on duplicates", "as the statement (see QP101)", "check for duplicates first; build it CONCURRENTLY", "data_depend"},
	{"MF102", SeverityWarning, "index made unique: fails on duplicates", "as the statement", "check for duplicates first", "data_depend"},
	{"MF103", SeverityWarning, "NOT NULL column added without a default: fails on a non-empty table", "ACCESS EXCLUSIVE on the table", "add it nullable, backfill, then SET NOT NULL via a validated CHECK; or give it a constant default", "data_depend"},
	{"MF104", SeverityWarning, "nullable column made NOT NULL: fails when it holds NULLs", "ACCESS EXCLUSIVE on the table (see QP106)", "backfill first (UPDATE … WHERE col IS NULL), then the CHECK … NOT VALID route of QP106", "data_depend"},
	{"CD101", SeverityWarning, "foreign key dropped", "ACCESS EXCLUSIVE on both tables (short)", "make sure the application keeps the relation consistent", "condrop"},
	{"BC101", SeverityWarning, "table renamed: breaks the running version", "ACCESS EXCLUSIVE on the table (short)", "see QP109", "incompatible"},
	{"BC102", SeverityWarning, "column renamed: breaks the running version", "ACCESS EXCLUSIVE on the table (short)", "see QP109", "incompatible"},
}

// Rules returns every rule lint applies: Quarry's PostgreSQL rules, then the Atlas
// analyzers' codes.
func Rules() []Rule {
	out := make([]Rule, 0, len(quarryRules)+len(atlasRules))
	out = append(out, quarryRules...)
	return append(out, atlasRules...)
}

// RuleFor returns the rule of code and whether it is known.
func RuleFor(code string) (Rule, bool) {
	for _, r := range Rules() {
		if r.Code == code {
			return r, true
		}
	}
	return Rule{}, false
}
