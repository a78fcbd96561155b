package posts_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/modules/posts"
)

func createPost(t *testing.T, a *apptest.Client, title, status string) posts.Post {
	t.Helper()
	r := a.Do(http.MethodPost, "/api/v1/posts", map[string]any{"title": title, "body": "b", "status": status})
	return apptest.Expect[posts.Post](t, r, http.StatusCreated).Data
}

func TestCreateGetUpdateDelete(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	a := srv.SignIn(t, "a@example.com", "user")

	// author_id in the body is ignored: the caller is the author.
	r := a.Do(http.MethodPost, "/api/v1/posts", map[string]any{"author_id": a.ID + 99, "title": "Hello", "body": "World"})
	created := apptest.Expect[posts.Post](t, r, http.StatusCreated)
	if created.Code != "ok" || created.Data.Title != "Hello" || created.Data.Status != "draft" || created.Data.AuthorID != a.ID || created.Data.ID == 0 {
		t.Fatalf("created: %+v", created)
	}
	id := created.Data.ID
	path := fmt.Sprintf("/api/v1/posts/%d", id)

	got := apptest.Expect[posts.Post](t, a.Do(http.MethodGet, path, nil), http.StatusOK).Data
	if got != created.Data {
		t.Fatalf("get: %+v, want %+v", got, created.Data)
	}
	upd := apptest.Expect[posts.Post](t, a.Do(http.MethodPatch, path, map[string]any{"status": "published"}), http.StatusOK).Data
	if upd.Status != "published" || upd.Title != "Hello" || upd.Body != "World" || !upd.UpdatedAt.After(created.Data.UpdatedAt) {
		t.Fatalf("partial update must change only status: %+v", upd)
	}
	same := apptest.Expect[posts.Post](t, a.Do(http.MethodPatch, path, map[string]any{"author_id": a.ID + 1}), http.StatusOK).Data
	if same != upd {
		t.Fatalf("an update without updatable fields must change nothing: %+v", same)
	}
	// A body id never redirects the update.
	other := createPost(t, a, "other", "draft")
	apptest.Expect[posts.Post](t, a.Do(http.MethodPatch, fmt.Sprintf("/api/v1/posts/%d", other.ID), map[string]any{"id": id, "title": "renamed"}), http.StatusOK)
	if got := apptest.Expect[posts.Post](t, a.Do(http.MethodGet, path, nil), http.StatusOK).Data; got.Title != "Hello" {
		t.Fatalf("body id redirected the update: %+v", got)
	}

	apptest.Expect[any](t, a.Do(http.MethodDelete, path, nil), http.StatusNoContent)
	apptest.ExpectError(t, a.Do(http.MethodDelete, path, nil), http.StatusNotFound, "post_not_found")
	apptest.ExpectError(t, a.Do(http.MethodGet, path, nil), http.StatusNotFound, "post_not_found")
	apptest.ExpectError(t, a.Do(http.MethodPatch, path, map[string]any{"title": "x"}), http.StatusNotFound, "post_not_found")
}

