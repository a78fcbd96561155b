package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/app/apptest"
)

// TestUserStateChangesReachEveryInstance: two instances share a database; each caches
// users' state for signed-in requests. A deactivation made outside both (plain SQL)
// and a role change made through one of them apply to the next requests of both,
// announced by the database, with no request needed in between to notice.
func TestUserStateChangesReachEveryInstance(t *testing.T) {
	t.Parallel()
	a := apptest.New(t, apptest.Options{})
	b := apptest.New(t, apptest.Options{DatabaseURL: a.DatabaseURL})
	id := a.SeedUser(t, "cached@example.com", "user")
	auth := a.Bearer(t, id)
	for _, s := range []*apptest.Server{a, b} {
		apptest.Expect[map[string]any](t, s.Do(http.MethodGet, "/api/v1/auth/me", nil, auth...), http.StatusOK)
		apptest.Expect[map[string]any](t, s.Do(http.MethodGet, "/api/v1/auth/me", nil, auth...), http.StatusOK)
	}

	if _, err := a.App.Pool().Exec(context.Background(), "UPDATE users SET is_active = false WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*apptest.Server{"a": a, "b": b} {
		if status := eventually(s, auth, http.StatusUnauthorized); status != http.StatusUnauthorized {
			t.Errorf("instance %s after the deactivation: %d, want 401", name, status)
		}
	}
	if _, err := a.App.Pool().Exec(context.Background(), "UPDATE users SET is_active = true WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*apptest.Server{"a": a, "b": b} {
		if status := eventually(s, auth, http.StatusOK); status != http.StatusOK {
			t.Errorf("instance %s after the reactivation: %d, want 200", name, status)
		}
	}
}

// eventually returns the status of GET /api/v1/auth/me, asking until it is want or
// 10 s have passed (notifications are asynchronous; the bound only keeps a broken
// build from hanging).
func eventually(s *apptest.Server, auth []string, want int) int {
	status := s.Do(http.MethodGet, "/api/v1/auth/me", nil, auth...).Status
	for end := time.Now().Add(10 * time.Second); status != want && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
		status = s.Do(http.MethodGet, "/api/v1/auth/me", nil, auth...).Status
	}
	return status
}
