// Command replicas measures read throughput of the API served by the primary alone
// against the same API with a streaming replica taking its reads, on this machine.
//
// It starts a temporary primary and a pg_basebackup replica from the installed
// PostgreSQL binaries, migrates and seeds a database, and then, for each round,
// serves `api serve` once without and once with DATABASE_REPLICA_URLS and drives
// GET /api/v1/posts/{id} with bench/load. It prints the median of the rounds:
// requests per second, latency percentiles and the API process's CPU per request.
// Everything it starts is stopped and removed on exit.
//
// Usage, from the repository root:
//
//	go run ./bench/replicas [-c 16] [-d 10s] [-warmup 2s] [-rounds 2] [-posts 20000]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/pgcluster"
)

type options struct {
	c, rounds, posts int
	d, warmup        time.Duration
	maxConns         int
}

func main() {
	var o options
	flag.IntVar(&o.c, "c", 16, "load-generator connections")
	flag.DurationVar(&o.d, "d", 10*time.Second, "measured seconds per run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unrecorded warm-up per run")
	flag.IntVar(&o.rounds, "rounds", 2, "runs per setup; the table shows medians")
	flag.IntVar(&o.posts, "posts", 20000, "posts seeded (ids 1..posts, all published)")
	flag.IntVar(&o.maxConns, "db-max-conns", 16, "DB_MAX_CONNS of the API (each of primary and replica pools)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "replicas: "+format+"\n", args...) }

// result is what bench/load prints, plus the server's CPU.
type result struct {
	RPS        float64 `json:"rps"`
	P50MS      float64 `json:"p50_ms"`
	P99MS      float64 `json:"p99_ms"`
	Reqs       int64   `json:"reqs"`
	Errors     int64   `json:"errors"`
	Non2xx     int64   `json:"non2xx"`
	FirstError string  `json:"first_error"`
	cpuPerReq  time.Duration
}

func run(ctx context.Context, o options) error {
	work, err := os.MkdirTemp("", "quarry-bench-replicas-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	api, load := filepath.Join(work, "api"), filepath.Join(work, "load")
	logf("building the API and the load generator")
	for _, b := range [][2]string{{api, "./cmd/api"}, {load, "./bench/load"}} {
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", b[0], b[1]).CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", b[1], err, out)
		}
	}

	primary, err := pgcluster.Ensure(ctx, pgcluster.Options{Logf: logf})
	if err != nil {
		return err
	}
	defer primary.Stop(context.Background())
	replica, err := primary.StartReplica(ctx)
	if err != nil {
		return err
	}
	defer replica.Stop(context.Background())

	const dbName = "quarry_bench"
	if err := execSQL(ctx, primary.URL("postgres"), "CREATE DATABASE "+dbName); err != nil {
		return err
	}
	primaryURL, replicaURL := primary.URL(dbName), replica.URL(dbName)
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	mig := exec.CommandContext(ctx, api, "migrate", "apply", "--dir", filepath.Join(root, "migrations"), "--schema", filepath.Join(root, "schema"))
	mig.Dir = work
	mig.Env = append(os.Environ(), "DATABASE_URL="+primaryURL)
	if out, err := mig.CombinedOutput(); err != nil {
		return fmt.Errorf("migrate apply: %w\n%s", err, out)
	}
	logf("seeding %d posts", o.posts)
	for _, sql := range []string{fmt.Sprintf(seedSQL, o.posts), "VACUUM ANALYZE users", "VACUUM ANALYZE posts"} {
		if err := execSQL(ctx, primaryURL, sql); err != nil {
			return err
		}
	}
	if err := waitReplayed(ctx, primaryURL, replicaURL); err != nil {
		return err
	}

	setups := []struct {
		name string
		env  []string
	}{
		{"primary only", nil},
		{"primary + replica", []string{"DATABASE_REPLICA_URLS=" + replicaURL}},
	}
	results := make([][]result, len(setups))
	for round := range o.rounds {
		order := []int{0, 1}
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, i := range order {
			logf("round %d: %s", round+1, setups[i].name)
			r, err := measure(ctx, o, api, load, work, primaryURL, setups[i].env)
			if err != nil {
				return fmt.Errorf("%s: %w", setups[i].name, err)
			}
			results[i] = append(results[i], r)
		}
	}

	fmt.Printf("GET /api/v1/posts/{id}, %d connections, %s x %d rounds (medians), %d CPUs\n\n", o.c, o.d, o.rounds, numCPU())
	fmt.Printf("| setup | req/s | p50 ms | p99 ms | API CPU/req |\n|---|---|---|---|---|\n")
	base := 0.0
	for i, s := range setups {
		m := median(results[i])
		if i == 0 {
			base = m.RPS
		}
		fmt.Printf("| %s | %.0f (%.2fx) | %.2f | %.2f | %s |\n", s.name, m.RPS, m.RPS/base, m.P50MS, m.P99MS, m.cpuPerReq.Round(time.Microsecond/10))
	}
	return nil
}

// measure serves the API with env on top of the common settings and runs the load
// against it; it returns the load's result and the server's CPU per request.
func measure(ctx context.Context, o options, api, load, work, primaryURL string, env []string) (result, error) {
	port, err := freePort()
	if err != nil {
		return result{}, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	srv := exec.Command(api, "serve")
	srv.Dir = work
	srv.Env = append(os.Environ(), "APP_ENV=dev", "HTTP_ADDR="+addr, "DATABASE_URL="+primaryURL,
		"LOG_LEVEL=error", "RATE_LIMIT_DEFAULT=off", "DB_MAX_CONNS="+strconv.Itoa(o.maxConns), "DB_MIN_CONNS=2")
	srv.Env = append(srv.Env, env...)
	var logs bytes.Buffer
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		_ = srv.Wait()
	}()
	base := fmt.Sprintf("http://%s/api/v1/posts/{id}", addr)
	args := []string{"-url", base, "-ids", strconv.Itoa(o.posts), "-c", strconv.Itoa(o.c),
		"-d", o.d.String(), "-warmup", o.warmup.String(), "-wait", "30s"}
	// The server's CPU over the measured part only: sampled after the warm-up.
	cmd := exec.CommandContext(ctx, load, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	startCPU := make(chan time.Duration, 1)
	go func() {
		// -wait returns as soon as the server answers; the warm-up follows.
		time.Sleep(o.warmup + 500*time.Millisecond)
		startCPU <- procCPU(srv.Process.Pid)
	}()
	if err := cmd.Wait(); err != nil {
		return result{}, fmt.Errorf("load: %w\nserver log:\n%s", err, logs.String())
	}
	endCPU := procCPU(srv.Process.Pid)
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return result{}, fmt.Errorf("load output %q: %w", out.String(), err)
	}
	if r.Errors > 0 || r.Non2xx > 0 {
		return result{}, fmt.Errorf("%d errors, %d non-2xx answers (first: %s)", r.Errors, r.Non2xx, r.FirstError)
	}
	if s := <-startCPU; s > 0 && r.Reqs > 0 {
		r.cpuPerReq = (endCPU - s) / time.Duration(r.Reqs)
	}
	return r, nil
}

// median returns the result with the median throughput of rs.
func median(rs []result) result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int { return int(a.RPS - b.RPS) })
	return s[len(s)/2]
}

