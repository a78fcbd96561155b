package auth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/quarrydev/quarry/internal/app"
	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/core/config"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/modules/auth"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const base = "/api/v1/auth"

// pw is the password of the users the tests register.
const pw = "correct horse battery"

// client sends requests to a fresh application running the auth module only, and
// checks every response for leaked password material.
type client struct {
	t   testing.TB
	srv *apptest.Server
	mod *auth.Module
}

// newClient starts the application with cheap password hashing, no login throttling
// and the extra configuration given as key, value pairs.
func newClient(t testing.TB, kv ...string) *client {
	t.Helper()
	env := map[string]string{
		"PASSWORD_MEMORY_KIB":    "1024",
		"PASSWORD_ITERATIONS":    "1",
		"AUTH_LOGIN_PER_ACCOUNT": "off",
		"AUTH_LOGIN_PER_ADDRESS": "off",

		"AUTH_LOGIN_PER_ACCOUNT_ADDRESS": "off",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	mod := auth.New()
	srv := apptest.New(t, apptest.Options{Env: env, Modules: []module.Module{mod}})
	return &client{t: t, srv: srv, mod: mod}
}

func (c *client) do(method, path string, body any, headers ...string) *apptest.Response {
	c.t.Helper()
	r := c.srv.Do(method, path, body, headers...)
	lower := bytes.ToLower(r.Body)
	for _, leak := range []string{"argon2", "password_hash", strings.ToLower(pw)} {
		if bytes.Contains(lower, []byte(leak)) {
			c.t.Errorf("%s %s: response contains %q:\n%s", method, path, leak, r.Body)
		}
	}
	return r
}

func (c *client) post(path string, body any, headers ...string) *apptest.Response {
	c.t.Helper()
	return c.do(http.MethodPost, base+path, body, headers...)
}

func (c *client) register(email, name string) auth.User {
	c.t.Helper()
	r := c.post("/register", map[string]any{"email": email, "password": pw, "display_name": name})
	return apptest.Expect[auth.User](c.t, r, http.StatusCreated).Data
}

func (c *client) login(email, password string) *apptest.Response {
	c.t.Helper()
	return c.post("/login", map[string]any{"email": email, "password": password})
}

// session logs in and returns the tokens.
func (c *client) session(email string) auth.Tokens {
	c.t.Helper()
	return apptest.Expect[auth.Tokens](c.t, c.login(email, pw), http.StatusOK).Data
}

func (c *client) refresh(token string) *apptest.Response {
	c.t.Helper()
	return c.post("/refresh", map[string]any{"refresh_token": token})
}

func (c *client) me(access string) *apptest.Response {
	c.t.Helper()
	return c.do(http.MethodGet, base+"/me", nil, "Authorization", "Bearer "+access)
}

// exec runs SQL on the application's database.
func (c *client) exec(sql string, args ...any) {
	c.t.Helper()
	if _, err := c.srv.App.Pool().Exec(context.Background(), sql, args...); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
}

// withoutRequestID returns an error body with its request id blanked.
func withoutRequestID(t testing.TB, r *apptest.Response) string {
	t.Helper()
	env := apptest.Envelope[httpx.ErrorData](t, r)
	env.Data.RequestID = ""
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRegister(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	before := time.Now().Add(-time.Minute)
	r := c.post("/register", map[string]any{
		"email": "Ada@Example.com", "password": pw, "display_name": "Ada", "role": "admin", "is_active": false,
	})
	u := apptest.Expect[auth.User](t, r, http.StatusCreated).Data
	if u.ID <= 0 || u.Email != "Ada@Example.com" || u.DisplayName != "Ada" || u.Role != "user" || !u.IsActive ||
		u.CreatedAt.Before(before) || !u.UpdatedAt.Equal(u.CreatedAt) {
		t.Errorf("registered %+v: want an active user with role user, the email as given", u)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(apptest.Envelope[json.RawMessage](t, r).Data, &keys); err != nil {
		t.Fatal(err)
	}
	want := []string{"id", "email", "display_name", "role", "is_active", "created_at", "updated_at"}
	if len(keys) != len(want) {
		t.Errorf("user keys %v, want exactly %v", keys, want)
	}
	for _, k := range want {
		if _, ok := keys[k]; !ok {
			t.Errorf("user has no key %q", k)
		}
	}

	for _, email := range []string{"ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.com"} {
		apptest.ExpectError(t, c.post("/register", map[string]any{"email": email, "password": pw, "display_name": "Twin"}),
			http.StatusConflict, "email_taken")
	}

	for body, field := range map[string]string{
		`{"password": "correct horse battery", "display_name": "X"}`:                                      "email",
		`{"email": "not-an-email", "password": "correct horse battery", "display_name": "X"}`:             "email",
		`{"email": "x@example.com", "password": "elevenchars", "display_name": "X"}`:                      "password",
		`{"email": "x@example.com", "password": "` + strings.Repeat("p", 257) + `", "display_name": "X"}`: "password",
		`{"email": "x@example.com", "password": "correct horse battery"}`:                                 "display_name",
		`{"email": "x@example.com", "password": "correct horse battery", "display_name": ""}`:             "display_name",
		`{"email": "x@example.com", "password": 123456789012, "display_name": "X"}`:                       "password",
	} {
		data := apptest.ExpectError(t, c.post("/register", body), http.StatusUnprocessableEntity, "validation_failed")
		if !apptest.HasField(data, field) {
			t.Errorf("%s: fields %+v do not name %s", body, data.Fields, field)
		}
	}
	// Twelve characters, counted as characters rather than bytes, are enough.
	apptest.Expect[auth.User](t, c.post("/register", map[string]any{
		"email": "twelve@example.com", "password": "ééééééééééé1", "display_name": "Twelve",
	}), http.StatusCreated)
}

func TestLoginAndMe(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	u := c.register("grace@example.com", "Grace")

	r := c.login("GRACE@example.com", pw)
	tok := apptest.Expect[auth.Tokens](t, r, http.StatusOK).Data
	if tok.TokenType != "Bearer" || tok.ExpiresIn != int64(c.srv.Config.AccessTokenTTL/time.Second) {
		t.Errorf("token_type %q, expires_in %d; want Bearer, %s in seconds", tok.TokenType, tok.ExpiresIn, c.srv.Config.AccessTokenTTL)
	}
	if strings.Count(tok.AccessToken, ".") != 2 {
		t.Errorf("access token %q is not a JWT", tok.AccessToken)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(tok.RefreshToken); err != nil || len(raw) != 32 {
		t.Errorf("refresh token %q: %d bytes, %v; want 32 bytes of unpadded base64url", tok.RefreshToken, len(raw), err)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on a token response, want no-store", cc)
	}
	var keys map[string]any
	if err := json.Unmarshal(apptest.Envelope[json.RawMessage](t, r).Data, &keys); err != nil || len(keys) != 4 {
		t.Errorf("token response data %v: want exactly access_token, refresh_token, token_type, expires_in", keys)
	}

	me := apptest.Expect[auth.User](t, c.me(tok.AccessToken), http.StatusOK).Data
	if me != u {
		t.Errorf("me = %+v, want %+v", me, u)
	}
	apptest.ExpectError(t, c.do(http.MethodGet, base+"/me", nil), http.StatusUnauthorized, "unauthenticated")

	// Each login is its own session.
	other := c.session("grace@example.com")
	if other.RefreshToken == tok.RefreshToken || other.AccessToken == tok.AccessToken {
		t.Error("two logins got the same tokens")
	}
	if sessionOf(t, other.AccessToken) == sessionOf(t, tok.AccessToken) {
		t.Error("two logins share a session id")
	}
}

// claimsOf returns the claims of a JWT without verifying it.
func claimsOf(t testing.TB, token string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil {
		t.Fatalf("parse %q: %v", token, err)
	}
	return claims
}

func sessionOf(t testing.TB, token string) string {
	t.Helper()
	sid, _ := claimsOf(t, token)["sid"].(string)
	if len(sid) != 36 {
		t.Fatalf("session id %q is not a UUID", sid)
	}
	return sid
}

func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	c.register("known@example.com", "Known")
	gone := c.register("gone@example.com", "Gone")
	c.exec("UPDATE users SET is_active = false WHERE id = $1", gone.ID)

	cases := map[string]*apptest.Response{
		"unknown email":    c.login("nobody@example.com", pw),
		"wrong password":   c.login("known@example.com", pw+"!"),
		"deactivated user": c.login("gone@example.com", pw),
	}
	var first string
	for name, r := range cases {
		apptest.ExpectError(t, r, http.StatusUnauthorized, "invalid_credentials")
		body := withoutRequestID(t, r)
		if first == "" {
			first = body
		}
		if body != first {
			t.Errorf("%s: body %s differs from %s", name, body, first)
		}
		if r.Header.Get("Retry-After") != "" || r.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("%s: unexpected headers %v", name, r.Header)
		}
	}
	// The right password of the deactivated account is not told apart either.
	if got := withoutRequestID(t, c.login("gone@example.com", pw+"!")); got != first {
		t.Errorf("deactivated user, wrong password: %s, want %s", got, first)
	}
	for _, body := range []string{`{"email": "known@example.com"}`, `{"password": "x"}`, `{"email": "no", "password": "x"}`} {
		apptest.ExpectError(t, c.post("/login", body), http.StatusUnprocessableEntity, "validation_failed")
	}
}

func TestRehashOnLogin(t *testing.T) {
	t.Parallel()
	old := newClient(t)
	old.register("rehash@example.com", "Rehash")
	hashOf := func() string {
		var h string
		if err := old.srv.App.Pool().QueryRow(context.Background(), "SELECT password_hash FROM users WHERE email = 'rehash@example.com'").Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	before := hashOf()
	if !strings.HasPrefix(before, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q: want the cheap test parameters", before)
	}
	// The same database, served with stronger parameters.
	mod := auth.New()
	srv := apptest.New(t, apptest.Options{DatabaseURL: old.srv.DatabaseURL, Modules: []module.Module{mod}, Env: map[string]string{
		"PASSWORD_MEMORY_KIB": "2048", "PASSWORD_ITERATIONS": "1",
	}})
	strong := &client{t: t, srv: srv, mod: mod}
	strong.session("rehash@example.com")
	after := hashOf()
	if !strings.HasPrefix(after, "$argon2id$v=19$m=2048,t=1,p=1$") {
		t.Fatalf("after a login with new parameters the hash is %q, want it rehashed with m=2048", after)
	}
	strong.session("rehash@example.com")
	if again := hashOf(); again != after {
		t.Error("a login with unchanged parameters rehashed the password")
	}
	apptest.ExpectError(t, strong.login("rehash@example.com", pw+"?"), http.StatusUnauthorized, "invalid_credentials")
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	c.register("rotate@example.com", "Rotate")
	first := c.session("rotate@example.com")
	bystander := c.session("rotate@example.com")

	r := c.refresh(first.RefreshToken)
	second := apptest.Expect[auth.Tokens](t, r, http.StatusOK).Data
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken || second.TokenType != "Bearer" {
		t.Fatalf("refresh returned %+v after %+v: want new tokens", second, first)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Error("refresh response may be cached")
	}
	if sessionOf(t, second.AccessToken) != sessionOf(t, first.AccessToken) {
		t.Error("a refresh changed the session id")
	}
	apptest.Expect[auth.User](t, c.me(second.AccessToken), http.StatusOK)
	third := apptest.Expect[auth.Tokens](t, c.refresh(second.RefreshToken), http.StatusOK).Data

	// Replaying a used token ends the session: the newest token stops working too.
	replay := c.refresh(first.RefreshToken)
	apptest.ExpectError(t, replay, http.StatusUnauthorized, "invalid_refresh_token")
	apptest.ExpectError(t, c.refresh(third.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
	apptest.ExpectError(t, c.refresh(second.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
	var live int
	if err := c.srv.App.Pool().QueryRow(context.Background(),
		"SELECT count(*) FROM refresh_tokens WHERE family_id = $1::uuid AND revoked_at IS NULL", sessionOf(t, first.AccessToken)).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if live != 0 {
		t.Errorf("%d tokens of the replayed session are still live", live)
	}
	if !strings.Contains(c.srv.Logs.String(), "refresh token reused") {
		t.Error("the reuse was not logged")
	}
	// Other sessions of the user are not affected.
	apptest.Expect[auth.Tokens](t, c.refresh(bystander.RefreshToken), http.StatusOK)

	// Every failure looks the same.
	want := withoutRequestID(t, replay)
	for name, token := range map[string]string{
		"unknown":     base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)),
		"malformed":   "not a refresh token",
		"access":      second.AccessToken,
		"padded":      first.RefreshToken + "=",
		"truncated":   bystander.RefreshToken[:42],
		"revoked now": third.RefreshToken,
	} {
		r := c.refresh(token)
		apptest.ExpectError(t, r, http.StatusUnauthorized, "invalid_refresh_token")
		if got := withoutRequestID(t, r); got != want {
			t.Errorf("%s token: %s, want %s", name, got, want)
		}
	}
	apptest.ExpectError(t, c.post("/refresh", `{}`), http.StatusUnprocessableEntity, "validation_failed")
}

func TestRefreshChecksTheAccount(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	u := c.register("state@example.com", "State")

	// The new access token carries the current role.
	s := c.session("state@example.com")
	if role := claimsOf(t, s.AccessToken)["role"]; role != "user" {
		t.Fatalf("role claim %v, want user", role)
	}
	c.exec("UPDATE users SET role = 'admin' WHERE id = $1", u.ID)
	s = apptest.Expect[auth.Tokens](t, c.refresh(s.RefreshToken), http.StatusOK).Data
	if role := claimsOf(t, s.AccessToken)["role"]; role != "admin" {
		t.Errorf("role claim %v after promotion, want admin", role)
	}

	// A deactivated account cannot refresh; its tokens are left as they are.
	c.exec("UPDATE users SET is_active = false WHERE id = $1", u.ID)
	apptest.ExpectError(t, c.refresh(s.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
	apptest.ExpectError(t, c.me(s.AccessToken), http.StatusUnauthorized, "unauthenticated")
	c.exec("UPDATE users SET is_active = true WHERE id = $1", u.ID)
	s = apptest.Expect[auth.Tokens](t, c.refresh(s.RefreshToken), http.StatusOK).Data

	// An expired refresh token is refused.
	c.exec("UPDATE refresh_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE revoked_at IS NULL AND rotated_at IS NULL")
	apptest.ExpectError(t, c.refresh(s.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
}

func TestRefreshTokenLifetimeComesFromConfig(t *testing.T) {
	t.Parallel()
	c := newClient(t, "AUTH_REFRESH_TOKEN_TTL", "2h")
	c.register("ttl@example.com", "TTL")
	c.session("ttl@example.com")
	var secs float64
	if err := c.srv.App.Pool().QueryRow(context.Background(),
		"SELECT extract(epoch FROM expires_at - created_at) FROM refresh_tokens").Scan(&secs); err != nil {
		t.Fatal(err)
	}
	lifetime := time.Duration(secs * float64(time.Second))
	if lifetime < 2*time.Hour-time.Minute || lifetime > 2*time.Hour+time.Minute {
		t.Errorf("refresh token lifetime %s, want 2h", lifetime)
	}
}

func TestRefreshTokenIsNotAnAccessToken(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	c.register("mixup@example.com", "Mixup")
	s := c.session("mixup@example.com")
	apptest.ExpectError(t, c.me(s.RefreshToken), http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectError(t, c.do(http.MethodGet, base+"/me", nil, "Authorization", s.AccessToken), http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectError(t, c.refresh(s.AccessToken), http.StatusUnauthorized, "invalid_refresh_token")
	apptest.Expect[auth.User](t, c.me(s.AccessToken), http.StatusOK)
}

func TestLogout(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	c.register("bye@example.com", "Bye")
	s := c.session("bye@example.com")
	other := c.session("bye@example.com")

	apptest.Expect[struct{}](t, c.post("/logout", map[string]any{"refresh_token": s.RefreshToken}), http.StatusNoContent)
	apptest.ExpectError(t, c.refresh(s.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
	// Idempotent, and silent about the token.
	for _, token := range []string{s.RefreshToken, "garbage", base64.RawURLEncoding.EncodeToString(make([]byte, 32))} {
		r := c.post("/logout", map[string]any{"refresh_token": token})
		if r.Status != http.StatusNoContent || len(r.Body) != 0 {
			t.Errorf("logout(%q) = %d %s, want 204 without a body", token, r.Status, r.Body)
		}
	}
	// Other sessions go on.
	other = apptest.Expect[auth.Tokens](t, c.refresh(other.RefreshToken), http.StatusOK).Data

	// Logging out with an older token of a session ends the whole session.
	newer := apptest.Expect[auth.Tokens](t, c.refresh(other.RefreshToken), http.StatusOK).Data
	apptest.Expect[struct{}](t, c.post("/logout", map[string]any{"refresh_token": other.RefreshToken}), http.StatusNoContent)
	apptest.ExpectError(t, c.refresh(newer.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
	// Access tokens stay valid until they expire, as documented.
	apptest.Expect[auth.User](t, c.me(newer.AccessToken), http.StatusOK)
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	c.register("change@example.com", "Change")
	current := c.session("change@example.com")
	other := c.session("change@example.com")
	third := c.session("change@example.com")
	bearer := []string{"Authorization", "Bearer " + current.AccessToken}
	const newPassword = "a brand new passphrase"

	apptest.ExpectError(t, c.post("/password", map[string]any{"current_password": pw, "new_password": newPassword}),
		http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectError(t, c.post("/password", map[string]any{"current_password": pw + "x", "new_password": newPassword}, bearer...),
		http.StatusForbidden, "invalid_credentials")
	data := apptest.ExpectError(t, c.post("/password", map[string]any{"current_password": pw, "new_password": "too short"}, bearer...),
		http.StatusUnprocessableEntity, "validation_failed")
	if !apptest.HasField(data, "new_password") {
		t.Errorf("fields %+v do not name new_password", data.Fields)
	}
	// Nothing changed so far.
	other = apptest.Expect[auth.Tokens](t, c.refresh(other.RefreshToken), http.StatusOK).Data

	apptest.Expect[struct{}](t, c.post("/password", map[string]any{"current_password": pw, "new_password": newPassword}, bearer...), http.StatusNoContent)

	// The caller's session goes on; every other one is revoked.
	current = apptest.Expect[auth.Tokens](t, c.refresh(current.RefreshToken), http.StatusOK).Data
	apptest.ExpectError(t, c.refresh(other.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
	apptest.ExpectError(t, c.refresh(third.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
	apptest.ExpectError(t, c.login("change@example.com", pw), http.StatusUnauthorized, "invalid_credentials")
	apptest.Expect[auth.Tokens](t, c.login("change@example.com", newPassword), http.StatusOK)
	// The old password no longer works as the current one either.
	apptest.ExpectError(t, c.post("/password", map[string]any{"current_password": pw, "new_password": pw + " again"},
		"Authorization", "Bearer "+current.AccessToken), http.StatusForbidden, "invalid_credentials")
}

func TestLoginThrottlePerAccount(t *testing.T) {
	t.Parallel()
	c := newClient(t, "AUTH_LOGIN_PER_ACCOUNT", "3/1h")
	c.register("target@example.com", "Target")
	c.register("bystander@example.com", "Bystander")
	for i := range 3 {
		apptest.ExpectError(t, c.login("target@example.com", fmt.Sprintf("guess %d", i)), http.StatusUnauthorized, "invalid_credentials")
	}
	// Over the limit even the right password is refused, whatever the letter case.
	for _, email := range []string{"target@example.com", "TARGET@example.com"} {
		r := c.login(email, pw)
		apptest.ExpectError(t, r, http.StatusTooManyRequests, "rate_limited")
		if ra := r.Header.Get("Retry-After"); ra != "1200" {
			t.Errorf("Retry-After %q, want 1200 (one attempt per 20 minutes)", ra)
		}
	}
	// An unknown account has its own budget too, and others are unaffected.
	apptest.Expect[auth.Tokens](t, c.login("bystander@example.com", pw), http.StatusOK)
	for range 3 {
		apptest.ExpectError(t, c.login("ghost@example.com", pw), http.StatusUnauthorized, "invalid_credentials")
	}
	apptest.ExpectError(t, c.login("ghost@example.com", pw), http.StatusTooManyRequests, "rate_limited")

	// Password changes draw on the same budget: two logins, one change, and the
	// account is out.
	s := c.session("bystander@example.com")
	bearer := []string{"Authorization", "Bearer " + s.AccessToken}
	apptest.ExpectError(t, c.post("/password", map[string]any{"current_password": "guess", "new_password": pw + "2"}, bearer...),
		http.StatusForbidden, "invalid_credentials")
	r := c.post("/password", map[string]any{"current_password": pw, "new_password": pw + "2"}, bearer...)
	apptest.ExpectError(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After on a throttled password change")
	}
}

func TestLoginThrottlePerAddress(t *testing.T) {
	t.Parallel()
	c := newClient(t, "AUTH_LOGIN_PER_ADDRESS", "2/1m")
	c.register("one@example.com", "One")
	apptest.Expect[auth.Tokens](t, c.login("one@example.com", pw), http.StatusOK)
	apptest.ExpectError(t, c.login("two@example.com", pw), http.StatusUnauthorized, "invalid_credentials")
	for _, hdr := range [][]string{nil, {"X-Forwarded-For", "203.0.113.9"}, {"X-Real-IP", "203.0.113.10"}} {
		// Forwarding headers from an untrusted peer do not give a new address.
		r := c.post("/login", map[string]any{"email": "three@example.com", "password": pw}, hdr...)
		apptest.ExpectError(t, r, http.StatusTooManyRequests, "rate_limited")
		if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 30 {
			t.Errorf("Retry-After %q, want 1..30 seconds", r.Header.Get("Retry-After"))
		}
	}
	// Other routes are not throttled by it.
	apptest.Expect[auth.User](t, c.post("/register", map[string]any{"email": "four@example.com", "password": pw, "display_name": "Four"}), http.StatusCreated)
}

// TestParallelLoginsStayWithinTheHashingBound floods the login route and checks that
// no more hashes than the hasher's capacity ever ran at once.
func TestParallelLoginsStayWithinTheHashingBound(t *testing.T) {
	t.Parallel()
	c := newClient(t, "PASSWORD_MAX_CONCURRENT", "2", "PASSWORD_MAX_WAIT", "30s")
	c.register("crowd@example.com", "Crowd")
	h := c.mod.Hasher()
	if h.Capacity() != 2 {
		t.Fatalf("hasher capacity %d, want PASSWORD_MAX_CONCURRENT 2", h.Capacity())
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	for g := range 24 {
		wg.Go(func() {
			for i := range 4 {
				var r *apptest.Response
				switch (g + i) % 3 {
				case 0:
					r = c.login("crowd@example.com", pw)
				case 1:
					r = c.login("crowd@example.com", "wrong password")
				default:
					r = c.login(fmt.Sprintf("nobody%d@example.com", g), pw)
				}
				mu.Lock()
				statuses[r.Status]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if statuses[http.StatusOK] != 32 || statuses[http.StatusUnauthorized] != 64 || len(statuses) != 2 {
		t.Errorf("statuses %v, want 32 × 200 and 64 × 401", statuses)
	}
	if peak := h.PeakInFlight(); peak < 1 || peak > h.Capacity() {
		t.Errorf("peak of %d hashes at once, capacity %d", peak, h.Capacity())
	}
	t.Logf("peak %d of capacity %d", h.PeakInFlight(), h.Capacity())
	if h.InFlight() != 0 {
		t.Errorf("%d hashes still in flight", h.InFlight())
	}
}

func TestInvalidConfiguration(t *testing.T) {
	t.Parallel()
	for key, value := range map[string]string{
		"AUTH_LOGIN_PER_ACCOUNT": "5 per minute",
		"AUTH_LOGIN_PER_ADDRESS": "0/1m",
	} {
		cfg, mods := apptest.Config(t, apptest.Options{Env: map[string]string{key: value}, Modules: []module.Module{auth.New()}})
		a, err := app.New(context.Background(), cfg, app.Options{Modules: mods, Log: slog.New(slog.DiscardHandler)})
		if err == nil {
			a.Close()
			t.Errorf("%s=%s: the app started", key, value)
			continue
		}
		if !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%s: error %q does not name the key", key, value, err)
		}
	}
	load := func(env ...string) error {
		_, err := config.Load(config.Options{Dir: t.TempDir(), Environ: env, Sections: []config.Section{{Name: "auth", Target: auth.New().Config()}}})
		return err
	}
	for _, kv := range []string{"AUTH_REFRESH_TOKEN_TTL=0s", "AUTH_REFRESH_TOKEN_TTL=soon", "AUTH_LOGIN_PER_ACCOUNT="} {
		key, _, _ := strings.Cut(kv, "=")
		if err := load(kv); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: error %v, want one naming %s", kv, err, key)
		}
	}
	err := load("APP_ENV=prod", "AUTH_LOGIN_PER_ACCOUNT=off", "AUTH_LOGIN_PER_ADDRESS=off")
	for _, want := range []string{"AUTH_LOGIN_PER_ACCOUNT: off is not allowed in prod", "AUTH_LOGIN_PER_ADDRESS: off is not allowed in prod"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("prod with throttling off: error %v, want %q", err, want)
		}
	}
	if err := load(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}

// A token minted while a sign-out was waiting for the family's lock must not outlive
// the sign-out: once any token of a family is revoked, none of it refreshes. The
// state such a race leaves — the used token revoked, its successor not — is set up
// directly.
func TestRefreshRefusesARevokedFamily(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	c.register("race@example.com", "Race")
	s := c.session("race@example.com")
	next := apptest.Expect[auth.Tokens](t, c.refresh(s.RefreshToken), http.StatusOK).Data
	c.exec("UPDATE refresh_tokens SET revoked_at = now() WHERE rotated_at IS NOT NULL")
	apptest.ExpectError(t, c.refresh(next.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
}
