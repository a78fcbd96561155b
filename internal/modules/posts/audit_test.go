package posts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/quarrydev/quarry/internal/app/apptest"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/reqctx"
	"github.com/quarrydev/quarry/internal/db/sqlc"
	"github.com/quarrydev/quarry/internal/modules/posts"
)

// auditOf returns the audit events of resource type post, newest first.
func auditOf(t *testing.T, srv *apptest.Server) []sqlc.AuditEvent {
	t.Helper()
	postType := "post"
	rows, err := sqlc.New(srv.App.Pool()).ListAuditEvents(context.Background(), sqlc.ListAuditEventsParams{ResourceType: &postType, PageLimit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// state decodes a before or after column into a post; nil for NULL.
func state(t *testing.T, raw []byte) *posts.Post {
	t.Helper()
	if raw == nil {
		return nil
	}
	var p posts.Post
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("audit state %s: %v", raw, err)
	}
	return &p
}

func checkEvent(t *testing.T, e sqlc.AuditEvent, action string, actor int64, resourceID, requestID string) {
	t.Helper()
	switch {
	case e.Action != action || e.ResourceType != "post" || e.Outcome != "success":
		t.Fatalf("event %d: %s %s %s, want %s post success", e.ID, e.Action, e.ResourceType, e.Outcome, action)
	case e.ActorID == nil || *e.ActorID != actor:
		t.Fatalf("%s: actor %v, want %d", action, e.ActorID, actor)
	case (resourceID == "") != (e.ResourceID == nil) || (e.ResourceID != nil && *e.ResourceID != resourceID):
		t.Fatalf("%s: resource id %v, want %q", action, e.ResourceID, resourceID)
	case e.RequestID == nil || *e.RequestID != requestID:
		t.Fatalf("%s: request id %v, want %s", action, e.RequestID, requestID)
	case e.ClientIp == nil || e.ClientIp.String() != "192.0.2.1" || e.UserAgent == nil || *e.UserAgent != "posts-test/1":
		t.Fatalf("%s: client %v %v", action, e.ClientIp, e.UserAgent)
	}
}

func TestWritesAreAudited(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	a := srv.SignIn(t, "a@example.com", "user")
	admin := srv.SignIn(t, "root@example.com", "admin")
	send := func(who *apptest.Client, requestID, method, path string, body any) *apptest.Response {
		t.Helper()
		return who.Do(method, path, body, "X-Request-ID", requestID, "User-Agent", "posts-test/1")
	}

	// Create: exactly one event, with the post as after.
	created := apptest.Expect[posts.Post](t, send(a, "req-create", http.MethodPost, "/api/v1/posts", map[string]any{"title": "Hello", "body": "World"}), http.StatusCreated).Data
	events := auditOf(t, srv)
	if len(events) != 1 {
		t.Fatalf("creating a post must record one event, got %d", len(events))
	}
	id := fmt.Sprint(created.ID)
	checkEvent(t, events[0], "post.create", a.ID, id, "req-create")
	if events[0].Before != nil || *state(t, events[0].After) != created {
		t.Fatalf("post.create: before %s, after %s; want null and %+v", events[0].Before, events[0].After, created)
	}

	// Update by an admin: the admin is the actor; before and after are the whole post.
	path := "/api/v1/posts/" + id
	updated := apptest.Expect[posts.Post](t, send(admin, "req-update", http.MethodPatch, path, map[string]any{"title": "Renamed"}), http.StatusOK).Data
	// An update without fields changes nothing and records nothing.
	apptest.Expect[posts.Post](t, send(admin, "req-noop", http.MethodPatch, path, map[string]any{}), http.StatusOK)
	events = auditOf(t, srv)
	if len(events) != 2 {
		t.Fatalf("want 2 events after the update, got %d", len(events))
	}
	checkEvent(t, events[0], "post.update", admin.ID, id, "req-update")
	if *state(t, events[0].Before) != created || *state(t, events[0].After) != updated {
		t.Fatalf("post.update: before %s, after %s", events[0].Before, events[0].After)
	}

	// Delete: before is the post as it was, after is null.
	apptest.Expect[any](t, send(a, "req-delete", http.MethodDelete, path, nil), http.StatusNoContent)
	events = auditOf(t, srv)
	checkEvent(t, events[0], "post.delete", a.ID, id, "req-delete")
	if *state(t, events[0].Before) != updated || events[0].After != nil {
		t.Fatalf("post.delete: before %s, after %s", events[0].Before, events[0].After)
	}
	// Refused writes record nothing.
	apptest.ExpectError(t, send(a, "req-gone", http.MethodDelete, path, nil), http.StatusNotFound, "post_not_found")

	// Bulk create: one event for the batch, with the count and the author.
	items := []any{map[string]any{"title": "one"}, map[string]any{"title": "two"}, map[string]any{"title": "three"}}
	apptest.Expect[posts.BulkCreatePostsResult](t, send(a, "req-bulk", http.MethodPost, "/api/v1/posts/bulk", map[string]any{"items": items}), http.StatusCreated)
	events = auditOf(t, srv)
	if len(events) != 4 {
		t.Fatalf("want 4 events in all, got %d", len(events))
	}
	checkEvent(t, events[0], "post.bulk_create", a.ID, "", "req-bulk")
	if want := fmt.Sprintf(`{"count": 3, "author_ids": [%d]}`, a.ID); events[0].Before != nil || string(events[0].After) != want {
		t.Fatalf("post.bulk_create: before %s, after %s; want %s", events[0].Before, events[0].After, want)
	}
}

// A change whose audit event cannot be written is rolled back with it: here the
// event's request id breaks a check constraint of audit_events, after the post was
// written in the same transaction.
func TestChangeAndAuditEventCommitTogether(t *testing.T) {
	t.Parallel()
	srv := apptest.New(t, apptest.Options{})
	author := srv.SeedUser(t, "a@example.com", "user")
	svc := posts.NewService(srv.App.Store(), nil, &posts.Config{MaxBulk: 10}, nil)
	ok := context.Background()
	broken := reqctx.With(ok, &reqctx.Info{RequestID: strings.Repeat("r", 129), ActorID: author}, nil)
	countPosts := func() int64 {
		var n int64
		if err := srv.App.Pool().QueryRow(ok, "SELECT count(*) FROM posts").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	if _, err := svc.Create(broken, author, &posts.CreatePostRequest{Title: "lost"}); err == nil {
		t.Fatal("Create must fail when its audit event cannot be written")
	}
	if _, err := svc.BulkCreate(broken, author, &posts.BulkCreatePostsRequest{Items: []posts.CreatePostRequest{{Title: "lost"}}}); err == nil {
		t.Fatal("BulkCreate must fail when its audit event cannot be written")
	}
	if n, evs := countPosts(), len(auditOf(t, srv)); n != 0 || evs != 0 {
		t.Fatalf("after failed creates: %d posts, %d events; want none", n, evs)
	}

	p, err := svc.Create(ok, author, &posts.CreatePostRequest{Title: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	title := httpx.Optional[string]{Value: "changed", Set: true}
	if _, err := svc.Update(broken, &posts.UpdatePostRequest{ID: p.ID, Title: title}); err == nil {
		t.Fatal("Update must fail when its audit event cannot be written")
	}
	if err := svc.Delete(broken, p.ID); err == nil {
		t.Fatal("Delete must fail when its audit event cannot be written")
	}
	got, err := svc.Get(ok, p.ID)
	if err != nil || got != p {
		t.Fatalf("the post must be unchanged: %+v, %v; want %+v", got, err, p)
	}
	if evs := auditOf(t, srv); len(evs) != 1 || evs[0].Action != "post.create" {
		t.Fatalf("only the successful create is recorded: %+v", evs)
	}
}