// procCPU returns the user + system CPU time of process pid from /proc (0 elsewhere).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * time.Second / 100 // USER_HZ is 100 on Linux
}

func numCPU() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\nprocessor")) + 1
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func execSQL(ctx context.Context, url, sql string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", db.RedactURL(url), err)
	}
	return nil
}

// waitReplayed waits until the replica has replayed everything the primary wrote.
func waitReplayed(ctx context.Context, primaryURL, replicaURL string) error {
	conn, err := pgx.Connect(ctx, primaryURL)
	if err != nil {
		return err
	}
	var target string
	err = conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&target)
	conn.Close(context.Background())
	if err != nil {
		return err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		rc, err := pgx.Connect(ctx, replicaURL)
		if err == nil {
			var done bool
			err = rc.QueryRow(ctx, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", target).Scan(&done)
			rc.Close(context.Background())
			if err == nil && done {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.Join(errors.New("the replica did not catch up within 2 minutes"), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

const seedSQL = `
INSERT INTO users (email, display_name, password_hash)
SELECT 'user' || g || '@example.com', 'User ' || g, 'argon2id$' || md5(g::text) FROM generate_series(1, 100) AS g;
INSERT INTO posts (author_id, title, body, status)
SELECT 1 + g %% 100, 'Post number ' || g, repeat('Lorem ipsum dolor sit amet. ', 4 + g %% 12), 'published'
FROM generate_series(1, %d) AS g;`
