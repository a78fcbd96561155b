package orders

import (
	"time"

	"github.com/quarrydev/quarry/internal/core/paging"
)

// Order is an order as clients see it, with its lines. Amounts are in minor units.
type Order struct {
	ID      int64  `json:"id"`
	BuyerID int64  `json:"buyer_id"`
	Status  string `json:"status" enum:"pending,paid,cancelled"`
	// Total is the sum of the lines' quantity × unit_price.
	Total     int64       `json:"total"`
	Items     []OrderItem `json:"items"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// OrderItem is one line of an order: a product, how many, and its price when the
// order was placed.
type OrderItem struct {
	ProductID int64  `json:"product_id"`
	Sku       string `json:"sku"`
	Quantity  int32  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// OrderList is a page of orders.
type OrderList paging.Response[Order]

// OrderID addresses one order.
type OrderID struct {
	ID int64 `uri:"id" binding:"gt=0" doc:"order id"`
}

// Line asks for quantity units of a product.
type Line struct {
	ProductID int64 `json:"product_id" binding:"required,gt=0"`
	Quantity  int32 `json:"quantity" binding:"required,min=1,max=10000"`
}

// PlaceOrderRequest places an order for the caller.
type PlaceOrderRequest struct {
	IdempotencyKey string `header:"Idempotency-Key" json:"-" binding:"max=300" doc:"draft-ietf-httpapi-idempotency-key-header: a structured-field string such as \"8e03978e-40d5\" (a bare token is accepted too), unique per request. A retry with the same key and body answers the first response without placing another order; the same key with another body is 422. Remembered for ORDERS_IDEMPOTENCY_KEY_TTL (default 24h) after a successful placement."`
	// Items lists the products and quantities; lines of the same product are added up.
	Items []Line `json:"items" binding:"required,min=1,max=100,dive"`
}

// ListOrdersRequest selects a page of orders.
type ListOrdersRequest struct {
	Limit   int    `form:"limit" binding:"omitempty,min=1" doc:"page size; at most ORDERS_MAX_PAGE_SIZE (default 100), larger is rejected"`
	Cursor  string `form:"cursor" binding:"max=1024" doc:"next_cursor of the previous page"`
	BuyerID *int64 `form:"buyer_id" binding:"omitnil,gt=0" doc:"the buyer whose orders to list: the caller by default; admins list every buyer's orders without it, others may name only themselves (403)"`
	Sort    string `form:"sort" binding:"omitempty,oneof=created_at -created_at" doc:"sort key, - for descending; default -created_at"`
	Total   bool   `form:"total" doc:"also count the matching orders, up to 10000 (a total of 10000 means at least that many)"`
}
