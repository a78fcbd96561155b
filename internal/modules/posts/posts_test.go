package posts_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/modules/posts"
	"github.com/quarrydev/quarry/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// seedUser inserts a user straight into the database and returns its id.
func seedUser(t *testing.T, url, email string) int64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var id int64
	if err := conn.QueryRow(ctx, `INSERT INTO users (email, display_name, password_hash) VALUES ($1, 'T', 'x') RETURNING id`, email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func createPost(t *testing.T, srv *apptest.Server, author int64, title, status string) posts.Post {
	t.Helper()
	r := srv.Do(http.MethodPost, "/api/v1/posts", map[string]any{"author_id": author, "title": title, "body": "b", "status": status})
	return apptest.Expect[posts.Post](t, r, http.StatusCreated).Data
}

func TestCreateGetUpdateDelete(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	author := seedUser(t, srv.DatabaseURL, "a@example.com")

	r := srv.Do(http.MethodPost, "/api/v1/posts", map[string]any{"author_id": author, "title": "Hello", "body": "World"})
	created := apptest.Expect[posts.Post](t, r, http.StatusCreated)
	if created.Code != "ok" || created.Data.Title != "Hello" || created.Data.Status != "draft" || created.Data.AuthorID != author || created.Data.ID == 0 {
		t.Fatalf("created: %+v", created)
	}
	id := created.Data.ID

	got := apptest.Expect[posts.Post](t, srv.Do(http.MethodGet, fmt.Sprintf("/api/v1/posts/%d", id), nil), http.StatusOK).Data
	if got != created.Data {
		t.Fatalf("get: %+v, want %+v", got, created.Data)
	}

	upd := apptest.Expect[posts.Post](t, srv.Do(http.MethodPatch, fmt.Sprintf("/api/v1/posts/%d", id), map[string]any{"status": "published"}), http.StatusOK).Data
	if upd.Status != "published" || upd.Title != "Hello" || upd.Body != "World" || !upd.UpdatedAt.After(created.Data.UpdatedAt) {
		t.Fatalf("partial update must change only status: %+v", upd)
	}
	same := apptest.Expect[posts.Post](t, srv.Do(http.MethodPatch, fmt.Sprintf("/api/v1/posts/%d", id), map[string]any{}), http.StatusOK).Data
	if same != upd {
		t.Fatalf("empty update must change nothing: %+v", same)
	}

	apptest.Expect[any](t, srv.Do(http.MethodDelete, fmt.Sprintf("/api/v1/posts/%d", id), nil), http.StatusNoContent)
	apptest.ExpectError(t, srv.Do(http.MethodDelete, fmt.Sprintf("/api/v1/posts/%d", id), nil), http.StatusNotFound, "post_not_found")
	apptest.ExpectError(t, srv.Do(http.MethodGet, fmt.Sprintf("/api/v1/posts/%d", id), nil), http.StatusNotFound, "post_not_found")
	apptest.ExpectError(t, srv.Do(http.MethodPatch, fmt.Sprintf("/api/v1/posts/%d", id), map[string]any{"title": "x"}), http.StatusNotFound, "post_not_found")
}

func TestValidationAndMalformedInput(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	author := seedUser(t, srv.DatabaseURL, "v@example.com")

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
		{"missing title", http.MethodPost, "/api/v1/posts", map[string]any{"author_id": author}, 422, "validation_failed", []string{"title"}},
		{"missing everything", http.MethodPost, "/api/v1/posts", map[string]any{}, 422, "validation_failed", []string{"title", "author_id"}},
		{"wrong type", http.MethodPost, "/api/v1/posts", `{"author_id": 1, "title": 7}`, 422, "validation_failed", []string{"title"}},
		{"bad status", http.MethodPost, "/api/v1/posts", map[string]any{"author_id": author, "title": "t", "status": "secret"}, 422, "validation_failed", []string{"status"}},
		{"title too long", http.MethodPost, "/api/v1/posts", map[string]any{"author_id": author, "title": strings.Repeat("x", 201)}, 422, "validation_failed", []string{"title"}},
		{"unknown author", http.MethodPost, "/api/v1/posts", map[string]any{"author_id": author + 1000, "title": "t"}, 422, "validation_failed", []string{"author_id"}},
		{"empty title on update", http.MethodPatch, "/api/v1/posts/1", map[string]any{"title": ""}, 422, "validation_failed", []string{"title"}},
		{"non-integer id", http.MethodGet, "/api/v1/posts/abc", nil, 422, "validation_failed", []string{"id"}},
		{"zero id", http.MethodGet, "/api/v1/posts/0", nil, 422, "validation_failed", []string{"id"}},
		{"bad limit", http.MethodGet, "/api/v1/posts?limit=x", nil, 422, "validation_failed", []string{"limit"}},
		{"limit over cap", http.MethodGet, "/api/v1/posts?limit=101", nil, 422, "validation_failed", []string{"limit"}},
		{"bad sort", http.MethodGet, "/api/v1/posts?sort=title", nil, 422, "validation_failed", []string{"sort"}},
		{"bulk empty", http.MethodPost, "/api/v1/posts/bulk", map[string]any{"items": []any{}}, 422, "validation_failed", []string{"items"}},
		{"bulk bad item", http.MethodPost, "/api/v1/posts/bulk", map[string]any{"items": []any{map[string]any{"author_id": author, "title": "ok"}, map[string]any{"author_id": author}}}, 422, "validation_failed", []string{"items[1].title"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := apptest.ExpectError(t, srv.Do(tc.method, tc.path, tc.body), tc.status, tc.code)
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
	a := seedUser(t, srv.DatabaseURL, "a@example.com")
	b := seedUser(t, srv.DatabaseURL, "b@example.com")
	var all []posts.Post
	for i := range 7 {
		author, status := a, "published"
		if i%3 == 0 {
			author, status = b, "draft"
		}
		all = append(all, createPost(t, srv, author, fmt.Sprintf("p%d", i), status))
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
		{"author_id=" + fmt.Sprint(a), func() []int64 {
			return reverse(ids(all, func(p posts.Post) bool { return p.AuthorID == a }))
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
				page := apptest.Expect[posts.PostList](t, srv.Do(http.MethodGet, path, nil), http.StatusOK).Data
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
	apptest.ExpectError(t, srv.Do(http.MethodGet, "/api/v1/posts?sort=id&status=draft&cursor="+cur, nil), http.StatusBadRequest, "invalid_cursor")
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
	a := seedUser(t, srv.DatabaseURL, "bulk@example.com")
	item := func(title string) map[string]any { return map[string]any{"author_id": a, "title": title} }

	res := apptest.Expect[posts.BulkCreateResult](t, srv.Do(http.MethodPost, "/api/v1/posts/bulk", map[string]any{"items": []any{item("a"), item("b")}}), http.StatusCreated).Data
	if res.Created != 2 {
		t.Fatalf("created %d", res.Created)
	}
	data := apptest.ExpectError(t, srv.Do(http.MethodPost, "/api/v1/posts/bulk", map[string]any{"items": []any{item("a"), item("b"), item("c"), item("d")}}), http.StatusUnprocessableEntity, "validation_failed")
	if !apptest.HasField(data, "items") {
		t.Fatalf("over the bulk cap must name items: %+v", data)
	}
	// One bad author rolls the whole batch back.
	bad := map[string]any{"author_id": a + 999, "title": "x"}
	apptest.ExpectError(t, srv.Do(http.MethodPost, "/api/v1/posts/bulk", map[string]any{"items": []any{item("c"), bad}}), http.StatusUnprocessableEntity, "validation_failed")
	page := apptest.Expect[posts.PostList](t, srv.Do(http.MethodGet, "/api/v1/posts?total=true", nil), http.StatusOK).Data
	if *page.Total != 2 {
		t.Fatalf("a failed bulk create must insert nothing: total %d", *page.Total)
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
