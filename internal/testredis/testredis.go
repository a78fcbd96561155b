// Package testredis gives tests a real Redis: the shared server at TEST_REDIS_URL
// (default DefaultURL), with a key prefix of the test's own so that parallel tests do
// not meet, or a dedicated redis-server process that a test may stop. Tests are never
// skipped for want of Redis: they fail and say how to get one.
package testredis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// DefaultURL is the server used when TEST_REDIS_URL is not set.
	DefaultURL = "redis://127.0.0.1:6379/0"
	// EnvURL names the environment variable that points tests at a server.
	EnvURL = "TEST_REDIS_URL"

	howToStart = "start one with `redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no` " +
		"(Debian: apt-get install redis-server), or point " + EnvURL + " at one"
	// startTimeout bounds waiting for a dedicated server to answer.
	startTimeout = 10 * time.Second
	// opTimeout bounds one command to a server.
	opTimeout = 5 * time.Second
)

// URL returns the URL of the shared test server after checking that it answers; when
// it does not, the test fails, saying how to start Redis.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		u = DefaultURL
	}
	if err := ping(u); err != nil {
		t.Fatalf("testredis: Redis at %s does not answer (%v): %s", redact(u), err, howToStart)
	}
	return u
}

// Prefix returns a key prefix unique to the test, e.g. "quarry:test:1f0c…:"; when the
// test ends, every key of the server at rawURL that contains it is deleted.
func Prefix(t testing.TB, rawURL string) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	prefix := "quarry:test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		if err := deleteKeys(rawURL, "*"+prefix+"*"); err != nil {
			t.Errorf("testredis: delete the keys under %s: %v", prefix, err)
		}
	})
	return prefix
}

// Keys returns the keys of the server at rawURL that match pattern (Redis glob
// syntax), e.g. "*" + Prefix(…) + "*".
func Keys(t testing.TB, rawURL, pattern string) []string {
	t.Helper()
	c, err := client(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var keys []string
	iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("testredis: scan %s: %v", pattern, err)
	}
	return keys
}

// Server is a redis-server process of a test's own.
type Server struct {
	// URL is the server's URL, database 0.
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
	once sync.Once
	out  *lockedBuffer
}

// Start starts redis-server (found on PATH, else in /usr/bin, /usr/local/bin or
// /opt/homebrew/bin) on a free loopback port, without persistence, and waits until it
// answers; it is stopped when the test ends. The test fails when the binary is
// missing, saying how to install it, or when the server does not come up.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := serverBinary()
	if err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for range 3 { // another process may take the free port before the server does
		s, err := start(bin, t.TempDir())
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err
	}
	t.Fatalf("testredis: %v", lastErr)
	return nil
}

func serverBinary() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/bin/redis-server", "/usr/local/bin/redis-server", "/opt/homebrew/bin/redis-server"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("testredis: redis-server is not on PATH nor in /usr/bin, /usr/local/bin or /opt/homebrew/bin: " +
		"install Redis (Debian: apt-get install redis-server; macOS: brew install redis)")
}

func start(bin, dir string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--loglevel", "warning")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	setParentDeathSignal(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), cmd: cmd, done: make(chan struct{}), out: out}
	go func() {
		_ = cmd.Wait() // the exit status of a killed server says nothing
		close(s.done)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.done:
			return nil, fmt.Errorf("redis-server on port %d exited: %s", port, out.String())
		default:
		}
		err := ping(s.URL)
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("redis-server on port %d does not answer after %s: %v\n%s", port, startTimeout, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pause freezes the server (SIGSTOP): connections stay open and nothing answers, as
// with a hung Redis. Resume undoes it.
func (s *Server) Pause() error { return s.cmd.Process.Signal(syscall.SIGSTOP) }

// Resume lets a paused server run again (SIGCONT).
func (s *Server) Resume() error { return s.cmd.Process.Signal(syscall.SIGCONT) }

// Stop kills the server and waits until it has exited; stopping again does nothing.
func (s *Server) Stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Kill() // fails only when it has exited already
		<-s.done
	})
}

// freePort returns a loopback TCP port that nothing listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func client(rawURL string) (*redis.Client, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("testredis: %s: %w", redact(rawURL), err)
	}
	opt.DialTimeout, opt.MaxRetries = time.Second, -1
	return redis.NewClient(opt), nil
}

func ping(rawURL string) error {
	c, err := client(rawURL)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	return c.Ping(ctx).Err()
}

func deleteKeys(rawURL, pattern string) error {
	c, err := client(rawURL)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		if err := c.Del(ctx, iter.Val()).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}

// redact returns rawURL without its password.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Redacted()
}

// lockedBuffer collects a process's output safely across goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
