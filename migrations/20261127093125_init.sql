-- Create "users" table
CREATE TABLE "users" ("id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY, "email" text NOT NULL, "display_name" text NOT NULL, "password_hash" text NOT NULL, "role" text NOT NULL DEFAULT 'user', "is_active" boolean NOT NULL DEFAULT true, "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), PRIMARY KEY ("id"), CONSTRAINT "users_display_name_check" CHECK ((char_length(display_name) >= 1) AND (char_length(display_name) <= 100)), CONSTRAINT "users_email_check" CHECK ((char_length(email) >= 3) AND (char_length(email) <= 254)), CONSTRAINT "users_password_hash_check" CHECK ((char_length(password_hash) >= 1) AND (char_length(password_hash) <= 255)), CONSTRAINT "users_role_check" CHECK (role = ANY (ARRAY['user'::text, 'admin'::text])));
-- Create index "users_created_at_id_idx" to table: "users"
CREATE INDEX "users_created_at_id_idx" ON "users" ("created_at", "id");
-- Create index "users_email_key" to table: "users"
CREATE UNIQUE INDEX "users_email_key" ON "users" ((lower(email)));
-- Create "posts" table
CREATE TABLE "posts" ("id" bigint NOT NULL GENERATED ALWAYS AS IDENTITY, "author_id" bigint NOT NULL, "title" text NOT NULL, "body" text NOT NULL DEFAULT '', "status" text NOT NULL DEFAULT 'draft', "created_at" timestamptz NOT NULL DEFAULT now(), "updated_at" timestamptz NOT NULL DEFAULT now(), PRIMARY KEY ("id"), CONSTRAINT "posts_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "posts_status_check" CHECK (status = ANY (ARRAY['draft'::text, 'published'::text])), CONSTRAINT "posts_title_check" CHECK ((char_length(title) >= 1) AND (char_length(title) <= 200)));
-- Create index "posts_author_id_created_at_id_idx" to table: "posts"
CREATE INDEX "posts_author_id_created_at_id_idx" ON "posts" ("author_id", "created_at", "id");
-- Create index "posts_author_id_id_idx" to table: "posts"
CREATE INDEX "posts_author_id_id_idx" ON "posts" ("author_id", "id");
-- Create index "posts_created_at_id_idx" to table: "posts"
CREATE INDEX "posts_created_at_id_idx" ON "posts" ("created_at", "id");
