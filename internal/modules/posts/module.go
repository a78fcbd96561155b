// Package posts is the posts module: authors write posts, drafts or published.
package posts

import (
	"fmt"
	"net/http"

	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
)

// Module is the posts module.
type Module struct {
	cfg *Config
}

// New returns the posts module with its default configuration.
func New() *Module { return &Module{cfg: defaultConfig()} }

// Name implements module.Module.
func (m *Module) Name() string { return "posts" }

// Tag implements module.Module.
func (m *Module) Tag() module.Tag {
	return module.Tag{Name: "posts", Description: "Posts written by users: drafts and published articles."}
}

// Config implements module.Module.
func (m *Module) Config() any { return m.cfg }

// Requires implements module.Module.
func (m *Module) Requires() []string { return nil }

// Routes implements module.Module.
func (m *Module) Routes(deps module.Deps) ([]httpx.Route, error) {
	h := &handler{svc: NewService(deps.Queries, deps.Cursors, m.cfg)}
	maxBulk := m.cfg.MaxBulk
	return []httpx.Route{
		{
			Method: http.MethodPost, OperationID: "createPost", Summary: "Create a post",
			Status: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity},
			Endpoint: httpx.Handle(h.create),
		},
		{
			Method: http.MethodGet, OperationID: "listPosts", Summary: "List posts",
			Description: "Keyset pagination: pass next_cursor back as cursor. A cursor only works with the sort and filters it was issued for.",
			Errors:      []int{http.StatusBadRequest},
			Endpoint:    httpx.Handle(h.list),
		},
		{
			Method: http.MethodGet, Path: "/:id", OperationID: "getPost", Summary: "Get a post",
			Errors: []int{http.StatusNotFound}, Endpoint: httpx.Handle(h.get),
		},
		{
			Method: http.MethodPatch, Path: "/:id", OperationID: "updatePost", Summary: "Update a post",
			Description: "Changes only the fields given.",
			Errors:      []int{http.StatusNotFound}, Endpoint: httpx.Handle(h.update),
		},
		{
			Method: http.MethodDelete, Path: "/:id", OperationID: "deletePost", Summary: "Delete a post",
			Status: http.StatusNoContent, Errors: []int{http.StatusNotFound}, Endpoint: httpx.Handle(h.delete),
		},
		{
			Method: http.MethodPost, Path: "/bulk", OperationID: "bulkCreatePosts", Summary: "Create many posts at once",
			Description: fmt.Sprintf("Inserts up to %d posts with COPY, all or none.", maxBulk),
			Status:      http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity},
			Endpoint: httpx.Handle(h.bulkCreate),
		},
	}, nil
}
