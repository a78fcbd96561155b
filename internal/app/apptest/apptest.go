// Package apptest runs the real application in tests: the full router with every
// middleware, on a fresh database cloned from the migrated template.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/logging"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/modules"
	"github.com/quarrydev/quarry/internal/testdb"
)

// Options tune New.
type Options struct {
	// Env sets configuration keys (e.g. "ENABLED_MODULES": "users").
	Env map[string]string
	// DatabaseURL reuses a database instead of a fresh one.
	DatabaseURL string
	// Modules replaces the registry (default: modules.All()).
	Modules []module.Module
}

// Server is the application under test.
type Server struct {
	t           testing.TB
	App         *app.App
	Config      *config.Config
	DatabaseURL string
	Logs        *LogBuffer

	contractOnce sync.Once
	contract     *contract
	contractErr  error
}

// New starts the application on a fresh database (see testdb.NewURL) with APP_ENV=test
// and the given configuration; it is closed when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	cfg, mods := Config(t, opts)
	logs := &LogBuffer{}
	log := slog.New(logging.RequestHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	a, err := app.New(context.Background(), cfg, app.Options{Modules: mods, Log: log})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	t.Cleanup(a.Close)
	return &Server{t: t, App: a, Config: cfg, DatabaseURL: cfg.DatabaseURL, Logs: logs}
}

// Config loads the configuration New uses, without building the app.
func Config(t testing.TB, opts Options) (*config.Config, []module.Module) {
	t.Helper()
	url := opts.DatabaseURL
	if url == "" {
		url = testdb.NewURL(t)
	}
	env := []string{"APP_ENV=test", "DATABASE_URL=" + url}
	for k, v := range opts.Env {
		env = append(env, k+"="+v)
	}
	mods := opts.Modules
	if mods == nil {
		mods = modules.All()
	}
	var sections []config.Section
	for _, m := range mods {
		if c := m.Config(); c != nil {
			sections = append(sections, config.Section{Name: m.Name(), Target: c})
		}
	}
	cfg, err := config.Load(config.Options{Dir: t.TempDir(), Environ: env, Sections: sections})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg, mods
}

// SeedUser inserts an active user with role straight into the database with the
// generated queries (testdb.User: the password hash is a placeholder, so the user
// cannot sign in) and returns its id.
func (s *Server) SeedUser(t testing.TB, email, role string) int64 {
	t.Helper()
	return testdb.User(t, s.App.Store(), sqlc.CreateUserParams{
		Email: email, DisplayName: strings.SplitN(email, "@", 2)[0], Role: role,
	}).ID
}

// Bearer returns the Authorization header pair carrying a fresh access token of user
// id, for Do's headers.
func (s *Server) Bearer(t testing.TB, userID int64) []string {
	t.Helper()
	tok, err := s.App.Tokens().Issue(userID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return []string{"Authorization", "Bearer " + tok}
}

// Client sends requests through a Server as one user, signed in with a fresh access
// token; every exchange is checked against the API document like Server.Do's.
type Client struct {
	// ID is the user the client acts as.
	ID   int64
	srv  *Server
	auth []string
}

// SignIn seeds an active user with email and role (see SeedUser) and returns a client
// signed in as that user.
func (s *Server) SignIn(t testing.TB, email, role string) *Client {
	t.Helper()
	return s.As(t, s.SeedUser(t, email, role))
}

// As returns a client signed in as user id.
func (s *Server) As(t testing.TB, id int64) *Client {
	t.Helper()
	return &Client{ID: id, srv: s, auth: s.Bearer(t, id)}
}

// Anonymous returns a client that sends no credentials (ID 0).
func (s *Server) Anonymous() *Client { return &Client{srv: s} }

// Do sends a request as c; see Server.Do. headers are name, value pairs added to the
// Authorization header.
func (c *Client) Do(method, path string, body any, headers ...string) *Response {
	c.srv.t.Helper()
	return c.srv.Do(method, path, body, append(append([]string(nil), c.auth...), headers...)...)
}

// Response is a recorded response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request through the full router and checks the exchange against the
// server's API document (see Check): each way it departs from the document fails the
// test. body is JSON-encoded unless it is a string (sent as is) or nil. headers are
// name, value pairs.
func (s *Server) Do(method, path string, body any, headers ...string) *Response {
	s.t.Helper()
	resp, problems := s.Check(method, path, body, headers...)
	for _, p := range problems {
		s.t.Errorf("API contract: %s %s answered %d: %s\n%s", method, path, resp.Status, p, clip(resp.Body, 2000))
	}
	return resp
}

// Check sends a request like Do and returns how the exchange departs from the API
// document the server publishes (built once per Server from its route table and
// enabled modules), instead of failing the test. The response must have a status
// documented for its operation, a listed content type, a body matching the schema
// (no undocumented field) and the documented headers; the request must match the
// document too when the answer is a success. See contract.check.
func (s *Server) Check(method, path string, body any, headers ...string) (*Response, []string) {
	s.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		raw = buf
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	sent := exchange{method: method, target: path, header: req.Header.Clone(), body: raw}
	rec := httptest.NewRecorder()
	s.App.Handler().ServeHTTP(rec, req)
	sent.resp = &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	s.contractOnce.Do(func() { s.contract, s.contractErr = newContract(s.App) })
	if s.contractErr != nil {
		return sent.resp, []string{s.contractErr.Error()}
	}
	return sent.resp, s.contract.check(sent)
}

// clip returns b, cut to at most n bytes.
func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// Envelope decodes the response's envelope with data decoded into T.
func Envelope[T any](t testing.TB, r *Response) httpx.Envelope[T] {
	t.Helper()
	var env httpx.Envelope[T]
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("response %d is not an envelope: %v\n%s", r.Status, err, r.Body)
	}
	return env
}

// Expect fails the test unless the response has status; it returns the envelope with
// data decoded into T.
func Expect[T any](t testing.TB, r *Response, status int) httpx.Envelope[T] {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d\n%s", r.Status, status, r.Body)
	}
	if status == http.StatusNoContent {
		return httpx.Envelope[T]{}
	}
	return Envelope[T](t, r)
}

// ExpectError checks an error response: its status, code, the request id in the
// header and in the body; it returns the error data.
func ExpectError(t testing.TB, r *Response, status int, code string) httpx.ErrorData {
	t.Helper()
	env := Expect[httpx.ErrorData](t, r, status)
	if env.Code != code {
		t.Fatalf("code %q, want %q\n%s", env.Code, code, r.Body)
	}
	if id := r.Header.Get(httpx.HeaderRequestID); id == "" || env.Data.RequestID != id {
		t.Fatalf("request id header %q and body %q must match and be set", id, env.Data.RequestID)
	}
	return env.Data
}

// HasField reports whether data lists an invalid field named name.
func HasField(data httpx.ErrorData, name string) bool {
	for _, f := range data.Fields {
		if f.Field == name {
			return true
		}
	}
	return false
}

// LogBuffer collects log output safely across goroutines.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
