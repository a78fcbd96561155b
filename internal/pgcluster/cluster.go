// Package pgcluster creates, starts and stops PostgreSQL clusters from the server binaries
// installed on the machine. The test harness uses a temporary cluster when no server
// answers; `make run` uses a persistent one under the project's .data directory.
//
// A cluster listens on 127.0.0.1 only, with trust authentication and the superuser
// postgres. When the calling process is root, initdb and postgres run as the operating-
// system user ServerUser, because PostgreSQL refuses to run as root.
//
// Lifetime: a temporary cluster runs postgres as a child process. On Linux the kernel
// sends it SIGQUIT (immediate shutdown) when the process that started it dies, even by
// SIGKILL; elsewhere a killed caller leaves it running. Either way only Stop removes its
// directory; Ensure removes temporary directories that have been abandoned for an hour.
// A persistent cluster is started with `pg_ctl start`, which detaches it: it keeps running
// after the caller exits, until Stop is called or someone runs `pg_ctl stop`.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// DefaultStartTimeout bounds how long Ensure waits for a server to accept connections.
	DefaultStartTimeout = 60 * time.Second
	// stopGrace is how long Stop waits for a fast shutdown before forcing one.
	stopGrace = 30 * time.Second
	// tempPrefix starts the name of every temporary cluster directory.
	tempPrefix = "quarry-pg-"
	// abandonedAfter is the age after which a temporary directory without a running
	// server is removed by a later Ensure.
	abandonedAfter = time.Hour
	// maxSocketPath is the longest Unix socket path PostgreSQL accepts on every platform
	// (sizeof(sun_path) - 1 on macOS).
	maxSocketPath = 103
)

// Options configures Ensure.
type Options struct {
	// DataDir is the cluster's data directory (PGDATA). It is created and initialised if
	// needed and reused otherwise; the cluster is persistent and started with pg_ctl.
	// Empty means a temporary cluster in a new temporary directory, which Stop removes.
	DataDir string
	// Port is the TCP port on 127.0.0.1. 0 picks one: for a persistent cluster the port
	// of its previous start if that is free, otherwise any free port. A cluster that is
	// already running keeps its port, whatever Port says.
	Port int
	// Binaries to run; nil means FindBinaries.
	Binaries *Binaries
	// StartTimeout bounds the wait for the server to accept connections; 0 means
	// DefaultStartTimeout.
	StartTimeout time.Duration
	// Logf, if set, receives one line for each step taken (initdb, start, reuse).
	Logf func(format string, args ...any)
}

// Cluster is a running PostgreSQL cluster.
type Cluster struct {
	Dir       string   // data directory (PGDATA)
	Port      int      // TCP port on 127.0.0.1
	SocketDir string   // directory of the Unix socket; empty when Unix sockets are off
	LogFile   string   // server log
	Major     int      // PostgreSQL major version
	Temporary bool     // the cluster lives in a temporary directory that Stop removes
	Reused    bool     // the cluster was already running when Ensure was called
	Primary   *Cluster // the cluster this one streams from, for a replica made by StartReplica

	bins     Binaries
	acct     account
	logf     func(format string, args ...any)
	tempRoot string // removed by Stop
	child    *child // the postmaster of a temporary cluster

	stopOnce sync.Once
	stopErr  error
}

// child is a postmaster started directly by this process.
type child struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited
	err    error         // result of Wait, valid after exited is closed
}

