package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// MinMajorVersion is the oldest PostgreSQL major version whose binaries FindBinaries accepts.
const MinMajorVersion = 14

// ErrNoBinaries is returned (wrapped) by FindBinaries when no usable PostgreSQL server
// binaries are installed.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found")

// Binaries locates the programs needed to create and run a cluster.
type Binaries struct {
	Initdb   string // path of initdb
	PgCtl    string // path of pg_ctl
	Postgres string // path of postgres
	Major    int    // major version reported by postgres --version, e.g. 15
}

// candidate is a place where server binaries may be installed.
type candidate struct {
	where string // shown in errors
	bins  Binaries
}

// FindBinaries returns the PostgreSQL server binaries to use. It looks, in order, for
// initdb, pg_ctl and postgres all in PATH, then in the newest /usr/lib/postgresql/*/bin
// (Debian, Ubuntu), the newest /usr/pgsql-*/bin (RHEL, Fedora), /usr/local/pgsql/bin (a
// source build) and finally in `pg_config --bindir`. The first candidate whose postgres
// reports a major version of at least MinMajorVersion wins.
//
// It returns an error wrapping ErrNoBinaries, which says how to get PostgreSQL, when
// no candidate qualifies.
func FindBinaries() (Binaries, error) {
	var rejected []string
	for _, c := range candidates() {
		if c.bins.Initdb == "" || c.bins.PgCtl == "" || c.bins.Postgres == "" {
			continue
		}
		major, err := postgresMajor(c.bins.Postgres)
		if err != nil {
			rejected = append(rejected, fmt.Sprintf("%s: %v", c.where, err))
			continue
		}
		if major < MinMajorVersion {
			rejected = append(rejected, fmt.Sprintf("%s: PostgreSQL %d is older than %d", c.where, major, MinMajorVersion))
			continue
		}
		b := c.bins
		b.Major = major
		return b, nil
	}
	detail := ""
	if len(rejected) > 0 {
		detail = " (rejected: " + strings.Join(rejected, "; ") + ")"
	}
	return Binaries{}, fmt.Errorf("%w: initdb, pg_ctl and postgres (PostgreSQL >= %d) are neither in PATH nor in "+
		"/usr/lib/postgresql/*/bin, /usr/pgsql-*/bin, /usr/local/pgsql/bin or `pg_config --bindir`%s; "+
		"install PostgreSQL (e.g. `apt-get install postgresql`, `dnf install postgresql-server`, "+
		"`brew install postgresql@16`) or point TEST_DATABASE_URL / DATABASE_URL at a running server",
		ErrNoBinaries, MinMajorVersion, detail)
}

// candidates returns the places to look for binaries, most preferred first.
func candidates() []candidate {
	var cs []candidate
	var fromPath Binaries
	fromPath.Initdb, _ = exec.LookPath("initdb")
	fromPath.PgCtl, _ = exec.LookPath("pg_ctl")
	fromPath.Postgres, _ = exec.LookPath("postgres")
	cs = append(cs, candidate{where: "PATH", bins: fromPath})
	for _, pattern := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"} {
		for _, dir := range newestFirst(pattern) {
			cs = append(cs, inDir(dir))
		}
	}
	cs = append(cs, inDir("/usr/local/pgsql/bin"))
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); dir != "" {
			cs = append(cs, inDir(dir))
		}
	}
	return cs
}

// inDir returns the candidate for dir; a binary that is not there is left empty.
func inDir(dir string) candidate {
	find := func(name string) string {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
		return ""
	}
	return candidate{where: dir, bins: Binaries{Initdb: find("initdb"), PgCtl: find("pg_ctl"), Postgres: find("postgres")}}
}

// newestFirst returns the directories matching pattern ordered by the first number in
// their path, highest first (so /usr/lib/postgresql/16/bin precedes .../9.6/bin).
func newestFirst(pattern string) []string {
	dirs, _ := filepath.Glob(pattern)
	num := func(s string) int {
		n, _ := firstInt(s)
		return n
	}
	sort.SliceStable(dirs, func(i, j int) bool { return num(dirs[i]) > num(dirs[j]) })
	return dirs
}

// postgresMajor returns the major version printed by `postgres --version`.
func postgresMajor(postgres string) (int, error) {
	out, err := exec.Command(postgres, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("%s --version: %w", postgres, err)
	}
	return parseMajor(string(out))
}

// parseMajor extracts the major version from output such as
// "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" or "postgres (PostgreSQL) 9.6.24".
// For versions before 10 the major version is reported as the first component (9).
func parseMajor(versionOutput string) (int, error) {
	rest := versionOutput
	if i := strings.Index(rest, ")"); i >= 0 {
		rest = rest[i+1:]
	}
	n, ok := firstInt(rest)
	if !ok {
		return 0, fmt.Errorf("unrecognised version output %q", strings.TrimSpace(versionOutput))
	}
	return n, nil
}

// firstInt returns the first run of decimal digits in s as a number, and false when s
// holds no digit.
func firstInt(s string) (int, bool) {
	start := strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' })
	if start < 0 {
		return 0, false
	}
	end := start
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(s[start:end])
	return n, err == nil
}
