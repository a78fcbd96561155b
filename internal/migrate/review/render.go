package review

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/quarrydev/quarry/internal/migrate/lint"
)

// Formats Write accepts.
var Formats = []string{"markdown", "json"}

// Write renders rv in format ("markdown" or "json") to w.
func Write(w io.Writer, rv *Review, format string) error {
	switch format {
	case "markdown", "":
		_, err := io.WriteString(w, Markdown(rv))
		return err
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rv)
	default:
		return fmt.Errorf("--format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
}

var txModes = map[string]string{
	"file": "one transaction for the file",
	"none": "no transaction (atlas:txmode none): each statement commits on its own",
}

var checksumWords = map[string]string{
	ChecksumOK:      "matches atlas.sum",
	ChecksumEdited:  "**edited after it was hashed**: atlas.sum does not match",
	ChecksumMissing: "**not in atlas.sum**: run `api migrate hash`",
}

// Markdown returns the review as a Markdown document for a pull-request comment.
func Markdown(rv *Review) string {
	var b strings.Builder
	b.WriteString("## Migration review\n\n")
	stmts := 0
	for _, f := range rv.Files {
		stmts += len(f.Statements)
	}
	verdict := "✅ no blocking finding"
	if rv.Failed {
		verdict = fmt.Sprintf("❌ %d blocking finding(s)", rv.Blocking)
	}
	fmt.Fprintf(&b, "%s: %d file(s), %d statement(s). %s.\n\n", capitalize(rv.From), len(rv.Files), stmts, verdict)
	if len(rv.Files) == 0 {
		b.WriteString("Nothing to review.\n")
		return b.String()
	}
	for _, f := range rv.Files {
		fmt.Fprintf(&b, "### `%s`\n\n", f.Path)
		fmt.Fprintf(&b, "- Transaction: %s\n- Checksum: %s\n", txModes[f.TxMode], checksumWords[f.Checksum])
		if f.Error != "" {
			fmt.Fprintf(&b, "- ❌ **Does not replay**: %s\n", lint.MarkdownCell(f.Error))
		}
		b.WriteString("\n| Line | Statement | What it does | Lock | Blocks | Scan / rewrite | Findings |\n|---:|---|---|---|---|---|---|\n")
		for _, st := range f.Statements {
			lock := "none on existing tables"
			if st.Effect.Lock != "" {
				lock = st.Effect.Lock + " on " + strings.Join(st.Effect.Tables, ", ")
			}
			blocks := st.Effect.Blocks
			if st.Effect.Lock == "" {
				blocks = "—"
			}
			sr := "—"
			switch {
			case st.Effect.Rewrites:
				sr = "rewrites"
			case st.Effect.Scans:
				sr = "scans"
			}
			var fs []string
			for _, fd := range st.Findings {
				mark := "⚠️"
				switch {
				case fd.Accepted:
					mark = "☑️"
				case fd.Severity == lint.SeverityError:
					mark = "❌"
				}
				fs = append(fs, mark+" "+fd.Code)
			}
			findings := "—"
			if len(fs) > 0 {
				findings = strings.Join(fs, " ")
			}
			fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s | %s | %s |\n", st.Line, lint.MarkdownCell(shorten(st.Text, 70)),
				lint.MarkdownCell(st.Effect.Action), lock, lint.MarkdownCell(blocks), sr, findings)
		}
		b.WriteString("\n")
		for _, fl := range f.Flags {
			fmt.Fprintf(&b, "- ⚠️ line %d %s\n", fl.Line, fl.Message)
		}
		for _, st := range f.Statements {
			for _, fd := range st.Findings {
				status := string(fd.Severity)
				if fd.Accepted {
					status = "accepted"
					if fd.Reason != "" {
						status += ": " + fd.Reason
					} else {
						status += ", no reason given"
					}
				}
				fmt.Fprintf(&b, "- **%s** (%s), line %d: %s.", fd.Code, status, fd.Line, strings.TrimSuffix(fd.Message, "."))
				if fd.Lock != "" {
					fmt.Fprintf(&b, " Lock: %s.", fd.Lock)
				}
				if fd.Alternative != "" {
					fmt.Fprintf(&b, " Instead: %s.", fd.Alternative)
				}
				b.WriteString("\n")
			}
		}
		if len(f.Flags) > 0 || len(f.Findings()) > 0 {
			b.WriteString("\n")
		}
	}
	if rv.Target != "" {
		fmt.Fprintf(&b, "### Tables on the target (%s, read-only)\n\n| Table | Rows (estimate) | Size |\n|---|---:|---:|\n", rv.Target)
		names := make([]string, 0, len(rv.Tables))
		for t := range rv.Tables {
			names = append(names, t)
		}
		slices.Sort(names)
		for _, t := range names {
			s := rv.Tables[t]
			if s.Missing {
				fmt.Fprintf(&b, "| %s | not there yet | — |\n", t)
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", t, count(s.Rows), bytes(s.Bytes))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return "Files"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// count renders a row estimate with thousands separators; "unknown" when the table
// was never analyzed.
func count(n int64) string {
	if n < 0 {
		return "unknown"
	}
	s := strconv.FormatInt(n, 10)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// bytes renders a size in binary units.
func bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