func TestAuthorization(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	a := srv.SignIn(t, "a@example.com", "user")
	b := srv.SignIn(t, "b@example.com", "user")
	admin := srv.SignIn(t, "root@example.com", "admin")
	anon := srv.Anonymous()

	published := createPost(t, a, "public", "published")
	draft := createPost(t, a, "secret draft", "draft")
	pubPath, draftPath := fmt.Sprintf("/api/v1/posts/%d", published.ID), fmt.Sprintf("/api/v1/posts/%d", draft.ID)

	// Writing needs a signed-in caller.
	apptest.ExpectError(t, anon.Do(http.MethodPost, "/api/v1/posts", map[string]any{"title": "x"}), http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectError(t, anon.Do(http.MethodPost, "/api/v1/posts/bulk", map[string]any{"items": []any{map[string]any{"title": "x"}}}), http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectError(t, anon.Do(http.MethodPatch, pubPath, map[string]any{"title": "x"}), http.StatusUnauthorized, "unauthenticated")
	apptest.ExpectError(t, anon.Do(http.MethodDelete, pubPath, nil), http.StatusUnauthorized, "unauthenticated")

	// B may neither change nor delete A's posts, and learns nothing of them.
	for _, r := range []*apptest.Response{
		b.Do(http.MethodPatch, pubPath, map[string]any{"title": "hijacked"}),
		b.Do(http.MethodDelete, pubPath, nil),
	} {
		apptest.ExpectError(t, r, http.StatusForbidden, "not_post_author")
		if strings.Contains(string(r.Body), "public") || strings.Contains(string(r.Body), "author_id") {
			t.Fatalf("a refusal must not carry the post: %s", r.Body)
		}
	}
	for _, r := range []*apptest.Response{
		b.Do(http.MethodPatch, draftPath, map[string]any{"title": "hijacked"}),
		b.Do(http.MethodDelete, draftPath, nil),
		b.Do(http.MethodGet, draftPath, nil),
		anon.Do(http.MethodGet, draftPath, nil),
	} {
		apptest.ExpectError(t, r, http.StatusNotFound, "post_not_found")
		if strings.Contains(string(r.Body), "secret") {
			t.Fatalf("a refusal must not carry the post: %s", r.Body)
		}
	}
	if got := apptest.Expect[posts.Post](t, a.Do(http.MethodGet, pubPath, nil), http.StatusOK).Data; got != published {
		t.Fatalf("refused writes changed the post: %+v", got)
	}

	// Reading: published posts are public, drafts for their author and admins.
	apptest.Expect[posts.Post](t, anon.Do(http.MethodGet, pubPath, nil), http.StatusOK)
	apptest.Expect[posts.Post](t, a.Do(http.MethodGet, draftPath, nil), http.StatusOK)
	apptest.Expect[posts.Post](t, admin.Do(http.MethodGet, draftPath, nil), http.StatusOK)
	for _, tc := range []struct {
		who   *apptest.Client
		query string
		want  int
	}{
		{anon, "", 1}, {b, "", 1}, {anon, "status=draft", 0}, {b, fmt.Sprintf("author_id=%d&status=draft", a.ID), 0},
		{a, fmt.Sprintf("author_id=%d", a.ID), 2}, {a, "", 1}, {admin, "", 2}, {admin, "status=draft", 1},
	} {
		page := apptest.Expect[posts.PostList](t, tc.who.Do(http.MethodGet, "/api/v1/posts?"+tc.query, nil), http.StatusOK).Data
		if len(page.Items) != tc.want {
			t.Errorf("user %d listing %q: %d posts, want %d", tc.who.ID, tc.query, len(page.Items), tc.want)
		}
	}

	// Asking for others' drafts is validated like any list and answers an empty page.
	empty := apptest.Expect[posts.PostList](t, anon.Do(http.MethodGet, "/api/v1/posts?status=draft&total=true", nil), http.StatusOK).Data
	if len(empty.Items) != 0 || empty.Total == nil || *empty.Total != 0 {
		t.Errorf("others' drafts: %+v", empty)
	}
	apptest.ExpectError(t, anon.Do(http.MethodGet, "/api/v1/posts?status=draft&limit=1000", nil), http.StatusUnprocessableEntity, "validation_failed")
	apptest.ExpectError(t, anon.Do(http.MethodGet, "/api/v1/posts?status=draft&cursor=forged", nil), http.StatusBadRequest, "invalid_cursor")

	// An admin may change and delete anyone's post; the author their own.
	apptest.Expect[posts.Post](t, admin.Do(http.MethodPatch, pubPath, map[string]any{"title": "moderated"}), http.StatusOK)
	apptest.Expect[any](t, a.Do(http.MethodDelete, draftPath, nil), http.StatusNoContent)
	apptest.Expect[any](t, admin.Do(http.MethodDelete, pubPath, nil), http.StatusNoContent)

	// A token that does not verify is refused even where reading is public.
	apptest.ExpectError(t, srv.Do(http.MethodGet, "/api/v1/posts", nil, "Authorization", "Bearer nonsense"), http.StatusUnauthorized, "unauthenticated")
}

func TestValidationAndMalformedInput(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	a := srv.SignIn(t, "v@example.com", "user")
	mine := fmt.Sprintf("/api/v1/posts/%d", createPost(t, a, "mine", "draft").ID)

	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
		fields []string
	}{
		{"broken json", http.MethodPost, "/api/v1/posts", `{"title":`, 400, "malformed_request", nil},
		{"no body", http.MethodPost, "/api/v1/posts", nil, 400, "body_required", nil},
		{"missing title", http.MethodPost, "/api/v1/posts", map[string]any{"body": "b"}, 422, "validation_failed", []string{"title"}},
		{"wrong type", http.MethodPost, "/api/v1/posts", `{"title": 7}`, 422, "validation_failed", []string{"title"}},
		{"NUL character", http.MethodPost, "/api/v1/posts", `{"title": "a\u0000b"}`, 422, "validation_failed", nil},
		{"bad status", http.MethodPost, "/api/v1/posts", map[string]any{"title": "t", "status": "secret"}, 422, "validation_failed", []string{"status"}},
		{"title too long", http.MethodPost, "/api/v1/posts", map[string]any{"title": strings.Repeat("x", 201)}, 422, "validation_failed", []string{"title"}},
		{"empty title on update", http.MethodPatch, mine, map[string]any{"title": ""}, 422, "validation_failed", []string{"title"}},
		{"non-integer id", http.MethodGet, "/api/v1/posts/abc", nil, 422, "validation_failed", []string{"id"}},
		{"zero id", http.MethodGet, "/api/v1/posts/0", nil, 422, "validation_failed", []string{"id"}},
		{"bad limit", http.MethodGet, "/api/v1/posts?limit=x", nil, 422, "validation_failed", []string{"limit"}},
		{"limit over cap", http.MethodGet, "/api/v1/posts?limit=101", nil, 422, "validation_failed", []string{"limit"}},
		{"bad sort", http.MethodGet, "/api/v1/posts?sort=title", nil, 422, "validation_failed", []string{"sort"}},
		{"bulk empty", http.MethodPost, "/api/v1/posts/bulk", map[string]any{"items": []any{}}, 422, "validation_failed", []string{"items"}},
		{"bulk bad item", http.MethodPost, "/api/v1/posts/bulk", map[string]any{"items": []any{map[string]any{"title": "ok"}, map[string]any{"body": "no title"}}}, 422, "validation_failed", []string{"items[1].title"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := apptest.ExpectError(t, a.Do(tc.method, tc.path, tc.body), tc.status, tc.code)
			for _, f := range tc.fields {
				if !apptest.HasField(data, f) {
					t.Errorf("field %q not named in %+v", f, data.Fields)
				}
			}
		})
	}
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{Env: map[string]string{"POSTS_MAX_PAGE_SIZE": "5", "POSTS_DEFAULT_PAGE_SIZE": "2"}})
	a := srv.SignIn(t, "a@example.com", "user")
	b := srv.SignIn(t, "b@example.com", "user")
	admin := srv.SignIn(t, "admin@example.com", "admin")
	var all []posts.Post
	for i := range 7 {
		author, status := a, "published"
		if i%3 == 0 {
			author, status = b, "draft"
		}
		all = append(all, createPost(t, author, fmt.Sprintf("p%d", i), status))
	}

	// Walk every page of each sort and compare with the expected order.
	for _, tc := range []struct {
		query string
		want  func() []int64
	}{
		{"sort=id", func() []int64 { return ids(all, nil) }},
		{"sort=-id", func() []int64 { return reverse(ids(all, nil)) }},
		{"sort=created_at", func() []int64 { return ids(all, nil) }},
		{"", func() []int64 { return reverse(ids(all, nil)) }},
		{"author_id=" + fmt.Sprint(a.ID), func() []int64 {
			return reverse(ids(all, func(p posts.Post) bool { return p.AuthorID == a.ID }))
		}},
		{"status=draft&sort=id", func() []int64 {
			return ids(all, func(p posts.Post) bool { return p.Status == "draft" })
		}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var got []int64
			cursor, pages := "", 0
			for {
				path := "/api/v1/posts?" + tc.query
				if cursor != "" {
					path += "&cursor=" + cursor
				}
				page := apptest.Expect[posts.PostList](t, admin.Do(http.MethodGet, path, nil), http.StatusOK).Data
				pages++
				if len(page.Items) > 2 {
					t.Fatalf("default page size 2 exceeded: %d", len(page.Items))
				}
				for _, p := range page.Items {
					got = append(got, p.ID)
				}
				if page.NextCursor == nil {
					break
				}
				cursor = *page.NextCursor
				if pages > 10 {
					t.Fatal("pagination does not end")
				}
			}
			if want := tc.want(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("order %v, want %v", got, want)
			}
		})
	}

	// Total count and limit.
	page := apptest.Expect[posts.PostList](t, srv.Do(http.MethodGet, "/api/v1/posts?limit=5&total=true&status=published", nil), http.StatusOK).Data
	if page.Total == nil || *page.Total != 4 || len(page.Items) != 4 || page.NextCursor != nil {
		t.Fatalf("total: %+v", page)
	}

	// A cursor is bound to its sort and filters, and tampering is detected.
	first := apptest.Expect[posts.PostList](t, srv.Do(http.MethodGet, "/api/v1/posts?sort=id", nil), http.StatusOK).Data
	cur := *first.NextCursor
	apptest.ExpectError(t, srv.Do(http.MethodGet, "/api/v1/posts?sort=-id&cursor="+cur, nil), http.StatusBadRequest, "invalid_cursor")
	apptest.ExpectError(t, srv.Do(http.MethodGet, fmt.Sprintf("/api/v1/posts?sort=id&author_id=%d&cursor=%s", a.ID, cur), nil), http.StatusBadRequest, "invalid_cursor")
	tampered := []byte(cur)
	tampered[len(tampered)/2] ^= 1
	if tampered[len(tampered)/2] == '-' || tampered[len(tampered)/2] == '_' {
		tampered[len(tampered)/2] = 'A'
	}
	apptest.ExpectError(t, srv.Do(http.MethodGet, "/api/v1/posts?sort=id&cursor="+string(tampered), nil), http.StatusBadRequest, "invalid_cursor")
	apptest.ExpectError(t, srv.Do(http.MethodGet, "/api/v1/posts?cursor=not-a-cursor", nil), http.StatusBadRequest, "invalid_cursor")
}

