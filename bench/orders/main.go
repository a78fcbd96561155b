// Command orders measures order placement, POST /api/v1/orders, side by side with a
// bare gin + pgxpool handler running the same transaction, in one run on one machine.
//
// Both servers run in this process on loopback listeners, with pools of the same size
// on one benchmark database, and are loaded in turn by the same closed-loop load
// generator (also in this process): -c keep-alive connections, each with one request
// in flight, every latency recorded, percentiles exact (nearest rank). Each request
// orders 1 to -lines random products (of -products, each with stock enough for the
// whole run) as one of -users buyers. The targets alternate for -rounds rounds (the
// order reverses every other round) and the table reports medians:
//
//   - full: the API (app.New with every module and middleware: request id, access log
//     to a file, recovery, security headers, rate limiting with a budget never reached,
//     body limit, deadline), authentication of a bearer token, binding and validation,
//     the orders service (products locked in id order, stock checked and taken, the
//     order with its total and lines with captured prices computed in SQL, the audit
//     row) through the store, and the envelope;
//   - full, Idempotency-Key: the same with a fresh key on every request, so each
//     placement also claims and completes its key;
//   - bare: gin.New() without middleware, no authentication (the buyer is in the
//     body), the same statements in one pgx transaction, the same envelope.
//
// Usage:
//
//	go run ./bench/orders                                  # c=32, 10s per run, 2 rounds
//	go run ./bench/orders -c 32 -d 20s -rounds 3 -server 'postgres://postgres@127.0.0.1:5432/?sslmode=disable'
//
// The database (-db, default quarry_bench_orders) is dropped and recreated at the start
// and dropped at the end.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/modules"
)

type options struct {
	server, dbName            string
	c, users, products, lines int
	rounds, maxConns          int
	duration, warmup          time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.server, "server", envOr("DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432/?sslmode=disable"), "PostgreSQL server (its database name is ignored)")
	flag.StringVar(&o.dbName, "db", "quarry_bench_orders", "benchmark database: dropped, created, dropped again")
	flag.IntVar(&o.c, "c", 32, "connections of the load generator")
	flag.DurationVar(&o.duration, "d", 10*time.Second, "measured time per run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unrecorded time before each run")
	flag.IntVar(&o.rounds, "rounds", 2, "runs per target, alternating")
	flag.IntVar(&o.users, "users", 100, "buyers")
	flag.IntVar(&o.products, "products", 1000, "products to order from")
	flag.IntVar(&o.lines, "lines", 3, "at most this many lines per order (at least 1)")
	flag.IntVar(&o.maxConns, "max-conns", 16, "pool size of both servers (the API's DB_MAX_CONNS)")
	flag.Parse()
	if o.c < 1 || o.c > 1024 || o.duration <= 0 || o.duration > 10*time.Minute || o.rounds < 1 || o.lines < 1 || o.products < o.lines || o.users < 1 {
		fmt.Fprintln(os.Stderr, "orders: flags out of range (1 ≤ c ≤ 1024, 0 < d ≤ 10m, rounds ≥ 1, 1 ≤ lines ≤ products, users ≥ 1)")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05")}, args...)...)
}

// target is one server under load.
type target struct {
	name, label, url string
	// headers returns the headers of request n as buyer.
	headers func(buyer int, n int64) http.Header
	// body returns the request body ordering lines as buyer.
	body    func(buyer int, lines []line) []byte
	results []result
}

type line struct {
	ProductID int64 `json:"product_id"`
	Quantity  int32 `json:"quantity"`
}

type result struct {
	rps, p50, p99 float64
	reqs          int
	errors, non2x int
}

