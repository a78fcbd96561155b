-- create "order_idempotency_keys" table
CREATE TABLE "order_idempotency_keys" ("id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY, "user_id" bigint NOT NULL, "key" text NOT NULL, "request_hash" bytea NOT NULL, "response_status" integer NULL, "response_body" jsonb NULL, "created_at" timestamptz NOT NULL DEFAULT now(), "expires_at" timestamptz NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "order_idempotency_keys_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "order_idempotency_keys_key_check" CHECK ((char_length(key) >= 1) AND (char_length(key) <= 255)), CONSTRAINT "order_idempotency_keys_request_hash_check" CHECK (octet_length(request_hash) = 32), CONSTRAINT "order_idempotency_keys_response_status_check" CHECK ((response_status >= 200) AND (response_status <= 599)));
-- create index "order_idempotency_keys_expires_at_idx" to table: "order_idempotency_keys"
CREATE INDEX "order_idempotency_keys_expires_at_idx" ON "order_idempotency_keys" ("expires_at");
-- create index "order_idempotency_keys_user_id_key_key" to table: "order_idempotency_keys"
CREATE UNIQUE INDEX "order_idempotency_keys_user_id_key_key" ON "order_idempotency_keys" ("user_id", "key");
-- create "orders" table
CREATE TABLE "orders" ("id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY, "buyer_id" bigint NOT NULL, "status" text NOT NULL DEFAULT 'pending', "total" bigint NOT NULL, "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), PRIMARY KEY ("id"), CONSTRAINT "orders_buyer_id_fkey" FOREIGN KEY ("buyer_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE RESTRICT, CONSTRAINT "orders_status_check" CHECK (status = ANY (ARRAY['pending'::text, 'paid'::text, 'cancelled'::text])), CONSTRAINT "orders_total_check" CHECK (total >= 0));
-- create index "orders_buyer_id_created_at_id_idx" to table: "orders"
CREATE INDEX "orders_buyer_id_created_at_id_idx" ON "orders" ("buyer_id", "created_at", "id");
-- create index "orders_created_at_id_idx" to table: "orders"
CREATE INDEX "orders_created_at_id_idx" ON "orders" ("created_at", "id");
-- create "products" table
CREATE TABLE "products" ("id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY, "sku" text NOT NULL, "name" text NOT NULL, "price" bigint NOT NULL, "stock" integer NOT NULL DEFAULT 0, "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), PRIMARY KEY ("id"), CONSTRAINT "products_name_check" CHECK ((char_length(name) >= 1) AND (char_length(name) <= 200)), CONSTRAINT "products_price_check" CHECK (price >= 0), CONSTRAINT "products_sku_check" CHECK ((char_length(sku) >= 1) AND (char_length(sku) <= 64)), CONSTRAINT "products_stock_check" CHECK (stock >= 0));
-- create index "products_created_at_id_idx" to table: "products"
CREATE INDEX "products_created_at_id_idx" ON "products" ("created_at", "id");
-- create index "products_sku_key" to table: "products"
CREATE UNIQUE INDEX "products_sku_key" ON "products" ("sku");
-- create "order_items" table
CREATE TABLE "order_items" ("id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY, "order_id" bigint NOT NULL, "product_id" bigint NOT NULL, "quantity" integer NOT NULL, "unit_price" bigint NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "order_items_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "order_items_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products" ("id") ON UPDATE NO ACTION ON DELETE RESTRICT, CONSTRAINT "order_items_quantity_check" CHECK (quantity > 0), CONSTRAINT "order_items_unit_price_check" CHECK (unit_price >= 0));
-- create index "order_items_order_id_product_id_key" to table: "order_items"
CREATE UNIQUE INDEX "order_items_order_id_product_id_key" ON "order_items" ("order_id", "product_id");
-- create index "order_items_product_id_idx" to table: "order_items"
CREATE INDEX "order_items_product_id_idx" ON "order_items" ("product_id");