func TestBulkCreate(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{Env: map[string]string{"POSTS_MAX_BULK": "3"}})
	a := srv.SignIn(t, "bulk@example.com", "user")
	item := func(title string) map[string]any { return map[string]any{"title": title, "author_id": 12345} }

	res := apptest.Expect[posts.BulkCreatePostsResult](t, a.Do(http.MethodPost, "/api/v1/posts/bulk", map[string]any{"items": []any{item("a"), item("b")}}), http.StatusCreated).Data
	if res.Created != 2 {
		t.Fatalf("created %d", res.Created)
	}
	data := apptest.ExpectError(t, a.Do(http.MethodPost, "/api/v1/posts/bulk", map[string]any{"items": []any{item("a"), item("b"), item("c"), item("d")}}), http.StatusUnprocessableEntity, "validation_failed")
	if !apptest.HasField(data, "items") {
		t.Fatalf("over the bulk cap must name items: %+v", data)
	}
	page := apptest.Expect[posts.PostList](t, a.Do(http.MethodGet, fmt.Sprintf("/api/v1/posts?total=true&author_id=%d", a.ID), nil), http.StatusOK).Data
	if *page.Total != 2 {
		t.Fatalf("a refused bulk create must insert nothing: total %d", *page.Total)
	}
	for _, p := range page.Items {
		if p.AuthorID != a.ID {
			t.Fatalf("bulk posts belong to the caller: %+v", p)
		}
	}
}

