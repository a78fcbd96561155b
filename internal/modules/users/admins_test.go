package users_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/modules/users"
)

// TestLastAdminIsRefusedOverHTTP: the only active admin can be neither deactivated
// nor demoted (409 last_admin, nothing changed); with a second admin it can.
func TestLastAdminIsRefusedOverHTTP(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	self := fmt.Sprintf("%s/%d", base, c.root.ID)
	apptest.ExpectError(t, c.do(http.MethodPost, self+"/deactivate", nil), http.StatusConflict, "last_admin")
	apptest.ExpectError(t, c.do(http.MethodPatch, self, map[string]any{"role": "user"}), http.StatusConflict, "last_admin")
	apptest.ExpectError(t, c.do(http.MethodPatch, self, map[string]any{"is_active": false}), http.StatusConflict, "last_admin")
	if got := apptest.Expect[users.User](t, c.do(http.MethodGet, self, nil), http.StatusOK).Data; got != c.root {
		t.Fatalf("refused changes changed the admin: %+v, was %+v", got, c.root)
	}
	other := c.create("second@example.com", "Second")
	c.patch(other.ID, map[string]any{"role": "admin"})
	if demoted := c.patch(c.root.ID, map[string]any{"role": "user"}); demoted.Role != "user" {
		t.Fatalf("demoting an admin while another is active: %+v", demoted)
	}
}