// Ensure returns a running cluster as described by opts: it creates and initialises the
// data directory if needed, reuses a server already running on it, or starts one.
//
// It returns an error wrapping ErrNoBinaries when PostgreSQL is not installed, wrapping
// ErrNoServerUser when running as root without a ServerUser account, and otherwise the
// failing step's error together with initdb's output or the tail of the server log.
func Ensure(ctx context.Context, opts Options) (*Cluster, error) {
	var bins Binaries
	if opts.Binaries != nil {
		bins = *opts.Binaries
	} else {
		var err error
		if bins, err = FindBinaries(); err != nil {
			return nil, err
		}
	}
	acct, err := serverAccount()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Major: bins.Major, bins: bins, acct: acct, logf: opts.Logf}
	if c.logf == nil {
		c.logf = func(string, ...any) {}
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	if opts.DataDir == "" {
		err = c.startTemporary(ctx, opts.Port, timeout)
	} else {
		err = c.ensurePersistent(ctx, opts.DataDir, opts.Port, timeout)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// URL returns the connection URL of database dbname as the superuser postgres.
func (c *Cluster) URL(dbname string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, url.PathEscape(dbname))
}

// Stop shuts the server down (fast shutdown: sessions are disconnected) and, for a
// temporary cluster, removes its directory. Calling Stop again returns the first result.
// It returns the shutdown or removal error.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopOnce.Do(func() { c.stopErr = c.stop(ctx) })
	return c.stopErr
}

func (c *Cluster) stop(ctx context.Context) error {
	var err error
	if c.child != nil {
		err = c.child.stop(ctx)
	} else if out, e := c.command(ctx, c.bins.PgCtl, "stop", "-D", c.Dir, "-m", "fast", "-w").CombinedOutput(); e != nil {
		err = fmt.Errorf("pg_ctl stop -D %s: %w: %s", c.Dir, e, bytes.TrimSpace(out))
	}
	if c.tempRoot != "" {
		if e := os.RemoveAll(c.tempRoot); e != nil {
			err = errors.Join(err, fmt.Errorf("remove cluster directory: %w", e))
		}
	}
	if err == nil {
		c.logf("stopped PostgreSQL on port %d", c.Port)
	}
	return err
}

// startTemporary initialises a cluster in a new temporary directory and starts it as a
// child process, with durability switched off.
func (c *Cluster) startTemporary(ctx context.Context, port int, timeout time.Duration) (err error) {
	sweepAbandoned(os.TempDir(), c.logf)
	root, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return fmt.Errorf("create cluster directory: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(root)
		}
	}()
	if err := c.acct.own(root); err != nil {
		return err
	}
	if err := c.acct.checkReachable(root); err != nil {
		return err
	}
	c.Temporary = true
	c.tempRoot = root
	c.Dir = filepath.Join(root, "data")
	c.SocketDir = root
	c.LogFile = filepath.Join(root, "postgres.log")
	if err := c.initdb(ctx, true); err != nil {
		return err
	}
	return c.spawnTemporary(ctx, port, timeout, root)
}

// spawnTemporary starts the temporary cluster in c.Dir on port (0: a free one, tried
// again when another process takes it first) and logs where it runs.
func (c *Cluster) spawnTemporary(ctx context.Context, port int, timeout time.Duration, root string) error {
	for attempt := 1; ; attempt++ {
		p := port
		if p == 0 {
			var err error
			if p, err = freePort(); err != nil {
				return err
			}
		}
		retry, err := c.spawn(ctx, p, timeout)
		if err == nil {
			what := fmt.Sprintf("PostgreSQL %d", c.Major)
			if c.Primary != nil {
				what += fmt.Sprintf(" streaming replica of port %d", c.Primary.Port)
			}
			c.logf("started temporary %s on port %d in %s", what, c.Port, root)
			return nil
		}
		if !retry || port != 0 || attempt == 3 {
			return err
		}
		c.logf("port %d was taken meanwhile; trying another", p)
	}
}

