-- Products module: what can be ordered. Conventions: see the header of schema/users.sql.

CREATE TABLE products (
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    sku        text        NOT NULL,
    name       text        NOT NULL,
    -- Price in integer minor units of the shop's currency (cents): never a float.
    price      bigint      NOT NULL,
    -- Units on hand; orders decrement it under a row lock and it never goes negative.
    stock      integer     NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_pkey PRIMARY KEY (id),
    CONSTRAINT products_sku_check CHECK (char_length(sku) BETWEEN 1 AND 64),
    CONSTRAINT products_name_check CHECK (char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT products_price_check CHECK (price >= 0),
    CONSTRAINT products_stock_check CHECK (stock >= 0)
);

-- One product per SKU; also serves the find-one by sku.
CREATE UNIQUE INDEX products_sku_key ON products (sku);

-- Keyset listing ordered by (created_at, id); listing by id uses products_pkey.
CREATE INDEX products_created_at_id_idx ON products (created_at, id);
