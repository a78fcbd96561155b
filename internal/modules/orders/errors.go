package orders

import "github.com/quarrydev/quarry/internal/core/apperr"

// Errors of the orders module.
var (
	ErrOrderNotFound = apperr.New(apperr.KindNotFound, "order_not_found", "order not found")
	// ErrOutOfStock is answered with the lines that cannot be served as fields, each
	// naming its sku and the units available.
	ErrOutOfStock = apperr.New(apperr.KindConflict, "out_of_stock", "not enough stock")
	// ErrNotCancellable: only pending orders can be cancelled.
	ErrNotCancellable = apperr.New(apperr.KindConflict, "order_not_cancellable", "only a pending order can be cancelled")
	// ErrIdempotencyKeyReused: the key was used with another request (draft-ietf-httpapi-idempotency-key-header: 422).
	ErrIdempotencyKeyReused = apperr.New(apperr.KindInvalid, "idempotency_key_reused",
		"this Idempotency-Key was used with a different request")
	// ErrIdempotencyKeyInUse: the key's first request has not completed (409); retry later.
	ErrIdempotencyKeyInUse = apperr.New(apperr.KindConflict, "idempotency_key_in_use",
		"a request with this Idempotency-Key is still being processed; retry later")
	errInvalidIdempotencyKey = apperr.Invalid(apperr.FieldError{Field: "Idempotency-Key", Reason: "format",
		Message: "Idempotency-Key must be a structured-field string (or a bare token) of 1 to 255 printable ASCII characters"})
)
