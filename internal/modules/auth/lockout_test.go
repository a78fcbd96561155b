package auth_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/modules/auth"
)

// TestRacingRefreshesKeepTheSession refreshes one token from two tabs at once: both
// get the same successor and the session lives on; a later reuse still revokes it.
func TestRacingRefreshesKeepTheSession(t *testing.T) {
	t.Parallel()
	c := newClient(t, "AUTH_REFRESH_REUSE_GRACE", "1s")
	c.register("tabs@example.com", "Tabs")
	s := c.session("tabs@example.com")

	var wg sync.WaitGroup
	results := make([]*apptest.Response, 4)
	for i := range results {
		wg.Go(func() { results[i] = c.refresh(s.RefreshToken) })
	}
	wg.Wait()
	var successor string
	for i, r := range results {
		got := apptest.Expect[auth.Tokens](t, r, http.StatusOK).Data
		if successor == "" {
			successor = got.RefreshToken
		}
		if got.RefreshToken != successor || got.RefreshToken == s.RefreshToken {
			t.Fatalf("tab %d got refresh token %q, another %q: want one successor", i, got.RefreshToken, successor)
		}
		apptest.Expect[auth.User](t, c.me(got.AccessToken), http.StatusOK)
	}
	next := apptest.Expect[auth.Tokens](t, c.refresh(successor), http.StatusOK).Data

	// Once the grace has passed, the first token is a copy: the session ends.
	time.Sleep(1100 * time.Millisecond)
	apptest.ExpectError(t, c.refresh(s.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
	apptest.ExpectError(t, c.refresh(next.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
}

// TestGraceDoesNotReviveAnUsedSuccessor presents a token again, within the grace,
// after its successor was used too: that is a reuse, and the session ends.
func TestGraceDoesNotReviveAnUsedSuccessor(t *testing.T) {
	t.Parallel()
	c := newClient(t, "AUTH_REFRESH_REUSE_GRACE", "1m")
	c.register("stale@example.com", "Stale")
	s := c.session("stale@example.com")
	second := apptest.Expect[auth.Tokens](t, c.refresh(s.RefreshToken), http.StatusOK).Data
	third := apptest.Expect[auth.Tokens](t, c.refresh(second.RefreshToken), http.StatusOK).Data
	apptest.ExpectError(t, c.refresh(s.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
	apptest.ExpectError(t, c.refresh(third.RefreshToken), http.StatusUnauthorized, "invalid_refresh_token")
}

// TestWrongPasswordsElsewhereDoNotLockTheOwnerOut: wrong passwords for an account
// from one address are throttled there, while the owner signs in from another.
func TestWrongPasswordsElsewhereDoNotLockTheOwnerOut(t *testing.T) {
	t.Parallel()
	c := newClient(t,
		"TRUSTED_PROXIES", "127.0.0.1,::1,192.0.2.1",
		"AUTH_LOGIN_PER_ACCOUNT_ADDRESS", "5/1m",
		"AUTH_LOGIN_PER_ACCOUNT", "100/1m",
		"AUTH_LOGIN_PER_ADDRESS", "20/1m",
	)
	c.register("owner@example.com", "Owner")
	attacker := []string{"X-Forwarded-For", "203.0.113.66"}
	owner := []string{"X-Forwarded-For", "198.51.100.7"}
	login := func(password string, from []string) *apptest.Response {
		return c.post("/login", map[string]any{"email": "owner@example.com", "password": password}, from...)
	}
	for i := range 5 {
		apptest.ExpectError(t, login(fmt.Sprintf("guess %d", i), attacker), http.StatusUnauthorized, "invalid_credentials")
	}
	for range 5 {
		apptest.ExpectError(t, login("guess again", attacker), http.StatusTooManyRequests, "rate_limited")
	}
	// Even the right password is refused there…
	apptest.ExpectError(t, login(pw, attacker), http.StatusTooManyRequests, "rate_limited")
	// …but the owner, elsewhere, signs in.
	apptest.Expect[auth.Tokens](t, login(pw, owner), http.StatusOK)
}
