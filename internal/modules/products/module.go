// Package products is the products module: the catalogue orders are placed from.
// Anyone may read it; only admins write it.
package products

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/core/paging"
)

// Module is the products module.
type Module struct {
	module.Base
	cfg *Config
}

// New returns the products module with its default configuration.
func New() *Module {
	cfg := defaultConfig()
	return &Module{Base: module.NewBase("products", "The product catalogue: public reads, admin writes.", cfg), cfg: cfg}
}

// Routes implements module.Module.
func (m *Module) Routes(deps module.Deps) ([]httpx.Route, error) {
	svc := NewService(deps.Store, deps.Cursors, m.cfg)
	if err := paging.CheckSortTag(ListProductsRequest{}, svc.list.Keys()); err != nil {
		return nil, err
	}
	h := &handler{svc: svc}
	admin := []gin.HandlerFunc{deps.Guard.RequireAuth(), authn.RequireRole(authn.RoleAdmin)}
	adminOnly := []int{http.StatusUnauthorized, http.StatusForbidden}
	return []httpx.Route{
		{
			Method: http.MethodPost, OperationID: "createProduct", Summary: "Create a product",
			Description: "Admins only. 409 sku_taken when another product has the sku.",
			Status:      http.StatusCreated, Errors: append([]int{http.StatusConflict}, adminOnly...),
			Deps: admin, Secured: true,
			Endpoint: httpx.Handle(h.create),
		},
		{
			Method: http.MethodGet, OperationID: "listProducts", Summary: "List products",
			Description: "Public. Keyset pagination: pass next_cursor back as cursor, with the same sort.",
			Errors:      []int{http.StatusBadRequest},
			Endpoint:    httpx.Handle(h.list),
		},
		{
			Method: http.MethodGet, Path: "/:id", OperationID: "getProduct", Summary: "Get a product",
			Description: "Public.",
			Errors:      []int{http.StatusNotFound},
			Endpoint:    httpx.Handle(h.get),
		},
		{
			Method: http.MethodPatch, Path: "/:id", OperationID: "updateProduct", Summary: "Update a product",
			Description: "Admins only. Changes only the fields given; past orders keep the prices they were placed at.",
			Errors:      append([]int{http.StatusNotFound, http.StatusConflict}, adminOnly...),
			Deps:        admin, Secured: true,
			Endpoint: httpx.Handle(h.update),
		},
		{
			Method: http.MethodDelete, Path: "/:id", OperationID: "deleteProduct", Summary: "Delete a product",
			Description: "Admins only. 409 product_ordered when an order has the product.",
			Status:      http.StatusNoContent, Errors: append([]int{http.StatusNotFound, http.StatusConflict}, adminOnly...),
			Deps: admin, Secured: true,
			Endpoint: httpx.Handle(h.delete),
		},
	}, nil
}