// spawn starts postmaster on port as a child and waits until it accepts connections. It
// returns retry=true when the port turned out to be in use.
func (c *Cluster) spawn(ctx context.Context, port int, timeout time.Duration) (retry bool, err error) {
	logFile, err := os.OpenFile(c.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return false, fmt.Errorf("open server log: %w", err)
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd := exec.Command(c.bins.Postgres,
		"-D", c.Dir,
		"-p", strconv.Itoa(port),
		"-k", c.SocketDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
	)
	cmd.Dir = "/"
	cmd.Env = childEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = c.acct.sysProcAttr(true)

	ch := &child{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal is tied to the thread that forked the child, so that
		// thread stays locked to this goroutine, and alive, until postgres exits.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		ch.err = cmd.Wait()
		close(ch.exited)
	}()
	if err := <-started; err != nil {
		return false, fmt.Errorf("start %s: %w", c.bins.Postgres, err)
	}
	c.Port = port
	if err := c.waitReady(ctx, timeout, ch); err != nil {
		_ = ch.stop(context.Background())
		return portInUse(logTail(c.LogFile)), err
	}
	c.child = ch
	return false, nil
}

// stop asks the postmaster for a fast shutdown and waits for it to exit; if it has not
// exited when ctx ends or stopGrace passes, it forces an immediate shutdown, then kills
// it. It returns an error only when the process could not be made to exit.
func (ch *child) stop(ctx context.Context) error {
	steps := []os.Signal{os.Interrupt, syscall.SIGQUIT, os.Kill}
	grace := stopGrace
	for _, sig := range steps {
		_ = ch.cmd.Process.Signal(sig)
		timer := time.NewTimer(grace)
		select {
		case <-ch.exited:
			timer.Stop()
			return nil
		case <-ctx.Done():
		case <-timer.C:
		}
		timer.Stop()
		grace = 5 * time.Second
		ctx = context.Background()
	}
	return fmt.Errorf("postgres (pid %d) did not exit", ch.cmd.Process.Pid)
}

// ensurePersistent reuses or starts the persistent cluster in dataDir.
func (c *Cluster) ensurePersistent(ctx context.Context, dataDir string, port int, timeout time.Duration) error {
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return fmt.Errorf("data directory %s: %w", dataDir, err)
	}
	c.Dir = dir
	c.LogFile = filepath.Join(dir, "postgres.log")
	if len(dir)+len("/.s.PGSQL.65535") <= maxSocketPath {
		c.SocketDir = dir
	}
	major, err := dataDirMajor(dir)
	if err != nil {
		return fmt.Errorf("data directory %s: %w", dir, err)
	}
	switch {
	case major == 0:
		if err := c.prepareDir(dir); err != nil {
			return err
		}
		if err := c.initdb(ctx, false); err != nil {
			return err
		}
	case major != c.bins.Major:
		return fmt.Errorf("data directory %s belongs to PostgreSQL %d but the binaries (%s) are version %d; "+
			"remove the directory to start afresh, or install PostgreSQL %d", dir, major, c.bins.Postgres, c.bins.Major, major)
	default:
		running, pf, err := c.running(ctx)
		if err != nil {
			return err
		}
		if running {
			c.Port, c.SocketDir, c.Reused = pf.port, pf.socketDir, true
			if err := c.waitReady(ctx, timeout, nil); err != nil {
				return err
			}
			c.logf("reusing PostgreSQL %d running on port %d with data in %s", c.Major, c.Port, dir)
			return nil
		}
	}
	wanted := port
	if wanted == 0 {
		if p := lastPort(dir); p != 0 && portFree(p) {
			wanted = p
		}
	}
	for attempt := 1; ; attempt++ {
		p := wanted
		if p == 0 {
			if p, err = freePort(); err != nil {
				return err
			}
		}
		err := c.pgCtlStart(ctx, p, timeout)
		if err == nil {
			c.Port = p
			c.logf("started PostgreSQL %d on port %d with data in %s", c.Major, c.Port, dir)
			return nil
		}
		if port != 0 || attempt == 3 || !portInUse(logTail(c.LogFile)) {
			return err
		}
		wanted = 0
		c.logf("port %d is taken; trying another", p)
	}
}

// prepareDir creates dir (mode 0700, parents 0755) and gives it to the server account.
func (c *Cluster) prepareDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := c.acct.own(dir); err != nil {
		return err
	}
	return c.acct.checkReachable(dir)
}

// running reports whether a postmaster is running on c.Dir, and what its postmaster.pid
// says. It returns
// an error when pg_ctl status fails for another reason than "not running".
func (c *Cluster) running(ctx context.Context) (bool, pidFile, error) {
	pf, err := readPidFile(c.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, pidFile{}, nil
	}
	if err != nil {
		return false, pidFile{}, fmt.Errorf("data directory %s: %w", c.Dir, err)
	}
	out, err := c.command(ctx, c.bins.PgCtl, "status", "-D", c.Dir).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, pf, nil
	case errors.As(err, &exit) && exit.ExitCode() == 3: // not running; the pid file is stale
		return false, pidFile{}, nil
	default:
		return false, pidFile{}, fmt.Errorf("pg_ctl status -D %s: %w: %s", c.Dir, err, bytes.TrimSpace(out))
	}
}

