// Command bare is the baseline the benchmarks compare Quarry against: gin with no
// middleware and a pgxpool, serving GET /posts/:id with the same SELECT, the same pool
// size and the same JSON envelope as GET /api/v1/posts/{id} of the API. The difference
// between the two is what Quarry's layers cost: request id, access log, recovery,
// security headers, body limit, deadline, binding and validation, the service layer and
// error mapping.
//
// Usage:
//
//	DATABASE_URL=postgres://postgres@127.0.0.1:5432/quarry_bench?sslmode=disable bare -addr 127.0.0.1:8081 -max-conns 16
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // served only with -pprof
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// getPost is the statement of sqlc's GetPost.
const getPost = `SELECT id, author_id, title, body, status, created_at, updated_at FROM posts WHERE id = $1`

type post struct {
	ID        int64     `json:"id"`
	AuthorID  int64     `json:"author_id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type envelope struct {
	Code string `json:"code"`
	Msg  string `json:"msg"`
	Data any    `json:"data"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	maxConns := flag.Int("max-conns", 16, "pool size (the API's DB_MAX_CONNS)")
	minConns := flag.Int("min-conns", 2, "connections kept open (the API's DB_MIN_CONNS)")
	dbURL := flag.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL (default $DATABASE_URL)")
	pprofAddr := flag.String("pprof", "", "also serve net/http/pprof on this loopback address (for profiling)")
	flag.Parse()

	if *pprofAddr != "" {
		if err := servePprof(*pprofAddr); err != nil {
			fmt.Fprintln(os.Stderr, "bare:", err)
			os.Exit(1)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *dbURL, int32(*maxConns), int32(*minConns)); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

// servePprof serves net/http/pprof's handlers on addr, which must be a loopback ip:port.
func servePprof(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-pprof %q: want a loopback ip:port", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("-pprof: %w", err)
	}
	go func() {
		srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 5 * time.Second}
		_ = srv.Serve(ln)
	}()
	return nil
}

func run(ctx context.Context, addr, dbURL string, maxConns, minConns int32) error {
	if dbURL == "" {
		return errors.New("DATABASE_URL (or -database-url) is required")
	}
	if maxConns < 1 || minConns < 0 || minConns > maxConns {
		return fmt.Errorf("need 1 <= -max-conns and 0 <= -min-conns <= -max-conns, got %d and %d", maxConns, minConns)
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	cfg.MaxConns, cfg.MinConns = maxConns, minConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return fmt.Errorf("connect: %w", err)
	}

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/posts/:id", func(c *gin.Context) {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id < 1 {
			c.JSON(http.StatusUnprocessableEntity, envelope{Code: "invalid", Msg: "id must be a positive integer"})
			return
		}
		var p post
		err = pool.QueryRow(c.Request.Context(), getPost, id).
			Scan(&p.ID, &p.AuthorID, &p.Title, &p.Body, &p.Status, &p.CreatedAt, &p.UpdatedAt)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			c.JSON(http.StatusNotFound, envelope{Code: "post_not_found", Msg: "post not found"})
		case err != nil:
			c.JSON(http.StatusInternalServerError, envelope{Code: "internal", Msg: "internal error"})
		default:
			c.JSON(http.StatusOK, envelope{Code: "ok", Msg: "OK", Data: p})
		}
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 60 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(os.Stderr, "bare: serving on %s (pool %d)\n", ln.Addr(), maxConns)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}
