// Command bare is the baseline the benchmarks compare Quarry against: gin with no
// middleware and a pgxpool, doing what the API's routes do with the same SQL, the same
// pool size and the same JSON envelope, the way a plain handler would:
//
//   - GET /posts/:id: the SELECT of GET /api/v1/posts/{id};
//   - GET /posts?limit=N: the first keyset page of published posts, newest first, with
//     a signed next cursor, as GET /api/v1/posts?limit=N;
//   - POST /posts: the post and its audit row (the post as after) inserted in one
//     transaction, as POST /api/v1/posts, with -author as the author and actor.
//
// The difference between bare and the API is what Quarry's layers cost: request id,
// access log, recovery, security headers, rate limiting, body limit, deadline,
// authentication, binding and validation, the service layer and error mapping.
//
// Usage:
//
//	DATABASE_URL=postgres://postgres@127.0.0.1:5432/quarry_bench?sslmode=disable bare -addr 127.0.0.1:8081 -max-conns 16
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
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

// listPosts is the statement of sqlc's ListPostsByCreatedAtDesc on a first page of
// published posts.
const listPosts = `SELECT id, author_id, title, body, status, created_at, updated_at FROM posts
WHERE status = $1 AND (created_at, id) < ('infinity'::timestamptz, 9223372036854775807::bigint)
ORDER BY created_at DESC, id DESC LIMIT $2`

// createPost and createAudit are the statements of sqlc's CreatePost and CreateAuditEvent.
const (
	createPost = `INSERT INTO posts (author_id, title, body, status) VALUES ($1, $2, $3, $4)
RETURNING id, author_id, title, body, status, created_at, updated_at`
	createAudit = `INSERT INTO audit_events (actor_id, action, resource_type, resource_id, after, client_ip, user_agent, outcome)
VALUES ($1, 'post.create', 'post', $2, $3, $4, $5, 'success')`
)

type postList struct {
	Items      []post  `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

type newPost struct {
	Title  string `json:"title"`
	Body   string `json:"body"`
	Status string `json:"status"`
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
	author := flag.Int64("author", 1, "author and audit actor of the posts POST /posts creates")
	flag.Parse()

	if *pprofAddr != "" {
		if err := servePprof(*pprofAddr); err != nil {
			fmt.Fprintln(os.Stderr, "bare:", err)
			os.Exit(1)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *dbURL, int32(*maxConns), int32(*minConns), *author); err != nil {
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

func run(ctx context.Context, addr, dbURL string, maxConns, minConns int32, author int64) error {
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

	cursorKey := sha256.Sum256([]byte("bare cursor key"))
	r.GET("/posts", func(c *gin.Context) {
		limit := 20
		if v := c.Query("limit"); v != "" {
			if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 100 {
				c.JSON(http.StatusUnprocessableEntity, envelope{Code: "invalid", Msg: "limit must be in 1..100"})
				return
			}
		}
		rows, err := pool.Query(c.Request.Context(), listPosts, "published", limit+1)
		if err != nil {
			c.JSON(http.StatusInternalServerError, envelope{Code: "internal", Msg: "internal error"})
			return
		}
		list := postList{Items: make([]post, 0, limit+1)}
		for rows.Next() {
			var p post
			if err := rows.Scan(&p.ID, &p.AuthorID, &p.Title, &p.Body, &p.Status, &p.CreatedAt, &p.UpdatedAt); err != nil {
				break
			}
			list.Items = append(list.Items, p)
		}
		if rows.Close(); rows.Err() != nil {
			c.JSON(http.StatusInternalServerError, envelope{Code: "internal", Msg: "internal error"})
			return
		}
		if len(list.Items) > limit {
			list.Items = list.Items[:limit]
			last := list.Items[limit-1]
			payload, _ := json.Marshal(struct {
				At time.Time `json:"at"`
				ID int64     `json:"id"`
			}{last.CreatedAt, last.ID})
			mac := hmac.New(sha256.New, cursorKey[:])
			mac.Write(payload)
			next := base64.RawURLEncoding.EncodeToString(mac.Sum(payload)[:len(payload)+16])
			list.NextCursor = &next
		}
		c.JSON(http.StatusOK, envelope{Code: "ok", Msg: "OK", Data: list})
	})
	r.POST("/posts", func(c *gin.Context) {
		var in newPost
		if err := c.ShouldBindJSON(&in); err != nil || in.Title == "" {
			c.JSON(http.StatusUnprocessableEntity, envelope{Code: "invalid", Msg: "title is required"})
			return
		}
		if in.Status == "" {
			in.Status = "draft"
		}
		ctx := c.Request.Context()
		var p post
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, createPost, author, in.Title, in.Body, in.Status).
				Scan(&p.ID, &p.AuthorID, &p.Title, &p.Body, &p.Status, &p.CreatedAt, &p.UpdatedAt); err != nil {
				return err
			}
			after, err := json.Marshal(p)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, createAudit, author, strconv.FormatInt(p.ID, 10), after, c.ClientIP(), c.Request.UserAgent())
			return err
		})
		if err != nil {
			c.JSON(http.StatusInternalServerError, envelope{Code: "internal", Msg: "internal error"})
			return
		}
		c.JSON(http.StatusCreated, envelope{Code: "ok", Msg: "OK", Data: p})
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