// pgCtlStart starts the persistent cluster on port with pg_ctl, which detaches the server
// and waits for it to accept connections. It returns pg_ctl's error and the log tail.
func (c *Cluster) pgCtlStart(ctx context.Context, port int, timeout time.Duration) error {
	serverOpts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, shellQuote(c.SocketDir))
	secs := strconv.Itoa(int((timeout + time.Second - 1) / time.Second))
	out, err := c.command(ctx, c.bins.PgCtl, "start", "-D", c.Dir, "-l", c.LogFile, "-w", "-t", secs, "-o", serverOpts).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl start -D %s: %w: %s\nserver log %s:\n%s", c.Dir, err, bytes.TrimSpace(out), c.LogFile, logTail(c.LogFile))
	}
	return nil
}

// initdb initialises c.Dir with trust authentication, superuser postgres, UTF8 and the C
// locale. noSync skips flushing to disk, for clusters that are thrown away. It returns
// initdb's error together with its output.
func (c *Cluster) initdb(ctx context.Context, noSync bool) error {
	args := []string{"-D", c.Dir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"}
	if noSync {
		args = append(args, "--no-sync")
	}
	c.logf("initialising PostgreSQL %d cluster in %s", c.Major, c.Dir)
	out, err := c.command(ctx, c.bins.Initdb, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb -D %s: %w\n%s", c.Dir, err, bytes.TrimSpace(out))
	}
	return nil
}

// waitReady polls the server until it accepts connections. It returns an error, with the
// log tail, when ch (if not nil) exits first or when timeout or ctx ends first.
func (c *Cluster) waitReady(ctx context.Context, timeout time.Duration, ch *child) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var exited chan struct{}
	if ch != nil {
		exited = ch.exited
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	target := c.URL("postgres")
	for {
		err := Ping(ctx, target)
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("postgres exited during start-up (%v); server log %s:\n%s", ch.err, c.LogFile, logTail(c.LogFile))
		case <-ctx.Done():
			return fmt.Errorf("PostgreSQL on port %d did not accept connections: %w (last attempt: %v); server log %s:\n%s",
				c.Port, ctx.Err(), err, c.LogFile, logTail(c.LogFile))
		case <-tick.C:
		}
	}
}

// command returns a command that runs name as the server account, in "/", with a clean
// environment.
func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = "/"
	cmd.Env = childEnv()
	cmd.SysProcAttr = c.acct.sysProcAttr(false)
	return cmd
}

// childEnv returns the environment without libpq's PG* variables and locale settings,
// which could redirect or alter the tools, and with LC_ALL=C so messages are in English.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree reports whether port can be listened on at 127.0.0.1.
func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// portInUse reports whether a server log says that the port was taken.
func portInUse(log string) bool {
	return strings.Contains(log, "Address already in use") || strings.Contains(log, "could not bind")
}

// logTail returns the last lines of the log file at path, or a note why it cannot.
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	const maxTail = 2000
	if len(b) > maxTail {
		b = b[len(b)-maxTail:]
	}
	return string(bytes.TrimSpace(b))
}

// shellQuote quotes s for /bin/sh, through which pg_ctl passes its -o options.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// sweepAbandoned removes temporary cluster directories under tmp whose server is gone
// (no postmaster.pid) and that have not changed for abandonedAfter: the leftovers of
// processes killed before they could call Stop. Errors are ignored.
func sweepAbandoned(tmp string, logf func(string, ...any)) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, tempPrefix+"*"))
	for _, dir := range dirs {
		st, err := os.Stat(dir)
		if err != nil || !st.IsDir() || time.Since(st.ModTime()) < abandonedAfter {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
			continue
		}
		if os.RemoveAll(dir) == nil {
			logf("removed abandoned cluster directory %s", dir)
		}
	}
}
