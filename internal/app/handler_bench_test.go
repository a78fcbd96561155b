package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/core/logging"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/testdb"
)

// discardWriter is a ResponseWriter that keeps nothing but the status, so the
// benchmarks measure the API's work, not a recorder's.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

// BenchmarkHandler measures the API's handler path in process, every middleware on
// (the JSON access log encoded as in production and discarded, rate limiting, metrics, security headers,
// deadlines), against a real database: CPU and allocations per request of the routes
// bench/targets.sh loads over HTTP. Decisions about the request path are taken on
// its allocs/op and ns/op, which other work on the machine disturbs much less than
// a load test.
//
//	go test -run '^$' -bench Handler -benchmem ./internal/app/
func BenchmarkHandler(b *testing.B) {
	cfg, mods := apptest.Config(b, apptest.Options{Env: map[string]string{"RATE_LIMIT_DEFAULT": "1000000000/1s"}})
	log := slog.New(logging.RequestHandler(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})))
	a, err := app.New(context.Background(), cfg, app.Options{Modules: mods, Log: log, AccessLog: logging.NewAccessLog(io.Discard)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.Close)
	user := testdb.User(b, a.Store(), sqlc.CreateUserParams{Email: "bench@example.com", DisplayName: "Bench", Role: "user"})
	var post sqlc.Post
	for i := range 20 {
		post, err = a.Store().CreatePost(context.Background(), sqlc.CreatePostParams{
			AuthorID: user.ID, Title: "Post " + strconv.Itoa(i), Body: strings.Repeat("Lorem ipsum dolor sit amet. ", 8), Status: "published",
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	token, err := a.Tokens().Issue(user.ID, "user", "")
	if err != nil {
		b.Fatal(err)
	}
	bearer := "Bearer " + token
	h := a.Handler()
	get := "/api/v1/posts/" + strconv.FormatInt(post.ID, 10)
	cases := []struct {
		name, method, path, auth, body string
		want                           int
	}{
		{"get", http.MethodGet, get, "", "", http.StatusOK},
		{"get_bearer", http.MethodGet, get, bearer, "", http.StatusOK},
		{"list20", http.MethodGet, "/api/v1/posts?limit=20", "", "", http.StatusOK},
		{"create", http.MethodPost, "/api/v1/posts", bearer, `{"title":"A benchmark post","body":"A short body.","status":"published"}`, http.StatusCreated},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			for b.Loop() {
				var body io.Reader = http.NoBody
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				req, _ := http.NewRequest(c.method, c.path, body)
				req.RemoteAddr = "192.0.2.1:1234"
				if c.auth != "" {
					req.Header.Set("Authorization", c.auth)
				}
				if c.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				clear(w.h)
				w.status = 0
				h.ServeHTTP(w, req)
				if w.status != c.want && !(w.status == 0 && c.want == http.StatusOK) {
					b.Fatalf("%s %s: status %d, want %d", c.method, c.path, w.status, c.want)
				}
			}
		})
	}
}
