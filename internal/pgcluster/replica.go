package pgcluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// StartReplica makes a temporary streaming replica of c: it copies c with
// pg_basebackup -R (which writes the standby configuration: standby.signal and
// primary_conninfo pointing at c) into a new temporary directory and starts it as a
// hot standby on a free port. The replica is read-only, replays c's WAL as it comes,
// and has c as its Primary; Stop stops it and removes its directory.
//
// c must accept replication connections from 127.0.0.1 for postgres, as every
// cluster this package initialises does (trust, wal_level replica). It returns the
// failing step's error with pg_basebackup's output or the server log.
func (c *Cluster) StartReplica(ctx context.Context) (_ *Cluster, err error) {
	r := &Cluster{Major: c.Major, bins: c.bins, acct: c.acct, logf: c.logf, Primary: c}
	root, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("create replica directory: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(root)
		}
	}()
	if err := r.acct.own(root); err != nil {
		return nil, err
	}
	if err := r.acct.checkReachable(root); err != nil {
		return nil, err
	}
	r.Temporary, r.tempRoot = true, root
	r.Dir = filepath.Join(root, "data")
	r.SocketDir = root
	r.LogFile = filepath.Join(root, "postgres.log")
	basebackup, err := c.bins.tool("pg_basebackup")
	if err != nil {
		return nil, err
	}
	out, err := r.command(ctx, basebackup,
		"-D", r.Dir, "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres",
		"-R", "-X", "stream", "-c", "fast", "--no-sync",
	).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pg_basebackup of port %d: %w: %s", c.Port, err, bytes.TrimSpace(out))
	}
	if err := r.spawnTemporary(ctx, 0, DefaultStartTimeout, root); err != nil {
		return nil, err
	}
	return r, nil
}

// tool returns the path of the client program name of the same installation as
// b.Postgres: next to it, next to what it links to, or else in PATH. It returns an
// error wrapping ErrNoBinaries when there is none.
func (b Binaries) tool(name string) (string, error) {
	dirs := []string{filepath.Dir(b.Postgres)}
	if real, err := filepath.EvalSymlinks(b.Postgres); err == nil {
		dirs = append(dirs, filepath.Dir(real))
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: %s is neither next to %s nor in PATH", ErrNoBinaries, name, b.Postgres)
}
