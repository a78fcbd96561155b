// Command load is a small closed-loop HTTP load generator for the benchmarks in bench/.
//
// It keeps -c keep-alive connections busy for -d (after an unrecorded -warmup), each
// request asking for a random id in 1..-ids substituted for {id} in -url, records every
// latency and prints one JSON line:
//
//	{"url":…,"c":32,"duration_s":10.0,"reqs":…,"rps":…,"mean_ms":…,"p50_ms":…,"p90_ms":…,
//	 "p99_ms":…,"p999_ms":…,"max_ms":…,"errors":0,"non2xx":0,"all_reqs":…}
//
// reqs, rps and the latencies cover the measured duration only; all_reqs also counts
// the warm-up. errors counts transport failures (refused, reset, timeout); non2xx
// counts answers with a status outside 200–299. Latencies of both are recorded too.
// Only loopback targets are accepted: this is a measuring tool, not a way to load
// someone's server.
//
// -H adds a request header (repeatable); {seq} in -body is replaced by a number
// unique within the run, so that each write can be told apart afterwards. -timeline
// FILE writes one line per measured request, for the fault suite (bench/faults), in
// the format of package bench/internal/timeline.
//
// Usage:
//
//	load -url 'http://127.0.0.1:8080/api/v1/posts/{id}' -ids 100000 -c 32 -d 10s -warmup 2s
//	load -url 'http://127.0.0.1:8080/api/v1/posts/{id}' -show   # print one response and exit
//	load -url http://127.0.0.1:8080/api/v1/posts -method POST -H 'Authorization: Bearer …' \
//	     -body '{"title":"w{seq}"}' -timeline /tmp/t.txt
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quarrydev/quarry/bench/internal/timeline"
)

// Bounds on the flags: a run never exceeds these, whatever it is asked.
const (
	maxConcurrency = 1024
	maxDuration    = 10 * time.Minute
	maxRequests    = 50_000_000 // about 400 MB of recorded latencies
)

type config struct {
	url      string
	ids      int64
	c        int
	d        time.Duration
	warmup   time.Duration
	n        int64
	timeout  time.Duration
	wait     time.Duration
	show     bool
	showID   int64
	method   string
	body     string
	headers  http.Header
	timeline string
	template urlTemplate
}

// headerFlags collects repeated -H "Name: value" flags.
type headerFlags struct{ h http.Header }

func (f headerFlags) String() string { return "" }

func (f headerFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("-H %q: want \"Name: value\"", v)
	}
	f.h.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	return nil
}

// urlTemplate is -url split around its {id} placeholder.
type urlTemplate struct {
	prefix, suffix string
	hasID          bool
}

func (t urlTemplate) with(id int64) string {
	if !t.hasID {
		return t.prefix
	}
	return t.prefix + strconv.FormatInt(id, 10) + t.suffix
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&cfg.url, "url", "", "target URL; {id} is replaced by a random id in 1..-ids (required)")
	fs.Int64Var(&cfg.ids, "ids", 100_000, "ids are drawn uniformly from 1..ids")
	fs.IntVar(&cfg.c, "c", 32, "concurrent connections (closed loop: one request in flight each)")
	fs.DurationVar(&cfg.d, "d", 10*time.Second, "measured duration")
	fs.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "unrecorded load before the measured duration")
	fs.Int64Var(&cfg.n, "n", 0, "stop after this many measured requests (0: only -d bounds the run)")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "per-request timeout")
	fs.DurationVar(&cfg.wait, "wait", 0, "first wait up to this long for the target to answer 2xx")
	fs.BoolVar(&cfg.show, "show", false, "print the status and body of one request (id -show-id) and exit")
	fs.Int64Var(&cfg.showID, "show-id", 1, "id used by -show")
	fs.StringVar(&cfg.method, "method", http.MethodGet, "request method")
	fs.StringVar(&cfg.body, "body", "", "request body, sent as application/json (e.g. for POST); {seq} becomes a number unique within the run")
	cfg.headers = http.Header{}
	fs.Var(headerFlags{cfg.headers}, "H", `request header "Name: value" (repeatable)`)
	fs.StringVar(&cfg.timeline, "timeline", "", "write one line per measured request to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case cfg.url == "":
		return nil, errors.New("-url is required")
	case cfg.ids < 1:
		return nil, errors.New("-ids must be at least 1")
	case cfg.c < 1 || cfg.c > maxConcurrency:
		return nil, fmt.Errorf("-c must be in 1..%d", maxConcurrency)
	case cfg.d <= 0 || cfg.d > maxDuration:
		return nil, fmt.Errorf("-d must be in (0, %s]", maxDuration)
	case cfg.warmup < 0 || cfg.warmup > maxDuration:
		return nil, fmt.Errorf("-warmup must be in [0, %s]", maxDuration)
	case cfg.n < 0 || cfg.n > maxRequests:
		return nil, fmt.Errorf("-n must be in 0..%d", maxRequests)
	case cfg.timeout <= 0:
		return nil, errors.New("-timeout must be positive")
	}
	u, err := url.Parse(strings.ReplaceAll(cfg.url, "{id}", "1"))
	if err != nil {
		return nil, fmt.Errorf("-url: %w", err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("-url: only http:// is supported, got %q", u.Scheme)
	}
	if err := checkLoopback(u.Hostname()); err != nil {
		return nil, err
	}
	prefix, suffix, found := strings.Cut(cfg.url, "{id}")
	if strings.Contains(suffix, "{id}") {
		return nil, errors.New("-url: {id} may appear once")
	}
	cfg.template = urlTemplate{prefix: prefix, suffix: suffix, hasID: found}
	return cfg, nil
}

