-- name: GetProduct :one
-- GetProduct returns the product with the given id.
SELECT id, sku, name, price, stock, created_at, updated_at FROM products
WHERE id = @id;

-- name: GetProductForUpdate :one
-- GetProductForUpdate returns the product with the given id and locks it until the
-- end of the transaction, so the state recorded before a change is the one it changes.
SELECT id, sku, name, price, stock, created_at, updated_at FROM products
WHERE id = @id
FOR UPDATE;

-- name: GetProductBySku :one
-- GetProductBySku returns the product with the given SKU.
SELECT id, sku, name, price, stock, created_at, updated_at FROM products
WHERE sku = @sku;

-- name: ListProductsByCreatedAtDesc :many
-- ListProductsByCreatedAtDesc returns one keyset page of products ordered by
-- (created_at, id) descending. All four ListProducts* queries take the same
-- parameters: after_created_at, after_id (the sort key of the last row of the
-- previous page, NULL on the first page; the id sorts read only after_id) and
-- page_limit. A NULL cursor is replaced by the lowest or highest key, so the
-- comparison is an index condition under a generic plan.
SELECT id, sku, name, price, stock, created_at, updated_at FROM products
WHERE (created_at, id) <
      (COALESCE(sqlc.narg('after_created_at')::timestamptz, 'infinity'), COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807))
ORDER BY created_at DESC, id DESC
LIMIT @page_limit;

-- name: ListProductsByCreatedAtAsc :many
-- ListProductsByCreatedAtAsc returns one keyset page of products ordered by
-- (created_at, id) ascending. Parameters: see ListProductsByCreatedAtDesc.
SELECT id, sku, name, price, stock, created_at, updated_at FROM products
WHERE (created_at, id) >
      (COALESCE(sqlc.narg('after_created_at')::timestamptz, '-infinity'), COALESCE(sqlc.narg('after_id')::bigint, 0))
ORDER BY created_at ASC, id ASC
LIMIT @page_limit;

-- name: ListProductsByIDDesc :many
-- ListProductsByIDDesc returns one keyset page of products ordered by id descending.
-- Parameters: see ListProductsByCreatedAtDesc.
SELECT id, sku, name, price, stock, created_at, updated_at FROM products
WHERE (sqlc.narg('after_created_at')::timestamptz IS NULL OR true)
  AND id < COALESCE(sqlc.narg('after_id')::bigint, 9223372036854775807)
ORDER BY id DESC
LIMIT @page_limit;

-- name: ListProductsByIDAsc :many
-- ListProductsByIDAsc returns one keyset page of products ordered by id ascending.
-- Parameters: see ListProductsByCreatedAtDesc.
SELECT id, sku, name, price, stock, created_at, updated_at FROM products
WHERE (sqlc.narg('after_created_at')::timestamptz IS NULL OR true)
  AND id > COALESCE(sqlc.narg('after_id')::bigint, 0)
ORDER BY id ASC
LIMIT @page_limit;

-- name: CountProducts :one
-- CountProducts counts the products, up to max_count: counting stops there.
SELECT count(*) FROM (
    SELECT 1 FROM products WHERE id > 0 ORDER BY id LIMIT @max_count
) AS matches;

-- name: ProductExists :one
-- ProductExists reports whether a product with the given id exists.
SELECT EXISTS (SELECT 1 FROM products WHERE id = @id);

-- name: CreateProduct :one
-- CreateProduct inserts a product and returns it.
INSERT INTO products (sku, name, price, stock)
VALUES (@sku, @name, @price, @stock)
RETURNING id, sku, name, price, stock, created_at, updated_at;

-- name: UpdateProduct :one
-- UpdateProduct sets the fields given (non-NULL), leaves the others unchanged, bumps
-- updated_at and returns the product.
UPDATE products
SET sku        = COALESCE(sqlc.narg('sku')::text, sku),
    name       = COALESCE(sqlc.narg('name')::text, name),
    price      = COALESCE(sqlc.narg('price')::bigint, price),
    stock      = COALESCE(sqlc.narg('stock')::integer, stock),
    updated_at = now()
WHERE id = @id
RETURNING id, sku, name, price, stock, created_at, updated_at;

-- name: DeleteProduct :execrows
-- DeleteProduct deletes the product with the given id and returns the number of rows
-- deleted.
DELETE FROM products
WHERE id = @id;

-- name: CreateProducts :copyfrom
-- CreateProducts inserts many products with COPY and returns the number of rows copied.
INSERT INTO products (sku, name, price, stock)
VALUES (@sku, @name, @price, @stock);
