-- Create index "posts_author_id_status_created_at_id_idx" to table: "posts"
CREATE INDEX "posts_author_id_status_created_at_id_idx" ON "posts" ("author_id", "status", "created_at", "id");
-- Create index "posts_author_id_status_id_idx" to table: "posts"
CREATE INDEX "posts_author_id_status_id_idx" ON "posts" ("author_id", "status", "id");
-- Create index "posts_status_created_at_id_idx" to table: "posts"
CREATE INDEX "posts_status_created_at_id_idx" ON "posts" ("status", "created_at", "id");
-- Create index "posts_status_id_idx" to table: "posts"
CREATE INDEX "posts_status_id_idx" ON "posts" ("status", "id");
-- Create index "refresh_tokens_expires_at_idx" to table: "refresh_tokens"
CREATE INDEX "refresh_tokens_expires_at_idx" ON "refresh_tokens" ("expires_at");
-- Create index "users_is_active_created_at_id_idx" to table: "users"
CREATE INDEX "users_is_active_created_at_id_idx" ON "users" ("is_active", "created_at", "id");
-- Create index "users_is_active_id_idx" to table: "users"
CREATE INDEX "users_is_active_id_idx" ON "users" ("is_active", "id");
-- Create index "users_role_created_at_id_idx" to table: "users"
CREATE INDEX "users_role_created_at_id_idx" ON "users" ("role", "created_at", "id");
-- Create index "users_role_id_idx" to table: "users"
CREATE INDEX "users_role_id_idx" ON "users" ("role", "id");
-- Create index "users_role_is_active_created_at_id_idx" to table: "users"
CREATE INDEX "users_role_is_active_created_at_id_idx" ON "users" ("role", "is_active", "created_at", "id");
-- Create index "users_role_is_active_id_idx" to table: "users"
CREATE INDEX "users_role_is_active_id_idx" ON "users" ("role", "is_active", "id");
