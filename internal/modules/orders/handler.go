package orders

import (
	"github.com/gin-gonic/gin"

	"github.com/quarrydev/quarry/internal/core/authn"
	"github.com/quarrydev/quarry/internal/core/paging"
)

// handler adapts HTTP requests to the Service: bind, call, map to DTOs.
type handler struct {
	svc *Service
}

// viewer returns the caller as the service sees it.
func viewer(c *gin.Context) Viewer {
	p, _ := authn.PrincipalFrom(c.Request.Context())
	return Viewer{UserID: p.UserID, Admin: p.IsAdmin()}
}

func (h *handler) place(c *gin.Context, in *PlaceOrderRequest) (Order, error) {
	p, err := h.svc.Place(c.Request.Context(), viewer(c).UserID, in)
	return p.Order, err
}

func (h *handler) get(c *gin.Context, in *OrderID) (Order, error) {
	return h.svc.Get(c.Request.Context(), viewer(c), in.ID)
}

func (h *handler) cancel(c *gin.Context, in *OrderID) (Order, error) {
	return h.svc.Cancel(c.Request.Context(), viewer(c), in.ID)
}

func (h *handler) list(c *gin.Context, in *ListOrdersRequest) (OrderList, error) {
	page, err := h.svc.List(c.Request.Context(), viewer(c), in)
	return OrderList(paging.Respond(page, func(o Order) Order { return o })), err
}
