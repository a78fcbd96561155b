package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/db"
	"github.com/quarrydev/quarry/internal/migrate"
	"github.com/quarrydev/quarry/internal/modules"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// probe is a module whose routes misbehave on purpose. pool, once set by the test,
// runs the slow query: modules themselves get only the store.
type probe struct {
	release chan struct{}
	pool    **db.Pool
}

func (probe) Name() string       { return "probe" }
func (probe) Tag() module.Tag    { return module.Tag{Name: "probe"} }
func (probe) Config() any        { return nil }
func (probe) Requires() []string { return nil }
func (p probe) Routes(deps module.Deps) ([]httpx.Route, error) {
	return []httpx.Route{
		{Method: http.MethodGet, Path: "/panic", OperationID: "panic", Summary: "panics",
			Endpoint: httpx.Handle(func(*gin.Context, *struct{}) (struct{}, error) { panic("boom") })},
		{Method: http.MethodGet, Path: "/fail", OperationID: "fail", Summary: "fails unexpectedly",
			Endpoint: httpx.Handle(func(*gin.Context, *struct{}) (struct{}, error) {
				return struct{}{}, errors.New("secret internal detail")
			})},
		{Method: http.MethodGet, Path: "/slowquery", OperationID: "slowquery", Summary: "outlives the deadline",
			Endpoint: httpx.Handle(func(c *gin.Context, _ *struct{}) (struct{}, error) {
				_, err := (*p.pool).Exec(c.Request.Context(), "SELECT pg_sleep(5)")
				return struct{}{}, err
			})},
		{Method: http.MethodGet, Path: "/wait", OperationID: "wait", Summary: "waits for the test",
			Endpoint: httpx.Handle(func(*gin.Context, *struct{}) (app.Health, error) {
				<-p.release
				return app.Health{Status: "done"}, nil
			})},
		{Method: http.MethodPost, Path: "/echo", OperationID: "echo", Summary: "echoes",
			Endpoint: httpx.Handle(func(_ *gin.Context, in *struct {
				Text string `json:"text"`
			}) (string, error) {
				return in.Text, nil
			})},
	}, nil
}

func withProbe(p probe) []module.Module { return append(modules.All(), p) }

func TestErrorMappingAndMiddleware(t *testing.T) {
	t.Parallel()
	p := probe{pool: new(*db.Pool)}
	srv := apptest.New(t, apptest.Options{
		Modules: withProbe(p),
		Env:     map[string]string{"BODY_LIMIT": "1024", "REQUEST_TIMEOUT": "200ms"},
	})
	*p.pool = srv.App.Pool()

	// Unknown route and wrong method.
	apptest.ExpectError(t, srv.Do(http.MethodGet, "/nope", nil), http.StatusNotFound, "route_not_found")
	r := srv.Do(http.MethodPut, "/api/v1/posts/1", nil)
	apptest.ExpectError(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
	if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "PATCH") {
		t.Errorf("405 must list allowed methods, got Allow %q", allow)
	}

	// Panic → 500 envelope, stack in the log with the request id.
	r = srv.Do(http.MethodGet, "/api/v1/probe/panic", nil)
	data := apptest.ExpectError(t, r, http.StatusInternalServerError, "internal_error")
	if logs := srv.Logs.String(); !strings.Contains(logs, "panic serving request") || !strings.Contains(logs, data.RequestID) || !strings.Contains(logs, "goroutine") {
		t.Errorf("panic must be logged with stack and request id:\n%s", logs)
	}

	// Unexpected errors never leak their text.
	r = srv.Do(http.MethodGet, "/api/v1/probe/fail", nil)
	apptest.ExpectError(t, r, http.StatusInternalServerError, "internal_error")
	if strings.Contains(string(r.Body), "secret") {
		t.Errorf("internal detail leaked: %s", r.Body)
	}
	if !strings.Contains(srv.Logs.String(), "secret internal detail") {
		t.Error("the cause must be logged")
	}

	// The request deadline reaches the query: 504.
	start := time.Now()
	apptest.ExpectError(t, srv.Do(http.MethodGet, "/api/v1/probe/slowquery", nil), http.StatusGatewayTimeout, "timeout")
	if time.Since(start) > 3*time.Second {
		t.Error("the query was not stopped by the request deadline")
	}

	// Body limit: 413 by declared length and by reading.
	big := `{"text":"` + strings.Repeat("x", 2000) + `"}`
	apptest.ExpectError(t, srv.Do(http.MethodPost, "/api/v1/probe/echo", big), http.StatusRequestEntityTooLarge, "body_too_large")
	apptest.Expect[string](t, srv.Do(http.MethodPost, "/api/v1/probe/echo", `{"text":"hi"}`), http.StatusOK)

	// Request ids: a sane one is kept, anything else replaced.
	if got := srv.Do(http.MethodGet, "/livez", nil, "X-Request-ID", "abc-123").Header.Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("sane request id not echoed: %q", got)
	}
	for _, bad := range []string{"has space", strings.Repeat("a", 200), "<script>"} {
		if got := srv.Do(http.MethodGet, "/livez", nil, "X-Request-ID", bad).Header.Get("X-Request-ID"); got == bad || got == "" {
			t.Errorf("request id %q must be replaced, got %q", bad, got)
		}
	}

	// Security headers on every response.
	r = srv.Do(http.MethodGet, "/livez", nil)
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy"} {
		if r.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}

	// Access log: one line per request with route pattern and status, never the query.
	srv.Do(http.MethodGet, "/api/v1/posts/12345?token=sekrit", nil)
	logs := srv.Logs.String()
	if !strings.Contains(logs, `"route":"/api/v1/posts/:id"`) || !strings.Contains(logs, `"status":404`) || strings.Contains(logs, "sekrit") {
		t.Errorf("access log line missing fields or leaking the query:\n%s", logs)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{Env: map[string]string{"CORS_ALLOWED_ORIGINS": "https://app.example.com"}})
	r := srv.Do(http.MethodOptions, "/api/v1/posts", nil,
		"Origin", "https://app.example.com", "Access-Control-Request-Method", "POST")
	if r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("preflight from an allowed origin: %d %v", r.Status, r.Header)
	}
	r = srv.Do(http.MethodGet, "/livez", nil, "Origin", "https://evil.example.com")
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("other origins must not be allowed: %v", r.Header)
	}
}

