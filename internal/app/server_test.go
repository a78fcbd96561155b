package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/app/apptest"
)

// serve runs the app of opts on a loopback port until the test ends and returns its
// address.
func serve(t *testing.T, opts apptest.Options) string {
	t.Helper()
	addr, stop, done := startServing(t, opts)
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return addr
}

// startServing runs the app of opts on a loopback port, waits until it is live and
// returns its address, the function that shuts it down (as SIGTERM does) and the
// channel Serve's result arrives on.
func startServing(t *testing.T, opts apptest.Options) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	cfg, mods := apptest.Config(t, opts)
	a, err := app.New(context.Background(), cfg, app.Options{Modules: mods, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	waitFor(t, "http://"+ln.Addr().String()+"/livez", http.StatusOK)
	return ln.Addr().String(), cancel, done
}

// rawExchange writes req on a new connection and reads the response.
func rawExchange(t *testing.T, addr, req string) (*http.Response, map[string]any) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &env); err != nil {
			t.Fatalf("%d body is not JSON: %q", resp.StatusCode, b)
		}
	}
	return resp, env
}

func TestServerLevelResponsesUseTheEnvelope(t *testing.T) {
	t.Parallel()
	addr := serve(t, apptest.Options{})

	tests := []struct {
		name   string
		req    string
		status int
		code   string
	}{
		{"control character in a header", "GET /livez HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n", http.StatusBadRequest, "bad_request"},
		{"no Host header", "GET /livez HTTP/1.1\r\n\r\n", http.StatusBadRequest, "bad_request"},
		{"headers too large", "GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 200<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge, "headers_too_large"},
		{"trailing slash", "GET /api/v1/posts/ HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusNotFound, "route_not_found"},
		{"unknown route", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusNotFound, "route_not_found"},
		{"wrong method", "DELETE /livez HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, tt := range tests {
		resp, env := rawExchange(t, addr, tt.req)
		if resp.StatusCode != tt.status || env["code"] != tt.code {
			t.Errorf("%s: %d %v, want %d %s", tt.name, resp.StatusCode, env, tt.status, tt.code)
			continue
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || resp.Header.Get("X-Request-ID") == "" {
			t.Errorf("%s: headers %v, want JSON with X-Request-ID", tt.name, resp.Header)
		}
		if data, _ := env["data"].(map[string]any); data["request_id"] != resp.Header.Get("X-Request-ID") {
			t.Errorf("%s: body request id %v differs from the header's", tt.name, env["data"])
		}
	}

	// HEAD is served on every GET route, without a body.
	resp, env := rawExchange(t, addr, "HEAD /api/v1/posts HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode != http.StatusOK || env != nil || resp.Header.Get("X-Request-ID") == "" {
		t.Errorf("HEAD /api/v1/posts: %d %v %v", resp.StatusCode, env, resp.Header)
	}
}

func TestSlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	addr := serve(t, apptest.Options{Env: map[string]string{"BODY_READ_TIMEOUT": "1s"}})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	body := `{"email":"slow@example.com","password":"x"}`
	if _, err := io.WriteString(c, "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 44\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	// One byte now and then, as a slow-loris client sends; the server must answer
	// before the body is complete.
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			close(answered)
			return
		}
		answered <- resp
	}()
	for i := 1; i < len(body); i++ {
		select {
		case resp, ok := <-answered:
			if !ok {
				t.Fatal("connection closed without a response")
			}
			var env map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&env)
			if resp.StatusCode != http.StatusRequestTimeout || env["code"] != "body_timeout" {
				t.Fatalf("slow body: %d %v, want 408 body_timeout", resp.StatusCode, env)
			}
			return
		case <-time.After(300 * time.Millisecond):
		}
		if _, err := c.Write([]byte{body[i]}); err != nil {
			break // the server may close the connection once it answered
		}
	}
	t.Fatal("the whole body trickled in without the server cutting it off")
}
