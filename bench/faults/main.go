// Command faults is the fault suite: it runs the API under load from the in-repo load
// generator (bench/load) and breaks what the API depends on, checking that clients
// get honest answers and that nothing acknowledged is lost.
//
// It starts everything it needs on free loopback ports — a PostgreSQL cluster from
// the installed binaries (internal/pgcluster) in a temporary directory, a
// redis-server, and API instances built from this repository — never touches any
// other server, and removes it all at the end. Each fault lasts a few seconds; the
// whole run takes about two minutes. It prints one table of figures and exits
// non-zero when a check fails.
//
// The faults and what must hold:
//
//   - PostgreSQL restart, and PostgreSQL stopped for 5 s, under writes: during the
//     outage only 503 with Retry-After, recovery without restarting the API, and
//     every acknowledged write (201) present afterwards;
//   - SIGTERM under load: no request that reached the server fails;
//   - Redis hung (SIGSTOP) and Redis killed: throughput within 2x of normal once the
//     circuit breaker has opened, and no request slower than the breaker's bound;
//   - a request body sent one byte at a time: cut off with 408 at BODY_READ_TIMEOUT;
//   - the connection pool exhausted (a lock holds its connections): 503 with
//     Retry-After within the acquire timeout;
//   - two instances on one PostgreSQL and one Redis: a budget of N per window admits
//     exactly N across both, and a refresh token rotated on one is refused on the
//     other once the reuse grace has passed.
//
// Usage (from the repository root): go run ./bench/faults   (or make faults)
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/quarrydev/quarry/bench/internal/timeline"
	"github.com/quarrydev/quarry/internal/pgcluster"
)

// Settings of the API instances under test, chosen so that each fault shows within
// seconds.
const (
	bodyReadTimeout = 2 * time.Second
	acquireTimeout  = 500 * time.Millisecond
	breakerCooloff  = 2 * time.Second
	reuseGrace      = time.Second
	// breakerBound is the longest a request may take while Redis hangs or is gone:
	// the Redis client's dial (500ms) plus one command's I/O (250ms) and its one retry,
	// with scheduling slack. The breaker's job is that this is paid only until it opens.
	breakerBound = 1500 * time.Millisecond
	// suiteTimeout bounds the whole run.
	suiteTimeout = 5 * time.Minute
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), suiteTimeout)
	defer cancel()
	s := &suite{start: time.Now()}
	err := s.run(ctx)
	s.cleanup()
	s.print(os.Stdout)
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "faults: error:", err)
		os.Exit(2)
	case len(s.failures) > 0:
		fmt.Fprintf(os.Stderr, "faults: %d check(s) failed:\n  %s\n", len(s.failures), strings.Join(s.failures, "\n  "))
		os.Exit(1)
	}
	fmt.Printf("faults: all checks passed in %s\n", time.Since(s.start).Round(time.Second))
}

// suite holds what the run started, its figures and its failed checks.
type suite struct {
	start    time.Time
	tmp      string
	apiBin   string
	loadBin  string
	pg       *pgcluster.Cluster
	pgDir    string
	pgPort   int
	redis    *redisServer
	dbURL    string
	apis     []*apiProc
	rows     []row
	failures []string
	acked    map[string]bool // titles of acknowledged writes
}

// row is one line of the printed table.
type row struct {
	fault, requests, statuses, during, recovery, result string
}

func (s *suite) check(ok bool, format string, args ...any) bool {
	if !ok {
		s.failures = append(s.failures, fmt.Sprintf(format, args...))
	}
	return ok
}

