package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// queryInfo is what sqlc's generated SQL constant says about one query.
type queryInfo struct {
	kind     string // sqlc's query kind without the colon: one, many, exec, execrows, copyfrom, …
	sql      string // the statement as sqlc sends it
	readOnly bool   // safe to run on a streaming replica (see readOnlyStatement)
}

// readQueries returns, by query name, the kind and statement of every query in the
// sqlc package in dir, read from the SQL constants sqlc writes
// ("-- name: GetPost :one\nSELECT …"). :copyfrom queries have no constant and are
// absent, as is any method sqlc may add without one: absent means the primary.
// Errors: unreadable or unparsable files.
func readQueries(dir string) (map[string]queryInfo, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	out := map[string]queryInfo{}
	fset := token.NewFileSet()
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				for _, v := range s.(*ast.ValueSpec).Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					text, err := strconv.Unquote(lit.Value)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", path, err)
					}
					name, kind, ok := queryHeader(text)
					if !ok {
						continue
					}
					out[name] = queryInfo{kind: kind, sql: text, readOnly: readOnlyKind(kind) && readOnlyStatement(text)}
				}
			}
		}
	}
	return out, nil
}

// queryHeader parses sqlc's "-- name: Name :kind" first line.
func queryHeader(text string) (name, kind string, ok bool) {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	line = strings.TrimSpace(strings.TrimPrefix(line, "--"))
	rest, ok := strings.CutPrefix(line, "name:")
	if !ok {
		return "", "", false
	}
	f := strings.Fields(rest)
	if len(f) < 2 || !strings.HasPrefix(f[1], ":") {
		return "", "", false
	}
	return f[0], strings.TrimPrefix(f[1], ":"), true
}

// readOnlyKind reports whether sqlc's kind returns rows without being a batch or bulk
// load: only :one and :many can be reads.
func readOnlyKind(kind string) bool { return kind == "one" || kind == "many" }

// writeWords are the keywords and functions that make a statement unfit for a replica:
// data-modifying statements (also inside WITH), SELECT INTO (creates a table), locking
// clauses (FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE, recognised by their
// second word), and functions that write or need a transaction id.
var writeWords = map[string]bool{
	"insert": true, "update": true, "delete": true, "merge": true, "truncate": true,
	"into": true, "share": true, "lock": true, "call": true, "copy": true,
	"nextval": true, "setval": true, "set_config": true, "pg_notify": true,
	"txid_current": true, "pg_current_xact_id": true, "lo_create": true, "lo_import": true, "lo_unlink": true,
	"pg_advisory_lock": true, "pg_advisory_xact_lock": true, "pg_try_advisory_lock": true, "pg_try_advisory_xact_lock": true,
	"pg_advisory_lock_shared": true, "pg_advisory_xact_lock_shared": true,
	"pg_current_wal_lsn": true, "pg_current_wal_insert_lsn": true,
}

// readOnlyStatement reports whether sql is one statement that a hot standby runs
// with the same result as the primary: it starts with SELECT, WITH, VALUES or a
// parenthesis, and none of its words (outside comments, string literals and quoted
// identifiers) is in writeWords. The test errs on the side of the primary: a word it
// does not know cannot make a statement read-only, only a known one can make it a
// write.
func readOnlyStatement(sql string) bool {
	words, statements := sqlWords(sql)
	if statements > 1 || len(words) == 0 {
		return false
	}
	switch words[0] {
	case "select", "with", "values", "(":
	default:
		return false
	}
	for _, w := range words {
		if writeWords[w] {
			return false
		}
	}
	return true
}

// sqlWords returns the lower-cased words of sql outside comments, string literals
// (standard, escape and dollar-quoted) and double-quoted identifiers, with "(" kept as
// a word when it opens the statement, and the number of statements (non-empty parts
// separated by semicolons).
func sqlWords(sql string) (words []string, statements int) {
	inStatement := false
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				return words, count(statements, inStatement)
			}
			i += j + 1
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			depth := 0
			for i < len(sql) {
				switch {
				case strings.HasPrefix(sql[i:], "/*"):
					depth++
					i += 2
				case strings.HasPrefix(sql[i:], "*/"):
					depth--
					i += 2
				default:
					i++
				}
				if depth == 0 {
					break
				}
			}
		case c == '\'':
			escapes := i > 0 && (sql[i-1] == 'e' || sql[i-1] == 'E')
			i++
			for i < len(sql) {
				if escapes && sql[i] == '\\' {
					i += 2
					continue
				}
				if sql[i] == '\'' {
					if i+1 < len(sql) && sql[i+1] == '\'' {
						i += 2
						continue
					}
					break
				}
				i++
			}
			i++
			inStatement = true
		case c == '"':
			j := strings.IndexByte(sql[i+1:], '"')
			if j < 0 {
				return words, count(statements, true)
			}
			i += j + 2
			inStatement = true
		case c == '$' && i+1 < len(sql) && !isDigit(sql[i+1]):
			end := strings.IndexByte(sql[i+1:], '$')
			if end < 0 {
				i++
				continue
			}
			tag := sql[i : i+end+2]
			body := strings.Index(sql[i+len(tag):], tag)
			if body < 0 {
				return words, count(statements, true)
			}
			i += len(tag) + body + len(tag)
			inStatement = true
		case c == ';':
			statements = count(statements, inStatement)
			inStatement = false
			i++
		case isWordStart(c):
			j := i + 1
			for j < len(sql) && (isWordStart(sql[j]) || isDigit(sql[j]) || sql[j] == '$') {
				j++
			}
			words = append(words, strings.ToLower(sql[i:j]))
			inStatement = true
			i = j
		case c == '(' && !inStatement:
			words = append(words, "(")
			inStatement = true
			i++
		default:
			if c > ' ' {
				inStatement = true
			}
			i++
		}
	}
	return words, count(statements, inStatement)
}

func count(n int, inStatement bool) int {
	if inStatement {
		return n + 1
	}
	return n
}

func isWordStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
