package products

import "github.com/quarrydev/quarry/internal/core/apperr"

// Errors of the products module.
var (
	ErrProductNotFound = apperr.New(apperr.KindNotFound, "product_not_found", "product not found")
	ErrSKUTaken        = apperr.New(apperr.KindConflict, "sku_taken", "another product has this sku")
	ErrProductOrdered  = apperr.New(apperr.KindConflict, "product_ordered", "the product is on orders and cannot be deleted")
)
