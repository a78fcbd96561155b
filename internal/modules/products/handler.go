package products

import (
	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/paging"
	"github.com/quarrydev/quarry/internal/db/sqlc"
)

// handler adapts HTTP requests to the Service: bind, call, map to DTOs.
type handler struct {
	svc *Service
}

func (h *handler) create(c *gin.Context, in *CreateProductRequest) (Product, error) {
	p, err := h.svc.Create(c.Request.Context(), in)
	return Product(p), err
}

func (h *handler) get(c *gin.Context, in *ProductID) (Product, error) {
	p, err := h.svc.Get(c.Request.Context(), in.ID)
	return Product(p), err
}

func (h *handler) list(c *gin.Context, in *ListProductsRequest) (ProductList, error) {
	page, err := h.svc.List(c.Request.Context(), in)
	return ProductList(paging.Respond(page, func(p sqlc.Product) Product { return Product(p) })), err
}

func (h *handler) update(c *gin.Context, in *UpdateProductRequest) (Product, error) {
	p, err := h.svc.Update(c.Request.Context(), in)
	return Product(p), err
}

func (h *handler) delete(c *gin.Context, in *ProductID) (struct{}, error) {
	return struct{}{}, h.svc.Delete(c.Request.Context(), in.ID)
}