// checkLoopback accepts localhost and loopback addresses only; names are resolved
// and every address they resolve to must be a loopback one.
func checkLoopback(host string) error {
	if host == "" {
		return errors.New("-url: no host")
	}
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return fmt.Errorf("-url: %s is not a loopback address", host)
		}
		return nil
	}
	addrs, err := net.LookupIP(host)
	if err != nil {
		return fmt.Errorf("-url: resolve %s: %w", host, err)
	}
	for _, ip := range addrs {
		if !ip.IsLoopback() {
			return fmt.Errorf("-url: %s resolves to %s, not a loopback address", host, ip)
		}
	}
	return nil
}

func newClient(cfg *config) *http.Client {
	dialer := &net.Dialer{Timeout: cfg.timeout, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: cfg.timeout,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConns:        cfg.c,
			MaxIdleConnsPerHost: cfg.c,
			MaxConnsPerHost:     cfg.c,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
	}
}

func run(cfg *config) error {
	client := newClient(cfg)
	defer client.CloseIdleConnections()
	if cfg.wait > 0 {
		if err := waitReady(client, cfg); err != nil {
			return err
		}
	}
	if cfg.show {
		return show(client, cfg)
	}
	res, lines := measure(client, cfg)
	if cfg.timeline != "" {
		if err := writeTimeline(cfg.timeline, lines); err != nil {
			return err
		}
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// waitReady polls the target with id 1 until it answers 2xx or cfg.wait passes.
func waitReady(client *http.Client, cfg *config) error {
	deadline := time.Now().Add(cfg.wait)
	var last string
	for {
		resp, err := client.Get(cfg.template.with(1))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %s", cfg.template.with(1), cfg.wait, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func show(client *http.Client, cfg *config) error {
	resp, err := client.Get(cfg.template.with(cfg.showID))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	fmt.Printf("%s %s\n", resp.Proto, resp.Status)
	fmt.Println(strings.TrimSpace(string(body)))
	return nil
}

// Result is the one line the tool prints.
type Result struct {
	URL       string  `json:"url"`
	C         int     `json:"c"`
	DurationS float64 `json:"duration_s"`
	Reqs      int64   `json:"reqs"`
	RPS       float64 `json:"rps"`
	MeanMS    float64 `json:"mean_ms"`
	P50MS     float64 `json:"p50_ms"`
	P90MS     float64 `json:"p90_ms"`
	P99MS     float64 `json:"p99_ms"`
	P999MS    float64 `json:"p999_ms"`
	MaxMS     float64 `json:"max_ms"`
	Errors    int64   `json:"errors"`
	Non2xx    int64   `json:"non2xx"`
	// AllReqs counts every request completed, warm-up and the last in-flight ones
	// included, to divide the target's CPU time over the whole run by.
	AllReqs int64 `json:"all_reqs"`
	// Statuses counts the measured responses by status code.
	Statuses map[string]int64 `json:"statuses"`
	// FirstError is the first transport error seen, to tell a refused connection
	// from a timeout without rerunning.
	FirstError string `json:"first_error,omitempty"`
}

type worker struct {
	lat                []time.Duration
	all, errors, non2x int64
	statuses           map[int]int64
	firstErr           error
	timeline           []timeline.Event
}

// writeTimeline writes events to path (see package timeline).
func writeTimeline(path string, events []timeline.Event) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := timeline.Write(f, events); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// measure runs the closed loop: cfg.c workers, each with one request in flight,
// first for cfg.warmup without recording, then for cfg.d (or until cfg.n measured
// requests) recording every latency. At the end no new request starts and those in
// flight are let finish (within -timeout) rather than canceled: canceling would make
// the server abort work and close database connections, which is not what is measured.
func measure(client *http.Client, cfg *config) (Result, []timeline.Event) {
	var (
		seq             atomic.Int64
		recording, stop atomic.Bool
		budget          atomic.Int64 // measured requests left
		exhausted       = make(chan struct{})
		once            sync.Once
		wg              sync.WaitGroup
	)
	limit := cfg.n
	if limit == 0 {
		limit = maxRequests
	}
	budget.Store(limit)
	workers := make([]*worker, cfg.c)
	for i := range workers {
		w := &worker{lat: make([]time.Duration, 0, 4096), statuses: map[int]int64{}}
		workers[i] = w
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(rand.Uint64(), uint64(i)))
			for !stop.Load() {
				rec := recording.Load()
				if rec && budget.Add(-1) < 0 {
					once.Do(func() { close(exhausted) })
					return
				}
				id := rng.Int64N(cfg.ids) + 1
				n := seq.Add(1)
				start := time.Now()
				status, retryAfter, err := sendSeq(client, cfg, cfg.template.with(id), n)
				elapsed := time.Since(start)
				w.all++
				if !rec || !recording.Load() {
					continue // warm-up, or the run ended while in flight
				}
				if cfg.timeline != "" {
					e := timeline.Event{Start: start, Latency: elapsed, Status: status, RetryAfter: retryAfter, Seq: n, ErrClass: "-"}
					if err != nil {
						e.Status, e.ErrClass = 0, timeline.ErrorClass(err)
					}
					w.timeline = append(w.timeline, e)
				}
				if err != nil {
					w.errors++
					if w.firstErr == nil {
						w.firstErr = err
					}
				} else {
					w.statuses[status]++
					if status/100 != 2 {
						w.non2x++
					}
				}
				w.lat = append(w.lat, elapsed)
			}
		})
	}
	time.Sleep(cfg.warmup)
	start := time.Now()
	recording.Store(true)
	select {
	case <-time.After(cfg.d):
	case <-exhausted:
	}
	recording.Store(false)
	elapsed := time.Since(start)
	stop.Store(true)
	wg.Wait()

	res := Result{URL: cfg.url, C: cfg.c, DurationS: round(elapsed.Seconds(), 3), Statuses: map[string]int64{}}
	var all []time.Duration
	var events []timeline.Event
	for _, w := range workers {
		events = append(events, w.timeline...)
		all = append(all, w.lat...)
		res.AllReqs += w.all
		res.Errors += w.errors
		res.Non2xx += w.non2x
		for code, n := range w.statuses {
			res.Statuses[strconv.Itoa(code)] += n
		}
		if res.FirstError == "" && w.firstErr != nil {
			res.FirstError = w.firstErr.Error()
		}
	}
	slices.Sort(all)
	res.Reqs = int64(len(all))
	if res.Reqs == 0 {
		return res, events
	}
	var sum time.Duration
	for _, d := range all {
		sum += d
	}
	res.RPS = round(float64(res.Reqs)/elapsed.Seconds(), 1)
	res.MeanMS = ms(sum / time.Duration(len(all)))
	res.P50MS = ms(quantile(all, 0.50))
	res.P90MS = ms(quantile(all, 0.90))
	res.P99MS = ms(quantile(all, 0.99))
	res.P999MS = ms(quantile(all, 0.999))
	res.MaxMS = ms(all[len(all)-1])
	return res, events
}

// get sends one GET and reads the whole body so the connection is reused.
func get(client *http.Client, u string) (int, error) {
	return send(client, &config{method: http.MethodGet}, u)
}

// send sends one request of cfg's method, headers and body and reads the whole
// response body so the connection is reused.
func send(client *http.Client, cfg *config, u string) (int, error) {
	status, _, err := sendSeq(client, cfg, u, 0)
	return status, err
}

// sendSeq is send with {seq} in the body replaced by seq; it also reports whether the
// response carried Retry-After.
func sendSeq(client *http.Client, cfg *config, u string, seq int64) (int, bool, error) {
	var body io.Reader
	if cfg.body != "" {
		body = strings.NewReader(strings.ReplaceAll(cfg.body, "{seq}", strconv.FormatInt(seq, 10)))
	}
	req, err := http.NewRequest(cfg.method, u, body)
	if err != nil {
		return 0, false, err
	}
	maps.Copy(req.Header, cfg.headers)
	if cfg.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After") != "", err
}

// quantile returns the nearest-rank q-quantile of sorted.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(float64(len(sorted))*q)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}
