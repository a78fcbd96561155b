-- Create "refresh_tokens" table
CREATE TABLE "refresh_tokens" ("id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY, "user_id" bigint NOT NULL, "family_id" uuid NOT NULL, "token_hash" bytea NOT NULL, "created_at" timestamptz NOT NULL DEFAULT now(), "expires_at" timestamptz NOT NULL, "rotated_at" timestamptz NULL, "revoked_at" timestamptz NULL, PRIMARY KEY ("id"), CONSTRAINT "refresh_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "refresh_tokens_expires_at_check" CHECK (expires_at > created_at), CONSTRAINT "refresh_tokens_token_hash_check" CHECK (octet_length(token_hash) = 32));
-- Create index "refresh_tokens_family_id_idx" to table: "refresh_tokens"
CREATE INDEX "refresh_tokens_family_id_idx" ON "refresh_tokens" ("family_id");
-- Create index "refresh_tokens_token_hash_key" to table: "refresh_tokens"
CREATE UNIQUE INDEX "refresh_tokens_token_hash_key" ON "refresh_tokens" ("token_hash");
-- Create index "refresh_tokens_user_id_idx" to table: "refresh_tokens"
CREATE INDEX "refresh_tokens_user_id_idx" ON "refresh_tokens" ("user_id");