func run(o options) error {
	ctx := context.Background()
	admin, err := db.WithDatabase(o.server, "postgres")
	if err != nil {
		return err
	}
	benchURL, err := db.WithDatabase(o.server, o.dbName)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", admin, err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{o.dbName}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return err
	}
	defer func() {
		if _, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			logf("drop %s: %v", o.dbName, err)
		}
	}()
	dir, err := migrationsDir()
	if err != nil {
		return err
	}
	if err := migrate.ApplyDir(ctx, benchURL, dir); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := seed(ctx, benchURL, o); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	logf("database %s: %d users, %d products", o.dbName, o.users, o.products)

	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	full, tokens, closeFull, err := startFull(srvCtx, benchURL, o)
	if err != nil {
		return err
	}
	defer closeFull()
	bareURL, closeBare, err := startBare(srvCtx, benchURL, o)
	if err != nil {
		return err
	}
	defer closeBare()

	jsonBody := func(_ int, lines []line) []byte {
		b, _ := json.Marshal(map[string]any{"items": lines})
		return b
	}
	auth := func(buyer int) http.Header {
		return http.Header{"Authorization": {"Bearer " + tokens[buyer]}, "Content-Type": {"application/json"}}
	}
	var keys atomic.Int64
	targets := []*target{
		{name: "full", label: "full (every middleware, auth, service, store)", url: full + "/api/v1/orders",
			headers: func(b int, _ int64) http.Header { return auth(b) }, body: jsonBody},
		{name: "key", label: "full, with a fresh Idempotency-Key", url: full + "/api/v1/orders",
			headers: func(b int, _ int64) http.Header {
				h := auth(b)
				h.Set("Idempotency-Key", strconv.Quote("bench-"+strconv.FormatInt(keys.Add(1), 10)))
				return h
			}, body: jsonBody},
		{name: "bare", label: "bare (gin, no middleware, pgxpool)", url: bareURL + "/orders",
			headers: func(int, int64) http.Header { return http.Header{"Content-Type": {"application/json"}} },
			body: func(b int, lines []line) []byte {
				out, _ := json.Marshal(map[string]any{"buyer_id": b + 1, "items": lines})
				return out
			}},
	}
	for r := 1; r <= o.rounds; r++ {
		order := slices.Clone(targets)
		if r%2 == 0 {
			slices.Reverse(order)
		}
		for _, t := range order {
			res := measure(t, o)
			t.results = append(t.results, res)
			logf("round %d/%d %-5s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d  non2xx %d", r, o.rounds, t.name, res.rps, res.p50, res.p99, res.errors, res.non2x)
		}
	}
	report(targets, o)
	return nil
}

// migrationsDir returns the repository's migrations directory.
func migrationsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "migrations", "atlas.sum")); err == nil {
			return filepath.Join(dir, "migrations"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no migrations/atlas.sum above the working directory: run from the repository")
		}
		dir = parent
	}
}

