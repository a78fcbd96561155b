package users_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/account"
	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/modules/users"
)

const base = "/api/v1/users"

// client sends requests to a fresh application and checks every response body for
// leaked password material.
type client struct {
	t   *testing.T
	srv *apptest.Server
	// root is the admin the client acts as; it is the first user of every database.
	root users.User
	auth []string
}

// newClient starts the application with the users module only, cheap password hashing
// and the extra configuration given as key, value pairs.
func newClient(t *testing.T, kv ...string) *client {
	t.Helper()
	env := map[string]string{
		"ENABLED_MODULES":     "users",
		"PASSWORD_MEMORY_KIB": "1024",
		"PASSWORD_ITERATIONS": "1",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	c := &client{t: t, srv: apptest.New(t, apptest.Options{Env: env})}
	id := c.srv.SeedUser(t, "root@example.com", account.RoleAdmin)
	c.auth = c.srv.Bearer(t, id)
	c.root = apptest.Expect[users.User](t, c.do(http.MethodGet, fmt.Sprintf("%s/%d", base, id), nil), http.StatusOK).Data
	return c
}

func (c *client) do(method, path string, body any) *apptest.Response {
	c.t.Helper()
	r := c.srv.Do(method, path, body, c.auth...)
	lower := bytes.ToLower(r.Body)
	for _, leak := range []string{"argon2", "password_hash", "passwordhash"} {
		if bytes.Contains(lower, []byte(leak)) {
			c.t.Fatalf("%s %s: response contains %q:\n%s", method, path, leak, r.Body)
		}
	}
	if r.Status < 300 && bytes.Contains(lower, []byte("password")) {
		c.t.Fatalf("%s %s: success response mentions a password:\n%s", method, path, r.Body)
	}
	return r
}

// create creates a user and returns it.
func (c *client) create(email, name string) users.User {
	c.t.Helper()
	r := c.do(http.MethodPost, base, map[string]any{"email": email, "display_name": name, "password": "correct horse battery"})
	return apptest.Expect[users.User](c.t, r, http.StatusCreated).Data
}

func (c *client) patch(id int64, body any) users.User {
	c.t.Helper()
	return apptest.Expect[users.User](c.t, c.do(http.MethodPatch, fmt.Sprintf("%s/%d", base, id), body), http.StatusOK).Data
}

func (c *client) list(query string) users.UserList {
	c.t.Helper()
	return apptest.Expect[users.UserList](c.t, c.do(http.MethodGet, base+"?"+query, nil), http.StatusOK).Data
}

func TestCreate(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	before := time.Now().Add(-time.Minute)
	u := c.create("Ada.Lovelace@Example.com", "Ada")
	if u.ID <= 0 || u.Email != "Ada.Lovelace@Example.com" || u.DisplayName != "Ada" ||
		u.Role != account.RoleUser || !u.IsActive || u.CreatedAt.Before(before) || u.UpdatedAt.Before(before) {
		t.Errorf("created %+v: want the email as given, role user, active, fresh timestamps", u)
	}
	if got := apptest.Expect[users.User](t, c.do(http.MethodGet, fmt.Sprintf("%s/%d", base, u.ID), nil), http.StatusOK).Data; got != u {
		t.Errorf("get after create = %+v, want %+v", got, u)
	}

	for _, email := range []string{"Ada.Lovelace@Example.com", "ada.lovelace@example.com", "ADA.LOVELACE@EXAMPLE.COM"} {
		r := c.do(http.MethodPost, base, map[string]any{"email": email, "display_name": "Other", "password": "another long password"})
		apptest.ExpectError(t, r, http.StatusConflict, "email_taken")
	}
	all := c.list("total=true")
	if all.Total == nil || *all.Total != 2 { // the admin and Ada
		t.Errorf("after duplicates, total = %v, want 2", all.Total)
	}

	// The request may carry fields clients must not set; they are ignored.
	r := c.do(http.MethodPost, base, map[string]any{
		"email": "grace@example.com", "display_name": "Grace", "password": "correct horse battery",
		"role": "admin", "is_active": false, "id": 999,
	})
	g := apptest.Expect[users.User](t, r, http.StatusCreated).Data
	if g.Role != account.RoleUser || !g.IsActive || g.ID == 999 {
		t.Errorf("created %+v: role, is_active and id must not be settable on create", g)
	}
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	valid := func(change func(m map[string]any)) map[string]any {
		m := map[string]any{"email": "a@example.com", "display_name": "A", "password": "twelve chars"}
		change(m)
		return m
	}
	cases := []struct {
		name   string
		body   any
		fields []string
	}{
		{"empty object", map[string]any{}, []string{"email", "display_name", "password"}},
		{"missing email", valid(func(m map[string]any) { delete(m, "email") }), []string{"email"}},
		{"missing display_name", valid(func(m map[string]any) { delete(m, "display_name") }), []string{"display_name"}},
		{"missing password", valid(func(m map[string]any) { delete(m, "password") }), []string{"password"}},
		{"bad email", valid(func(m map[string]any) { m["email"] = "not-an-email" }), []string{"email"}},
		{"email with spaces", valid(func(m map[string]any) { m["email"] = " a@example.com" }), []string{"email"}},
		{"long email", valid(func(m map[string]any) { m["email"] = strings.Repeat("a", 250) + "@example.com" }), []string{"email"}},
		{"short password", valid(func(m map[string]any) { m["password"] = "eleven char" }), []string{"password"}},
		{"long password", valid(func(m map[string]any) { m["password"] = strings.Repeat("p", 257) }), []string{"password"}},
		{"long display_name", valid(func(m map[string]any) { m["display_name"] = strings.Repeat("n", 101) }), []string{"display_name"}},
		{"password of wrong type", valid(func(m map[string]any) { m["password"] = 123456789012 }), []string{"password"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := apptest.ExpectError(t, c.do(http.MethodPost, base, tc.body), http.StatusUnprocessableEntity, "validation_failed")
			for _, f := range tc.fields {
				if !apptest.HasField(data, f) {
					t.Errorf("fields %+v do not name %s", data.Fields, f)
				}
			}
			if len(data.Fields) != len(tc.fields) {
				t.Errorf("fields %+v, want exactly %v", data.Fields, tc.fields)
			}
		})
	}
	apptest.ExpectError(t, c.do(http.MethodPost, base, `{"email": "a@example.com",`), http.StatusBadRequest, "malformed_request")
	apptest.ExpectError(t, c.do(http.MethodPost, base, `{"email": "a@example.com"} {}`), http.StatusBadRequest, "malformed_request")
	apptest.ExpectError(t, c.do(http.MethodPost, base, `[]`), http.StatusBadRequest, "malformed_request")
	apptest.ExpectError(t, c.do(http.MethodPost, base, nil), http.StatusBadRequest, "body_required")

	// Passwords of exactly the bounds are accepted; length counts characters.
	c.create("min@example.com", "Min")
	r := c.do(http.MethodPost, base, map[string]any{"email": "max@example.com", "display_name": "Max", "password": strings.Repeat("é", 256)})
	apptest.Expect[users.User](t, r, http.StatusCreated)
	if got := c.list("total=true"); *got.Total != 3 { // the admin, min and max
		t.Errorf("total %d after the rejected requests, want 3", *got.Total)
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	u := c.create("get@example.com", "Get")
	got := apptest.Expect[users.User](t, c.do(http.MethodGet, fmt.Sprintf("%s/%d", base, u.ID), nil), http.StatusOK)
	if got.Code != "ok" || got.Data != u {
		t.Errorf("get = %+v, want %+v", got, u)
	}
	apptest.ExpectError(t, c.do(http.MethodGet, fmt.Sprintf("%s/%d", base, u.ID+1000), nil), http.StatusNotFound, "user_not_found")
	for _, id := range []string{"abc", "1.5", "0", "-1", "99999999999999999999"} {
		data := apptest.ExpectError(t, c.do(http.MethodGet, base+"/"+id, nil), http.StatusUnprocessableEntity, "validation_failed")
		if !apptest.HasField(data, "id") {
			t.Errorf("id %s: fields %+v do not name id", id, data.Fields)
		}
	}
}

func TestGetByEmail(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	u := c.create("Find.Me@Example.com", "Findable")
	c.create("someone.else@example.com", "Other")
	for _, email := range []string{"Find.Me@Example.com", "find.me@example.com", "FIND.ME@EXAMPLE.COM"} {
		r := c.do(http.MethodGet, base+"/by-email?email="+url.QueryEscape(email), nil)
		if got := apptest.Expect[users.User](t, r, http.StatusOK).Data; got != u {
			t.Errorf("by-email %s = %+v, want %+v", email, got, u)
		}
	}
	apptest.ExpectError(t, c.do(http.MethodGet, base+"/by-email?email=nobody%40example.com", nil), http.StatusNotFound, "user_not_found")
	for _, q := range []string{"", "?email=", "?email=not-an-email", "?email=" + strings.Repeat("a", 250) + "%40example.com"} {
		data := apptest.ExpectError(t, c.do(http.MethodGet, base+"/by-email"+q, nil), http.StatusUnprocessableEntity, "validation_failed")
		if !apptest.HasField(data, "email") {
			t.Errorf("query %q: fields %+v do not name email", q, data.Fields)
		}
	}
}

// seed creates n users; every third is an admin and every other one inactive. It
// returns them as they are after the changes, after the client's own admin.
func seed(c *client, n int) []users.User {
	c.t.Helper()
	out := make([]users.User, n+1)
	out[0] = c.root
	for i := 1; i <= n; i++ {
		u := c.create(fmt.Sprintf("user%02d@example.com", i-1), fmt.Sprintf("User %02d", i-1))
		change := map[string]any{}
		if (i-1)%3 == 0 {
			change["role"] = account.RoleAdmin
		}
		if (i-1)%2 == 1 {
			change["is_active"] = false
		}
		if len(change) > 0 {
			u = c.patch(u.ID, change)
		}
		out[i] = u
	}
	return out
}

// pages follows next_cursor from the first page of query and returns the ids in the
// order received and the number of pages.
func (c *client) pages(query string, limit int) ([]int64, int) {
	c.t.Helper()
	var ids []int64
	cursor := ""
	for n := 1; ; n++ {
		q := fmt.Sprintf("%s&limit=%d", query, limit)
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		page := c.list(q)
		if len(page.Items) > limit {
			c.t.Fatalf("page %d of %q has %d items, limit %d", n, query, len(page.Items), limit)
		}
		for _, u := range page.Items {
			ids = append(ids, u.ID)
		}
		if page.NextCursor == nil {
			return ids, n
		}
		if len(page.Items) != limit {
			c.t.Fatalf("page %d of %q has %d items and a next cursor", n, query, len(page.Items))
		}
		cursor = *page.NextCursor
		if n > 100 {
			c.t.Fatalf("%q: more than 100 pages", query)
		}
	}
}

// order returns the ids of us sorted by key (created_at or id), descending with "-".
func order(us []users.User, sort string) []int64 {
	sorted := slices.Clone(us)
	slices.SortFunc(sorted, func(a, b users.User) int {
		cmp := 0
		if strings.TrimPrefix(sort, "-") == "created_at" {
			cmp = a.CreatedAt.Compare(b.CreatedAt)
		}
		if cmp == 0 {
			cmp = int(a.ID - b.ID)
		}
		if strings.HasPrefix(sort, "-") {
			cmp = -cmp
		}
		return cmp
	})
	ids := make([]int64, len(sorted))
	for i, u := range sorted {
		ids[i] = u.ID
	}
	return ids
}

func where(us []users.User, keep func(users.User) bool) []users.User {
	var out []users.User
	for _, u := range us {
		if keep(u) {
			out = append(out, u)
		}
	}
	return out
}

func TestListPagingSortsAndFilters(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	all := seed(c, 11)
	admins := where(all, func(u users.User) bool { return u.Role == account.RoleAdmin })
	inactive := where(all, func(u users.User) bool { return !u.IsActive })
	activeAdmins := where(admins, func(u users.User) bool { return u.IsActive })
	if len(admins) == 0 || len(inactive) == 0 || len(activeAdmins) == 0 || len(activeAdmins) == len(admins) {
		t.Fatalf("seed: %d admins, %d inactive, %d active admins", len(admins), len(inactive), len(activeAdmins))
	}

	filters := []struct {
		query string
		want  []users.User
	}{
		{"", all},
		{"role=admin", admins},
		{"role=user", where(all, func(u users.User) bool { return u.Role == account.RoleUser })},
		{"is_active=false", inactive},
		{"is_active=true", where(all, func(u users.User) bool { return u.IsActive })},
		{"role=admin&is_active=true", activeAdmins},
	}
	for _, sort := range []string{"created_at", "-created_at", "id", "-id"} {
		for _, f := range filters {
			query := "sort=" + sort
			if f.query != "" {
				query += "&" + f.query
			}
			ids, n := c.pages(query, 3)
			if want := order(f.want, sort); !slices.Equal(ids, want) {
				t.Errorf("%s: ids %v, want %v", query, ids, want)
			}
			if wantPages := max(1, (len(f.want)+2)/3); n != wantPages {
				t.Errorf("%s: %d pages, want %d", query, n, wantPages)
			}
		}
	}

	// The default sort is newest first, the default page size holds all 11.
	def := c.list("")
	got := make([]int64, len(def.Items))
	for i, u := range def.Items {
		got[i] = u.ID
	}
	if want := order(all, "-created_at"); !slices.Equal(got, want) || def.NextCursor != nil || def.Total != nil {
		t.Errorf("default list: ids %v next %v total %v; want %v, no cursor, no total", got, def.NextCursor, def.Total, want)
	}
	if def.Items[0] != all[len(all)-1] {
		t.Errorf("list item %+v differs from the user %+v", def.Items[0], all[len(all)-1])
	}

	// total counts every match, not just the page.
	for _, f := range filters {
		page := c.list("limit=1&total=true&" + f.query)
		if page.Total == nil || *page.Total != int64(len(f.want)) || len(page.Items) != 1 {
			t.Errorf("%q: total %v with %d items, want %d with 1 item", f.query, page.Total, len(page.Items), len(f.want))
		}
	}
	if page := c.list("total=false"); page.Total != nil {
		t.Errorf("total=false: total %d, want none", *page.Total)
	}
}

func TestListRejectsBadQueries(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	seed(c, 5) // seeded users 1, 2 and 4 have role user

	for q, field := range map[string]string{
		"limit=101":                           "limit",
		"limit=-1":                            "limit",
		"limit=ten":                           "limit",
		"role=superuser":                      "role",
		"is_active=maybe":                     "is_active",
		"sort=email":                          "sort",
		"sort=created_at,id":                  "sort",
		"total=yes":                           "total",
		"cursor=" + strings.Repeat("A", 1025): "cursor",
	} {
		data := apptest.ExpectError(t, c.do(http.MethodGet, base+"?"+q, nil), http.StatusUnprocessableEntity, "validation_failed")
		if !apptest.HasField(data, field) {
			t.Errorf("%s: fields %+v do not name %s", q, data.Fields, field)
		}
	}
	if page := c.list("limit=100"); len(page.Items) != 6 {
		t.Errorf("limit=100 (the cap) returned %d items, want 6", len(page.Items))
	}

	first := c.list("limit=2&role=user&sort=id")
	if first.NextCursor == nil {
		t.Fatal("no next cursor on a first page of 2 out of 3")
	}
	cursor := *first.NextCursor
	tampered := []byte(cursor)
	tampered[len(tampered)/2] ^= 1
	for name, q := range map[string]string{
		"tampered":         "limit=2&role=user&sort=id&cursor=" + url.QueryEscape(string(tampered)),
		"truncated":        "limit=2&role=user&sort=id&cursor=" + url.QueryEscape(cursor[:len(cursor)-2]),
		"garbage":          "limit=2&role=user&sort=id&cursor=not-a-cursor",
		"another role":     "limit=2&role=admin&sort=id&cursor=" + url.QueryEscape(cursor),
		"no role":          "limit=2&sort=id&cursor=" + url.QueryEscape(cursor),
		"added is_active":  "limit=2&role=user&is_active=true&sort=id&cursor=" + url.QueryEscape(cursor),
		"another sort":     "limit=2&role=user&sort=-id&cursor=" + url.QueryEscape(cursor),
		"the default sort": "limit=2&role=user&cursor=" + url.QueryEscape(cursor),
	} {
		r := c.do(http.MethodGet, base+"?"+q, nil)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s cursor: status %d, want 400\n%s", name, r.Status, r.Body)
			continue
		}
		apptest.ExpectError(t, r, http.StatusBadRequest, "invalid_cursor")
	}
	// The cursor still works with the query it came from, and with another limit.
	if next := c.list("limit=5&role=user&sort=id&cursor=" + url.QueryEscape(cursor)); len(next.Items) != 1 || next.NextCursor != nil {
		t.Errorf("second page: %d items, next %v; want 1 item, last page", len(next.Items), next.NextCursor)
	}
}

func TestListPageSizeComesFromConfig(t *testing.T) {
	t.Parallel()
	c := newClient(t, "USERS_MAX_PAGE_SIZE", "5", "USERS_DEFAULT_PAGE_SIZE", "2")
	seed(c, 6)
	page := c.list("")
	if len(page.Items) != 2 || page.NextCursor == nil {
		t.Errorf("default page: %d items, next %v; want 2 and a cursor", len(page.Items), page.NextCursor)
	}
	if page := c.list("limit=5"); len(page.Items) != 5 {
		t.Errorf("limit=5: %d items", len(page.Items))
	}
	data := apptest.ExpectError(t, c.do(http.MethodGet, base+"?limit=6", nil), http.StatusUnprocessableEntity, "validation_failed")
	if !apptest.HasField(data, "limit") || !strings.Contains(data.Fields[0].Message, "5") {
		t.Errorf("limit=6: fields %+v, want limit naming the cap 5", data.Fields)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	u := c.create("update@example.com", "Before")
	path := fmt.Sprintf("%s/%d", base, u.ID)

	renamed := c.patch(u.ID, map[string]any{"display_name": "After"})
	if renamed.DisplayName != "After" || renamed.Email != u.Email || renamed.Role != u.Role ||
		renamed.IsActive != u.IsActive || !renamed.CreatedAt.Equal(u.CreatedAt) || renamed.UpdatedAt.Before(u.UpdatedAt) {
		t.Errorf("after renaming: %+v, was %+v; only display_name (and updated_at) may change", renamed, u)
	}
	promoted := c.patch(u.ID, map[string]any{"role": "admin"})
	if promoted.Role != account.RoleAdmin || promoted.DisplayName != "After" || !promoted.IsActive {
		t.Errorf("after promoting: %+v", promoted)
	}
	// A merge patch: null for a NOT NULL column is refused, naming it.
	data := apptest.ExpectError(t, c.do(http.MethodPatch, path, map[string]any{"is_active": false, "display_name": nil}),
		http.StatusUnprocessableEntity, "validation_failed")
	if !apptest.HasField(data, "display_name") {
		t.Errorf("null display_name is not named: %+v", data)
	}
	off := c.patch(u.ID, map[string]any{"is_active": false})
	if off.IsActive || off.Role != account.RoleAdmin || off.DisplayName != "After" {
		t.Errorf("after deactivating: %+v", off)
	}
	on := c.patch(u.ID, map[string]any{"is_active": true, "role": "user", "display_name": "Again"})
	if !on.IsActive || on.Role != account.RoleUser || on.DisplayName != "Again" {
		t.Errorf("after changing everything: %+v", on)
	}
	if same := c.patch(u.ID, map[string]any{}); same != on {
		t.Errorf("empty update = %+v, want unchanged %+v", same, on)
	}
	// Fields that are not updatable are ignored.
	if same := c.patch(u.ID, map[string]any{"email": "other@example.com", "password": "a new password!", "id": 7}); same != on {
		t.Errorf("update of read-only fields = %+v, want unchanged %+v", same, on)
	}
	if got := apptest.Expect[users.User](t, c.do(http.MethodGet, path, nil), http.StatusOK).Data; got != on {
		t.Errorf("get after updates = %+v, want %+v", got, on)
	}

	apptest.ExpectError(t, c.do(http.MethodPatch, fmt.Sprintf("%s/%d", base, u.ID+1000), map[string]any{"display_name": "X"}), http.StatusNotFound, "user_not_found")
	apptest.ExpectError(t, c.do(http.MethodPatch, fmt.Sprintf("%s/%d", base, u.ID+1000), map[string]any{}), http.StatusNotFound, "user_not_found")
	for body, field := range map[string]string{
		`{"role": "root"}`:     "role",
		`{"role": ""}`:         "role",
		`{"display_name": ""}`: "display_name",
		`{"display_name": "` + strings.Repeat("n", 101) + `"}`: "display_name",
		`{"is_active": "no"}`: "is_active",
	} {
		data := apptest.ExpectError(t, c.do(http.MethodPatch, path, body), http.StatusUnprocessableEntity, "validation_failed")
		if !apptest.HasField(data, field) {
			t.Errorf("%s: fields %+v do not name %s", body, data.Fields, field)
		}
	}
	for _, id := range []string{"abc", "0"} {
		data := apptest.ExpectError(t, c.do(http.MethodPatch, base+"/"+id, map[string]any{}), http.StatusUnprocessableEntity, "validation_failed")
		if !apptest.HasField(data, "id") {
			t.Errorf("id %s: fields %+v do not name id", id, data.Fields)
		}
	}
	apptest.ExpectError(t, c.do(http.MethodPatch, path, `{"role":`), http.StatusBadRequest, "malformed_request")
	if got := apptest.Expect[users.User](t, c.do(http.MethodGet, path, nil), http.StatusOK).Data; got != on {
		t.Errorf("rejected updates changed the user: %+v, want %+v", got, on)
	}
}

func TestDeactivate(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	u := c.create("leaving@example.com", "Leaving")
	other := c.create("staying@example.com", "Staying")
	path := fmt.Sprintf("%s/%d/deactivate", base, u.ID)

	first := apptest.Expect[users.User](t, c.do(http.MethodPost, path, nil), http.StatusOK).Data
	if first.IsActive || first.Email != u.Email || first.DisplayName != u.DisplayName || first.Role != u.Role {
		t.Errorf("after deactivate: %+v, was %+v", first, u)
	}
	second := apptest.Expect[users.User](t, c.do(http.MethodPost, path, nil), http.StatusOK).Data
	if second != first {
		t.Errorf("second deactivate = %+v, want unchanged %+v", second, first)
	}
	if got := apptest.Expect[users.User](t, c.do(http.MethodGet, fmt.Sprintf("%s/%d", base, other.ID), nil), http.StatusOK).Data; got != other {
		t.Errorf("deactivating one user changed another: %+v", got)
	}
	if page := c.list("is_active=false&total=true"); *page.Total != 1 || page.Items[0].ID != u.ID {
		t.Errorf("inactive users: %+v", page)
	}

	apptest.ExpectError(t, c.do(http.MethodPost, fmt.Sprintf("%s/%d/deactivate", base, u.ID+1000), nil), http.StatusNotFound, "user_not_found")
	data := apptest.ExpectError(t, c.do(http.MethodPost, base+"/x/deactivate", nil), http.StatusUnprocessableEntity, "validation_failed")
	if !apptest.HasField(data, "id") {
		t.Errorf("non-integer id: fields %+v do not name id", data.Fields)
	}
}

func TestPasswordNeverLeaves(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	const secret = "Tr0ub4dor&3-unique-secret"
	r := c.do(http.MethodPost, base, map[string]any{"email": "secret@example.com", "display_name": "Secret", "password": secret})
	u := apptest.Expect[users.User](t, r, http.StatusCreated).Data
	path := fmt.Sprintf("%s/%d", base, u.ID)

	var hash string
	if err := c.srv.App.Pool().QueryRow(t.Context(), "SELECT password_hash FROM users WHERE id = $1", u.ID).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=1024,t=1,p=1$") || strings.Contains(hash, secret) {
		t.Fatalf("stored hash %q: want an argon2id PHC string with the configured parameters", hash)
	}

	responses := []*apptest.Response{
		r,
		c.do(http.MethodGet, path, nil),
		c.do(http.MethodGet, base+"/by-email?email=secret%40example.com", nil),
		c.do(http.MethodGet, base+"?total=true", nil),
		c.do(http.MethodPatch, path, map[string]any{"display_name": "Still secret"}),
		c.do(http.MethodPost, path+"/deactivate", nil),
		c.do(http.MethodPost, base, map[string]any{"email": "SECRET@example.com", "display_name": "Dup", "password": secret}),
		c.do(http.MethodPost, base, map[string]any{"email": "bad", "display_name": "Bad", "password": secret}),
	}
	for i, resp := range responses {
		for _, leak := range []string{secret, hash, "argon2", "password_hash"} {
			if bytes.Contains(resp.Body, []byte(leak)) {
				t.Errorf("response %d (status %d) contains %q:\n%s", i, resp.Status, leak, resp.Body)
			}
		}
		// A success body must not mention passwords at all, not even as a key.
		if resp.Status < 300 && bytes.Contains(bytes.ToLower(resp.Body), []byte("password")) {
			t.Errorf("response %d (status %d) mentions a password:\n%s", i, resp.Status, resp.Body)
		}
	}
	logs := c.srv.Logs.String()
	for _, leak := range []string{secret, hash, "argon2"} {
		if strings.Contains(logs, leak) {
			t.Errorf("the logs contain %q", leak)
		}
	}
}
