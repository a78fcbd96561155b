package users_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/quarrydev/quarry/internal/account"
	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/modules/users"
)

func TestAuthorization(t *testing.T) {
	t.Parallel()
	c := newClient(t) // acts as an admin
	srv := c.srv
	aliceID := srv.SeedUser(t, "alice@example.com", account.RoleUser)
	bobID := srv.SeedUser(t, "bob@example.com", account.RoleUser)
	alice := srv.Bearer(t, aliceID)
	asAlice := func(method, path string, body any) *apptest.Response {
		return srv.Do(method, path, body, alice...)
	}
	self, bob := fmt.Sprintf("%s/%d", base, aliceID), fmt.Sprintf("%s/%d", base, bobID)

	// Anonymous callers get 401 everywhere.
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, base}, {http.MethodPost, base}, {http.MethodGet, self}, {http.MethodPatch, self},
		{http.MethodPost, self + "/deactivate"}, {http.MethodGet, base + "/by-email?email=bob@example.com"},
	} {
		resp := srv.Do(r.method, r.path, map[string]any{})
		apptest.ExpectError(t, resp, http.StatusUnauthorized, "unauthenticated")
		if resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s: 401 without WWW-Authenticate", r.method, r.path)
		}
	}

	// A normal user on admin routes and on another user's account: 403.
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, base, nil},
		{http.MethodPost, base, map[string]any{"email": "x@example.com", "display_name": "X", "password": "long enough password"}},
		{http.MethodGet, base + "/by-email?email=bob@example.com", nil},
		{http.MethodPost, bob + "/deactivate", nil},
		{http.MethodPost, self + "/deactivate", nil},
		{http.MethodGet, bob, nil},
		{http.MethodPatch, bob, map[string]any{"display_name": "hacked"}},
	} {
		apptest.ExpectError(t, asAlice(r.method, r.path, r.body), http.StatusForbidden, "forbidden")
	}

	// Users read and update their own profile; role and is_active in their body change nothing.
	me := apptest.Expect[users.User](t, asAlice(http.MethodGet, self, nil), http.StatusOK).Data
	upd := apptest.Expect[users.User](t, asAlice(http.MethodPatch, self, map[string]any{"display_name": "Alice", "role": "admin", "is_active": false}), http.StatusOK).Data
	if upd.DisplayName != "Alice" || upd.Role != account.RoleUser || !upd.IsActive || upd.Email != me.Email {
		t.Fatalf("self update: %+v", upd)
	}
	apptest.ExpectError(t, asAlice(http.MethodGet, base, nil), http.StatusForbidden, "forbidden")

	// An admin promotes Alice: her next request is an admin's, with the same token.
	c.patch(aliceID, map[string]any{"role": "admin"})
	apptest.Expect[users.UserList](t, asAlice(http.MethodGet, base, nil), http.StatusOK)

	// A deactivated user's access token stops working at once.
	apptest.Expect[users.User](t, c.do(http.MethodPost, self+"/deactivate", nil), http.StatusOK)
	apptest.ExpectError(t, asAlice(http.MethodGet, self, nil), http.StatusUnauthorized, "unauthenticated")
	if got := apptest.Expect[users.User](t, c.do(http.MethodGet, bob, nil), http.StatusOK).Data; got.DisplayName != "bob" {
		t.Fatalf("refused writes changed bob: %+v", got)
	}
}