func (s *suite) run(ctx context.Context) error {
	var err error
	if s.tmp, err = os.MkdirTemp("", "quarry-faults-"); err != nil {
		return err
	}
	// The PostgreSQL server account must reach its data directory inside.
	if err := os.Chmod(s.tmp, 0o755); err != nil {
		return err
	}
	if err := s.build(ctx); err != nil {
		return err
	}
	if err := s.startPostgres(ctx); err != nil {
		return err
	}
	if s.redis, err = startRedis(ctx, s.tmp); err != nil {
		return err
	}
	if err := s.prepareDatabase(ctx); err != nil {
		return err
	}
	s.acked = map[string]bool{}

	main, err := s.startAPI(ctx, "main", nil)
	if err != nil {
		return err
	}
	token, err := signIn(main.base, "writer@example.com")
	if err != nil {
		return err
	}
	write := []string{"-method", "POST", "-H", "Authorization: Bearer " + token}

	steps := []func() error{
		func() error { return s.postgresOutage(ctx, main, write, "PostgreSQL restart", 0) },
		func() error { return s.postgresOutage(ctx, main, write, "PostgreSQL stopped 5s", 5*time.Second) },
		func() error { return s.lostWrites(ctx) },
		func() error { return s.redisFault(ctx, main, "Redis hung (SIGSTOP)", false) },
		func() error { return s.redisFault(ctx, main, "Redis killed", true) },
		func() error { return s.slowBody(main) },
		func() error { return s.poolExhaustion(ctx) },
		func() error { return s.twoInstances(ctx) },
		func() error { return s.sigterm(ctx) },
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("suite ran out of time: %w", err)
		}
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// build compiles the API and the load generator.
func (s *suite) build(ctx context.Context) error {
	s.apiBin = filepath.Join(s.tmp, "api")
	s.loadBin = filepath.Join(s.tmp, "load")
	for out, pkg := range map[string]string{s.apiBin: "./cmd/api", s.loadBin: "./bench/load"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
		}
	}
	return nil
}

func (s *suite) startPostgres(ctx context.Context) error {
	s.pgDir = filepath.Join(s.tmp, "pg")
	c, err := pgcluster.Ensure(ctx, pgcluster.Options{DataDir: s.pgDir, Port: s.pgPort})
	if err != nil {
		return fmt.Errorf("start PostgreSQL: %w", err)
	}
	s.pg, s.pgPort = c, c.Port
	return nil
}

func (s *suite) prepareDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.pg.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE quarry_faults"); err != nil {
		return err
	}
	s.dbURL = s.pg.URL("quarry_faults")
	cmd := exec.CommandContext(ctx, s.apiBin, "migrate", "apply", "--database-url", s.dbURL)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("migrate apply: %w\n%s", err, b)
	}
	return nil
}

// cleanup stops every process the suite started and removes its directory.
func (s *suite) cleanup() {
	for _, a := range s.apis {
		a.stop()
	}
	if s.redis != nil {
		s.redis.kill()
	}
	if s.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.pg.Stop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "faults: stopping PostgreSQL:", err)
		}
		cancel()
	}
	if s.tmp != "" {
		_ = os.RemoveAll(s.tmp)
	}
}

func (s *suite) print(w io.Writer) {
	fmt.Fprintln(w, "\nFault suite figures")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\trequests\tstatuses (whole run)\tduring the fault\trecovery / bound\tresult")
	for _, r := range s.rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.fault, r.requests, r.statuses, r.during, r.recovery, r.result)
	}
	_ = tw.Flush()
}

// verdict returns "ok", or "FAIL" when the number of failures grew since before.
func (s *suite) verdict(before int) string {
	if len(s.failures) > before {
		return "FAIL"
	}
	return "ok"
}

// --- API instances ---------------------------------------------------------------

type apiProc struct {
	name string
	base string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// startAPI starts `api serve` named name with the suite's settings and env on top,
// and waits until it is ready. Its working directory holds no .env file.
func (s *suite) startAPI(ctx context.Context, name string, env map[string]string) (*apiProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	settings := map[string]string{
		"APP_ENV":                        "test",
		"HTTP_ADDR":                      fmt.Sprintf("127.0.0.1:%d", port),
		"DATABASE_URL":                   s.dbURL,
		"REDIS_URL":                      s.redis.url,
		"RATE_LIMIT_DEFAULT":             "1000000/1m",
		"RATE_LIMIT_KEY_PREFIX":          "faults:" + name + ":",
		"RATE_LIMIT_BREAKER_COOLOFF":     breakerCooloff.String(),
		"BODY_READ_TIMEOUT":              bodyReadTimeout.String(),
		"DB_ACQUIRE_TIMEOUT":             acquireTimeout.String(),
		"DB_CONNECT_TIMEOUT":             "2s",
		"REQUEST_TIMEOUT":                "5s",
		"PASSWORD_MEMORY_KIB":            "1024",
		"PASSWORD_ITERATIONS":            "1",
		"AUTH_LOGIN_PER_ACCOUNT_ADDRESS": "off",
		"AUTH_LOGIN_PER_ACCOUNT":         "off",
		"AUTH_LOGIN_PER_ADDRESS":         "off",
		"AUTH_REFRESH_REUSE_GRACE":       reuseGrace.String(),
		"LOG_LEVEL":                      "warn",
		"TRACING_OTLP_ENDPOINT":          "",
	}
	for k, v := range env {
		settings[k] = v
	}
	environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range settings {
		environ = append(environ, k+"="+v)
	}
	a := &apiProc{name: name, base: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{}),
		log: filepath.Join(s.tmp, name+".log")}
	logFile, err := os.Create(a.log)
	if err != nil {
		return nil, err
	}
	a.cmd = exec.Command(s.apiBin, "serve")
	a.cmd.Dir, a.cmd.Env, a.cmd.Stdout, a.cmd.Stderr = s.tmp, environ, logFile, logFile
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := a.cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	go func() {
		_ = a.cmd.Wait()
		logFile.Close()
		close(a.done)
	}()
	s.apis = append(s.apis, a)
	if err := waitStatus(ctx, a.base+"/readyz", http.StatusOK, 15*time.Second, a.done); err != nil {
		b, _ := os.ReadFile(a.log)
		return nil, fmt.Errorf("API %s not ready: %w\n%s", name, err, b)
	}
	return a, nil
}

