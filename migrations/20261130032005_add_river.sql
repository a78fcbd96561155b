-- create enum type "river_job_state"
CREATE TYPE "river_job_state" AS ENUM ('available', 'cancelled', 'completed', 'discarded', 'pending', 'retryable', 'running', 'scheduled');
-- create "river_job" table
CREATE TABLE "river_job" ("id" bigserial NOT NULL, "state" "river_job_state" NOT NULL DEFAULT 'available', "attempt" smallint NOT NULL DEFAULT 0, "max_attempts" smallint NOT NULL DEFAULT 25, "attempted_at" timestamptz NULL, "created_at" timestamptz NOT NULL DEFAULT now(), "finalized_at" timestamptz NULL, "scheduled_at" timestamptz NOT NULL DEFAULT now(), "priority" smallint NOT NULL DEFAULT 1, "args" jsonb NOT NULL, "attempted_by" text[] NULL, "errors" jsonb[] NULL, "kind" text NOT NULL, "metadata" jsonb NOT NULL DEFAULT '{}', "queue" text NOT NULL DEFAULT 'default', "tags" character varying(255)[] NOT NULL DEFAULT '{}', "unique_key" bytea NULL, "unique_states" bit(8) NULL, PRIMARY KEY ("id"), CONSTRAINT "finalized_or_finalized_at_null" CHECK (((finalized_at IS NULL) AND (state <> ALL (ARRAY['cancelled'::public.river_job_state, 'completed'::public.river_job_state, 'discarded'::public.river_job_state]))) OR ((finalized_at IS NOT NULL) AND (state = ANY (ARRAY['cancelled'::public.river_job_state, 'completed'::public.river_job_state, 'discarded'::public.river_job_state])))), CONSTRAINT "kind_length" CHECK ((char_length(kind) > 0) AND (char_length(kind) < 128)), CONSTRAINT "max_attempts_is_positive" CHECK (max_attempts > 0), CONSTRAINT "priority_in_range" CHECK ((priority >= 1) AND (priority <= 4)), CONSTRAINT "queue_length" CHECK ((char_length(queue) > 0) AND (char_length(queue) < 128)));
-- create index "river_job_args_index" to table: "river_job"
CREATE INDEX "river_job_args_index" ON "river_job" USING gin ("args");
-- create index "river_job_kind" to table: "river_job"
CREATE INDEX "river_job_kind" ON "river_job" ("kind");
-- create index "river_job_metadata_index" to table: "river_job"
CREATE INDEX "river_job_metadata_index" ON "river_job" USING gin ("metadata");
-- create index "river_job_prioritized_fetching_index" to table: "river_job"
CREATE INDEX "river_job_prioritized_fetching_index" ON "river_job" ("state", "queue", "priority", "scheduled_at", "id");
-- create index "river_job_state_and_finalized_at_index" to table: "river_job"
CREATE INDEX "river_job_state_and_finalized_at_index" ON "river_job" ("state", "finalized_at") WHERE (finalized_at IS NOT NULL);
-- create "river_leader" table
CREATE TABLE "river_leader" ("elected_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "leader_id" text NOT NULL, "name" text NOT NULL DEFAULT 'default', PRIMARY KEY ("name"), CONSTRAINT "leader_id_length" CHECK ((char_length(leader_id) > 0) AND (char_length(leader_id) < 128)), CONSTRAINT "name_length" CHECK (name = 'default'::text));
-- create "river_notification" table
CREATE TABLE "river_notification" ("id" bigserial NOT NULL, "created_at" timestamptz NOT NULL DEFAULT now(), "payload" text NOT NULL, "topic" text NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "topic_length" CHECK ((length(topic) > 0) AND (length(topic) < 128)));
-- create index "river_notification_created_at_idx" to table: "river_notification"
CREATE INDEX "river_notification_created_at_idx" ON "river_notification" ("created_at");
-- create index "river_notification_topic_id_idx" to table: "river_notification"
CREATE INDEX "river_notification_topic_id_idx" ON "river_notification" ("topic", "id");
-- create "river_queue" table
CREATE TABLE "river_queue" ("name" text NOT NULL, "created_at" timestamptz NOT NULL DEFAULT now(), "metadata" jsonb NOT NULL DEFAULT '{}', "paused_at" timestamptz NULL, "updated_at" timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY ("name"));
