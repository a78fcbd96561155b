-- name: GetOrder :one
-- GetOrder returns the order with the given id.
SELECT id, buyer_id, status, total, created_at, updated_at FROM orders
WHERE id = @id;

-- name: GetOrderForUpdate :one
-- GetOrderForUpdate returns the order with the given id and locks it until the end of
-- the transaction: concurrent cancellations of one order run one after the other.
SELECT id, buyer_id, status, total, created_at, updated_at FROM orders
WHERE id = @id
FOR UPDATE;

-- name: ListOrdersByCreatedAtDesc :many
-- ListOrdersByCreatedAtDesc returns one keyset page of orders ordered by
-- (created_at, id) descending: all orders, or a buyer's (buyer_id, optional). The
-- cursor (after_created_at, after_id) is NULL on the first page. One branch per
-- filter shape, each served by its index under a generic plan (see
-- ListPostsByCreatedAtDesc).
(SELECT id, buyer_id, status, total, created_at, updated_at FROM orders
 WHERE sqlc.narg('buyer_id')::bigint IS NULL
   AND (created_at, id) <
       (COALESCE(sqlc.narg('after_created_at')::timestamptz, 'infinity'), COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY created_at DESC, id DESC LIMIT @page_limit)
UNION ALL
(SELECT id, buyer_id, status, total, created_at, updated_at FROM orders
 WHERE sqlc.narg('buyer_id')::bigint IS NOT NULL AND buyer_id = sqlc.narg('buyer_id')::bigint
   AND (buyer_id, created_at, id) <
       (sqlc.narg('buyer_id')::bigint, COALESCE(sqlc.narg('after_created_at')::timestamptz, 'infinity'), COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
 ORDER BY created_at DESC, id DESC LIMIT @page_limit)
ORDER BY created_at DESC, id DESC
LIMIT @page_limit;

-- name: ListOrdersByCreatedAtAsc :many
-- ListOrdersByCreatedAtAsc returns one keyset page of orders ordered by
-- (created_at, id) ascending. Parameters and form: see ListOrdersByCreatedAtDesc.
(SELECT id, buyer_id, status, total, created_at, updated_at FROM orders
 WHERE sqlc.narg('buyer_id')::bigint IS NULL
   AND (created_at, id) >
       (COALESCE(sqlc.narg('after_created_at')::timestamptz, '-infinity'), COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY created_at ASC, id ASC LIMIT @page_limit)
UNION ALL
(SELECT id, buyer_id, status, total, created_at, updated_at FROM orders
 WHERE sqlc.narg('buyer_id')::bigint IS NOT NULL AND buyer_id = sqlc.narg('buyer_id')::bigint
   AND (buyer_id, created_at, id) >
       (sqlc.narg('buyer_id')::bigint, COALESCE(sqlc.narg('after_created_at')::timestamptz, '-infinity'), COALESCE(sqlc.narg('after_id')::bigint, 0))
 ORDER BY created_at ASC, id ASC LIMIT @page_limit)
ORDER BY created_at ASC, id ASC
LIMIT @page_limit;

-- name: CountOrders :one
-- CountOrders counts all orders, or a buyer's, up to max_count.
SELECT count(*) FROM (
    (SELECT 1 FROM orders WHERE sqlc.narg('buyer_id')::bigint IS NULL
       AND id > 0 ORDER BY id LIMIT @max_count)
    UNION ALL
    (SELECT 1 FROM orders WHERE sqlc.narg('buyer_id')::bigint IS NOT NULL AND buyer_id = sqlc.narg('buyer_id')::bigint
       ORDER BY created_at LIMIT @max_count)
) AS matches;

-- name: ListOrderItems :many
-- ListOrderItems returns the lines of every order in order_ids, with their product's
-- SKU, ordered by order and product: one query for a whole page of orders.
SELECT i.order_id, i.product_id, p.sku, i.quantity, i.unit_price
FROM order_items i
JOIN products p ON p.id = i.product_id
WHERE i.order_id = ANY (@order_ids::bigint[])
ORDER BY i.order_id, i.product_id;

-- name: LockProductsForOrder :many
-- LockProductsForOrder returns the products with the given ids and locks them until
-- the end of the transaction, in ascending id order: the lock order every placement
-- and cancellation follows, so two of them never wait on each other in a cycle.
SELECT id, sku, price, stock FROM products
WHERE id = ANY (@ids::bigint[])
ORDER BY id
FOR UPDATE;

-- name: DecrementProductStock :execrows
-- DecrementProductStock takes quantities[i] units of product ids[i] off its stock,
-- for every i, where the stock suffices, and returns the number of products changed.
UPDATE products AS p
SET stock = p.stock - x.quantity, updated_at = now()
FROM ROWS FROM (unnest(@ids::bigint[]), unnest(@quantities::integer[])) AS x (id, quantity)
WHERE p.id = x.id AND p.stock >= x.quantity;

-- name: CreateOrder :one
-- CreateOrder inserts a pending order of buyer_id for quantities[i] units of product
-- ids[i], its total computed from the products' current prices, and returns it.
INSERT INTO orders (buyer_id, total)
SELECT @buyer_id, COALESCE(sum(x.quantity::bigint * p.price), 0)
FROM ROWS FROM (unnest(@ids::bigint[]), unnest(@quantities::integer[])) AS x (id, quantity)
JOIN products AS p ON p.id = x.id
RETURNING id, buyer_id, status, total, created_at, updated_at;

-- name: CreateOrderItems :many
-- CreateOrderItems inserts the lines of order order_id, quantities[i] units of product
-- ids[i], capturing each product's current price, and returns them by product.
INSERT INTO order_items (order_id, product_id, quantity, unit_price)
SELECT @order_id, p.id, x.quantity, p.price
FROM ROWS FROM (unnest(@ids::bigint[]), unnest(@quantities::integer[])) AS x (id, quantity)
JOIN products AS p ON p.id = x.id
ORDER BY p.id
RETURNING order_id, product_id, quantity, unit_price;

-- name: LockOrderProducts :many
-- LockOrderProducts locks the products of order order_id until the end of the
-- transaction, in ascending id order (see LockProductsForOrder), and returns their ids.
SELECT p.id FROM products AS p
WHERE p.id IN (SELECT i.product_id FROM order_items AS i WHERE i.order_id = @order_id)
ORDER BY p.id
FOR UPDATE OF p;

-- name: RestoreOrderStock :execrows
-- RestoreOrderStock puts the quantities of order order_id's lines back on their
-- products' stock and returns the number of products changed.
UPDATE products AS p
SET stock = p.stock + i.quantity, updated_at = now()
FROM order_items AS i
WHERE i.order_id = @order_id AND p.id = i.product_id;

-- name: SetOrderStatus :one
-- SetOrderStatus sets the status of order id, bumps updated_at and returns the order.
UPDATE orders
SET status = @status, updated_at = now()
WHERE id = @id
RETURNING id, buyer_id, status, total, created_at, updated_at;

-- name: ClaimOrderIdempotencyKey :one
-- ClaimOrderIdempotencyKey claims key for user_id with the request's hash, or
-- reclaims it when it has expired, and returns its id. It returns no row when the key
-- is held and has not expired. While another transaction holds a fresh claim of the
-- same key, it waits for that transaction to end (the unique index's lock): a
-- concurrent duplicate then sees the committed key, or claims it when the first
-- rolled back.
INSERT INTO order_idempotency_keys (user_id, key, request_hash, expires_at)
VALUES (@user_id, @key, @request_hash, @expires_at)
ON CONFLICT (user_id, key) DO UPDATE
SET request_hash = EXCLUDED.request_hash, response_status = NULL,
    response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
WHERE order_idempotency_keys.expires_at <= now()
RETURNING id;

-- name: GetOrderIdempotencyKey :one
-- GetOrderIdempotencyKey returns the key of user_id as stored.
SELECT id, user_id, key, request_hash, response_status, response_body, created_at, expires_at
FROM order_idempotency_keys
WHERE user_id = @user_id AND key = @key;

-- name: CompleteOrderIdempotencyKey :exec
-- CompleteOrderIdempotencyKey stores the response of claimed key id.
UPDATE order_idempotency_keys
SET response_status = @response_status, response_body = @response_body
WHERE id = @id;

-- name: DeleteExpiredOrderIdempotencyKeys :execrows
-- DeleteExpiredOrderIdempotencyKeys deletes up to max_rows keys that expired before
-- now and returns how many it deleted (expired keys are ignored and reclaimed anyway;
-- deleting them only saves space).
DELETE FROM order_idempotency_keys
WHERE id IN (SELECT k.id FROM order_idempotency_keys AS k WHERE k.expires_at < @now::timestamptz ORDER BY k.expires_at LIMIT @max_rows);
