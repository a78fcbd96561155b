-- Orders module: a buyer's order of products, its lines and the idempotency keys of
-- its placement. Conventions: see the header of schema/users.sql.

CREATE TABLE orders (
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    buyer_id   bigint      NOT NULL,
    status     text        NOT NULL DEFAULT 'pending',
    -- Sum of the lines' quantity × unit_price, in minor units; computed in SQL when
    -- the order is placed.
    total      bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_pkey PRIMARY KEY (id),
    -- Orders are records of sale: a user who has orders cannot be deleted.
    CONSTRAINT orders_buyer_id_fkey FOREIGN KEY (buyer_id) REFERENCES users (id) ON DELETE RESTRICT,
    CONSTRAINT orders_status_check CHECK (status IN ('pending', 'paid', 'cancelled')),
    CONSTRAINT orders_total_check CHECK (total >= 0)
);

-- Indexes the foreign key and serves a buyer's orders in keyset order.
CREATE INDEX orders_buyer_id_created_at_id_idx ON orders (buyer_id, created_at, id);

-- Serves the unfiltered (admin) listing in keyset order.
CREATE INDEX orders_created_at_id_idx ON orders (created_at, id);

CREATE TABLE order_items (
    id         bigint  GENERATED ALWAYS AS IDENTITY,
    order_id   bigint  NOT NULL,
    product_id bigint  NOT NULL,
    quantity   integer NOT NULL,
    -- The product's price when the order was placed, in minor units: later price
    -- changes do not change past orders.
    unit_price bigint  NOT NULL,
    CONSTRAINT order_items_pkey PRIMARY KEY (id),
    CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
    -- A product that was ordered cannot be deleted.
    CONSTRAINT order_items_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE RESTRICT,
    CONSTRAINT order_items_quantity_check CHECK (quantity > 0),
    CONSTRAINT order_items_unit_price_check CHECK (unit_price >= 0)
);

-- One line per product in an order; indexes the order_id foreign key and reads an
-- order's (or a page of orders') lines.
CREATE UNIQUE INDEX order_items_order_id_product_id_key ON order_items (order_id, product_id);

-- Indexes the product_id foreign key (deleting a product checks it).
CREATE INDEX order_items_product_id_idx ON order_items (product_id);

-- Idempotency-Key of order placements: the key a client sent, the hash of its request
-- and the response it got (the order, with its id). A placement claims its key first,
-- in its own transaction, and fills in the response before it commits: committed rows
-- always have one; NULL is only ever seen by the claiming transaction itself. No
-- indexed column changes when the response is filled in, so that update is HOT.
CREATE TABLE order_idempotency_keys (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    user_id         bigint      NOT NULL,
    key             text        NOT NULL,
    -- SHA-256 of the canonical request (method, path, normalized body).
    request_hash    bytea       NOT NULL,
    response_status integer,
    response_body   jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    CONSTRAINT order_idempotency_keys_pkey PRIMARY KEY (id),
    CONSTRAINT order_idempotency_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT order_idempotency_keys_key_check CHECK (char_length(key) BETWEEN 1 AND 255),
    CONSTRAINT order_idempotency_keys_request_hash_check CHECK (octet_length(request_hash) = 32),
    CONSTRAINT order_idempotency_keys_response_status_check CHECK (response_status BETWEEN 200 AND 599)
);

-- Keys are scoped to their user; a concurrent duplicate waits on this index until the
-- first placement commits or rolls back. Indexes the user_id foreign key.
CREATE UNIQUE INDEX order_idempotency_keys_user_id_key_key ON order_idempotency_keys (user_id, key);

-- Serves pruning expired keys.
CREATE INDEX order_idempotency_keys_expires_at_idx ON order_idempotency_keys (expires_at);