func seed(ctx context.Context, url string, o options) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{
		fmt.Sprintf(`INSERT INTO users (email, display_name, password_hash) SELECT 'buyer' || g || '@example.com', 'Buyer ' || g, 'x' FROM generate_series(1, %d) AS g`, o.users),
		fmt.Sprintf(`INSERT INTO products (sku, name, price, stock) SELECT 'SKU-' || g, 'Product ' || g, 100 + g %% 5000, 1000000000 FROM generate_series(1, %d) AS g`, o.products),
		`ANALYZE users, products`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// startFull serves the API on a loopback port and returns its base URL and an access
// token per buyer (buyer i is user i+1).
func startFull(ctx context.Context, url string, o options) (string, []string, func(), error) {
	logDir, err := os.MkdirTemp("", "quarry-bench-orders")
	if err != nil {
		return "", nil, nil, err
	}
	logFile, err := os.Create(filepath.Join(logDir, "access.log"))
	if err != nil {
		return "", nil, nil, err
	}
	mods := modules.All()
	var sections []config.Section
	for _, m := range mods {
		if c := m.Config(); c != nil {
			sections = append(sections, config.Section{Name: m.Name(), Target: c})
		}
	}
	cfg, err := config.Load(config.Options{Dir: logDir, Sections: sections, Environ: []string{
		"APP_ENV=dev", "DATABASE_URL=" + url, "DB_MAX_CONNS=" + strconv.Itoa(o.maxConns),
		"RATE_LIMIT_DEFAULT=1000000/1s", "LOG_FORMAT=json", "METRICS_ENABLED=true",
	}})
	if err != nil {
		return "", nil, nil, err
	}
	log := slog.New(slog.NewJSONHandler(logFile, nil))
	a, err := app.New(ctx, cfg, app.Options{Modules: mods, Log: log})
	if err != nil {
		return "", nil, nil, err
	}
	tokens := make([]string, o.users)
	for i := range tokens {
		if tokens[i], err = a.Tokens().Issue(int64(i+1), "", ""); err != nil {
			return "", nil, nil, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	served := make(chan error, 1)
	srvCtx, stop := context.WithCancel(ctx)
	go func() { served <- a.Serve(srvCtx, ln) }()
	return "http://" + ln.Addr().String(), tokens, func() {
		stop()
		<-served
		logFile.Close()
		os.RemoveAll(logDir)
	}, nil
}

// The statements of the orders service's queries (queries/orders.sql), as the bare
// handler sends them.
const (
	lockProducts = `SELECT id, sku, price, stock FROM products WHERE id = ANY ($1::bigint[]) ORDER BY id FOR UPDATE`
	decrement    = `UPDATE products AS p SET stock = p.stock - x.quantity, updated_at = now()
FROM ROWS FROM (unnest($1::bigint[]), unnest($2::integer[])) AS x (id, quantity)
WHERE p.id = x.id AND p.stock >= x.quantity`
	createOrder = `INSERT INTO orders (buyer_id, total)
SELECT $1, COALESCE(sum(x.quantity::bigint * p.price), 0)
FROM ROWS FROM (unnest($2::bigint[]), unnest($3::integer[])) AS x (id, quantity)
JOIN products AS p ON p.id = x.id
RETURNING id, buyer_id, status, total, created_at, updated_at`
	createItems = `INSERT INTO order_items (order_id, product_id, quantity, unit_price)
SELECT $1, p.id, x.quantity, p.price
FROM ROWS FROM (unnest($2::bigint[]), unnest($3::integer[])) AS x (id, quantity)
JOIN products AS p ON p.id = x.id
ORDER BY p.id
RETURNING order_id, product_id, quantity, unit_price`
	auditRow = `INSERT INTO audit_events (actor_id, action, resource_type, resource_id, after, outcome)
VALUES ($1, 'order.place', 'order', $2, $3, 'success')`
)

type bareItem struct {
	ProductID int64  `json:"product_id"`
	Sku       string `json:"sku"`
	Quantity  int32  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

type bareOrder struct {
	ID        int64      `json:"id"`
	BuyerID   int64      `json:"buyer_id"`
	Status    string     `json:"status"`
	Total     int64      `json:"total"`
	Items     []bareItem `json:"items"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// startBare serves POST /orders with gin.New() and a pgxpool: the same transaction as
// the orders service, written by hand, and the same envelope.
func startBare(ctx context.Context, url string, o options) (string, func(), error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return "", nil, err
	}
	cfg.MaxConns, cfg.MinConns = int32(o.maxConns), 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/orders", func(c *gin.Context) {
		var in struct {
			BuyerID int64  `json:"buyer_id"`
			Items   []line `json:"items"`
		}
		if err := c.ShouldBindJSON(&in); err != nil || len(in.Items) == 0 {
			c.JSON(http.StatusBadRequest, gin.H{"code": "bad_request", "msg": "bad request", "data": nil})
			return
		}
		merged := map[int64]int32{}
		for _, l := range in.Items {
			merged[l.ProductID] += l.Quantity
		}
		ids := slices.Sorted(func(yield func(int64) bool) {
			for id := range merged {
				if !yield(id) {
					return
				}
			}
		})
		qty := make([]int32, len(ids))
		for i, id := range ids {
			qty[i] = merged[id]
		}
		var out bareOrder
		status, code := http.StatusCreated, "ok"
		err := pgx.BeginFunc(c.Request.Context(), pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(c, lockProducts, ids)
			if err != nil {
				return err
			}
			skus := map[int64]string{}
			var short bool
			for i := 0; rows.Next(); i++ {
				var id, price int64
				var sku string
				var stock int32
				if err := rows.Scan(&id, &sku, &price, &stock); err != nil {
					return err
				}
				skus[id] = sku
				short = short || stock < merged[id]
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if short || len(skus) != len(ids) {
				status, code = http.StatusConflict, "out_of_stock"
				return errors.New(code)
			}
			if _, err := tx.Exec(c, decrement, ids, qty); err != nil {
				return err
			}
			if err := tx.QueryRow(c, createOrder, in.BuyerID, ids, qty).Scan(&out.ID, &out.BuyerID, &out.Status, &out.Total, &out.CreatedAt, &out.UpdatedAt); err != nil {
				return err
			}
			rows, err = tx.Query(c, createItems, out.ID, ids, qty)
			if err != nil {
				return err
			}
			for rows.Next() {
				var it bareItem
				var orderID int64
				if err := rows.Scan(&orderID, &it.ProductID, &it.Quantity, &it.UnitPrice); err != nil {
					return err
				}
				it.Sku = skus[it.ProductID]
				out.Items = append(out.Items, it)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			after, err := json.Marshal(out)
			if err != nil {
				return err
			}
			_, err = tx.Exec(c, auditRow, in.BuyerID, strconv.FormatInt(out.ID, 10), after)
			return err
		})
		if err != nil && status == http.StatusCreated {
			status, code = http.StatusInternalServerError, "internal_error"
		}
		if err != nil {
			c.JSON(status, gin.H{"code": code, "msg": code, "data": nil})
			return
		}
		c.JSON(status, gin.H{"code": code, "msg": "OK", "data": out})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pool.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		pool.Close()
	}, nil
}

// measure loads t with o.c connections for o.warmup, then records o.duration.
func measure(t *target, o options) result {
	transport := &http.Transport{MaxIdleConnsPerHost: o.c, MaxConnsPerHost: o.c, IdleConnTimeout: time.Minute}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs, non int
		seq       atomic.Int64
		wg        sync.WaitGroup
	)
	start := time.Now()
	measureFrom, end := start.Add(o.warmup), start.Add(o.warmup+o.duration)
	for w := range o.c {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			var mine []time.Duration
			var myErrs, myNon int
			for {
				now := time.Now()
				if now.After(end) {
					break
				}
				buyer := rng.IntN(o.users)
				n := 1 + rng.IntN(o.lines)
				lines := make([]line, n)
				for i := range lines {
					lines[i] = line{ProductID: 1 + rng.Int64N(int64(o.products)), Quantity: 1 + rng.Int32N(3)}
				}
				req, _ := http.NewRequest(http.MethodPost, t.url, bytes.NewReader(t.body(buyer, lines)))
				req.Header = t.headers(buyer, seq.Add(1))
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				d := time.Since(now)
				if now.Before(measureFrom) {
					continue
				}
				mine = append(mine, d)
				switch {
				case err != nil:
					myErrs++
				case resp.StatusCode < 200 || resp.StatusCode > 299:
					myNon++
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			errs += myErrs
			non += myNon
			mu.Unlock()
		})
	}
	wg.Wait()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	return result{
		rps: float64(len(latencies)) / o.duration.Seconds(), p50: quantile(latencies, 0.50), p99: quantile(latencies, 0.99),
		reqs: len(latencies), errors: errs, non2x: non,
	}
}

// quantile returns the nearest-rank q-quantile of sorted, in milliseconds.
func quantile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i]) / float64(time.Millisecond)
}

func median(vs []float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func report(targets []*target, o options) {
	rps, p50, p99 := map[string]float64{}, map[string]float64{}, map[string]float64{}
	fmt.Printf("\nQuarry orders bench, %s, %d CPUs, %s.\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), runtime.Version())
	fmt.Printf("POST an order of 1..%d random products of %d by one of %d buyers; c=%d, %s per run after %s warm-up,\n",
		o.lines, o.products, o.users, o.c, o.duration, o.warmup)
	fmt.Printf("%d round(s) per target (medians), pool %d on both servers; servers and load generator in one process.\n\n", o.rounds, o.maxConns)
	fmt.Printf("%-48s %9s %8s %8s %7s %7s\n", "target", "req/s", "p50 ms", "p99 ms", "errors", "non2xx")
	warn := false
	for _, t := range targets {
		var r, a, b []float64
		errs, non := 0, 0
		for _, res := range t.results {
			r, a, b = append(r, res.rps), append(a, res.p50), append(b, res.p99)
			errs, non = errs+res.errors, non+res.non2x
		}
		rps[t.name], p50[t.name], p99[t.name] = median(r), median(a), median(b)
		fmt.Printf("%-48s %9.0f %8.2f %8.2f %7d %7d\n", t.label, rps[t.name], p50[t.name], p99[t.name], errs, non)
		warn = warn || errs+non > 0
	}
	fmt.Printf("\n%-28s %8s %8s\n", "ratio", "req/s", "p99")
	fmt.Printf("%-28s %8.2f %7.2fx\n", "full / bare", rps["full"]/rps["bare"], p99["full"]/p99["bare"])
	fmt.Printf("%-28s %8.2f %7.2fx\n", "full with key / bare", rps["key"]/rps["bare"], p99["key"]/p99["bare"])
	fmt.Printf("%-28s %8.2f %7.2fx\n", "full with key / full", rps["key"]/rps["full"], p99["key"]/p99["full"])
	if warn {
		fmt.Println("\nWARNING: a target had errors or non-2xx answers: its numbers measure something else than the success path.")
	}
}
