package audit_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/modules/audit"
	"github.com/quarrydev/quarry/internal/modules/posts"
	"github.com/quarrydev/quarry/internal/modules/users"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const base = "/api/v1/audit"

// fixture is an application with some history: an admin, a user, and what they did.
type fixture struct {
	t          *testing.T
	srv        *apptest.Server
	admin, bob int64
	adminAuth  []string
	bobAuth    []string
	posts      []posts.Post
	carol      users.User
}

func newFixture(t *testing.T, env map[string]string) *fixture {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	env["PASSWORD_MEMORY_KIB"], env["PASSWORD_ITERATIONS"] = "1024", "1"
	f := &fixture{t: t, srv: apptest.New(t, apptest.Options{Env: env})}
	f.admin = f.srv.SeedUser(t, "root@example.com", "admin")
	f.bob = f.srv.SeedUser(t, "bob@example.com", "user")
	f.adminAuth, f.bobAuth = f.srv.Bearer(t, f.admin), f.srv.Bearer(t, f.bob)
	for i := range 5 {
		r := f.srv.Do(http.MethodPost, "/api/v1/posts", map[string]any{"title": fmt.Sprintf("post %d", i)}, f.bobAuth...)
		f.posts = append(f.posts, apptest.Expect[posts.Post](t, r, http.StatusCreated).Data)
	}
	r := f.srv.Do(http.MethodPatch, fmt.Sprintf("/api/v1/posts/%d", f.posts[0].ID), map[string]any{"title": "renamed"}, f.adminAuth...)
	apptest.Expect[posts.Post](t, r, http.StatusOK)
	r = f.srv.Do(http.MethodPost, "/api/v1/users", map[string]any{"email": "carol@example.com", "display_name": "Carol", "password": "correct horse battery"}, f.adminAuth...)
	f.carol = apptest.Expect[users.User](t, r, http.StatusCreated).Data
	return f
}

// list gets one page as the admin.
func (f *fixture) list(query url.Values) audit.EventList {
	f.t.Helper()
	r := f.srv.Do(http.MethodGet, base+"?"+query.Encode(), nil, f.adminAuth...)
	return apptest.Expect[audit.EventList](f.t, r, http.StatusOK).Data
}

// all pages through the list with limit and returns the ids in order.
func (f *fixture) all(query url.Values, limit int) []int64 {
	f.t.Helper()
	query.Set("limit", fmt.Sprint(limit))
	var ids []int64
	for range 100 {
		page := f.list(query)
		if len(page.Items) > limit {
			f.t.Fatalf("page of %d items, limit %d", len(page.Items), limit)
		}
		for _, e := range page.Items {
			ids = append(ids, e.ID)
		}
		if page.NextCursor == nil {
			return ids
		}
		query.Set("cursor", *page.NextCursor)
	}
	f.t.Fatal("paging does not end")
	return nil
}

