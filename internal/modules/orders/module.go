// Package orders is the orders module: buyers place orders of products and cancel
// them. It is the example of a service that spans several queries in one
// transaction, correct under concurrency (see Service).
package orders

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/httpx"
	"github.com/quarrydev/quarry/internal/core/module"
	"github.com/quarrydev/quarry/internal/core/paging"
)

// Module is the orders module.
type Module struct {
	module.Base
	cfg *Config
}

// New returns the orders module with its default configuration. It requires the
// products module.
func New() *Module {
	cfg := defaultConfig()
	return &Module{Base: module.NewBase("orders", "Orders of products: placed in one transaction, idempotent with Idempotency-Key, cancellable.", cfg, "products"), cfg: cfg}
}

// Routes implements module.Module.
func (m *Module) Routes(deps module.Deps) ([]httpx.Route, error) {
	svc := NewService(deps.Store, deps.Cursors, m.cfg)
	if err := paging.CheckSortTag(ListOrdersRequest{}, svc.list.Keys()); err != nil {
		return nil, err
	}
	h := &handler{svc: svc}
	signedIn := []gin.HandlerFunc{deps.Guard.RequireAuth()}
	return []httpx.Route{
		{
			Method: http.MethodPost, OperationID: "placeOrder", Summary: "Place an order",
			Description: "Places an order of the caller in one transaction: stock is checked and taken, prices are captured, " +
				"all or nothing. 409 out_of_stock names each short line's sku and available units; 422 names unknown products. " +
				"With Idempotency-Key, a retry answers the first response (201, same order) without placing another; " +
				"the same key with another body is 422 idempotency_key_reused; a concurrent request with the key waits for the first.",
			Status: http.StatusCreated, Errors: []int{http.StatusUnauthorized, http.StatusConflict},
			Deps: signedIn, Secured: true,
			Endpoint: httpx.Handle(h.place),
		},
		{
			Method: http.MethodGet, OperationID: "listOrders", Summary: "List orders with their lines",
			Description: "The caller's orders; admins list every order (or one buyer's with buyer_id). " +
				"Keyset pagination: pass next_cursor back as cursor, with the same sort and filters.",
			Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden},
			Deps:   signedIn, Secured: true,
			Endpoint: httpx.Handle(h.list),
		},
		{
			Method: http.MethodGet, Path: "/:id", OperationID: "getOrder", Summary: "Get an order with its lines",
			Description: "Its buyer and admins only; others get 404.",
			Errors:      []int{http.StatusNotFound, http.StatusUnauthorized},
			Deps:        signedIn, Secured: true,
			Endpoint: httpx.Handle(h.get),
		},
		{
			Method: http.MethodPost, Path: "/:id/cancel", OperationID: "cancelOrder", Summary: "Cancel an order",
			Description: "Its buyer or an admin. Puts the stock back in the same transaction. Cancelling a cancelled order " +
				"answers it unchanged; a paid order cannot be cancelled (409 order_not_cancellable).",
			Errors: []int{http.StatusNotFound, http.StatusUnauthorized, http.StatusConflict},
			Deps:   signedIn, Secured: true,
			Endpoint: httpx.Handle(h.cancel),
		},
	}, nil
}
