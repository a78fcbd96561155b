package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats Write accepts.
var Formats = []string{"text", "json", "markdown", "github"}

// Write renders rep in format (one of Formats) to w. It fails on an unknown format
// or a write error.
func Write(w io.Writer, rep *Report, format string) error {
	switch format {
	case "text", "":
		return writeText(w, rep)
	case "json":
		all, blocking, accepted := rep.Counts()
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Failed   bool          `json:"failed"`
			Findings int           `json:"findings"`
			Blocking int           `json:"blocking"`
			Accepted int           `json:"accepted"`
			Files    []*FileReport `json:"files"`
		}{rep.Failed(), all, blocking, accepted, rep.Files})
	case "markdown":
		return writeMarkdown(w, rep)
	case "github":
		return writeGitHub(w, rep)
	default:
		return fmt.Errorf("--format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
}

// Counts returns the number of findings, of blocking findings and of accepted ones.
func (r *Report) Counts() (all, blocking, accepted int) {
	for _, f := range r.Files {
		for _, fd := range f.Findings() {
			all++
			if fd.Blocking() {
				blocking++
			}
			if fd.Accepted {
				accepted++
			}
		}
	}
	return all, blocking, accepted
}

func (r *Report) summary() string {
	all, blocking, accepted := r.Counts()
	errs := 0
	for _, f := range r.Files {
		if f.Error != "" {
			errs++
		}
	}
	s := fmt.Sprintf("%d file(s) analyzed: %d finding(s), %d blocking, %d accepted by atlas:nolint", len(r.Files), all, blocking, accepted)
	if errs > 0 {
		s += fmt.Sprintf(", %d file(s) failed to replay", errs)
	}
	return s + "."
}

func (f Finding) status() string {
	switch {
	case f.Accepted && f.Reason != "":
		return "accepted: " + f.Reason
	case f.Accepted:
		return "accepted (no reason given)"
	default:
		return string(f.Severity)
	}
}

func writeText(w io.Writer, rep *Report) error {
	var b strings.Builder
	for _, f := range rep.Files {
		if f.Error != "" {
			fmt.Fprintf(&b, "%s: error: %s\n", f.Path, f.Error)
		}
		for _, fd := range f.Findings() {
			fmt.Fprintf(&b, "%s:%d: %s [%s] %s\n", fd.File, fd.Line, fd.Code, fd.status(), fd.Message)
			if fd.Lock != "" {
				fmt.Fprintf(&b, "    lock: %s\n", fd.Lock)
			}
			if fd.Alternative != "" {
				fmt.Fprintf(&b, "    instead: %s\n", fd.Alternative)
			}
		}
	}
	b.WriteString(rep.summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// MarkdownCell escapes s for a Markdown table cell.
func MarkdownCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func writeMarkdown(w io.Writer, rep *Report) error {
	var b strings.Builder
	b.WriteString("### Migration lint\n\n")
	if all, _, _ := rep.Counts(); all == 0 && !rep.Failed() {
		b.WriteString(rep.summary() + "\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	b.WriteString("| Where | Code | Status | Finding | Lock | Safe alternative |\n|---|---|---|---|---|---|\n")
	for _, f := range rep.Files {
		if f.Error != "" {
			fmt.Fprintf(&b, "| `%s` | | error | %s | | |\n", f.Path, MarkdownCell(f.Error))
		}
		for _, fd := range f.Findings() {
			fmt.Fprintf(&b, "| `%s:%d` | %s | %s | %s | %s | %s |\n", fd.File, fd.Line, fd.Code, MarkdownCell(fd.status()),
				MarkdownCell(fd.Message), MarkdownCell(fd.Lock), MarkdownCell(fd.Alternative))
		}
	}
	b.WriteString("\n" + rep.summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeGitHub prints GitHub Actions workflow commands, which annotate the pull
// request's diff at each finding.
func writeGitHub(w io.Writer, rep *Report) error {
	esc := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	escProp := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
	var b strings.Builder
	for _, f := range rep.Files {
		if f.Error != "" {
			fmt.Fprintf(&b, "::error file=%s::%s\n", escProp.Replace(f.Path), esc.Replace(f.Error))
		}
		for _, fd := range f.Findings() {
			level := "warning"
			switch {
			case fd.Accepted:
				level = "notice"
			case fd.Severity == SeverityError:
				level = "error"
			}
			msg := fd.Message
			if fd.Alternative != "" {
				msg += "\nInstead: " + fd.Alternative
			}
			if fd.Accepted {
				msg += "\n" + fd.status()
			}
			fmt.Fprintf(&b, "::%s file=%s,line=%d,title=%s::%s\n", level, escProp.Replace(fd.File), fd.Line, escProp.Replace(fd.Code), esc.Replace(msg))
		}
	}
	b.WriteString(rep.summary() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}
