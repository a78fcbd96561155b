// Package posts is the posts module: authors write posts, drafts or published.
package posts

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// Module is the posts module.
type Module struct {
	module.Base
	cfg *Config
}

// New returns the posts module with its default configuration.
func New() *Module {
	cfg := defaultConfig()
	return &Module{Base: module.NewBase("posts", "Posts written by users: drafts and published articles.", cfg), cfg: cfg}
}

// Routes implements module.Module.
func (m *Module) Routes(deps module.Deps) ([]httpx.Route, error) {
	svc := NewService(deps.Store, deps.Cursors, m.cfg)
	if err := paging.CheckSortTag(ListPostsRequest{}, svc.list.Keys()); err != nil {
		return nil, err
	}
	h := &handler{svc: svc, post: httpx.NewSlot[sqlc.Post]("post")}
	signedIn := deps.Guard.RequireAuth()
	load := httpx.Load(h.post, "id", svc.Get)
	// Drafts of others are hidden (404), as if they did not exist.
	visible := authn.Require(h.post, func(p authn.Principal, post sqlc.Post) error {
		return check(Viewer{UserID: p.UserID, Admin: p.IsAdmin()}.CanSee(post), ErrPostNotFound)
	})
	editable := authn.Require(h.post, func(p authn.Principal, post sqlc.Post) error {
		return check(Viewer{UserID: p.UserID, Admin: p.IsAdmin()}.CanEdit(post), ErrNotAuthor)
	})
	maxBulk := m.cfg.MaxBulk
	return []httpx.Route{
		{
			Method: http.MethodPost, OperationID: "createPost", Summary: "Create a post",
			Description: "The caller becomes the author; author_id in the body is ignored.",
			Status:      http.StatusCreated, Errors: []int{http.StatusUnauthorized},
			Deps: []gin.HandlerFunc{signedIn}, Secured: true,
			Endpoint: httpx.Handle(h.create),
		},
		{
			Method: http.MethodGet, OperationID: "listPosts", Summary: "List posts",
			Description: "Published posts for everyone; drafts only for their author (filtering on author_id = self) and admins. " +
				"Keyset pagination: pass next_cursor back as cursor. A cursor only works with the sort and filters it was issued for.",
			Errors:   []int{http.StatusBadRequest, http.StatusUnauthorized},
			Deps:     []gin.HandlerFunc{deps.Guard.OptionalAuth()},
			Endpoint: httpx.Handle(h.list),
		},
		{
			Method: http.MethodGet, Path: "/:id", OperationID: "getPost", Summary: "Get a post",
			Description: "Published posts are public; a draft is found only by its author and admins.",
			Errors:      []int{http.StatusNotFound, http.StatusUnauthorized},
			Deps:        []gin.HandlerFunc{deps.Guard.OptionalAuth(), load, visible},
			Endpoint:    httpx.Handle(h.get),
		},
		{
			Method: http.MethodPatch, Path: "/:id", OperationID: "updatePost", Summary: "Update a post",
			Description: "Changes only the fields given. Only the author or an admin may.",
			Errors:      []int{http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden},
			Deps:        []gin.HandlerFunc{signedIn, load, visible, editable}, Secured: true,
			Endpoint: httpx.Handle(h.update),
		},
		{
			Method: http.MethodDelete, Path: "/:id", OperationID: "deletePost", Summary: "Delete a post",
			Description: "Only the author or an admin may.",
			Status:      http.StatusNoContent, Errors: []int{http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden},
			Deps: []gin.HandlerFunc{signedIn, load, visible, editable}, Secured: true,
			Endpoint: httpx.Handle(h.delete),
		},
		{
			Method: http.MethodPost, Path: "/bulk", OperationID: "bulkCreatePosts", Summary: "Create many posts at once",
			Description: fmt.Sprintf("Inserts up to %d posts by the caller with COPY, all or none.", maxBulk),
			Status:      http.StatusCreated, Errors: []int{http.StatusUnauthorized},
			Deps: []gin.HandlerFunc{signedIn}, Secured: true,
			Endpoint: httpx.Handle(h.bulkCreate),
		},
	}, nil
}

// check returns nil when ok, otherwise err.
func check(ok bool, err error) error {
	if ok {
		return nil
	}
	return err
}
