package users_test

import (
	"fmt"
	"net/http"
	"sync"
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

// TestLastAdminUnderConcurrency: two admins demoting or deactivating themselves at
// once, through the generated update and the deactivate route: exactly one change
// is refused (409 last_admin), and an active admin is always left.
func TestLastAdminUnderConcurrency(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	for round := range 4 {
		other := c.create(fmt.Sprintf("admin%d@example.com", round), "Other")
		c.patch(other.ID, map[string]any{"role": "admin"})
		demote := func(id int64) *apptest.Response {
			return c.srv.Do(http.MethodPatch, fmt.Sprintf("%s/%d", base, id), map[string]any{"role": "user"}, c.srv.Bearer(t, id)...)
		}
		deactivate := func(id int64) *apptest.Response {
			return c.srv.Do(http.MethodPost, fmt.Sprintf("%s/%d/deactivate", base, id), nil, c.srv.Bearer(t, id)...)
		}
		// Rounds alternate: both demoted, or one demoted while the other is deactivated.
		first, second := demote, demote
		if round%2 == 1 {
			second = deactivate
		}
		var wg sync.WaitGroup
		resp := make([]*apptest.Response, 2)
		wg.Go(func() { resp[0] = first(c.root.ID) })
		wg.Go(func() { resp[1] = second(other.ID) })
		wg.Wait()
		if (resp[0].Status == http.StatusOK) == (resp[1].Status == http.StatusOK) {
			t.Fatalf("round %d: answers %d and %d, want exactly one refused", round, resp[0].Status, resp[1].Status)
		}
		survivor, refused := c.root.ID, resp[0]
		if resp[0].Status == http.StatusOK {
			survivor, refused = other.ID, resp[1]
		}
		apptest.ExpectError(t, refused, http.StatusConflict, "last_admin")
		c.auth = c.srv.Bearer(t, survivor) // the next round starts from the one active admin
		got := apptest.Expect[users.User](t, c.do(http.MethodGet, fmt.Sprintf("%s/%d", base, survivor), nil), http.StatusOK).Data
		if got.Role != "admin" || !got.IsActive {
			t.Fatalf("round %d: the survivor is %+v", round, got)
		}
		c.root = got
	}
}