func ids(events []audit.Event, keep func(audit.Event) bool) []int64 {
	var out []int64
	for _, e := range events {
		if keep(e) {
			out = append(out, e.ID)
		}
	}
	return out
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	everything := f.list(url.Values{}).Items
	if len(everything) != 7 {
		t.Fatalf("want 7 events (5 creates, 1 update, 1 user), got %d", len(everything))
	}
	for i, e := range everything {
		if i > 0 {
			prev := everything[i-1]
			if e.OccurredAt.After(prev.OccurredAt) || (e.OccurredAt.Equal(prev.OccurredAt) && e.ID > prev.ID) {
				t.Fatalf("not newest first at %d: %+v after %+v", i, e, prev)
			}
		}
		if e.RequestID == nil || e.ClientIP == nil || *e.ClientIP != "192.0.2.1" || e.Outcome != "success" || e.ActorID == nil {
			t.Fatalf("event %d lacks its request: %+v", e.ID, e)
		}
	}
	newest := everything[0]
	if newest.Action != "user.create" || newest.ResourceType != "user" || *newest.ResourceID != fmt.Sprint(f.carol.ID) ||
		*newest.ActorID != f.admin || string(newest.Before) != "null" {
		t.Fatalf("newest event: %+v", newest)
	}
	for _, secret := range []string{"correct horse", "argon2"} {
		if slices.ContainsFunc(everything, func(e audit.Event) bool { return contains(e.After, secret) }) {
			t.Fatalf("%q reached the audit API", secret)
		}
	}

	// Paging through gives the same list, whatever the page size.
	all := ids(everything, func(audit.Event) bool { return true })
	for _, limit := range []int{1, 2, 3, 7, 50} {
		if got := f.all(url.Values{}, limit); !slices.Equal(got, all) {
			t.Fatalf("limit %d: %v, want %v", limit, got, all)
		}
	}

	postID := fmt.Sprint(f.posts[0].ID)
	split := everything[3].OccurredAt // the time range splits the list
	for name, c := range map[string]struct {
		query url.Values
		keep  func(audit.Event) bool
	}{
		"actor":    {url.Values{"actor_id": {fmt.Sprint(f.bob)}}, func(e audit.Event) bool { return *e.ActorID == f.bob }},
		"action":   {url.Values{"action": {"post.update"}}, func(e audit.Event) bool { return e.Action == "post.update" }},
		"type":     {url.Values{"resource_type": {"post"}}, func(e audit.Event) bool { return e.ResourceType == "post" }},
		"resource": {url.Values{"resource_type": {"post"}, "resource_id": {postID}}, func(e audit.Event) bool { return e.ResourceType == "post" && *e.ResourceID == postID }},
		"from":     {url.Values{"from": {split.Format(time.RFC3339Nano)}}, func(e audit.Event) bool { return !e.OccurredAt.Before(split) }},
		"to":       {url.Values{"to": {split.Format(time.RFC3339Nano)}}, func(e audit.Event) bool { return e.OccurredAt.Before(split) }},
		"combined": {url.Values{"actor_id": {fmt.Sprint(f.bob)}, "action": {"post.create"}, "to": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}},
			func(e audit.Event) bool { return *e.ActorID == f.bob && e.Action == "post.create" }},
		"nothing": {url.Values{"actor_id": {"999999"}}, func(audit.Event) bool { return false }},
	} {
		want := ids(everything, c.keep)
		if got := f.all(c.query, 2); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if got := len(ids(everything, func(e audit.Event) bool { return e.Action == "post.update" })); got != 1 {
		t.Fatalf("want one post.update, got %d", got)
	}

	// A cursor belongs to its filters.
	page := f.list(url.Values{"limit": {"2"}, "resource_type": {"post"}})
	r := f.srv.Do(http.MethodGet, base+"?"+url.Values{"limit": {"2"}, "resource_type": {"user"}, "cursor": {*page.NextCursor}}.Encode(), nil, f.adminAuth...)
	apptest.ExpectError(t, r, http.StatusBadRequest, "invalid_cursor")
	apptest.ExpectError(t, f.srv.Do(http.MethodGet, base+"?cursor=forged", nil, f.adminAuth...), http.StatusBadRequest, "invalid_cursor")
}

func contains(raw []byte, s string) bool { return strings.Contains(string(raw), s) }

func TestListRejectsBadQueries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, map[string]string{"AUDIT_MAX_PAGE_SIZE": "3", "AUDIT_DEFAULT_PAGE_SIZE": "2"})
	if page := f.list(url.Values{}); len(page.Items) != 2 || page.NextCursor == nil {
		t.Fatalf("default page size: %d items", len(page.Items))
	}
	for query, field := range map[string]string{
		"limit=4":                 "limit",
		"resource_id=1":           "resource_id",
		"from=yesterday":          "from",
		"to=2026-13-01T00:00:00Z": "to",
		"from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z": "to",
		"actor_id=abc": "actor_id",
		"actor_id=0":   "actor_id",
	} {
		data := apptest.ExpectError(t, f.srv.Do(http.MethodGet, base+"?"+query, nil, f.adminAuth...), http.StatusUnprocessableEntity, "validation_failed")
		if !apptest.HasField(data, field) {
			t.Errorf("%s: fields %+v do not name %s", query, data.Fields, field)
		}
	}
}

func TestOnlyAdminsRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	apptest.ExpectError(t, f.srv.Do(http.MethodGet, base, nil), http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectError(t, f.srv.Do(http.MethodGet, base, nil, f.bobAuth...), http.StatusForbidden, "forbidden")
	apptest.ExpectError(t, f.srv.Do(http.MethodGet, base, nil, "Authorization", "Bearer forged"), http.StatusUnauthorized, "unauthenticated")
}

// Disabling the module removes the read API only: every write is still recorded.
func TestWritesAreAuditedWithTheModuleDisabled(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{Env: map[string]string{"ENABLED_MODULES": "posts,users,auth"}})
	bob := srv.SeedUser(t, "bob@example.com", "user")
	admin := srv.SeedUser(t, "root@example.com", "admin")
	apptest.ExpectError(t, srv.Do(http.MethodGet, base, nil, srv.Bearer(t, admin)...), http.StatusNotFound, "route_not_found")

	p := apptest.Expect[posts.Post](t, srv.Do(http.MethodPost, "/api/v1/posts", map[string]any{"title": "still audited"}, srv.Bearer(t, bob)...), http.StatusCreated).Data
	var action, resource string
	var actor int64
	err := srv.App.Pool().QueryRow(context.Background(),
		`SELECT action, resource_id, actor_id FROM audit_events WHERE resource_type = 'post'`).Scan(&action, &resource, &actor)
	if err != nil || action != "post.create" || resource != fmt.Sprint(p.ID) || actor != bob {
		t.Fatalf("audit event of the post: %s %s %d %v", action, resource, actor, err)
	}
}