func (a *apiProc) stop() {
	select {
	case <-a.done:
		return
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.done
	}
}

// --- Redis -----------------------------------------------------------------------

type redisServer struct {
	bin, dir, url string
	port          int
	cmd           *exec.Cmd
	done          chan struct{}
}

func startRedis(ctx context.Context, tmp string) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		bin = "/usr/bin/redis-server"
		if _, err := os.Stat(bin); err != nil {
			return nil, errors.New("redis-server is not installed (Debian: apt-get install redis-server)")
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &redisServer{bin: bin, dir: filepath.Join(tmp, "redis"), port: port, url: fmt.Sprintf("redis://127.0.0.1:%d/0", port)}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, err
	}
	return r, r.start(ctx)
}

func (r *redisServer) start(ctx context.Context) error {
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--daemonize", "no", "--loglevel", "warning")
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	r.done = make(chan struct{})
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := r.done
	go func() { _ = r.cmd.Wait(); close(done) }()
	opt, _ := redis.ParseURL(r.url)
	client := redis.NewClient(opt)
	defer client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if client.Ping(ctx).Err() == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("redis-server does not answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisServer) signal(sig syscall.Signal) error { return r.cmd.Process.Signal(sig) }

func (r *redisServer) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGCONT)
	_ = r.cmd.Process.Kill()
	<-r.done
}

// --- load ------------------------------------------------------------------------

// event is one request of a load run.
type event = timeline.Event

// loadRun is the outcome of one run of bench/load.
type loadRun struct {
	RPS      float64          `json:"rps"`
	Reqs     int64            `json:"reqs"`
	MaxMS    float64          `json:"max_ms"`
	Statuses map[string]int64 `json:"statuses"`
	Errors   int64            `json:"errors"`
	events   []event
}

// load runs bench/load against url for d with c connections and the extra flags,
// with no warm-up, and returns its figures and timeline.
func (s *suite) load(ctx context.Context, url string, c int, d time.Duration, extra ...string) (*loadRun, error) {
	timelineFile := filepath.Join(s.tmp, fmt.Sprintf("timeline-%d.txt", time.Now().UnixNano()))
	args := append([]string{"-url", url, "-c", strconv.Itoa(c), "-d", d.String(), "-warmup", "0s",
		"-timeout", "10s", "-timeline", timelineFile}, extra...)
	cmd := exec.CommandContext(ctx, s.loadBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("load: %w: %s", err, stderr.String())
	}
	var r loadRun
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("load output %q: %w", out, err)
	}
	f, err := os.Open(timelineFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if r.events, err = timeline.Read(f); err != nil {
		return nil, err
	}
	slices.SortFunc(r.events, func(a, b event) int { return a.Start.Compare(b.Start) })
	return &r, nil
}

