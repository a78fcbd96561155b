package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// pidFile is what a running postmaster records in DATADIR/postmaster.pid.
type pidFile struct {
	pid       int
	port      int
	socketDir string // Unix socket directory; empty when sockets are off
	status    string // "starting", "ready", "stopping", … (empty before PostgreSQL 10)
}

// readPidFile returns the contents of dataDir/postmaster.pid. The error satisfies
// errors.Is(err, fs.ErrNotExist) when no postmaster has the directory open.
func readPidFile(dataDir string) (pidFile, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return pidFile{}, err
	}
	return parsePidFile(string(b))
}

// parsePidFile parses postmaster.pid: line 1 is the PID, line 4 the port, line 5 the
// first socket directory and line 8 the status. It returns an error when the PID or the
// port is missing.
func parsePidFile(text string) (pidFile, error) {
	lines := strings.Split(text, "\n")
	field := func(i int) string {
		if i < len(lines) {
			return strings.TrimSpace(lines[i])
		}
		return ""
	}
	var pf pidFile
	var err error
	if pf.pid, err = strconv.Atoi(field(0)); err != nil {
		return pidFile{}, fmt.Errorf("postmaster.pid: bad pid line %q", field(0))
	}
	if pf.port, err = strconv.Atoi(field(3)); err != nil {
		return pidFile{}, fmt.Errorf("postmaster.pid: bad port line %q", field(3))
	}
	pf.socketDir = field(4)
	pf.status = field(7)
	return pf, nil
}

// lastPort returns the port given on the command line of the cluster's previous start, as
// recorded in dataDir/postmaster.opts, or 0 when it is unknown.
func lastPort(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.opts"))
	if err != nil {
		return 0
	}
	return parseOptsPort(string(b))
}

// parseOptsPort extracts the port from a postmaster.opts line such as
// `/usr/lib/postgresql/15/bin/postgres "-D" "/d" "-p" "54321"`; it returns 0 when none is given.
func parseOptsPort(opts string) int {
	var args []string
	for i, part := range strings.Split(opts, `"`) {
		if i%2 == 1 { // inside quotes
			args = append(args, part)
		}
	}
	port := 0
	for i, a := range args {
		var v string
		switch {
		case a == "-p" && i+1 < len(args):
			v = args[i+1]
		case strings.HasPrefix(a, "port="):
			v = strings.TrimPrefix(a, "port=")
		default:
			continue
		}
		if n, err := strconv.Atoi(v); err == nil {
			port = n
		}
	}
	return port
}

// dataDirMajor returns the major version recorded in dataDir/PG_VERSION, 0 with a nil
// error when the directory is not initialised, or the read error.
func dataDirMajor(dataDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, ok := firstInt(string(b))
	if !ok {
		return 0, fmt.Errorf("%s/PG_VERSION: unrecognised content %q", dataDir, strings.TrimSpace(string(b)))
	}
	return n, nil
}