// A failing row rolls the whole COPY back.
func TestBulkCreateIsAllOrNothing(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	a := srv.SeedUser(t, "copy@example.com", "user")
	svc := posts.NewService(srv.App.Store(), nil, &posts.Config{MaxBulk: 10}, nil)
	if _, err := svc.BulkCreate(context.Background(), a+999, &posts.BulkCreatePostsRequest{Items: []posts.CreatePostRequest{{Title: "orphan"}}}); !errors.Is(err, posts.ErrAuthorNotFound) {
		t.Fatalf("want ErrAuthorNotFound, got %v", err)
	}
	// The second row breaks posts_title_check: the first is not kept either.
	if _, err := svc.BulkCreate(context.Background(), a, &posts.BulkCreatePostsRequest{Items: []posts.CreatePostRequest{{Title: "ok"}, {Title: ""}}}); err == nil {
		t.Fatal("a COPY with an invalid row succeeded")
	}
	var n int64
	if err := srv.App.Pool().QueryRow(context.Background(), "SELECT count(*) FROM posts").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows after a failed COPY: %d %v", n, err)
	}
}

func ids(ps []posts.Post, keep func(posts.Post) bool) []int64 {
	var out []int64
	for _, p := range ps {
		if keep == nil || keep(p) {
			out = append(out, p.ID)
		}
	}
	return out
}

func reverse(s []int64) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

// genAdjust makes the generated tests' posts published: drafts are hidden from
// everyone but their author and admins (tested above).
func genAdjust(body map[string]any) { body["status"] = posts.StatusPublished }