func TestModuleSwitch(t *testing.T) {
	t.Parallel()
	mods := withProbe(probe{})
	srv := apptest.New(t, apptest.Options{Modules: mods, Env: map[string]string{"ENABLED_MODULES": "probe"}})
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/posts"}, {http.MethodPost, "/api/v1/posts"}, {http.MethodGet, "/api/v1/posts/1"},
		{http.MethodPatch, "/api/v1/posts/1"}, {http.MethodDelete, "/api/v1/posts/1"}, {http.MethodPost, "/api/v1/posts/bulk"},
	} {
		apptest.ExpectError(t, srv.Do(r.method, r.path, nil), http.StatusNotFound, "route_not_found")
	}
	apptest.Expect[string](t, srv.Do(http.MethodPost, "/api/v1/probe/echo", `{"text":"on"}`), http.StatusOK)

	routes, err := app.RouteTable(srv.Config, mods, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if strings.HasPrefix(r.FullPath, "/api/v1/posts") {
			t.Errorf("disabled module route listed: %s %s", r.Method, r.FullPath)
		}
	}

	cfg, _ := apptest.Config(t, apptest.Options{Env: map[string]string{"ENABLED_MODULES": "posts,nope"}})
	if _, err := app.RouteTable(cfg, mods, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("an unknown module must be refused by name: %v", err)
	}
	if _, err := app.New(context.Background(), cfg, app.Options{Modules: mods, Log: slog.New(slog.DiscardHandler)}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("app.New must refuse an unknown module by name: %v", err)
	}
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	url := testdb.EmptyURL(t)
	dir, err := filepath.Abs("../../migrations")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := migrate.New(migrate.Config{MigrationsDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cfg, mods := apptest.Config(t, apptest.Options{DatabaseURL: url})
	a, err := app.New(context.Background(), cfg, app.Options{Modules: mods, Migrations: schema, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	waitFor(t, base+"/livez", http.StatusOK)

	if status, body := get(t, base+"/readyz"); status != http.StatusServiceUnavailable || !strings.Contains(body, "pending") {
		t.Fatalf("readyz before migrating: %d %s", status, body)
	}
	if _, err := schema.Apply(context.Background(), url, migrate.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if status, body := get(t, base+"/readyz"); status != http.StatusOK {
		t.Fatalf("readyz after migrating: %d %s", status, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	t.Parallel()
	p := probe{release: make(chan struct{})}
	addr, cancel, done := startServing(t, apptest.Options{Modules: withProbe(p), Env: map[string]string{"SHUTDOWN_TIMEOUT": "10s"}})
	base := "http://" + addr
	waitFor(t, base+"/readyz", http.StatusOK)

	type result struct {
		status int
		body   string
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/api/v1/probe/wait")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		inflight <- result{status: resp.StatusCode, body: string(b)}
	}()
	time.Sleep(200 * time.Millisecond) // the request is now being served
	cancel()                           // SIGTERM

	// Shutdown waits for the in-flight request…
	select {
	case err := <-done:
		t.Fatalf("Serve returned before the in-flight request finished: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	// …and the listener is closed to new connections meanwhile.
	if _, err := http.Get(base + "/livez"); err == nil {
		t.Error("new connections must be refused during shutdown")
	}
	close(p.release)
	res := <-inflight
	if res.err != nil || res.status != http.StatusOK || !strings.Contains(res.body, "done") {
		t.Fatalf("in-flight request: %+v", res)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve after a graceful shutdown: %v", err)
	}
}

func waitFor(t *testing.T, url string, status int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if s, _ := get(t, url); s == status {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never answered %d", url, status)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// nester is a module whose routes sit under another module's resource.
type nester struct{ under string }

func (nester) Name() string       { return "nester" }
func (nester) Tag() module.Tag    { return module.Tag{Name: "nester"} }
func (nester) Config() any        { return nil }
func (nester) Requires() []string { return nil }
func (n nester) Routes(module.Deps) ([]httpx.Route, error) {
	return []httpx.Route{{
		Method: http.MethodGet, Nested: n.under, Path: "/notes", OperationID: "listNotes", Summary: "List notes",
		Endpoint: httpx.Handle(func(c *gin.Context, _ *struct{}) (string, error) { return c.Param("id"), nil }),
	}}, nil
}

// A module mounts routes under another module's resource; mounting fails at start-up
// when the other module is off or the path conflicts with one already mounted.
func TestNestedRoutes(t *testing.T) {
	t.Parallel()
	mods := append(modules.All(), nester{under: "posts/:id"})
	cfg, _ := apptest.Config(t, apptest.Options{DatabaseURL: "postgres://nobody@127.0.0.1:1/none"})
	routes, err := app.RouteTable(cfg, mods, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range routes {
		if r.Module == "nester" {
			got = append(got, r.Method+" "+r.FullPath+" "+r.Tag)
		}
	}
	if want := []string{"GET /api/v1/posts/:id/notes nester"}; !slices.Equal(got, want) {
		t.Errorf("nested routes: got %q, want %q", got, want)
	}

	off, _ := apptest.Config(t, apptest.Options{DatabaseURL: "postgres://nobody@127.0.0.1:1/none", Env: map[string]string{"ENABLED_MODULES": "nester"}})
	if _, err := app.RouteTable(off, mods, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "module posts is not enabled") {
		t.Errorf("nested under a disabled module: %v, want a refusal naming posts", err)
	}
	conflicting := append(modules.All(), nester{under: "posts/:post_id"})
	if _, err := app.RouteTable(cfg, conflicting, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "conflicts with a mounted route") {
		t.Errorf("a parameter named otherwise than the parent's: %v, want a conflict", err)
	}
}

// TestPasswordNice checks that PASSWORD_NICE reaches the hasher: by default hashing
// runs on low-priority threads (one per hashing slot, which serve reserves scheduler
// slots for), and PASSWORD_NICE=0 keeps it at the priority of request serving.
func TestPasswordNice(t *testing.T) {
	t.Parallel()
	url := testdb.NewURL(t)
	for _, tc := range []struct {
		env  map[string]string
		want int
	}{
		{map[string]string{"PASSWORD_MAX_CONCURRENT": "3"}, 3},
		{map[string]string{"PASSWORD_MAX_CONCURRENT": "3", "PASSWORD_NICE": "0"}, 0},
	} {
		cfg, mods := apptest.Config(t, apptest.Options{DatabaseURL: url, Env: tc.env})
		a, err := app.New(context.Background(), cfg, app.Options{Modules: mods, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if got := a.LowPriorityHashingThreads(); got != tc.want {
			t.Errorf("%v: LowPriorityHashingThreads() = %d, want %d", tc.env, got, tc.want)
		}
		a.Close()
	}
}