// counts returns "201:1234 503:56 …" for events, transport errors by class.
func counts(events []event) string {
	m := map[string]int{}
	for _, e := range events {
		k := strconv.Itoa(e.Status)
		if e.Status == 0 {
			k = e.ErrClass
		}
		m[k]++
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// overlapping returns the events in flight at some moment of [from, to].
func overlapping(events []event, from, to time.Time) []event {
	var out []event
	for _, e := range events {
		if !e.End().Before(from) && !e.Start.After(to) {
			out = append(out, e)
		}
	}
	return out
}

// --- the faults ------------------------------------------------------------------

// postgresOutage writes under load while PostgreSQL is stopped for down (0: a
// restart) and started again on the same port.
func (s *suite) postgresOutage(ctx context.Context, api *apiProc, write []string, name string, down time.Duration) error {
	before := len(s.failures)
	tag := strings.ReplaceAll(strings.ToLower(name), " ", "-")
	body := fmt.Sprintf(`{"title":"%s {seq}","status":"published"}`, tag)
	var stopAt, upAt time.Time
	var faultErr error
	faulted := make(chan struct{})
	go func() {
		defer close(faulted)
		time.Sleep(1500 * time.Millisecond)
		stopAt = time.Now()
		if faultErr = s.pg.Stop(ctx); faultErr != nil {
			return
		}
		time.Sleep(down)
		c, err := pgcluster.Ensure(ctx, pgcluster.Options{DataDir: s.pgDir, Port: s.pgPort})
		if err != nil {
			faultErr = err
			return
		}
		s.pg = c
		upAt = time.Now()
	}()
	r, err := s.load(ctx, api.base+"/api/v1/posts", 8, down+6*time.Second, append(write, "-body", body)...)
	<-faulted
	if err != nil {
		return err
	}
	if faultErr != nil || upAt.IsZero() {
		return fmt.Errorf("%s: %v", name, faultErr)
	}
	// Recovery: from PostgreSQL accepting connections to the first acknowledged
	// write that started after it, with no failure after that one.
	var recovered time.Time
	lastFailure := time.Time{}
	for _, e := range r.events {
		if e.Status != http.StatusCreated && e.Start.After(lastFailure) {
			lastFailure = e.Start
		}
	}
	for _, e := range r.events {
		if e.Status == http.StatusCreated && e.Start.After(upAt) && e.Start.After(lastFailure) {
			recovered = e.End()
			break
		}
	}
	during := overlapping(r.events, stopAt, upAt)
	bad, noRetry := 0, 0
	for _, e := range r.events {
		switch {
		case e.Status == http.StatusCreated:
			s.acked[fmt.Sprintf("%s %d", tag, e.Seq)] = true
		case e.Status == http.StatusServiceUnavailable:
			if !e.RetryAfter {
				noRetry++
			}
		default:
			bad++
		}
	}
	s.check(bad == 0, "%s: %d answers other than 201 or 503 (%s)", name, bad, counts(r.events))
	s.check(noRetry == 0, "%s: %d answers 503 without Retry-After", name, noRetry)
	s.check(!recovered.IsZero(), "%s: no acknowledged write after PostgreSQL came back", name)
	recovery := "never"
	if !recovered.IsZero() {
		recovery = recovered.Sub(upAt).Round(time.Millisecond).String()
	}
	s.rows = append(s.rows, row{
		fault: name, requests: strconv.Itoa(len(r.events)), statuses: counts(r.events),
		during:   fmt.Sprintf("%s (outage %s)", counts(during), upAt.Sub(stopAt).Round(time.Millisecond)),
		recovery: recovery, result: s.verdict(before),
	})
	return nil
}

// lostWrites checks that every acknowledged write is in the database.
func (s *suite) lostWrites(ctx context.Context) error {
	before := len(s.failures)
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT title FROM posts")
	if err != nil {
		return err
	}
	titles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	stored := map[string]bool{}
	for _, t := range titles {
		stored[t] = true
	}
	lost := 0
	for t := range s.acked {
		if !stored[t] {
			lost++
		}
	}
	s.check(lost == 0, "lost writes: %d of %d acknowledged writes are missing", lost, len(s.acked))
	s.rows = append(s.rows, row{
		fault: "acknowledged writes", requests: strconv.Itoa(len(s.acked)),
		statuses: fmt.Sprintf("%d rows stored", len(titles)),
		// Stored without a 201: still in flight when a run ended, or committed just as
		// the outage cut the connection, so the client saw 503 (an in-doubt commit).
		during:   fmt.Sprintf("lost writes = %d; %d stored without a 201", lost, len(titles)-(len(s.acked)-lost)),
		recovery: "-", result: s.verdict(before),
	})
	return nil
}

// redisFault measures reads (rate-limited by Redis) before and while Redis is hung
// (SIGSTOP) or killed, and that the breaker closes once Redis is back.
func (s *suite) redisFault(ctx context.Context, api *apiProc, name string, kill bool) error {
	before := len(s.failures)
	url := api.base + "/api/v1/posts?limit=1"
	base, err := s.load(ctx, url, 32, 2*time.Second)
	if err != nil {
		return err
	}
	var faultAt time.Time
	faulted := make(chan struct{})
	go func() {
		defer close(faulted)
		time.Sleep(500 * time.Millisecond)
		faultAt = time.Now()
		if kill {
			s.redis.kill()
		} else {
			_ = s.redis.signal(syscall.SIGSTOP)
		}
	}()
	r, err := s.load(ctx, url, 32, 5*time.Second)
	<-faulted
	if err != nil {
		return err
	}
	// Throughput once the breaker has opened: from 1s after the fault on.
	open := faultAt.Add(time.Second)
	var after []event
	var slowest time.Duration
	for _, e := range r.events {
		if e.Start.After(open) {
			after = append(after, e)
		}
		if !e.Start.Before(faultAt) {
			slowest = max(slowest, e.Latency)
		}
	}
	last := r.events[len(r.events)-1].End()
	rps := float64(len(after)) / last.Sub(open).Seconds()
	non200 := 0
	for _, e := range r.events {
		if e.Status != http.StatusOK {
			non200++
		}
	}
	s.check(rps*2 >= base.RPS, "%s: %.0f req/s once the breaker opened, normal %.0f: more than 2x slower", name, rps, base.RPS)
	s.check(slowest <= breakerBound, "%s: slowest request %s, over the bound %s", name, slowest, breakerBound)
	s.check(non200 == 0, "%s: %d answers other than 200 failing open (%s)", name, non200, counts(r.events))

	// Redis back: after the cool-off a probe closes the breaker.
	if kill {
		if err := s.redis.start(ctx); err != nil {
			return err
		}
	} else if err := s.redis.signal(syscall.SIGCONT); err != nil {
		return err
	}
	back := time.Now()
	closed := false
	for time.Since(back) < breakerCooloff+5*time.Second {
		_, _ = http.Get(url)
		if v, err := metric(api.base, "quarry_rate_limit_breaker_open"); err == nil && v == 0 {
			closed = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.check(closed, "%s: the breaker did not close after Redis came back", name)
	s.rows = append(s.rows, row{
		fault: name, requests: strconv.Itoa(len(r.events)), statuses: counts(r.events),
		during: fmt.Sprintf("%.0f req/s after the breaker opened (normal %.0f)", rps, base.RPS),
		recovery: fmt.Sprintf("slowest %s (bound %s); breaker closed %s after Redis was back", slowest.Round(time.Millisecond),
			breakerBound, time.Since(back).Round(100*time.Millisecond)),
		result: s.verdict(before),
	})
	return nil
}

// metric returns the value of an unlabelled metric from /metrics.
func metric(base, name string) (float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("metric %s not found", name)
}

// slowBody sends a login body one byte every 500ms and times the cut-off.
func (s *suite) slowBody(api *apiProc) error {
	before := len(s.failures)
	c, err := net.Dial("tcp", strings.TrimPrefix(api.base, "http://"))
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	const body = `{"email":"slow@example.com","password":"a password sent very slowly"}`
	head := fmt.Sprintf("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	if _, err := io.WriteString(c, head); err != nil {
		return err
	}
	start := time.Now()
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			close(answered)
			return
		}
		answered <- resp
	}()
	var resp *http.Response
	sent := 0
loop:
	for sent < len(body) {
		select {
		case resp = <-answered:
			break loop
		case <-time.After(500 * time.Millisecond):
			if _, err := c.Write([]byte{body[sent]}); err != nil {
				resp = <-answered
				break loop
			}
			sent++
		}
	}
	if resp == nil {
		resp = <-answered
	}
	cut := time.Since(start)
	status := 0
	if resp != nil {
		status = resp.StatusCode
		resp.Body.Close()
	}
	s.check(status == http.StatusRequestTimeout, "slow body: status %d, want 408", status)
	s.check(cut < bodyReadTimeout+time.Second, "slow body: cut off after %s, BODY_READ_TIMEOUT is %s", cut, bodyReadTimeout)
	s.rows = append(s.rows, row{
		fault: "slow body (1 byte/500ms)", requests: "1", statuses: strconv.Itoa(status),
		during:   fmt.Sprintf("%d of %d bytes sent", sent, len(body)),
		recovery: fmt.Sprintf("cut off after %s (BODY_READ_TIMEOUT %s)", cut.Round(time.Millisecond), bodyReadTimeout),
		result:   s.verdict(before),
	})
	return nil
}

// poolExhaustion holds the connections of a two-connection pool behind a table lock
// while 64 clients read.
func (s *suite) poolExhaustion(ctx context.Context) error {
	before := len(s.failures)
	api, err := s.startAPI(ctx, "pool", map[string]string{"DB_MAX_CONNS": "2", "DB_MIN_CONNS": "0"})
	if err != nil {
		return err
	}
	defer api.stop()
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var lockedAt, releasedAt time.Time
	lockErr := make(chan error, 1)
	go func() {
		time.Sleep(500 * time.Millisecond)
		tx, err := conn.Begin(ctx)
		if err != nil {
			lockErr <- err
			return
		}
		if _, err := tx.Exec(ctx, "LOCK TABLE posts IN ACCESS EXCLUSIVE MODE"); err != nil {
			lockErr <- err
			return
		}
		lockedAt = time.Now()
		time.Sleep(2 * time.Second)
		releasedAt = time.Now()
		lockErr <- tx.Rollback(ctx)
	}()
	r, err := s.load(ctx, api.base+"/api/v1/posts?limit=1", 64, 4*time.Second)
	if err != nil {
		return err
	}
	if err := <-lockErr; err != nil {
		return err
	}
	var slowest503 time.Duration
	busy, noRetry, other := 0, 0, 0
	for _, e := range r.events {
		switch e.Status {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			busy++
			slowest503 = max(slowest503, e.Latency)
			if !e.RetryAfter {
				noRetry++
			}
		default:
			other++
		}
	}
	bound := acquireTimeout + 500*time.Millisecond
	s.check(busy > 0, "pool exhaustion: no 503 while the pool was held (%s)", counts(r.events))
	s.check(other == 0, "pool exhaustion: answers other than 200 and 503: %s", counts(r.events))
	s.check(noRetry == 0, "pool exhaustion: %d answers 503 without Retry-After", noRetry)
	s.check(slowest503 <= bound, "pool exhaustion: a 503 took %s, over %s", slowest503, bound)
	s.rows = append(s.rows, row{
		fault: "pool exhausted (2 conns, 64 clients)", requests: strconv.Itoa(len(r.events)), statuses: counts(r.events),
		during:   counts(overlapping(r.events, lockedAt, releasedAt)),
		recovery: fmt.Sprintf("slowest 503 %s (bound %s)", slowest503.Round(time.Millisecond), bound),
		result:   s.verdict(before),
	})
	return nil
}

// twoInstances runs two instances on the same PostgreSQL and Redis.
func (s *suite) twoInstances(ctx context.Context) error {
	before := len(s.failures)
	const budget = 40
	shared := map[string]string{"RATE_LIMIT_KEY_PREFIX": "faults:shared:", "RATE_LIMIT_OVERRIDES": fmt.Sprintf("posts=%d/1h", budget)}
	a, err := s.startAPI(ctx, "a", shared)
	if err != nil {
		return err
	}
	defer a.stop()
	b, err := s.startAPI(ctx, "b", shared)
	if err != nil {
		return err
	}
	defer b.stop()
	admitted, limited, other := 0, 0, 0
	for i := range 2*budget + 20 {
		base := a.base
		if i%2 == 1 {
			base = b.base
		}
		status, _, err := call(http.MethodGet, base+"/api/v1/posts?limit=1", "", "")
		if err != nil {
			return err
		}
		switch status {
		case http.StatusOK:
			admitted++
		case http.StatusTooManyRequests:
			limited++
		default:
			other++
		}
	}
	s.check(admitted == budget && other == 0, "shared budget: %d admitted across two instances (and %d other), want exactly %d", admitted, other, budget)

	// A refresh token rotated on a: within the grace b returns the same successor;
	// after it, b refuses the old token and the session is over.
	if _, err := register(a.base, "tabs@example.com"); err != nil {
		return err
	}
	first, err := login(a.base, "tabs@example.com")
	if err != nil {
		return err
	}
	second, err := refresh(a.base, first.RefreshToken)
	if err != nil {
		return err
	}
	again, err := refresh(b.base, first.RefreshToken)
	s.check(err == nil && again.RefreshToken == second.RefreshToken, "refresh within the grace on the other instance: %v", err)
	time.Sleep(reuseGrace + 200*time.Millisecond)
	_, lateErr := refresh(b.base, first.RefreshToken)
	_, newestErr := refresh(a.base, second.RefreshToken)
	s.check(lateErr != nil && newestErr != nil, "reuse after the grace on the other instance: %v, newest token then: %v; want both refused", lateErr, newestErr)
	s.rows = append(s.rows, row{
		fault:    "two instances, one PostgreSQL and Redis",
		requests: strconv.Itoa(2*budget + 20 + 5), statuses: fmt.Sprintf("200×%d 429×%d", admitted, limited),
		during:   fmt.Sprintf("budget %d/1h: %d admitted across both", budget, admitted),
		recovery: fmt.Sprintf("token reused after %s grace on the other: %s", reuseGrace, refusal(lateErr)),
		result:   s.verdict(before),
	})
	return nil
}

func refusal(err error) string {
	if err != nil {
		return "refused"
	}
	return "accepted"
}

// sigterm sends SIGTERM to an instance under load.
func (s *suite) sigterm(ctx context.Context) error {
	before := len(s.failures)
	api, err := s.startAPI(ctx, "term", map[string]string{"SHUTDOWN_TIMEOUT": "10s"})
	if err != nil {
		return err
	}
	var termAt time.Time
	termed := make(chan struct{})
	go func() {
		defer close(termed)
		time.Sleep(time.Second)
		termAt = time.Now()
		_ = api.cmd.Process.Signal(syscall.SIGTERM)
	}()
	r, err := s.load(ctx, api.base+"/api/v1/posts?limit=5", 32, 3*time.Second)
	<-termed
	if err != nil {
		return err
	}
	<-api.done
	inFlight, failed, refused := 0, 0, 0
	for _, e := range r.events {
		if e.Start.Before(termAt) && e.End().After(termAt) {
			inFlight++
		}
		switch {
		case e.ErrClass == "failed" || e.Status != 0 && e.Status != http.StatusOK:
			failed++
		case e.ErrClass == "refused":
			refused++
		}
	}
	exit := api.cmd.ProcessState.ExitCode()
	s.check(failed == 0, "SIGTERM: %d requests that reached the server failed (%s)", failed, counts(r.events))
	s.check(exit == 0, "SIGTERM: exit status %d", exit)
	s.rows = append(s.rows, row{
		fault: "SIGTERM under load", requests: strconv.Itoa(len(r.events)), statuses: counts(r.events),
		during:   fmt.Sprintf("%d in flight at SIGTERM, %d failed", inFlight, failed),
		recovery: fmt.Sprintf("exit %d; %d later connections refused (listener closed)", exit, refused),
		result:   s.verdict(before),
	})
	return nil
}

// --- HTTP helpers ----------------------------------------------------------------

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// call sends one request and returns its status and body.
func call(method, url, body, bearer string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

const password = "a fault suite password"

func register(base, email string) (int, error) {
	status, b, err := call(http.MethodPost, base+"/api/v1/auth/register",
		fmt.Sprintf(`{"email":%q,"display_name":"Faults","password":%q}`, email, password), "")
	if err == nil && status != http.StatusCreated {
		err = fmt.Errorf("register: %d %s", status, b)
	}
	return status, err
}

func tokenCall(url, body string) (tokens, error) {
	status, b, err := call(http.MethodPost, url, body, "")
	if err != nil {
		return tokens{}, err
	}
	if status != http.StatusOK {
		return tokens{}, fmt.Errorf("%s: %d %s", url, status, b)
	}
	var env struct {
		Data tokens `json:"data"`
	}
	return env.Data, json.Unmarshal(b, &env)
}

func login(base, email string) (tokens, error) {
	return tokenCall(base+"/api/v1/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
}

func refresh(base, token string) (tokens, error) {
	return tokenCall(base+"/api/v1/auth/refresh", fmt.Sprintf(`{"refresh_token":%q}`, token))
}

// signIn registers email and returns an access token.
func signIn(base, email string) (string, error) {
	if _, err := register(base, email); err != nil {
		return "", err
	}
	t, err := login(base, email)
	return t.AccessToken, err
}

// waitStatus polls url until it answers status, the process ends or timeout passes.
func waitStatus(ctx context.Context, url string, status int, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("the process exited")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer %d within %s (last: %s)", url, status, timeout, last)
}

// freePort returns a loopback TCP port nothing listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
