package products

import (
	"time"

	"github.com/quarrydev/quarry/internal/core/paging"
)

// Product is a product as clients see it. Price is in minor units (cents).
type Product struct {
	ID        int64     `json:"id"`
	Sku       string    `json:"sku"`
	Name      string    `json:"name"`
	Price     int64     `json:"price"`
	Stock     int32     `json:"stock"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ProductList is a page of products.
type ProductList paging.Response[Product]

// ProductID addresses one product.
type ProductID struct {
	ID int64 `uri:"id" binding:"gt=0" doc:"product id"`
}

// CreateProductRequest creates a product.
type CreateProductRequest struct {
	SKU   string `json:"sku" binding:"required,min=1,max=64"`
	Name  string `json:"name" binding:"required,min=1,max=200"`
	Price *int64 `json:"price" binding:"required,min=0,max=1000000000000" doc:"price in minor units (cents)"`
	Stock int32  `json:"stock" binding:"min=0,max=1000000000" doc:"units on hand; 0 when absent"`
}

// UpdateProductRequest changes the fields it gives and leaves the others as they are.
type UpdateProductRequest struct {
	ID    int64   `uri:"id" binding:"gt=0" doc:"product id"`
	SKU   *string `json:"sku" binding:"omitnil,min=1,max=64"`
	Name  *string `json:"name" binding:"omitnil,min=1,max=200"`
	Price *int64  `json:"price" binding:"omitnil,min=0,max=1000000000000" doc:"price in minor units (cents); past orders keep the price they were placed at"`
	Stock *int32  `json:"stock" binding:"omitnil,min=0,max=1000000000" doc:"units on hand"`
}

// ListProductsRequest selects a page of products.
type ListProductsRequest struct {
	Limit  int    `form:"limit" binding:"omitempty,min=1" doc:"page size; at most PRODUCTS_MAX_PAGE_SIZE (default 100), larger is rejected"`
	Cursor string `form:"cursor" binding:"max=1024" doc:"next_cursor of the previous page"`
	Sort   string `form:"sort" binding:"omitempty,oneof=created_at -created_at id -id" doc:"sort key, - for descending; default -created_at"`
	Total  bool   `form:"total" doc:"also count the products, up to 10000 (a total of 10000 means at least that many)"`
}
